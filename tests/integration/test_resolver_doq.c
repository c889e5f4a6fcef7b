/* trustchain-resolver over DNS-over-QUIC, end to end: a real signer on a
 * real SoftHSM token (dev ceremony) and the CT log process issue the
 * resolver's DoQ certificate (precertificate logged, SCT embedded),
 * the resolver process runs with its listeners and signer link passed the
 * way the supervisor passes them, and the tc_doq_client library talks real
 * QUIC to it. Covers answers, framing and Message ID errors, streams, idle
 * timeout with stateless reset, ALPN refusal, garbage datagrams, Retry,
 * the connection cap, the published certificate, `trustchainctl dig +quic`,
 * classic DNS serving while the signer is unavailable, and DoQ waiting for
 * a CT log that starts after the resolver. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ct_sct_verify.h"
#include "common/sup_channel.h"
#include "ctl/doq_client.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/dns_wire.h"
#include "resolver/doq.h"
#include "resolver/tsig.h"
#include "resolver/tsig_keys.h"
#include "support/peer_harness.h"
#include "support/signer_harness.h"
#include "unit/cunit_main.h"
#include "support/child_spawn.h"

#define ZONE "trust.hypermesh.online"
#define IDLE_MS 300
#define MAX_STREAMS 8

struct resolver {
	pid_t pid;
	int sup;
	int udp, tcp, doq;            /* our copies of its listeners */
	struct sockaddr_in doq_addr, udp_addr;
};

static const char *bindir;
static struct tc_harness h;
static struct tc_peer_proc ct_log; /* the CT log, run the way the supervisor runs it */
static struct resolver main_r = {.pid = -1, .sup = -1};
static char rootpem[400];

/* ---- process plumbing ---- */

static int bound_socket(int type, struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) != 0) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (addr)
		*addr = a;
	return fd;
}

/* Runs trustchain-resolver with config as the supervisor would, signer_fd
 * as its signer link (taken over), and waits for READY. */
static const char *child_renew_ms;   /* TC_DOQ_RENEW_MS for the next start, or NULL */

static int start_resolver(struct resolver *r, const char *config, int signer_fd)
{
	int chan[2];
	r->udp = bound_socket(SOCK_DGRAM, &r->udp_addr);
	r->tcp = bound_socket(SOCK_STREAM, NULL);
	r->doq = bound_socket(SOCK_DGRAM, &r->doq_addr);
	if (signer_fd < 0 || r->udp < 0 || r->tcp < 0 || r->doq < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) != 0)
		return -1;
	char path[600], renew[64];
	snprintf(path, sizeof(path), "%s/trustchain-resolver", bindir);
	char *argv[] = {path, "--config", (char *)config, NULL};
	struct tc_spawn_fd fds[] = {{"TC_FD_SIGNER", signer_fd}, {"TC_FD_SUPERVISOR", chan[1]},
				    {"TC_FD_DNS_UDP", r->udp}, {"TC_FD_DNS_TCP", r->tcp}, {"TC_FD_DOQ", r->doq}};
	snprintf(renew, sizeof(renew), "TC_DOQ_RENEW_MS=%s", child_renew_ms ? child_renew_ms : "");
	const char *extra[] = {renew, NULL};
	r->pid = tc_spawn_with_fds(path, argv, fds, 5, child_renew_ms ? extra : NULL);
	if (r->pid < 0)
		return -1;
	close(signer_fd);
	close(chan[1]);
	r->sup = chan[0];
	struct tc_sup_msg msg;
	int fd;
	/* The channel carries more than READY (TC_SUP_METRICS pushes): skipped. */
	for (;;) {
		if (tc_sup_recv(r->sup, &msg, &fd) != 1)
			return -1;
		if (fd >= 0)
			close(fd);
		if (msg.type == TC_SUP_READY)
			break;
	}
	fprintf(stderr, "resolver ready: %s\n", msg.name);
	return 0;
}

static int stop_resolver(struct resolver *r)
{
	int status = -1;
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		if (waitpid(r->pid, &status, 0) != r->pid)
			status = -1;
		r->pid = -1;
	}
	if (r->sup >= 0)
		close(r->sup);
	r->sup = -1;
	if (r->udp >= 0)
		close(r->udp);
	if (r->tcp >= 0)
		close(r->tcp);
	if (r->doq >= 0)
		close(r->doq);
	r->udp = r->tcp = r->doq = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool alive(const struct resolver *r)
{
	return r->pid > 0 && waitpid(r->pid, NULL, WNOHANG) == 0;
}

/* ---- DoQ helpers ---- */

static struct tc_doq_client *connect_with(const struct resolver *r, const char *alpn,
					  char *err, size_t errlen)
{
	struct tc_doq_client_opts o = {.cafile = rootpem, .server_name = "dns." ZONE, .alpn = alpn};
	struct tc_doq_client *c = tc_doq_client_new((const struct sockaddr *)&r->doq_addr,
						    sizeof(r->doq_addr), &o, err, errlen);
	if (c && tc_doq_client_handshake(c, 3000, err, errlen) != 0) {
		tc_doq_client_free(c);
		c = NULL;
	}
	return c;
}

static struct tc_doq_client *doq_connect(const struct resolver *r)
{
	char err[256];
	struct tc_doq_client *c = connect_with(r, NULL, err, sizeof(err));
	if (!c)
		fprintf(stderr, "DoQ connect: %s\n", err);
	return c;
}

/* Keeps trying until the resolver has its certificate (or timeout_ms). */
static struct tc_doq_client *doq_connect_wait(const struct resolver *r, int timeout_ms)
{
	char err[256] = "";
	for (int waited = 0; waited < timeout_ms; waited += 500) {
		struct tc_doq_client_opts o = {.cafile = rootpem, .server_name = "dns." ZONE};
		struct tc_doq_client *c = tc_doq_client_new((const struct sockaddr *)&r->doq_addr,
							    sizeof(r->doq_addr), &o, err, sizeof(err));
		if (c && tc_doq_client_handshake(c, 500, err, sizeof(err)) == 0)
			return c;
		if (!c)
			usleep(500 * 1000);
		tc_doq_client_free(c);
	}
	fprintf(stderr, "no DoQ handshake within %d ms: %s\n", timeout_ms, err);
	return NULL;
}

static size_t make_query(const char *name, uint16_t type, uint16_t id, uint8_t *buf, size_t cap)
{
	uint8_t wire[TC_DNS_MAX_NAME];
	size_t wlen;
	const char *why;
	if (tc_dns_name_from_text(name, strlen(name), NULL, 0, wire, &wlen, &why) != 0)
		return 0;
	struct tc_dns_builder b;
	tc_dns_build_init(&b, buf, cap);
	if (tc_dns_build_header(&b, id, TC_DNS_FLAG_RD) != 0 ||
	    tc_dns_build_question(&b, wire, wlen, type, TC_DNS_CLASS_IN) != 0)
		return 0;
	return tc_dns_build_finish(&b);
}

