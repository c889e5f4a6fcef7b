/* RFC 2136 update load generator (prints figures; not a test): -c client
 * threads, each with its own TCP connection to the resolver, send TSIG-
 * signed UPDATEs one after the other for -d seconds. Client i replaces the
 * TXT RRset of _acme-challenge.bench-i.<zone> (delete RRset + add one TXT
 * whose text is the sequence number), so the zone keeps its size. Each
 * NOERROR answer means the update was journaled (fdatasync), signed and is
 * served. Reports updates/s and p50/p99 latency; the answer's TSIG is not
 * checked (the resolver's TSIG is tested elsewhere).
 *
 *   bench_dns_update ADDR PORT ZONE KEYFILE KEYNAME [-c clients (8)] [-d seconds (10)]
 *
 * KEYFILE holds BIND key clauses (dns.tsig_keys_file); KEYNAME must be
 * granted _acme-challenge.* TXT by dns.update_policy. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/tsig.h"
#include "resolver/update.h"

#define MAX_CLIENTS 256
#define CLASS_ANY 255

struct client {
	int id;
	struct sockaddr_in addr;
	const uint8_t *zone;
	size_t zlen;
	const struct tc_tsig_key *key;
	int seconds;
	uint64_t ok, refused, failed;
	uint64_t *lat;
	size_t nlat, caplat;
	pthread_t thread;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = recv(fd, p + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* One signed UPDATE into buf + 2 (TCP length prefix at buf). */
static size_t build_update(struct client *c, uint32_t seq, uint8_t *buf, size_t cap)
{
	char label[64];
	uint8_t owner[TC_DNS_MAX_NAME];
	size_t olen;
	const char *why;
	snprintf(label, sizeof(label), "_acme-challenge.bench-%d", c->id);
	if (tc_dns_name_from_text(label, strlen(label), c->zone, c->zlen, owner, &olen, &why) != 0)
		return 0;
	uint8_t txt[32];
	int n = snprintf((char *)txt + 1, sizeof(txt) - 1, "%u", seq);
	txt[0] = (uint8_t)n;
	struct tc_dns_builder b;
	tc_dns_build_init(&b, buf + 2, cap - 2);
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t mac_len, len;
	if (tc_dns_build_header(&b, (uint16_t)seq, (uint16_t)(TC_DNS_OPCODE_UPDATE << 11)) != 0 ||
	    tc_dns_build_question(&b, c->zone, c->zlen, TC_DNS_TYPE_SOA, TC_DNS_CLASS_IN) != 0 ||
	    tc_dns_put_rr(&b, TC_DNS_SEC_AUTHORITY, owner, olen, TC_DNS_TYPE_TXT, CLASS_ANY, 0, NULL,
			  0) != 0 ||
	    tc_dns_put_rr(&b, TC_DNS_SEC_AUTHORITY, owner, olen, TC_DNS_TYPE_TXT, TC_DNS_CLASS_IN, 60,
			  txt, (size_t)n + 1) != 0 ||
	    (len = tc_dns_build_finish(&b)) == 0)
		return 0;
	len = tc_tsig_sign(buf + 2, len, cap - 2, c->key, NULL, 0, false, (uint64_t)time(NULL), 0,
			   NULL, 0, mac, &mac_len);
	if (len == 0)
		return 0;
	tc_dns_put16(buf, (uint16_t)len);
	return len + 2;
}

