/* UDP DNS load generator: keeps a window of queries in flight on each of N
 * sockets for a fixed time and prints the answered rate and latency
 * percentiles. One thread, batched sendmmsg/recvmmsg, so the generator
 * costs little of the CPU it shares with the server on a small machine.
 *
 *   bench_dns_udp ADDR PORT [-s sockets (4)] [-d seconds (10)] [-w window (64)]
 *                 [-n name (ca.trust.hypermesh.online)] [-t type (1)]
 *                 [-e EDNS UDP size (0 = no OPT)] [-D 1 (DNSSEC OK; EDNS 1232 unless -e)]
 *
 * A query unanswered after 1 s counts as lost and frees its window slot. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS 64
#define BATCH 64
#define LOST_NS 1000000000ull
#define HIST_US 200000   /* 1 us buckets up to 200 ms; later answers go in the last one */

struct bsock {
	int fd;
	uint64_t next, oldest;          /* sequence numbers; ID = seq & 0xffff */
	unsigned inflight;
	uint64_t *sent_ns;              /* by ID; 0 = not outstanding */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Appends an OPT record (RFC 6891) with the UDP size and the DO bit. */
static size_t add_opt(uint8_t *q, size_t n, unsigned udp_size, int do_bit)
{
	q[11] = 1;    /* ARCOUNT */
	q[n++] = 0;   /* root owner */
	q[n++] = 0;
	q[n++] = 41;  /* OPT */
	q[n++] = (uint8_t)(udp_size >> 8);
	q[n++] = (uint8_t)udp_size;
	q[n++] = 0;   /* extended RCODE, version */
	q[n++] = 0;
	q[n++] = do_bit ? 0x80 : 0;
	q[n++] = 0;
	q[n++] = 0;   /* RDLENGTH */
	q[n++] = 0;
	return n;
}

static size_t build_query(uint8_t *q, const char *name, uint16_t type)
{
	size_t n = 12;
	memset(q, 0, 12);
	q[2] = 0x01;   /* RD */
	q[5] = 1;      /* QDCOUNT */
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || len > 63 || n + len + 6 > 300)
			return 0;
		q[n++] = (uint8_t)len;
		memcpy(q + n, p, len);
		n += len;
		p += len + (dot ? 1 : 0);
	}
	q[n++] = 0;
	q[n++] = (uint8_t)(type >> 8);
	q[n++] = (uint8_t)type;
	q[n++] = 0;
	q[n++] = 1;   /* IN */
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_dns_udp ADDR PORT [-s sockets] [-d seconds] [-w window] "
			"[-n name] [-t type] [-e edns_udp_size] [-D 1]\n");
	exit(2);
}