/* Queries over c; returns the response length (0 on failure). */
static size_t doq_ask(struct tc_doq_client *c, const char *name, uint16_t type, uint8_t *resp,
		      size_t cap)
{
	uint8_t q[512];
	size_t qlen = make_query(name, type, 0, q, sizeof(q)), rlen = 0;
	char err[256];
	if (qlen == 0 || tc_doq_client_query(c, q, qlen, resp, cap, &rlen, 3000, err, sizeof(err)) != 0) {
		fprintf(stderr, "DoQ query %s: %s\n", name, err);
		return 0;
	}
	return rlen;
}

/* The first answer record of type want, RDATA into rd; returns its length or -1. */
static int first_answer(const uint8_t *m, size_t len, uint16_t want, uint8_t *rd, size_t cap,
			unsigned *rcode, unsigned *ancount)
{
	struct tc_dns_msg pm;
	if (tc_dns_parse(m, len, &pm) != TC_DNS_OK)
		return -2;
	*rcode = TC_DNS_RCODE(pm.flags);
	*ancount = pm.ancount;
	size_t off = TC_DNS_HEADER_LEN;
	if (tc_dns_read_name(m, len, &off, NULL, NULL) != TC_DNS_OK)
		return -2;
	off += 4;
	for (unsigned i = 0; i < pm.ancount; i++) {
		struct tc_dns_rr rr;
		if (tc_dns_read_rr(m, len, &off, &rr) != TC_DNS_OK)
			return -2;
		if (rr.type == want && rr.rdlen <= cap) {
			memcpy(rd, m + rr.rdata_off, rr.rdlen);
			return rr.rdlen;
		}
	}
	return -1;
}

/* Steps c until it is closed or timeout_ms passes. */
static const struct tc_doq_close *wait_closed(struct tc_doq_client *c, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 10 && tc_doq_client_step(c, 10) == 0; i++)
		;
	return tc_doq_client_close_info(c);
}

/* ---- suite ---- */

static int suite_init(void)
{
	char extra[512];
	snprintf(extra, sizeof(extra),
		 /* Continues the harness's server section: no /metrics pushes on
		  * the channels this test reads (peer_harness.c wants READY first). */
		 "  metrics_listen: \"off\"\n"
		 "dns:\n  idle_timeout_ms: %d\n  max_streams: %d\n  records:\n"
		 "    - \"www 300 A 192.0.2.10\"\n    - \"www 300 AAAA 2001:db8::10\"\n"
		 "    - \"txt 300 TXT \\\"doq works\\\"\"\n"
		 "ct:\n  sequence_interval_ms: 50\n",
		 IDLE_MS, MAX_STREAMS);
	if (tc_harness_setup(&h, bindir, extra) != 0 || tc_harness_start_signer(&h, NULL) != 0 ||
	    tc_peer_start(&h, "transparency", &ct_log) != 0)
		return 1;
	snprintf(rootpem, sizeof(rootpem), "%s", tc_harness_path(&h, "ca/root.pem"));
	if (start_resolver(&main_r, h.config, tc_harness_connect(&h, "resolver")) != 0)
		return 1;
	struct tc_doq_client *c = doq_connect_wait(&main_r, 15000);
	tc_doq_client_free(c);
	return c ? 0 : 1;
}

static int suite_cleanup(void)
{
	int st = stop_resolver(&main_r);
	if (st != 0)
		fprintf(stderr, "resolver exit status %d\n", st);
	if (ct_log.pid > 0 && tc_peer_stop(&ct_log, SIGTERM) != 0)
		fprintf(stderr, "CT log did not stop cleanly\n");
	tc_harness_cleanup(&h);
	return st == 0 ? 0 : 1;
}

static void test_answers(void)
{
	struct tc_doq_client *c = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	uint8_t resp[4096], rd[512];
	unsigned rcode, an;
	size_t n = doq_ask(c, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(tc_dns_get16(resp), 0);   /* the answer keeps Message ID 0 */
	CU_ASSERT_EQUAL(first_answer(resp, n, TC_DNS_TYPE_A, rd, sizeof(rd), &rcode, &an), 4);
	CU_ASSERT(rcode == TC_DNS_RCODE_NOERROR && memcmp(rd, "\xc0\x00\x02\x0a", 4) == 0);
	CU_ASSERT(tc_dns_get16(resp + 2) & TC_DNS_FLAG_AA);

	n = doq_ask(c, "www." ZONE ".", TC_DNS_TYPE_AAAA, resp, sizeof(resp));
	CU_ASSERT_EQUAL(first_answer(resp, n, TC_DNS_TYPE_AAAA, rd, sizeof(rd), &rcode, &an), 16);
	uint8_t v6[16];
	inet_pton(AF_INET6, "2001:db8::10", v6);
	CU_ASSERT(memcmp(rd, v6, 16) == 0);

	n = doq_ask(c, ZONE ".", TC_DNS_TYPE_SOA, resp, sizeof(resp));
	CU_ASSERT(first_answer(resp, n, TC_DNS_TYPE_SOA, rd, sizeof(rd), &rcode, &an) > 20);
	CU_ASSERT_EQUAL(rcode, TC_DNS_RCODE_NOERROR);

	n = doq_ask(c, "txt." ZONE ".", TC_DNS_TYPE_TXT, resp, sizeof(resp));
	CU_ASSERT_EQUAL(first_answer(resp, n, TC_DNS_TYPE_TXT, rd, sizeof(rd), &rcode, &an), 10);
	CU_ASSERT(memcmp(rd, "\x09" "doq works", 10) == 0);

	n = doq_ask(c, "nope." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp));
	CU_ASSERT_EQUAL(first_answer(resp, n, TC_DNS_TYPE_A, rd, sizeof(rd), &rcode, &an), -1);
	CU_ASSERT_EQUAL(rcode, TC_DNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(an, 0);

	/* Outside the zone without fallback: REFUSED, as over UDP and TCP. */
	n = doq_ask(c, "example.com.", TC_DNS_TYPE_A, resp, sizeof(resp));
	CU_ASSERT(first_answer(resp, n, TC_DNS_TYPE_A, rd, sizeof(rd), &rcode, &an) == -1 &&
		  rcode == TC_DNS_RCODE_REFUSED);
	CU_ASSERT_EQUAL(tc_doq_client_close_info(c)->kind, TC_DOQ_OPEN);
	tc_doq_client_free(c);
}

/* A query with EDNS, padded (RFC 8467 §4.1: queries to a multiple of 128
 * octets) when pad is set. */
static size_t make_edns_query(const char *name, uint16_t type, bool pad, uint8_t *q, size_t cap)
{
	size_t len = make_query(name, type, 0, q, cap);
	if (len == 0 || len + 11 + 4 + 128 > cap)
		return 0;
	tc_dns_put16(q + 10, 1);
	uint8_t *opt = q + len;
	memset(opt, 0, 11);
	tc_dns_put16(opt + 1, TC_DNS_TYPE_OPT);
	tc_dns_put16(opt + 3, 1232);
	len += 11;
	if (pad) {
		size_t padlen = (128 - (len + 4) % 128) % 128;
		tc_dns_put16(q + len, 12);
		tc_dns_put16(q + len + 2, (uint16_t)padlen);
		memset(q + len + 4, 0, padlen);
		len += 4 + padlen;
		tc_dns_put16(opt + 9, (uint16_t)(4 + padlen));
	}
	return len;
}

/* The Padding option's length in the response's OPT, -1 when it has none. */
static int padding_in(const uint8_t *m, size_t len)
{
	struct tc_dns_msg pm;
	if (tc_dns_parse(m, len, &pm) != TC_DNS_OK)
		return -2;
	size_t off = TC_DNS_HEADER_LEN;
	if (pm.qdcount && tc_dns_read_name(m, len, &off, NULL, NULL) != TC_DNS_OK)
		return -2;
	off += pm.qdcount ? 4 : 0;
	for (unsigned i = 0; i < (unsigned)pm.ancount + pm.nscount + pm.arcount; i++) {
		struct tc_dns_rr rr;
		if (tc_dns_read_rr(m, len, &off, &rr) != TC_DNS_OK)
			return -2;
		if (rr.type != TC_DNS_TYPE_OPT)
			continue;
		for (size_t o = rr.rdata_off; o + 4 <= rr.rdata_off + rr.rdlen;
		     o += 4 + tc_dns_get16(m + o + 2))
			if (tc_dns_get16(m + o) == 12)
				return tc_dns_get16(m + o + 2);
	}
	return -1;
}

/* RFC 9250 §5.4 + RFC 8467 §4.1: a padded query gets an answer padded to
 * a multiple of 468 octets (small answer, large answer, error answer); an
 * unpadded one gets no padding. */
static void test_padding(void)
{
	struct tc_doq_client *c = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	static const struct {
		const char *name;
		uint16_t type;
	} cases[] = {{"www." ZONE ".", TC_DNS_TYPE_A},
		     {ZONE ".", TC_DNS_TYPE_DNSKEY},
		     {"nope." ZONE ".", TC_DNS_TYPE_TXT},
		     {"example.com.", TC_DNS_TYPE_A}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int pad = 0; pad < 2; pad++) {
			uint8_t q[512], resp[4096];
			size_t qlen = make_edns_query(cases[i].name, cases[i].type, pad, q, sizeof(q));
			size_t rlen = 0;
			char err[256];
			CU_ASSERT_FATAL(qlen > 0);
			if (pad)
				CU_ASSERT_EQUAL(qlen % 128, 0);
			CU_ASSERT_FATAL(tc_doq_client_query(c, q, qlen, resp, sizeof(resp), &rlen, 3000,
							    err, sizeof(err)) == 0);
			int padding = padding_in(resp, rlen);
			if (pad) {
				CU_ASSERT_EQUAL(rlen % 468, 0);
				CU_ASSERT(padding >= 0);
			} else {
				CU_ASSERT_EQUAL(padding, -1);
			}
			fprintf(stderr, "  %s type %u %s: %zu octets\n", cases[i].name, cases[i].type,
				pad ? "padded" : "unpadded", rlen);
		}
	}
	tc_doq_client_free(c);
}

