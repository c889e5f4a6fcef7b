/* trustchainctl dig: one DNS query over UDP (falling back to TCP when the
 * answer is truncated), TCP, or DNS over QUIC, printed like dig prints it.
 * For DoQ the server certificate is verified against our root CA and the
 * resolver's name, dns.<bootstrap.domain>, unless told otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/dns_print.h"
#include "ctl/doq_client.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/rdata_text.h"

#define DIG_FAIL_NO_REPLY 9   /* dig's exit code when no server answered */

enum dig_transport { DIG_UDP, DIG_TCP, DIG_QUIC };

struct dig_opts {
	const char *server;
	unsigned port;           /* 0: from the configuration */
	enum dig_transport transport;
	const char *cafile;
	const char *tls_name;
	int timeout_ms;
	bool recurse;
	const char *name;
	uint16_t qtype;
	char name_text[300];
};

static void dig_usage(FILE *out)
{
	fprintf(out,
		"usage: trustchainctl dig [@SERVER] [-p PORT] [+quic|+tcp] [+cafile=FILE]\n"
		"                         [+tls-hostname=NAME] [+timeout=MS] [+[no]recurse] NAME [TYPE]\n"
		"\n"
		"  @SERVER          address of the resolver (default: dns.listen_address)\n"
		"  -p PORT          port (default: dns.quic_port with +quic, else dns.udp_port)\n"
		"  +quic            DNS over QUIC (RFC 9250); +tcp: DNS over TCP; default UDP\n"
		"  +cafile=FILE     trust anchors for +quic (default: <data_dir>/ca/root.pem)\n"
		"  +tls-hostname=N  name the DoQ certificate must carry (default: dns.<bootstrap.domain>)\n"
		"  +timeout=MS      give up after MS milliseconds (default 5000)\n"
		"  TYPE             A, AAAA, TXT, SOA, ... or TYPEn (default A)\n");
}

static int parse_args(int argc, char **argv, struct dig_opts *o)
{
	o->transport = DIG_UDP;
	o->timeout_ms = 5000;
	o->recurse = true;
	o->qtype = TC_DNS_TYPE_A;
	const char *type_arg = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			dig_usage(stdout);
			return 1;
		}
		if (a[0] == '@' && a[1]) {
			o->server = a + 1;
		} else if (strcmp(a, "-p") == 0 && i + 1 < argc) {
			char *end;
			long p = strtol(argv[++i], &end, 10);
			if (*end || p < 1 || p > 65535) {
				tc_ctl_error("dig: -p: '%s' is not a port", argv[i]);
				return -1;
			}
			o->port = (unsigned)p;
		} else if (strcmp(a, "+quic") == 0) {
			o->transport = DIG_QUIC;
		} else if (strcmp(a, "+tcp") == 0 || strcmp(a, "+vc") == 0) {
			o->transport = DIG_TCP;
		} else if (strcmp(a, "+notcp") == 0) {
			o->transport = DIG_UDP;
		} else if (strncmp(a, "+cafile=", 8) == 0 && a[8]) {
			o->cafile = a + 8;
		} else if (strncmp(a, "+tls-hostname=", 14) == 0 && a[14]) {
			o->tls_name = a + 14;
		} else if (strncmp(a, "+timeout=", 9) == 0) {
			o->timeout_ms = atoi(a + 9);
			if (o->timeout_ms <= 0) {
				tc_ctl_error("dig: +timeout: expected milliseconds");
				return -1;
			}
		} else if (strcmp(a, "+recurse") == 0 || strcmp(a, "+norecurse") == 0) {
			o->recurse = a[1] == 'r';
		} else if (a[0] == '+' || a[0] == '-') {
			tc_ctl_error("dig: unknown option '%s'", a);
			return -1;
		} else if (!o->name) {
			o->name = a;
		} else if (!type_arg) {
			type_arg = a;
		} else {
			tc_ctl_error("dig: unexpected argument '%s'", a);
			return -1;
		}
	}
	if (!o->name) {
		dig_usage(stderr);
		return -1;
	}
	if (type_arg && tc_dns_type_from_text(type_arg, strlen(type_arg), &o->qtype) != 0) {
		tc_ctl_error("dig: unknown type '%s'", type_arg);
		return -1;
	}
	return 0;
}