static uint64_t percentile(const uint32_t *hist, uint64_t total, double p)
{
	uint64_t want = (uint64_t)((double)total * p), seen = 0;
	for (size_t i = 0; i < HIST_US; i++) {
		seen += hist[i];
		if (seen > want)
			return i;
	}
	return HIST_US;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	const char *addr = argv[1];
	int port = atoi(argv[2]);
	unsigned nsock = 4, window = 64, seconds = 10, type = 1, edns = 0, do_bit = 0;
	const char *name = "ca.trust.hypermesh.online";
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-s") == 0)
			nsock = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-d") == 0)
			seconds = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-w") == 0)
			window = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-n") == 0)
			name = argv[i + 1];
		else if (strcmp(argv[i], "-t") == 0)
			type = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-e") == 0)
			edns = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-D") == 0)
			do_bit = (unsigned)atoi(argv[i + 1]) != 0;
		else
			usage();
	}
	if ((argc - 3) % 2 != 0 || nsock == 0 || nsock > MAX_SOCKS || window == 0 || window > 4096 ||
	    seconds == 0 || port <= 0 || port > 65535 || type == 0 || type > 65535 || edns > 65535)
		usage();
	if (do_bit && edns == 0)
		edns = 1232;
	uint8_t query[320];   /* name (<= 300 with the question) + OPT */
	size_t qlen = build_query(query, name, (uint16_t)type);
	if (qlen == 0) {
		fprintf(stderr, "bad name '%s'\n", name);
		return 2;
	}
	if (edns)
		qlen = add_opt(query, qlen, edns, (int)do_bit);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad IPv4 address '%s'\n", addr);
		return 2;
	}
	struct bsock socks[MAX_SOCKS];
	struct pollfd pfd[MAX_SOCKS];
	for (unsigned i = 0; i < nsock; i++) {
		socks[i] = (struct bsock){.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)};
		socks[i].sent_ns = calloc(65536, sizeof(uint64_t));
		if (socks[i].fd < 0 || !socks[i].sent_ns ||
		    connect(socks[i].fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
			fprintf(stderr, "socket: %s\n", strerror(errno));
			return 1;
		}
		pfd[i] = (struct pollfd){.fd = socks[i].fd, .events = POLLIN};
	}
	uint32_t *hist = calloc(HIST_US + 1, sizeof(uint32_t));
	static uint8_t txbuf[BATCH][320], rxbuf[BATCH][1500];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	if (!hist)
		return 1;
	uint64_t sent = 0, answered = 0, lost = 0, noerror = 0, senderr = 0, truncated = 0, bytes = 0;
	uint64_t start = now_ns(), end = start + (uint64_t)seconds * 1000000000ull;
	uint64_t now = start;
	while (now < end) {
		for (unsigned s = 0; s < nsock; s++) {
			struct bsock *b = &socks[s];
			/* Expire the lost, oldest first (IDs are sequential). */
			while (b->oldest < b->next) {
				uint64_t *t = &b->sent_ns[b->oldest & 0xffff];
				if (*t != 0 && now - *t < LOST_NS)
					break;
				if (*t != 0) {
					*t = 0;
					lost++;
					b->inflight--;
				}
				b->oldest++;
			}
			unsigned want = window - b->inflight;
			/* Never reuse an ID that is still outstanding. */
			if (b->next - b->oldest + want > 65535)
				want = (unsigned)(65535 - (b->next - b->oldest));
			while (want > 0) {
				unsigned k = want < BATCH ? want : BATCH;
				for (unsigned j = 0; j < k; j++) {
					memcpy(txbuf[j], query, qlen);
					uint16_t id = (uint16_t)(b->next + j);
					txbuf[j][0] = (uint8_t)(id >> 8);
					txbuf[j][1] = (uint8_t)id;
					iov[j] = (struct iovec){.iov_base = txbuf[j], .iov_len = qlen};
					msgs[j].msg_hdr = (struct msghdr){.msg_iov = &iov[j], .msg_iovlen = 1};
				}
				int r = sendmmsg(b->fd, msgs, k, 0);
				if (r <= 0) {
					senderr++;
					break;
				}
				uint64_t t = now_ns();
				for (int j = 0; j < r; j++)
					b->sent_ns[(b->next + (unsigned)j) & 0xffff] = t;
				b->next += (unsigned)r;
				b->inflight += (unsigned)r;
				sent += (unsigned)r;
				want -= (unsigned)r;
			}
		}
		if (poll(pfd, nsock, 10) < 0 && errno != EINTR)
			break;
		for (unsigned s = 0; s < nsock; s++) {
			if (!(pfd[s].revents & POLLIN))
				continue;
			struct bsock *b = &socks[s];
			for (;;) {
				for (unsigned j = 0; j < BATCH; j++) {
					iov[j] = (struct iovec){.iov_base = rxbuf[j], .iov_len = sizeof(rxbuf[j])};
					msgs[j].msg_hdr = (struct msghdr){.msg_iov = &iov[j], .msg_iovlen = 1};
				}
				int r = recvmmsg(b->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
				if (r <= 0)
					break;
				uint64_t t = now_ns();
				for (int j = 0; j < r; j++) {
					if (msgs[j].msg_len < 12)
						continue;
					uint16_t id = (uint16_t)((rxbuf[j][0] << 8) | rxbuf[j][1]);
					uint64_t *st = &b->sent_ns[id];
					if (*st == 0)
						continue;   /* late or duplicate */
					uint64_t us = (t - *st) / 1000;
					hist[us < HIST_US ? us : HIST_US]++;
					*st = 0;
					b->inflight--;
					answered++;
					bytes += msgs[j].msg_len;
					if ((rxbuf[j][3] & 0x0f) == 0)
						noerror++;
					if (rxbuf[j][2] & 0x02)
						truncated++;
				}
				if (r < BATCH)
					break;
			}
		}
		now = now_ns();
	}
	double secs = (double)(now - start) / 1e9;
	printf("bench_dns_udp %s:%d name %s type %u%s: %u sockets x window %u, %.1f s\n", addr,
	       port, name, type, do_bit ? " +dnssec" : edns ? " +edns" : "", nsock, window, secs);
	printf("  sent %llu, answered %llu (NOERROR %llu), lost %llu, send errors %llu\n",
	       (unsigned long long)sent, (unsigned long long)answered, (unsigned long long)noerror,
	       (unsigned long long)lost, (unsigned long long)senderr);
	printf("  responses: %.0f octets on average, %llu with TC\n",
	       answered ? (double)bytes / (double)answered : 0.0, (unsigned long long)truncated);
	printf("  %.0f qps; latency p50 %llu us, p99 %llu us, p99.9 %llu us\n", (double)answered / secs,
	       (unsigned long long)percentile(hist, answered, 0.50),
	       (unsigned long long)percentile(hist, answered, 0.99),
	       (unsigned long long)percentile(hist, answered, 0.999));
	for (unsigned i = 0; i < nsock; i++) {
		close(socks[i].fd);
		free(socks[i].sent_ns);
	}
	free(hist);
	return answered > 0 ? 0 : 1;
}