struct done_rec {
	int calls, status;
	uint8_t data[1024];
	size_t len;
};

static void record_done(void *arg, int64_t id, int status, const uint8_t *data, size_t len)
{
	(void)id;
	struct done_rec *d = arg;
	d->calls++;
	d->status = status;
	d->len = len < sizeof(d->data) ? len : sizeof(d->data);
	if (d->len)
		memcpy(d->data, data, d->len);
}

static int framed_query(const char *name, uint16_t type, uint16_t id, uint8_t *out, size_t cap)
{
	uint8_t q[512];
	size_t qlen = make_query(name, type, id, q, sizeof(q)), flen;
	return qlen && tc_doq_frame_response(q, qlen, out, cap, &flen) == 0 ? (int)flen : -1;
}

static void test_two_streams_one_connection(void)
{
	struct tc_doq_client *c = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	uint8_t f1[600], f2[600];
	int l1 = framed_query("www." ZONE ".", TC_DNS_TYPE_A, 0, f1, sizeof(f1));
	int l2 = framed_query("www." ZONE ".", TC_DNS_TYPE_AAAA, 0, f2, sizeof(f2));
	struct done_rec d1 = {0}, d2 = {0};
	int64_t s1, s2;
	CU_ASSERT_FATAL(tc_doq_client_send(c, f1, (size_t)l1, true, record_done, &d1, &s1) == 0);
	CU_ASSERT_FATAL(tc_doq_client_send(c, f2, (size_t)l2, true, record_done, &d2, &s2) == 0);
	CU_ASSERT_NOT_EQUAL(s1, s2);
	for (int i = 0; i < 300 && (d1.calls == 0 || d2.calls == 0); i++)
		tc_doq_client_step(c, 10);
	CU_ASSERT(d1.calls == 1 && d1.status == 0 && d2.calls == 1 && d2.status == 0);
	uint8_t rd[64];
	unsigned rcode, an;
	CU_ASSERT_EQUAL(first_answer(d1.data + 2, d1.len - 2, TC_DNS_TYPE_A, rd, sizeof(rd), &rcode, &an), 4);
	CU_ASSERT_EQUAL(first_answer(d2.data + 2, d2.len - 2, TC_DNS_TYPE_AAAA, rd, sizeof(rd), &rcode, &an), 16);
	CU_ASSERT_EQUAL(tc_dns_get16(d1.data), d1.len - 2);   /* length prefix on the answer */
	tc_doq_client_free(c);
}

/* More queries than dns.max_streams, one after another on one connection:
 * the server grants a new stream as each one ends. At most max_streams can
 * be open at once. */