static size_t build_query(const struct dig_opts *o, uint16_t id, uint8_t *buf, size_t cap)
{
	uint8_t name[TC_DNS_MAX_NAME];
	size_t nlen;
	const char *why;
	static const uint8_t root[] = {0};
	if (tc_dns_name_from_text(o->name, strlen(o->name), root, 1, name, &nlen, &why) != 0) {
		tc_ctl_error("dig: '%s': %s", o->name, why);
		return 0;
	}
	struct tc_dns_builder b;
	tc_dns_build_init(&b, buf, cap);
	if (tc_dns_build_header(&b, id, o->recurse ? TC_DNS_FLAG_RD : 0) != 0 ||
	    tc_dns_build_question(&b, name, nlen, o->qtype, TC_DNS_CLASS_IN) != 0 ||
	    tc_dns_put_opt(&b, TC_DNS_UDP_MAX, 0, 0, 0) != 0)
		return 0;
	return tc_dns_build_finish(&b);
}

static int64_t elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Reads exactly len octets or fails at the deadline. */
static int read_full(int fd, uint8_t *buf, size_t len, const struct timespec *t0, int timeout_ms)
{
	size_t got = 0;
	while (got < len) {
		int left = timeout_ms - (int)elapsed_ms(t0);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int query_udp(const struct addrinfo *ai, const uint8_t *q, size_t qlen, uint8_t *resp,
		     size_t cap, size_t *rlen, const struct timespec *t0, int timeout_ms, char *err,
		     size_t errlen)
{
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 || send(fd, q, qlen, 0) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int rc = -1;
	snprintf(err, errlen, "connection timed out; no servers could be reached");
	for (;;) {
		int left = timeout_ms - (int)elapsed_ms(t0);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t n = recv(fd, resp, cap, 0);
		if (n < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			break;
		}
		/* Only the answer to our ID counts; anything else is noise. */
		if (n >= TC_DNS_HEADER_LEN && memcmp(resp, q, 2) == 0) {
			*rlen = (size_t)n;
			rc = 0;
			break;
		}
	}
	close(fd);
	return rc;
}

static int query_tcp(const struct addrinfo *ai, const uint8_t *q, size_t qlen, uint8_t *resp,
		     size_t cap, size_t *rlen, const struct timespec *t0, int timeout_ms, char *err,
		     size_t errlen)
{
	uint8_t framed[2 + TC_DNS_MAX_MSG], hdr[2];
	tc_dns_put16(framed, (uint16_t)qlen);
	memcpy(framed + 2, q, qlen);
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    send(fd, framed, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int rc = -1;
	size_t len = 0;
	if (read_full(fd, hdr, 2, t0, timeout_ms) != 0 || (len = tc_dns_get16(hdr)) > cap ||
	    read_full(fd, resp, len, t0, timeout_ms) != 0)
		snprintf(err, errlen, "no complete answer over TCP");
	else
		rc = 0;
	*rlen = len;
	close(fd);
	return rc;
}

static int query_quic(const struct addrinfo *ai, const struct dig_opts *o, const uint8_t *q,
		      size_t qlen, uint8_t *resp, size_t cap, size_t *rlen, char *err, size_t errlen)
{
	struct tc_doq_client_opts co = {.cafile = o->cafile, .server_name = o->tls_name};
	struct tc_doq_client *c = tc_doq_client_new(ai->ai_addr, ai->ai_addrlen, &co, err, errlen);
	if (!c)
		return -1;
	int rc = tc_doq_client_handshake(c, o->timeout_ms, err, errlen);
	if (rc == 0)
		rc = tc_doq_client_query(c, q, qlen, resp, cap, rlen, o->timeout_ms, err, errlen);
	tc_doq_client_free(c);
	return rc;
}

int tc_ctl_cmd_dig(struct tc_ctl *ctl, int argc, char **argv)
{
	const struct tc_config *cfg = &ctl->cfg;
	struct dig_opts o = {0};
	int pr = parse_args(argc, argv, &o);
	if (pr != 0)
		return pr > 0 ? TC_CTL_OK : TC_CTL_USAGE;
	char cafile[TC_CFG_STR + 32], tls_name[TC_CFG_STR + 8];
	if (!o.cafile && tc_config_data_path(cfg, "ca/root.pem", cafile, sizeof(cafile)) == 0)
		o.cafile = cafile;
	if (!o.tls_name) {
		snprintf(tls_name, sizeof(tls_name), "dns.%s", cfg->bootstrap.domain);
		o.tls_name = tls_name;
	}
	if (!o.server)
		o.server = strcmp(cfg->dns.listen_address, "0.0.0.0") == 0 ? "127.0.0.1"
		           : strcmp(cfg->dns.listen_address, "::") == 0   ? "::1"
									  : cfg->dns.listen_address;
	if (!o.port)
		o.port = o.transport == DIG_QUIC ? cfg->dns.quic_port : cfg->dns.udp_port;

	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", o.port);
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
	int gai = getaddrinfo(o.server, portstr, &hints, &ai);
	if (gai != 0) {
		tc_ctl_error("dig: '%s': %s", o.server, gai_strerror(gai));
		return TC_CTL_USAGE;
	}
	uint16_t id = 0;
	if (o.transport != DIG_QUIC && getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)time(NULL);
	uint8_t q[TC_DNS_UDP_MAX];
	size_t qlen = build_query(&o, id, q, sizeof(q));
	if (qlen == 0) {
		freeaddrinfo(ai);
		return TC_CTL_USAGE;
	}
	char typebuf[16], err[512];
	printf("; <<>> trustchainctl dig <<>> @%s -p %u%s %s %s\n", o.server, o.port,
	       o.transport == DIG_QUIC ? " +quic" : o.transport == DIG_TCP ? " +tcp" : "", o.name,
	       tc_dns_type_text(o.qtype, typebuf));
	static uint8_t resp[TC_DNS_MAX_MSG];
	size_t rlen = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc;
	const char *proto = "UDP";
	if (o.transport == DIG_QUIC) {
		proto = "QUIC";
		rc = query_quic(ai, &o, q, qlen, resp, sizeof(resp), &rlen, err, sizeof(err));
	} else if (o.transport == DIG_TCP) {
		proto = "TCP";
		rc = query_tcp(ai, q, qlen, resp, sizeof(resp), &rlen, &t0, o.timeout_ms, err, sizeof(err));
	} else {
		rc = query_udp(ai, q, qlen, resp, sizeof(resp), &rlen, &t0, o.timeout_ms, err, sizeof(err));
		if (rc == 0 && (tc_dns_get16(resp + 2) & TC_DNS_FLAG_TC)) {
			printf(";; Truncated, retrying in TCP mode.\n");
			proto = "TCP";
			rc = query_tcp(ai, q, qlen, resp, sizeof(resp), &rlen, &t0, o.timeout_ms, err,
				       sizeof(err));
		}
	}
	int64_t ms = elapsed_ms(&t0);
	char host[NI_MAXHOST] = "?";
	getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(ai);
	if (rc != 0) {
		printf(";; no answer from %s#%u (%s): %s\n", host, o.port, proto, err);
		return DIG_FAIL_NO_REPLY;
	}
	printf(";; Got answer:\n");
	int pr2 = tc_dns_print_message(stdout, resp, rlen);
	time_t now = time(NULL);
	char when[64];
	strftime(when, sizeof(when), "%a %b %d %H:%M:%S UTC %Y", gmtime(&now));
	printf("\n;; Query time: %lld msec\n;; SERVER: %s#%u(%s) (%s)\n;; WHEN: %s\n;; MSG SIZE  rcvd: %zu\n\n",
	       (long long)ms, host, o.port, o.server, proto, when, rlen);
	return pr2 == 0 ? TC_CTL_OK : TC_CTL_FAIL;
}