static void *run(void *arg)
{
	struct client *c = arg;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || connect(fd, (struct sockaddr *)&c->addr, sizeof(c->addr)) != 0) {
		perror("bench_dns_update: connect");
		c->failed++;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	uint8_t *buf = malloc(2 + TC_DNS_MAX_MSG);
	uint64_t end = now_ns() + (uint64_t)c->seconds * 1000000000ull;
	for (uint32_t seq = 1; buf && now_ns() < end; seq++) {
		size_t len = build_update(c, seq, buf, 2 + TC_DNS_MAX_MSG);
		uint64_t t0 = now_ns();
		uint8_t hdr[2];
		if (len == 0 || send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len ||
		    read_full(fd, hdr, 2) != 0 || read_full(fd, buf, tc_dns_get16(hdr)) != 0 ||
		    tc_dns_get16(hdr) < TC_DNS_HEADER_LEN) {
			c->failed++;
			break;
		}
		if ((buf[3] & 0x0f) != 0) {
			c->refused++;
			continue;
		}
		c->ok++;
		if (c->nlat == c->caplat) {
			size_t cap = c->caplat ? c->caplat * 2 : 4096;
			uint64_t *nl = realloc(c->lat, cap * sizeof(*nl));
			if (!nl)
				continue;
			c->lat = nl;
			c->caplat = cap;
		}
		c->lat[c->nlat++] = now_ns() - t0;
	}
	free(buf);
	close(fd);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: bench_dns_update ADDR PORT ZONE KEYFILE KEYNAME [-c clients] "
				"[-d seconds]\n");
		return 2;
	}
	int nclients = 8, seconds = 10;
	for (int i = 6; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-c") == 0)
			nclients = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-d") == 0)
			seconds = atoi(argv[i + 1]);
	}
	if (nclients < 1 || nclients > MAX_CLIENTS || seconds < 1) {
		fprintf(stderr, "bench_dns_update: bad -c or -d\n");
		return 2;
	}
	static struct tc_tsig_keyring ring;
	char err[512];
	if (tc_tsig_keys_load(argv[4], &ring, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_dns_update: %s\n", err);
		return 1;
	}
	const struct tc_tsig_key *key = tc_tsig_key_find_text(&ring, argv[5]);
	uint8_t zone[TC_DNS_MAX_NAME];
	size_t zlen;
	const char *why;
	char apex[300];
	snprintf(apex, sizeof(apex), "%s.", argv[3]);
	if (!key || tc_dns_name_from_text(apex, strlen(apex), NULL, 0, zone, &zlen, &why) != 0) {
		fprintf(stderr, "bench_dns_update: no key %s or bad zone %s\n", argv[5], argv[3]);
		return 1;
	}
	static struct client cl[MAX_CLIENTS];
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "bench_dns_update: bad address %s\n", argv[1]);
		return 1;
	}
	uint64_t t0 = now_ns();
	for (int i = 0; i < nclients; i++) {
		cl[i] = (struct client){.id = i, .addr = addr, .zone = zone, .zlen = zlen, .key = key,
					.seconds = seconds};
		pthread_create(&cl[i].thread, NULL, run, &cl[i]);
	}
	uint64_t ok = 0, refused = 0, failed = 0;
	size_t nlat = 0;
	for (int i = 0; i < nclients; i++) {
		pthread_join(cl[i].thread, NULL);
		ok += cl[i].ok;
		refused += cl[i].refused;
		failed += cl[i].failed;
		nlat += cl[i].nlat;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	uint64_t *all = malloc((nlat ? nlat : 1) * sizeof(*all));
	size_t k = 0;
	for (int i = 0; i < nclients; i++) {
		if (all)
			memcpy(all + k, cl[i].lat, cl[i].nlat * sizeof(*all));
		k += cl[i].nlat;
		free(cl[i].lat);
	}
	if (all)
		qsort(all, nlat, sizeof(*all), cmp_u64);
	double p50 = all && nlat ? (double)all[nlat / 2] / 1e6 : 0;
	double p99 = all && nlat ? (double)all[nlat * 99 / 100] / 1e6 : 0;
	printf("updates: %3d TSIG clients: %8.0f signed durable updates/s  p50 %6.2f ms  p99 %6.2f ms  "
	       "(%llu NOERROR, %llu refused, %llu failed in %.1f s)\n",
	       nclients, (double)ok / secs, p50, p99, (unsigned long long)ok,
	       (unsigned long long)refused, (unsigned long long)failed, secs);
	free(all);
	return failed ? 1 : 0;
}