static void test_stream_credit(void)
{
	struct tc_doq_client *c = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	uint8_t resp[1024];
	int ok = 0;
	for (int i = 0; i < 5 * MAX_STREAMS; i++)
		ok += doq_ask(c, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0;
	CU_ASSERT_EQUAL(ok, 5 * MAX_STREAMS);

	/* Let the last acknowledgements and stream grants settle. */
	for (int i = 0; i < 10; i++)
		tc_doq_client_step(c, 10);
	uint8_t f[600];
	int l = framed_query("www." ZONE ".", TC_DNS_TYPE_A, 0, f, sizeof(f));
	struct done_rec d[MAX_STREAMS + 1];
	memset(d, 0, sizeof(d));
	int opened = 0;
	for (int i = 0; i < MAX_STREAMS + 1; i++)
		opened += tc_doq_client_send(c, f, (size_t)l, true, record_done, &d[i], NULL) == 0;
	CU_ASSERT_EQUAL(opened, MAX_STREAMS);
	for (int i = 0; i < 300 && tc_doq_client_streams_open(c) > 0; i++)
		tc_doq_client_step(c, 10);
	CU_ASSERT_EQUAL(tc_doq_client_streams_open(c), 0);
	CU_ASSERT_EQUAL(doq_ask(c, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0, 1);
	tc_doq_client_free(c);
}

/* Sends raw stream data on a fresh connection and expects the server to
 * close it with DOQ_PROTOCOL_ERROR. */
static void expect_protocol_error(const uint8_t *data, size_t len, bool fin)
{
	struct tc_doq_client *c = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct done_rec d = {0};
	CU_ASSERT_FATAL(tc_doq_client_send(c, data, len, fin, record_done, &d, NULL) == 0);
	const struct tc_doq_close *cl = wait_closed(c, 3000);
	CU_ASSERT_EQUAL(cl->kind, TC_DOQ_CLOSED_BY_PEER_APP);
	CU_ASSERT_EQUAL(cl->code, TC_DOQ_PROTOCOL_ERROR);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(d.status, -1);
	if (cl->kind != TC_DOQ_CLOSED_BY_PEER_APP || cl->code != TC_DOQ_PROTOCOL_ERROR)
		fprintf(stderr, "close kind %d code 0x%llx (%s)\n", cl->kind,
			(unsigned long long)cl->code, cl->reason);
	tc_doq_client_free(c);
}

static void test_nonzero_message_id(void)
{
	uint8_t f[600];
	int l = framed_query("www." ZONE ".", TC_DNS_TYPE_A, 0x1234, f, sizeof(f));
	expect_protocol_error(f, (size_t)l, true);
}

static void test_no_length_prefix(void)
{
	uint8_t q[512];
	size_t qlen = make_query("www." ZONE ".", TC_DNS_TYPE_A, 0, q, sizeof(q));
	expect_protocol_error(q, qlen, true);
}

static void test_fin_before_message_complete(void)
{
	uint8_t f[600];
	int l = framed_query("www." ZONE ".", TC_DNS_TYPE_A, 0, f, sizeof(f));
	expect_protocol_error(f, (size_t)l - 5, true);
}

static void test_data_after_message(void)
{
	uint8_t f[600];
	int l = framed_query("www." ZONE ".", TC_DNS_TYPE_A, 0, f, sizeof(f));
	f[l] = 0;
	f[l + 1] = 0;
	expect_protocol_error(f, (size_t)l + 2, true);
}

/* After dns.idle_timeout_ms of silence the server drops the connection;
 * a packet on it afterwards gets a stateless reset. */
static void test_idle_timeout(void)
{
	struct tc_doq_client *c = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	uint8_t resp[1024];
	CU_ASSERT_FATAL(doq_ask(c, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	usleep((IDLE_MS * 3) * 1000);
	/* Without stepping the client, so its own idle timer has not run:
	 * this query goes out and only the server can end the connection. */
	uint8_t f[600];
	int l = framed_query("www." ZONE ".", TC_DNS_TYPE_A, 0, f, sizeof(f));
	struct done_rec d = {0};
	CU_ASSERT_FATAL(tc_doq_client_send(c, f, (size_t)l, true, record_done, &d, NULL) == 0);
	const struct tc_doq_close *cl = wait_closed(c, 3000);
	CU_ASSERT_EQUAL(cl->kind, TC_DOQ_CLOSED_RESET);
	CU_ASSERT(d.calls == 1 && d.status == -1);
	tc_doq_client_free(c);

	/* And a client that stays quiet sees the idle timeout itself. */
	c = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	cl = wait_closed(c, IDLE_MS * 5);
	CU_ASSERT_EQUAL(cl->kind, TC_DOQ_CLOSED_IDLE);
	tc_doq_client_free(c);
}

static void test_wrong_alpn_refused(void)
{
	char err[256];
	const char *alpns[] = {"dot", "h3"};
	for (size_t i = 0; i < 2; i++) {
		struct tc_doq_client_opts o = {.cafile = rootpem, .server_name = "dns." ZONE,
					       .alpn = alpns[i]};
		struct tc_doq_client *c = tc_doq_client_new((const struct sockaddr *)&main_r.doq_addr,
							    sizeof(main_r.doq_addr), &o, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_EQUAL(tc_doq_client_handshake(c, 3000, err, sizeof(err)), -1);
		const struct tc_doq_close *cl = tc_doq_client_close_info(c);
		/* CRYPTO_ERROR carrying TLS alert no_application_protocol (120). */
		CU_ASSERT_EQUAL(cl->kind, TC_DOQ_CLOSED_BY_PEER_TRANSPORT);
		CU_ASSERT_EQUAL(cl->code, 0x100 + 120);
		fprintf(stderr, "ALPN %s: %s\n", alpns[i], err);
		tc_doq_client_free(c);
	}
}

static void test_wrong_name_rejected_by_client(void)
{
	char err[256];
	struct tc_doq_client_opts o = {.cafile = rootpem, .server_name = "other." ZONE};
	struct tc_doq_client *c = tc_doq_client_new((const struct sockaddr *)&main_r.doq_addr,
						    sizeof(main_r.doq_addr), &o, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(tc_doq_client_handshake(c, 3000, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(tc_doq_client_close_info(c)->kind, TC_DOQ_CLOSED_LOCAL);
	tc_doq_client_free(c);
}

static void test_garbage_datagrams(void)
{
	struct tc_doq_client *keep = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(keep);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0);
	uint8_t buf[1500];
	for (int i = 0; i < 3000; i++) {
		size_t len = 1 + (size_t)(i * 7919) % sizeof(buf);
		CU_ASSERT_FATAL(getrandom(buf, len, 0) == (ssize_t)len);
		if (i % 3 == 0)
			buf[0] |= 0xc0;   /* long header: looks like an Initial */
		if (i % 3 == 1 && len > 5)
			memcpy(buf + 1, "\x00\x00\x00\x01", 4);   /* QUIC v1 */
		if (i % 3 == 2)
			buf[0] = (buf[0] & 0x3f) | 0x40;   /* short header, unknown DCID */
		sendto(fd, buf, len, 0, (struct sockaddr *)&main_r.doq_addr, sizeof(main_r.doq_addr));
		if (i % 200 == 0)
			tc_doq_client_io(keep);
	}
	/* Answers to our garbage (version negotiation, resets) may come back: drain. */
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	close(fd);
	CU_ASSERT(alive(&main_r));
	uint8_t resp[1024];
	CU_ASSERT(doq_ask(keep, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	tc_doq_client_free(keep);
	struct tc_doq_client *c = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(doq_ask(c, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	tc_doq_client_free(c);
}

static void test_published_certificate(void)
{
	FILE *f = fopen(tc_harness_path(&h, "dns/doq_cert.pem"), "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(X509_check_host(x, "dns." ZONE, 0, 0, NULL), 1);
	CU_ASSERT_EQUAL(X509_check_host(x, "www." ZONE, 0, 0, NULL), 0);
	f = fopen(tc_harness_path(&h, "ca/intermediate.pem"), "r");
	X509 *inter = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(inter);
	EVP_PKEY *ik = X509_get0_pubkey(inter);
	CU_ASSERT_EQUAL(X509_verify(x, ik), 1);
	X509_free(inter);
	X509_free(x);
}

static void test_dig_quic_output(void)
{
	char cmd[2048], out[8192];
	snprintf(cmd, sizeof(cmd),
		 "'%s/trustchainctl' --config '%s' dig @127.0.0.1 -p %u +quic www." ZONE " AAAA 2>&1",
		 bindir, h.config, ntohs(main_r.doq_addr.sin_port));
	FILE *p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	fprintf(stderr, "%s", out);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "status: NOERROR, id: 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ";; flags: qr aa rd;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ";; ANSWER SECTION:\nwww." ZONE ".\t300\tIN\tAAAA\t2001:db8::10\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(QUIC)"));

	/* NXDOMAIN with the SOA in authority; and over plain UDP. */
	snprintf(cmd, sizeof(cmd),
		 "'%s/trustchainctl' --config '%s' dig @127.0.0.1 -p %u +quic nope." ZONE " 2>&1; "
		 "'%s/trustchainctl' --config '%s' dig @127.0.0.1 -p %u txt." ZONE " TXT 2>&1",
		 bindir, h.config, ntohs(main_r.doq_addr.sin_port), bindir, h.config,
		 ntohs(main_r.udp_addr.sin_port));
	p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "status: NXDOMAIN"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ";; AUTHORITY SECTION:\n" ZONE ".\t"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "IN\tTXT\t\"doq works\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(UDP)"));

	/* A wrong expected name fails verification: no answer, exit 9. */
	snprintf(cmd, sizeof(cmd),
		 "'%s/trustchainctl' --config '%s' dig @127.0.0.1 -p %u +quic +tls-hostname=evil.example "
		 "www." ZONE " >/dev/null 2>&1",
		 bindir, h.config, ntohs(main_r.doq_addr.sin_port));
	st = system(cmd);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 9);
}

/* A second resolver with Retry on every new address and a cap of two
 * connections: clients get in through the Retry; a third is refused. */
static void test_retry_and_connection_cap(void)
{
	char cfg[600];
	snprintf(cfg, sizeof(cfg), "%s/retry.yaml", h.dir);
	FILE *f = fopen(cfg, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "server:\n  dev: true\n  data_dir: %s/data\n  log_level: info\n"
		   "dns:\n  quic_retry_always: true\n  max_connections: 2\n",
		h.dir);
	fclose(f);
	struct resolver r = {.pid = -1, .sup = -1};
	CU_ASSERT_FATAL(start_resolver(&r, cfg, tc_harness_connect(&h, "resolver")) == 0);
	struct tc_doq_client *c1 = doq_connect_wait(&r, 15000);
	struct tc_doq_client *c2 = doq_connect(&r);
	CU_ASSERT_PTR_NOT_NULL(c1);
	CU_ASSERT_PTR_NOT_NULL(c2);
	uint8_t resp[1024];
	CU_ASSERT(c1 && doq_ask(c1, ZONE ".", TC_DNS_TYPE_SOA, resp, sizeof(resp)) > 0);
	/* Full, both idle: a third client makes the least recently active (c2)
	 * close with DOQ_EXCESSIVE_LOAD (RFC 9250 §4.3) instead of being refused. */
	char err[256];
	struct tc_doq_client *c3 = connect_with(&r, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(c3);
	const struct tc_doq_close *cl = c2 ? wait_closed(c2, 3000) : NULL;
	CU_ASSERT(cl && cl->kind == TC_DOQ_CLOSED_BY_PEER_APP && cl->code == TC_DOQ_EXCESSIVE_LOAD);
	if (cl)
		fprintf(stderr, "idle connection closed for the third: kind %d code 0x%llx %s\n", (int)cl->kind,
			(unsigned long long)cl->code, cl->reason);
	CU_ASSERT(c1 && doq_ask(c1, ZONE ".", TC_DNS_TYPE_SOA, resp, sizeof(resp)) > 0);
	/* Both with a query in progress (a message without its end): nothing
	 * idle to close, so a fourth client is refused. */
	uint8_t fq[600];
	int l = framed_query("www." ZONE ".", TC_DNS_TYPE_A, 0, fq, sizeof(fq));
	struct done_rec d1 = {0}, d3 = {0};
	int64_t s1, s3;
	CU_ASSERT_FATAL(l > 5);
	CU_ASSERT(c1 && tc_doq_client_send(c1, fq, (size_t)l - 5, false, record_done, &d1, &s1) == 0);
	CU_ASSERT(c3 && tc_doq_client_send(c3, fq, (size_t)l - 5, false, record_done, &d3, &s3) == 0);
	for (int i = 0; i < 20; i++) {
		if (c1)
			tc_doq_client_step(c1, 5);
		if (c3)
			tc_doq_client_step(c3, 5);
	}
	struct tc_doq_client *c4 = connect_with(&r, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NULL(c4);
	fprintf(stderr, "fourth connection: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "0x2"));   /* CONNECTION_REFUSED */
	CU_ASSERT(c1 && tc_doq_client_close_info(c1)->kind == TC_DOQ_OPEN);
	tc_doq_client_free(c4);
	tc_doq_client_free(c3);
	tc_doq_client_free(c1);
	tc_doq_client_free(c2);
	CU_ASSERT_EQUAL(stop_resolver(&r), 0);
}

/* TLS session resumption (RFC 8446 §2.2; RFC 9250 §4.5 without 0-RTT):
 * the ticket sent after a full handshake lets the next connection resume
 * (no certificate, no signature) and answer. */
static void test_session_resumption(void)
{
	struct tc_doq_client *c1 = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
	uint8_t resp[1024];
	CU_ASSERT(doq_ask(c1, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	CU_ASSERT(!tc_doq_client_resumed(c1));
	uint8_t *sess = NULL;
	size_t slen = 0;
	for (int i = 0; i < 100 && tc_doq_client_session(c1, &sess, &slen) != 0; i++)
		tc_doq_client_step(c1, 10);
	CU_ASSERT_PTR_NOT_NULL(sess);
	tc_doq_client_free(c1);
	char err[256] = "";
	struct tc_doq_client_opts o = {.cafile = rootpem, .server_name = "dns." ZONE, .session = sess,
				       .session_len = slen};
	struct tc_doq_client *c2 = sess ? tc_doq_client_new((const struct sockaddr *)&main_r.doq_addr,
							    sizeof(main_r.doq_addr), &o, err, sizeof(err))
					: NULL;
	CU_ASSERT(c2 && tc_doq_client_handshake(c2, 3000, err, sizeof(err)) == 0);
	CU_ASSERT(c2 && tc_doq_client_resumed(c2));
	CU_ASSERT(c2 && doq_ask(c2, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	tc_doq_client_free(c2);
	free(sess);
}

/* A whole stream's data, however long (a zone transfer). */
struct big_done {
	int calls, status;
	uint8_t *data;
	size_t len;
};

static void big_done_cb(void *arg, int64_t id, int status, const uint8_t *data, size_t len)
{
	(void)id;
	struct big_done *d = arg;
	d->calls++;
	d->status = status;
	free(d->data);
	d->data = len ? malloc(len) : NULL;
	d->len = d->data ? len : 0;
	if (d->data)
		memcpy(d->data, data, len);
}

/* The messages of a transfer stream: each TSIG-checked in turn (RFC 8945
 * §5.3.1), Message ID 0; the types of the first and last records and the
 * record count. Returns the number of messages, -1 on any fault. */
static int check_transfer(const uint8_t *data, size_t len, const struct tc_tsig_key *key, const uint8_t *qmac,
			  size_t qmac_len, uint16_t *first, uint16_t *last, unsigned *records)
{
	uint8_t mac[TC_TSIG_MAX_MAC], next[TC_TSIG_MAX_MAC];
	size_t mac_len = qmac_len, next_len, off = 0;
	memcpy(mac, qmac, qmac_len);
	int n = 0;
	*records = 0;
	while (off < len) {
		if (len - off < 2 || len - off - 2 < tc_dns_get16(data + off))
			return -1;
		size_t mlen = tc_dns_get16(data + off);
		const uint8_t *m = data + off + 2;
		struct tc_dns_msg pm;
		size_t pos;
		if (tc_dns_parse(m, mlen, &pm) != TC_DNS_OK || tc_dns_get16(m) != 0 || TC_DNS_RCODE(pm.flags) != 0 ||
		    tc_tsig_verify_answer(m, mlen, key, mac, mac_len, n > 0, next, &next_len) != 0 ||
		    tc_dns_skip_questions(m, mlen, &pos) != TC_DNS_OK)
			return -1;
		memcpy(mac, next, next_len);
		mac_len = next_len;
		for (unsigned i = 0; i < pm.ancount; i++) {
			struct tc_dns_rr rr;
			if (tc_dns_read_rr(m, mlen, &pos, &rr) != TC_DNS_OK)
				return -1;
			if ((*records)++ == 0)
				*first = rr.type;
			*last = rr.type;
		}
		off += 2 + mlen;
		n++;
	}
	return n;
}

/* Zone transfer over DoQ (RFC 9250 §4.2): a secondary's TSIG-signed AXFR
 * gets the signed zone on its stream, message after message, each signed;
 * an unsigned AXFR is REFUSED and the connection stays usable. */
static void test_zone_transfer(void)
{
	char keys[600], cfg[700], cmd[800], err[256];
	snprintf(keys, sizeof(keys), "%s/xfr.keys", h.dir);
	snprintf(cmd, sizeof(cmd), "dns tsig new xfr > '%s'", keys);
	CU_ASSERT_EQUAL_FATAL(tc_harness_ctl(&h, cmd), 0);
	CU_ASSERT_EQUAL_FATAL(chmod(keys, 0600), 0);
	struct tc_tsig_keyring *ring = calloc(1, sizeof(*ring));
	CU_ASSERT_FATAL(ring && tc_tsig_keys_load(keys, ring, err, sizeof(err)) == 0);
	const struct tc_tsig_key *key = tc_tsig_key_find_text(ring, "xfr");
	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	/* Enough data for several messages of at most TC_XFR_MSG_MAX octets. */
	char zfile[600];
	snprintf(zfile, sizeof(zfile), "%s/xfr.zone", h.dir);
	FILE *z = fopen(zfile, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	for (int i = 0; i < 60; i++)
		fprintf(z, "bulk%02d 300 IN TXT \"%0240d\"\n", i, i);
	fclose(z);
	snprintf(cfg, sizeof(cfg), "%s/xfr.yaml", h.dir);
	FILE *f = fopen(cfg, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "server:\n  dev: true\n  data_dir: %s/data\n  log_level: warn\n  metrics_listen: \"off\"\n"
		   "dns:\n  tsig_keys_file: %s\n  secondaries:\n    - {address: \"127.0.0.1:9\", key: xfr}\n"
		   "  zone_file: %s\n  records:\n    - \"www 300 A 192.0.2.10\"\n",
		h.dir, keys, zfile);
	fclose(f);
	struct resolver r = {.pid = -1, .sup = -1};
	CU_ASSERT_FATAL(start_resolver(&r, cfg, tc_harness_connect(&h, "resolver")) == 0);
	struct tc_doq_client *c = doq_connect_wait(&r, 15000);
	CU_ASSERT_PTR_NOT_NULL(c);
	uint8_t q[700], resp[4096], fq[800];
	size_t qlen = make_query(ZONE ".", TC_DNS_TYPE_AXFR, 0, q, sizeof(q)), rlen = 0, flen = 0;
	CU_ASSERT(c && tc_doq_client_query(c, q, qlen, resp, sizeof(resp), &rlen, 3000, err, sizeof(err)) == 0 &&
		  rlen >= TC_DNS_HEADER_LEN && (resp[3] & 0x0f) == TC_DNS_RCODE_REFUSED);
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t mac_len = 0;
	qlen = tc_tsig_sign(q, qlen, sizeof(q), key, NULL, 0, false, (uint64_t)time(NULL), 0, NULL, 0, mac, &mac_len);
	CU_ASSERT_FATAL(qlen > 0 && tc_doq_frame_response(q, qlen, fq, sizeof(fq), &flen) == 0);
	struct big_done d = {0};
	CU_ASSERT(c && tc_doq_client_send(c, fq, flen, true, big_done_cb, &d, NULL) == 0);
	for (int i = 0; c && i < 1000 && d.calls == 0; i++)
		tc_doq_client_step(c, 10);
	uint16_t first = 0, last = 0;
	unsigned records = 0;
	int msgs = d.calls == 1 && d.status == 0
			   ? check_transfer(d.data, d.len, key, mac, mac_len, &first, &last, &records)
			   : -1;
	fprintf(stderr, "AXFR over DoQ: %d messages, %u records, %zu octets on the stream\n", msgs, records, d.len);
	CU_ASSERT(msgs >= 2);      /* the TSIG chain across messages is checked */
	CU_ASSERT(first == TC_DNS_TYPE_SOA && last == TC_DNS_TYPE_SOA);
	CU_ASSERT(records > 180);  /* 60 TXT, their NSEC and RRSIGs, SOA, NS, DNSKEY... */
	CU_ASSERT(c && doq_ask(c, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	free(d.data);
	tc_doq_client_free(c);
	free(ring);
	CU_ASSERT_EQUAL(stop_resolver(&r), 0);
}

/* Classic DNS does not wait for the signer; DoQ starts once it is back. */
static void test_classic_dns_without_signer(void)
{
	int dead[2];
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dead) == 0);
	close(dead[1]);   /* a signer link nobody answers on */
	char cfg[600];
	snprintf(cfg, sizeof(cfg), "%s/nosigner.yaml", h.dir);
	FILE *f = fopen(cfg, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "server:\n  dev: true\n  data_dir: %s/data\n  log_level: info\n",
		h.dir);
	fclose(f);
	struct resolver r = {.pid = -1, .sup = -1};
	CU_ASSERT_FATAL(start_resolver(&r, cfg, dead[0]) == 0);

	/* UDP answers at once. */
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint8_t q[512], resp[1024];
	size_t qlen = make_query(ZONE ".", TC_DNS_TYPE_SOA, 0x4242, q, sizeof(q));
	sendto(fd, q, qlen, 0, (struct sockaddr *)&r.udp_addr, sizeof(r.udp_addr));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CU_ASSERT_FATAL(poll(&p, 1, 2000) == 1);
	ssize_t n = recv(fd, resp, sizeof(resp), 0);
	CU_ASSERT(n > 12 && tc_dns_get16(resp) == 0x4242);
	close(fd);

	/* No certificate: the DoQ handshake does not complete. */
	char err[256];
	struct tc_doq_client_opts o = {.cafile = rootpem, .server_name = "dns." ZONE};
	struct tc_doq_client *c = tc_doq_client_new((const struct sockaddr *)&r.doq_addr,
						    sizeof(r.doq_addr), &o, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(tc_doq_client_handshake(c, 700, err, sizeof(err)), -1);
	tc_doq_client_free(c);

	/* The signer comes back (the supervisor hands over a new link). */
	int link = tc_harness_connect(&h, "resolver");
	CU_ASSERT_FATAL(link >= 0);
	CU_ASSERT_FATAL(tc_sup_send(r.sup, TC_SUP_SIGNER_FD, "signer", link) == 0);
	close(link);
	c = doq_connect_wait(&r, 20000);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT(c && doq_ask(c, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	tc_doq_client_free(c);
	CU_ASSERT_EQUAL(stop_resolver(&r), 0);
}

/* The server certificate c saw in its handshake. */
static X509 *peer_cert(const struct tc_doq_client *c)
{
	size_t len = 0;
	const unsigned char *p = tc_doq_client_peer_cert(c, &len);
	return p ? d2i_X509(NULL, &p, (long)len) : NULL;
}

static X509 *published_cert(void)
{
	FILE *f = fopen(tc_harness_path(&h, "dns/doq_cert.pem"), "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return x;
}

/* Renewal: a new key and certificate for new connections; connections
 * made before keep working. */
static void test_certificate_renewal(void)
{
	char cfg[600];
	snprintf(cfg, sizeof(cfg), "%s/renew.yaml", h.dir);
	FILE *f = fopen(cfg, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "server:\n  dev: true\n  data_dir: %s/data\n  log_level: info\n", h.dir);
	fclose(f);
	struct resolver r = {.pid = -1, .sup = -1};
	child_renew_ms = "600";
	int started = start_resolver(&r, cfg, tc_harness_connect(&h, "resolver"));
	child_renew_ms = NULL;
	CU_ASSERT_FATAL(started == 0);
	struct tc_doq_client *old = doq_connect_wait(&r, 15000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(old);
	X509 *first = peer_cert(old);
	CU_ASSERT_PTR_NOT_NULL_FATAL(first);
	uint8_t resp[1024];
	/* Wait for the published certificate to change, keeping old busy. */
	X509 *pub = NULL;
	for (int i = 0; i < 40; i++) {
		CU_ASSERT(doq_ask(old, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
		X509_free(pub);
		pub = published_cert();
		if (pub && X509_cmp(pub, first) != 0)
			break;
		usleep(100 * 1000);
	}
	CU_ASSERT_FATAL(pub && X509_cmp(pub, first) != 0);
	struct tc_doq_client *fresh = doq_connect(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fresh);
	X509 *second = peer_cert(fresh);
	CU_ASSERT_PTR_NOT_NULL_FATAL(second);
	CU_ASSERT(X509_cmp(second, first) != 0);
	/* A different key, not only a different certificate. */
	CU_ASSERT(EVP_PKEY_eq(X509_get0_pubkey(second), X509_get0_pubkey(first)) != 1);
	CU_ASSERT(doq_ask(fresh, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	CU_ASSERT(doq_ask(old, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	CU_ASSERT_EQUAL(tc_doq_client_close_info(old)->kind, TC_DOQ_OPEN);
	X509_free(first);
	X509_free(second);
	X509_free(pub);
	tc_doq_client_free(old);
	tc_doq_client_free(fresh);
	CU_ASSERT_EQUAL(stop_resolver(&r), 0);
}

/* The verdict on x's embedded SCTs with our log's published key and our
 * intermediate as issuer; why gets the reason. */
static enum tc_sct_verdict sct_verdict(X509 *x, char *why, size_t whylen)
{
	FILE *f = fopen(tc_harness_path(&h, "ct/log_public_key.pem"), "r");
	struct tc_sct_log log = {.key = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL};
	if (f)
		fclose(f);
	f = fopen(tc_harness_path(&h, "ca/intermediate.pem"), "r");
	X509 *inter = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	unsigned char *spki = NULL, *der = NULL, ikh[32];
	int spki_len = inter ? i2d_PUBKEY(X509_get0_pubkey(inter), &spki) : -1;
	int der_len = i2d_X509(x, &der);
	enum tc_sct_verdict v = TC_SCT_BAD;
	snprintf(why, whylen, "cannot read the log key, the intermediate or the certificate");
	if (log.key && spki_len > 0 && der_len > 0 && tc_sct_log_set_id(&log) == 0 &&
	    EVP_Digest(spki, (size_t)spki_len, ikh, NULL, EVP_sha256(), NULL) == 1)
		v = tc_sct_verify_embedded(der, (size_t)der_len, ikh, &log, 1, why, whylen);
	OPENSSL_free(spki);
	OPENSSL_free(der);
	X509_free(inter);
	EVP_PKEY_free(log.key);
	return v;
}

/* The certificate the DoQ handshake presents is the published one and
 * embeds an SCT from our log that verifies: it was logged before use. */
static void test_served_certificate_is_logged(void)
{
	struct tc_doq_client *c = doq_connect(&main_r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	X509 *served = peer_cert(c), *pub = published_cert();
	tc_doq_client_free(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(served);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_EQUAL(X509_cmp(served, pub), 0);
	CU_ASSERT(X509_get_ext_by_NID(served, NID_ct_precert_scts, -1) >= 0);
	CU_ASSERT(X509_get_ext_by_NID(served, NID_ct_precert_poison, -1) < 0);
	char why[256] = "";
	enum tc_sct_verdict v = sct_verdict(served, why, sizeof(why));
	if (v != TC_SCT_VERIFIED)
		fprintf(stderr, "served DoQ certificate: %s\n", why);
	CU_ASSERT_EQUAL(v, TC_SCT_VERIFIED);
	X509_free(served);
	X509_free(pub);
}

/* The CT log is down when a resolver starts (it may come up after it under
 * the supervisor): classic DNS answers, DoQ has no certificate rather than
 * an unlogged one; once the log is up, DoQ serves a logged certificate. */
static void test_doq_waits_for_the_log(void)
{
	CU_ASSERT_EQUAL_FATAL(tc_peer_stop(&ct_log, SIGTERM), 0);
	char cfg[600];
	snprintf(cfg, sizeof(cfg), "%s/nolog.yaml", h.dir);
	FILE *f = fopen(cfg, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "server:\n  dev: true\n  data_dir: %s/data\n  log_level: info\n", h.dir);
	fclose(f);
	struct resolver r = {.pid = -1, .sup = -1};
	CU_ASSERT_FATAL(start_resolver(&r, cfg, tc_harness_connect(&h, "resolver")) == 0);

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint8_t q[512], resp[1024];
	size_t qlen = make_query(ZONE ".", TC_DNS_TYPE_SOA, 0x5151, q, sizeof(q));
	sendto(fd, q, qlen, 0, (struct sockaddr *)&r.udp_addr, sizeof(r.udp_addr));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	CU_ASSERT_FATAL(poll(&p, 1, 2000) == 1);
	ssize_t n = recv(fd, resp, sizeof(resp), 0);
	CU_ASSERT(n > 12 && tc_dns_get16(resp) == 0x5151);
	close(fd);

	/* The signer answers at once, the log not at all: for as long as we
	 * keep it down (3 s here), no DoQ handshake completes. */
	char err[256];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int handshakes = 0;
	do {
		struct tc_doq_client_opts o = {.cafile = rootpem, .server_name = "dns." ZONE};
		struct tc_doq_client *c = tc_doq_client_new((const struct sockaddr *)&r.doq_addr,
							    sizeof(r.doq_addr), &o, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		handshakes += tc_doq_client_handshake(c, 500, err, sizeof(err)) == 0;
		tc_doq_client_free(c);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 3000);
	CU_ASSERT_EQUAL(handshakes, 0);

	CU_ASSERT_FATAL(tc_peer_start(&h, "transparency", &ct_log) == 0);
	struct tc_doq_client *c = doq_connect_wait(&r, 30000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	X509 *served = peer_cert(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(served);
	char why[256] = "";
	enum tc_sct_verdict v = sct_verdict(served, why, sizeof(why));
	if (v != TC_SCT_VERIFIED)
		fprintf(stderr, "DoQ certificate after the log started: %s\n", why);
	CU_ASSERT_EQUAL(v, TC_SCT_VERIFIED);
	CU_ASSERT(doq_ask(c, "www." ZONE ".", TC_DNS_TYPE_A, resp, sizeof(resp)) > 0);
	X509_free(served);
	tc_doq_client_free(c);
	CU_ASSERT_EQUAL(stop_resolver(&r), 0);
}

/* A stand-in upstream resolver: answers every A query with 192.0.2.99. */
struct fake_upstream {
	int fd;
	struct sockaddr_in addr;
	/* Distinct queries answered, by message ID: the forwarder resends a
	 * query that timed out under the same ID (on a loaded machine the
	 * 800 ms can pass before this thread runs), a new lookup gets a new
	 * one. */
	int answered;
	uint16_t ids[64];
	pthread_t thread;
};

static void *fake_upstream_main(void *arg)
{
	struct fake_upstream *u = arg;
	uint8_t buf[1500];
	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(u->fd, buf, sizeof(buf) - 16, 0, (struct sockaddr *)&from, &flen);
		if (n <= 0)
			return NULL;   /* shut down */
		size_t off = TC_DNS_HEADER_LEN;
		if (n < TC_DNS_HEADER_LEN || tc_dns_read_name(buf, (size_t)n, &off, NULL, NULL) != TC_DNS_OK ||
		    off + 4 > (size_t)n)
			continue;
		off += 4;   /* drop anything after the question (EDNS) */
		tc_dns_put16(buf + 2, TC_DNS_FLAG_QR | TC_DNS_FLAG_RD | TC_DNS_FLAG_RA);
		tc_dns_put16(buf + 6, 1);
		tc_dns_put16(buf + 8, 0);
		tc_dns_put16(buf + 10, 0);
		static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 99};
		memcpy(buf + off, rr, sizeof(rr));
		/* Counted before the answer leaves: once the client holds an
		 * answer, the count that produced it is visible. */
		uint16_t id = tc_dns_get16(buf);
		int seen = 0, known = __atomic_load_n(&u->answered, __ATOMIC_SEQ_CST);
		for (int i = 0; i < known && i < 64; i++)
			seen |= u->ids[i] == id;
		if (!seen && known < 64) {
			u->ids[known] = id;
			__atomic_add_fetch(&u->answered, 1, __ATOMIC_SEQ_CST);
		}
		sendto(u->fd, buf, off + sizeof(rr), 0, (struct sockaddr *)&from, flen);
	}
}

/* Names outside the zone go the same way as over UDP/TCP: forwarded
 * upstream with dns.traditional_fallback, then served from the cache. */
static void test_forwarded_over_doq(void)
{
	struct fake_upstream u = {0};
	u.fd = bound_socket(SOCK_DGRAM, &u.addr);
	CU_ASSERT_FATAL(u.fd >= 0);
	CU_ASSERT_FATAL(pthread_create(&u.thread, NULL, fake_upstream_main, &u) == 0);
	char cfg[600];
	snprintf(cfg, sizeof(cfg), "%s/fwd.yaml", h.dir);
	FILE *f = fopen(cfg, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "server:\n  dev: true\n  data_dir: %s/data\n  log_level: warn\n"
		   "dns:\n  traditional_fallback: true\n  upstreams: [\"127.0.0.1:%u\"]\n",
		h.dir, ntohs(u.addr.sin_port));
	fclose(f);
	struct resolver r = {.pid = -1, .sup = -1};
	CU_ASSERT_FATAL(start_resolver(&r, cfg, tc_harness_connect(&h, "resolver")) == 0);
	struct tc_doq_client *c = doq_connect_wait(&r, 15000);
	CU_ASSERT_PTR_NOT_NULL(c);
	uint8_t resp[1024], rd[16];
	unsigned rcode, an;
	for (int i = 0; c && i < 2; i++) {
		size_t n = doq_ask(c, "host.example.com.", TC_DNS_TYPE_A, resp, sizeof(resp));
		CU_ASSERT_EQUAL(first_answer(resp, n, TC_DNS_TYPE_A, rd, sizeof(rd), &rcode, &an), 4);
		CU_ASSERT(memcmp(rd, "\xc0\x00\x02\x63", 4) == 0 && rcode == TC_DNS_RCODE_NOERROR);
		CU_ASSERT_EQUAL(tc_dns_get16(resp), 0);   /* the client's ID 0, not the upstream's */
	}
	/* one query forwarded: the second answer came from the cache */
	CU_ASSERT_EQUAL(__atomic_load_n(&u.answered, __ATOMIC_SEQ_CST), 1);
	tc_doq_client_free(c);
	CU_ASSERT_EQUAL(stop_resolver(&r), 0);
	shutdown(u.fd, SHUT_RDWR);
	close(u.fd);
	pthread_join(u.thread, NULL);
}

int main(int argc, char **argv)
{
	bindir = argc > 1 ? argv[1] : "build/bin";
	signal(SIGPIPE, SIG_IGN);
	static const struct tc_test tests[] = {
		{"A/AAAA/SOA/TXT/NXDOMAIN/REFUSED over DoQ", test_answers},
		{"EDNS Padding: padded queries get 468-octet blocks", test_padding},
		{"two queries on two streams of one connection", test_two_streams_one_connection},
		{"stream credit renews as streams end (dns.max_streams)", test_stream_credit},
		{"non-zero Message ID: DOQ_PROTOCOL_ERROR", test_nonzero_message_id},
		{"no length prefix: DOQ_PROTOCOL_ERROR", test_no_length_prefix},
		{"FIN before the message is complete: DOQ_PROTOCOL_ERROR", test_fin_before_message_complete},
		{"data after the message: DOQ_PROTOCOL_ERROR", test_data_after_message},
		{"idle timeout, then stateless reset", test_idle_timeout},
		{"wrong ALPN refused", test_wrong_alpn_refused},
		{"client rejects a certificate for another name", test_wrong_name_rejected_by_client},
		{"garbage datagrams: no crash, still answering", test_garbage_datagrams},
		{"published certificate", test_published_certificate},
		{"served certificate embeds a verified SCT", test_served_certificate_is_logged},
		{"trustchainctl dig +quic", test_dig_quic_output},
		{"Retry; at the cap idle closed (DOQ_EXCESSIVE_LOAD), busy refused", test_retry_and_connection_cap},
		{"zone transfer over DoQ: TSIG-signed AXFR on one stream, unsigned REFUSED", test_zone_transfer},
		{"TLS session resumption by ticket (no 0-RTT)", test_session_resumption},
		{"classic DNS without the signer; DoQ when it returns", test_classic_dns_without_signer},
		{"certificate renewal keeps old connections", test_certificate_renewal},
		{"DoQ waits for a CT log that starts later", test_doq_waits_for_the_log},
		{"names outside the zone forwarded (fallback on)", test_forwarded_over_doq},
		{NULL, NULL},
	};
	return tc_run_suite("resolver DoQ", tests, suite_init, suite_cleanup);
}
