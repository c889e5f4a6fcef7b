#define _GNU_SOURCE
#include "acme/validator_dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/dns_wire.h"

/* One UDP try waits at most this long before the next server (or the same
 * one again) is asked: a lost datagram must not use up the whole check. */
#define UDP_TRY_MS 1500

int64_t tc_vnow_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_addr(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	char *end;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || p == 0 || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

static int servers_from_resolv_conf(const char *path, struct tc_vdns_servers *out, char *why, size_t whylen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[512];
	while (out->n < TC_VDNS_MAX_SERVERS && fgets(line, sizeof(line), f)) {
		char host[128];
		if (sscanf(line, " nameserver %127s", host) != 1)
			continue;
		char *pct = strchr(host, '%'); /* fe80::1%eth0: the zone is not kept */
		if (pct)
			*pct = 0;
		if (parse_addr(host, "53", &out->addr[out->n], &out->addr_len[out->n]) == 0)
			out->n++;
	}
	fclose(f);
	if (out->n == 0) {
		snprintf(why, whylen, "%s names no usable nameserver", path);
		return -1;
	}
	return 0;
}

int tc_vdns_servers_init(const char *resolver, const char *resolv_conf, struct tc_vdns_servers *out, char *why,
			 size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (!resolver || !*resolver || strcmp(resolver, "system") == 0)
		return servers_from_resolv_conf(resolv_conf ? resolv_conf : "/etc/resolv.conf", out, why, whylen);
	char buf[128];
	if (strlen(resolver) >= sizeof(buf)) {
		snprintf(why, whylen, "resolver address too long");
		return -1;
	}
	strcpy(buf, resolver);
	char *host = buf, *port;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close || close[1] != ':') {
			snprintf(why, whylen, "resolver %s: expected [v6]:port", resolver);
			return -1;
		}
		*close = 0;
		host = buf + 1;
		port = close + 2;
	} else {
		port = strrchr(buf, ':');
		if (!port) {
			snprintf(why, whylen, "resolver %s: expected host:port or \"system\"", resolver);
			return -1;
		}
		*port++ = 0;
	}
	if (parse_addr(host, port, &out->addr[0], &out->addr_len[0]) != 0) {
		snprintf(why, whylen, "resolver %s: expected a numeric address and a port", resolver);
		return -1;
	}
	out->n = 1;
	return 0;
}

/* Joins the character-strings of a TXT RDATA; -1 when they overrun it or
 * the joined text does not fit. */
static int txt_join(const uint8_t *rd, size_t rdlen, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t pos = 0, n = 0;
	while (pos < rdlen) {
		size_t l = rd[pos++];
		if (l > rdlen - pos || l > cap - n)
			return -1;
		memcpy(out + n, rd + pos, l);
		n += l;
		pos += l;
	}
	*outlen = n;
	return 0;
}

int tc_vdns_read_response(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *qname, size_t qname_len,
			  uint16_t qtype, struct tc_vdns_answer *ans, uint8_t next[255], size_t *next_len,
			  int *rcode, char *why, size_t whylen)
{
	ans->n = 0;
	*next_len = 0;
	struct tc_dns_msg m;
	enum tc_dns_err err = tc_dns_parse(msg, len, &m);
	if (err != TC_DNS_OK) {
		snprintf(why, whylen, "malformed DNS answer: %s", tc_dns_err_str(err));
		return -1;
	}
	if (m.id != id || !(m.flags & TC_DNS_FLAG_QR) || TC_DNS_OPCODE(m.flags) != TC_DNS_OPCODE_QUERY ||
	    m.qdcount != 1 || !tc_dns_name_equal(m.qname, m.qname_len, qname, qname_len) || m.qtype != qtype ||
	    m.qclass != TC_DNS_CLASS_IN) {
		snprintf(why, whylen, "DNS answer to another question");
		return -1;
	}
	*rcode = TC_DNS_RCODE(m.flags);
	size_t first = 0;
	if (tc_dns_skip_questions(msg, len, &first) != TC_DNS_OK) {
		snprintf(why, whylen, "malformed DNS answer");
		return -1;
	}
	uint8_t cur[TC_DNS_MAX_NAME];
	size_t cur_len = qname_len;
	memcpy(cur, qname, qname_len);
	int ended = 0;
	for (int hop = 0; hop <= TC_VDNS_MAX_CNAMES; hop++) {
		uint8_t target[TC_DNS_MAX_NAME];
		size_t target_len = 0;
		size_t off = first;
		for (unsigned i = 0; i < m.ancount; i++) {
			struct tc_dns_rr rr;
			if (tc_dns_read_rr(msg, len, &off, &rr) != TC_DNS_OK) {
				snprintf(why, whylen, "malformed DNS record");
				return -1;
			}
			if (rr.rclass != TC_DNS_CLASS_IN || !tc_dns_name_equal(rr.name, rr.name_len, cur, cur_len))
				continue;
			const uint8_t *rd = msg + rr.rdata_off;
			if (rr.type == qtype && ans->n < TC_VDNS_MAX_RRS) {
				size_t l = 0;
				if (qtype == TC_DNS_TYPE_TXT) {
					if (txt_join(rd, rr.rdlen, ans->rr[ans->n].data, sizeof(ans->rr[0].data), &l) != 0)
						continue; /* too long to be a digest, or malformed: not a match */
				} else {
					if ((qtype == TC_DNS_TYPE_A && rr.rdlen != 4) ||
					    (qtype == TC_DNS_TYPE_AAAA && rr.rdlen != 16) || rr.rdlen > sizeof(ans->rr[0].data)) {
						snprintf(why, whylen, "DNS record of the wrong size");
						return -1;
					}
					memcpy(ans->rr[ans->n].data, rd, rr.rdlen);
					l = rr.rdlen;
				}
				ans->rr[ans->n++].len = l;
			} else if (rr.type == TC_DNS_TYPE_CNAME && target_len == 0) {
				size_t roff = rr.rdata_off;
				if (tc_dns_read_name(msg, len, &roff, target, &target_len) != TC_DNS_OK ||
				    roff != rr.rdata_off + rr.rdlen) {
					snprintf(why, whylen, "malformed CNAME record");
					return -1;
				}
			}
		}
		if (ans->n > 0 || target_len == 0) {
			ended = 1;
			break;
		}
		memcpy(cur, target, target_len);
		cur_len = target_len;
	}
	if (!ended) {
		snprintf(why, whylen, "CNAME chain longer than %d (or a loop)", TC_VDNS_MAX_CNAMES);
		return -1;
	}
	if (ans->n == 0 && !tc_dns_name_equal(cur, cur_len, qname, qname_len)) {
		memcpy(next, cur, cur_len);
		*next_len = cur_len;
	}
	return 0;
}

static int remaining_ms(int64_t deadline_ms)
{
	int64_t r = deadline_ms - tc_vnow_ms();
	return r < 0 ? 0 : r > 60000 ? 60000 : (int)r;
}

static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int rc = poll(&p, 1, remaining_ms(deadline_ms));
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -1;
		if (errno != EINTR)
			return -1;
	}
}

/* One exchange over TCP (RFC 7766): the answer did not fit a datagram. */
static ssize_t exchange_tcp(const struct sockaddr *sa, socklen_t salen, const uint8_t *q, size_t qlen,
			    uint8_t *buf, size_t cap, int64_t deadline_ms)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	ssize_t result = -1;
	uint8_t out[2 + 512];
	if (qlen > 512)
		goto done;
	tc_dns_put16(out, (uint16_t)qlen);
	memcpy(out + 2, q, qlen);
	if (connect(fd, sa, salen) != 0 && errno != EINPROGRESS)
		goto done;
	if (wait_fd(fd, POLLOUT, deadline_ms) != 0)
		goto done;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0)
		goto done;
	if (send(fd, out, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2))
		goto done;
	size_t have = 0, want = 2;
	uint8_t lenbuf[2];
	while (have < want) {
		if (wait_fd(fd, POLLIN, deadline_ms) != 0)
			goto done;
		uint8_t *dst = want == 2 ? lenbuf + have : buf + have;
		ssize_t n = recv(fd, dst, want - have, 0);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			goto done;
		}
		have += (size_t)n;
		if (want == 2 && have == 2) {
			want = tc_dns_get16(lenbuf);
			have = 0;
			if (want == 0 || want > cap)
				goto done;
		}
	}
	result = (ssize_t)want;
done:
	close(fd);
	return result;
}

/* Sends the query to each server in turn until an answer to it arrives or
 * the deadline passes; answers from elsewhere or with another id are
 * ignored (connected UDP socket, random id). Returns the answer's length. */
static ssize_t exchange(const struct tc_vdns_servers *s, const uint8_t *q, size_t qlen, uint16_t id, uint8_t *buf,
			size_t cap, int64_t deadline_ms)
{
	for (int attempt = 0; tc_vnow_ms() < deadline_ms; attempt++) {
		int i = attempt % s->n;
		const struct sockaddr *sa = (const struct sockaddr *)&s->addr[i];
		int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, sa, s->addr_len[i]) != 0 || send(fd, q, qlen, 0) != (ssize_t)qlen) {
			close(fd);
			/* Unreachable now: do not spin on it until the deadline. */
			struct timespec pause = {0, 50 * 1000000L};
			nanosleep(&pause, NULL);
			continue;
		}
		int64_t try_deadline = tc_vnow_ms() + UDP_TRY_MS;
		if (try_deadline > deadline_ms)
			try_deadline = deadline_ms;
		while (wait_fd(fd, POLLIN, try_deadline) == 0) {
			ssize_t n = recv(fd, buf, cap, 0);
			if (n < TC_DNS_HEADER_LEN || tc_dns_get16(buf) != id)
				continue; /* ICMP error, runt or someone else's answer */
			close(fd);
			if (tc_dns_get16(buf + 2) & TC_DNS_FLAG_TC)
				return exchange_tcp(sa, s->addr_len[i], q, qlen, buf, cap, deadline_ms);
			return n;
		}
		close(fd);
	}
	return -1;
}

static const char *type_name(uint16_t t)
{
	return t == TC_DNS_TYPE_A ? "A" : t == TC_DNS_TYPE_AAAA ? "AAAA" : t == TC_DNS_TYPE_TXT ? "TXT" : "?";
}

enum tc_vdns_status tc_vdns_lookup(const struct tc_vdns_servers *s, const char *name, uint16_t qtype,
				   int64_t deadline_ms, struct tc_vdns_answer *ans, char *why, size_t whylen)
{
	ans->n = 0;
	char text[TC_DNS_MAX_NAME + 2];
	uint8_t cur[TC_DNS_MAX_NAME];
	size_t cur_len;
	const char *reason = NULL;
	int tl = snprintf(text, sizeof(text), "%s.", name);
	if (s->n == 0 || tl <= 1 || (size_t)tl >= sizeof(text) ||
	    tc_dns_name_from_text(text, (size_t)tl, NULL, 0, cur, &cur_len, &reason) != 0) {
		snprintf(why, whylen, "cannot look up %.253s: %s", name, reason ? reason : "no resolver");
		return TC_VDNS_SERVFAIL;
	}
	uint8_t *buf = malloc(TC_DNS_MAX_MSG);
	if (!buf) {
		snprintf(why, whylen, "out of memory");
		return TC_VDNS_SERVFAIL;
	}
	enum tc_vdns_status st = TC_VDNS_SERVFAIL;
	for (int hop = 0; hop <= TC_VDNS_MAX_CNAMES; hop++) {
		uint16_t id;
		if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
			snprintf(why, whylen, "no randomness for the DNS id");
			break;
		}
		uint8_t q[512];
		struct tc_dns_builder b;
		tc_dns_build_init(&b, q, sizeof(q));
		if (tc_dns_build_header(&b, id, TC_DNS_FLAG_RD) != 0 ||
		    tc_dns_build_question(&b, cur, cur_len, qtype, TC_DNS_CLASS_IN) != 0 ||
		    tc_dns_put_opt(&b, TC_DNS_UDP_MAX, 0, 0, 0) != 0) {
			snprintf(why, whylen, "cannot build the DNS query");
			break;
		}
		size_t qlen = tc_dns_build_finish(&b);
		ssize_t n = exchange(s, q, qlen, id, buf, TC_DNS_MAX_MSG, deadline_ms);
		tc_dns_name_to_text(cur, cur_len, text, sizeof(text));
		if (n < 0) {
			snprintf(why, whylen, "no answer from the resolver for %s %s in time", type_name(qtype), text);
			st = TC_VDNS_TIMEOUT;
			break;
		}
		uint8_t next[TC_DNS_MAX_NAME];
		size_t next_len = 0;
		int rcode = 0;
		char rwhy[128];
		if (tc_vdns_read_response(buf, (size_t)n, id, cur, cur_len, qtype, ans, next, &next_len, &rcode, rwhy,
					  sizeof(rwhy)) != 0) {
			snprintf(why, whylen, "%s %s: %s", type_name(qtype), text, rwhy);
			break;
		}
		if (rcode == TC_DNS_RCODE_NXDOMAIN) {
			snprintf(why, whylen, "NXDOMAIN looking up %s %s", type_name(qtype), text);
			st = TC_VDNS_NXDOMAIN;
			break;
		}
		if (rcode != TC_DNS_RCODE_NOERROR) {
			snprintf(why, whylen, "%s looking up %s %s", rcode == TC_DNS_RCODE_SERVFAIL ? "SERVFAIL"
								   : rcode == TC_DNS_RCODE_REFUSED ? "REFUSED"
												    : "DNS error",
				 type_name(qtype), text);
			break;
		}
		if (ans->n > 0) {
			st = TC_VDNS_OK;
			break;
		}
		if (next_len == 0) {
			snprintf(why, whylen, "no %s record found at %s", type_name(qtype), text);
			st = TC_VDNS_NODATA;
			break;
		}
		memcpy(cur, next, next_len); /* CNAME whose target the answer did not include */
		cur_len = next_len;
		if (hop == TC_VDNS_MAX_CNAMES)
			snprintf(why, whylen, "CNAME chain from %s too long", name);
	}
	free(buf);
	return st;
}
