/* trustchain-acme's client (validator_client.c) and the validator's server
 * loop (validator_server.c) over socketpairs, with real http-01 checks
 * against the loopback responder: answers reach their callbacks, checks
 * run concurrently (a throughput figure is printed), malformed checks are
 * refused at submit, a protocol violation ends the server's link, a bad
 * answer makes the client drop its link, checks in flight are sent again on
 * a new link, and a check nobody answers fails after its timeout. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acme/validator_client.h"
#include "acme/validator_server.h"
#include "common/ipc_frame.h"
#include "unit/cunit_main.h"
#include "unit/test_validator_responders.h"

static struct tc_vcheck_cfg cfg;

static int setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	char why[256];
	if (tc_vcheck_global_init(why, sizeof(why)) != 0)
		return 1;
	uint16_t hp = tv_http_start(), dp = tv_dns_start();
	char resolver[64];
	snprintf(resolver, sizeof(resolver), "127.0.0.1:%u", dp);
	if (tc_vdns_servers_init(resolver, NULL, &cfg.dns, why, sizeof(why)) != 0)
		return 1;
	cfg.rules.allow_loopback = 1;
	cfg.http_port = hp;
	cfg.tls_port = 1;
	cfg.timeout_ms = 3000;
	cfg.max_redirects = 3;
	cfg.max_response_bytes = 4096;
	cfg.concurrency = 16;
	tv_http_set_mode(TV_HTTP_OK);
	return 0;
}

static int teardown(void)
{
	tv_http_stop();
	tv_dns_stop();
	return 0;
}

/* Results collected from the client's reader thread. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done, valid;
	struct tc_vresult last;
} R = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void on_done(void *arg, const struct tc_vresult *r)
{
	pthread_mutex_lock(&R.lock);
	R.done++;
	R.valid += r->valid;
	R.last = *r;
	if (arg) /* a result the test wants by name */
		*(struct tc_vresult *)arg = *r;
	pthread_cond_broadcast(&R.cond);
	pthread_mutex_unlock(&R.lock);
}

static void reset(void)
{
	pthread_mutex_lock(&R.lock);
	R.done = R.valid = 0;
	memset(&R.last, 0, sizeof(R.last));
	pthread_mutex_unlock(&R.lock);
}

/* Waits until n results are in or ms pass; returns how many are in. */
static int wait_done(int n, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&R.lock);
	while (R.done < n && pthread_cond_timedwait(&R.cond, &R.lock, &until) == 0) {
	}
	int d = R.done;
	pthread_mutex_unlock(&R.lock);
	return d;
}

static const struct tc_vcheck good = {
	.type = "http-01", .identifier = "ok.test", .identifier_len = 7, .token = TV_TOKEN, .key_authorization = TV_KEYAUTH,
};

struct serving {
	struct tc_vserver *srv;
	int fd;
	int rc;
	char why[256];
	pthread_t th;
};

static void *serve_main(void *arg)
{
	struct serving *s = arg;
	s->rc = tc_vserver_serve(s->srv, s->fd, s->why, sizeof(s->why));
	return NULL;
}

/* A validator serving one end of a fresh socketpair; returns the other. */
static int start_serving(struct serving *s, struct tc_vserver *srv)
{
	int sp[2];
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	*s = (struct serving){.srv = srv, .fd = sp[1]};
	CU_ASSERT_FATAL(pthread_create(&s->th, NULL, serve_main, s) == 0);
	return sp[0];
}

static void test_round_trip_and_throughput(void)
{
	char why[256];
	struct tc_vserver *srv = tc_vserver_new(&cfg, why, sizeof(why));
	CU_ASSERT_FATAL(srv != NULL);
	struct tc_vclient *v = tc_vclient_new();
	CU_ASSERT_FATAL(v != NULL);
	/* No link yet: refused. */
	CU_ASSERT(tc_vclient_submit(v, &good, 2000, on_done, NULL) == -1);
	struct serving s;
	tc_vclient_set_link(v, start_serving(&s, srv));
	reset();
	CU_ASSERT(tc_vclient_submit(v, &good, 2000, on_done, NULL) == 0);
	CU_ASSERT(wait_done(1, 5000) == 1);
	CU_ASSERT(R.valid == 1);
	CU_ASSERT_STRING_EQUAL(R.last.address_used, "127.0.0.1");
	CU_ASSERT(strstr(R.last.url, "/.well-known/acme-challenge/" TV_TOKEN) != NULL);

	/* Malformed checks never leave the client. */
	struct tc_vcheck bad = good;
	bad.type = "http-02";
	CU_ASSERT(tc_vclient_submit(v, &bad, 2000, on_done, NULL) == -1);
	bad = good;
	bad.identifier = "ok.test\0evil";
	bad.identifier_len = 12;
	CU_ASSERT(tc_vclient_submit(v, &bad, 2000, on_done, NULL) == -1);
	bad = good;
	bad.key_authorization = "other.thumb";
	CU_ASSERT(tc_vclient_submit(v, &bad, 2000, on_done, NULL) == -1);

	/* Many at once: concurrency workers, answers in any order. */
	reset();
	const int n = 400;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++)
		CU_ASSERT(tc_vclient_submit(v, &good, 3000, on_done, NULL) == 0);
	CU_ASSERT(wait_done(n, 30000) == n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("\n    %d http-01 checks (resolve + GET) in %.2f s: %.0f checks/s with %u workers", n, secs, n / secs,
	       cfg.concurrency);
	CU_ASSERT(R.valid == n);
	CU_ASSERT(tc_vclient_in_flight(v) == 0);

	tc_vclient_free(v); /* closes the link: the server's serve returns 0 */
	pthread_join(s.th, NULL);
	CU_ASSERT(s.rc == 0);
	tc_vserver_free(srv);
}

static void test_server_violation(void)
{
	char why[256];
	struct tc_vserver *srv = tc_vserver_new(&cfg, why, sizeof(why));
	CU_ASSERT_FATAL(srv != NULL);
	struct serving s;
	int fd = start_serving(&s, srv);
	CU_ASSERT(tc_frame_write(fd, (const uint8_t *)"\x08\x01\x10\x09", 4) == 0); /* type 9 */
	pthread_join(s.th, NULL);
	CU_ASSERT(s.rc == -1);
	CU_ASSERT(strstr(s.why, "protocol violation") != NULL);
	char b;
	CU_ASSERT(read(fd, &b, 1) == 0); /* the link was closed */
	close(fd);

	/* A fresh link is served; an interrupt ends it cleanly. */
	fd = start_serving(&s, srv);
	struct timespec ts = {0, 50 * 1000000L};
	nanosleep(&ts, NULL);
	tc_vserver_interrupt(srv);
	pthread_join(s.th, NULL);
	CU_ASSERT(s.rc == 0);
	close(fd);
	tc_vserver_free(srv);
}

static void test_resend_on_new_link(void)
{
	char why[256];
	struct tc_vserver *srv = tc_vserver_new(&cfg, why, sizeof(why));
	CU_ASSERT_FATAL(srv != NULL);
	struct tc_vclient *v = tc_vclient_new();
	/* First link: a validator that reads and never answers. */
	int hole[2];
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, hole) == 0);
	tc_vclient_set_link(v, hole[0]);
	struct timespec ts = {0, 50 * 1000000L};
	nanosleep(&ts, NULL); /* the reader installs the link */
	reset();
	CU_ASSERT(tc_vclient_submit(v, &good, 3000, on_done, NULL) == 0);
	CU_ASSERT(tc_vclient_submit(v, &good, 3000, on_done, NULL) == 0);
	uint8_t *frame;
	size_t len;
	CU_ASSERT(tc_frame_read(hole[1], &frame, &len, 2000) == 1); /* it did go out */
	free(frame);
	CU_ASSERT(wait_done(1, 200) == 0);
	CU_ASSERT(tc_vclient_in_flight(v) == 2);
	/* The validator "restarts": a new link, both checks sent again. */
	struct serving s;
	tc_vclient_set_link(v, start_serving(&s, srv));
	CU_ASSERT(wait_done(2, 5000) == 2);
	CU_ASSERT(R.valid == 2);
	int rc; /* the old link: the second check's frame, then closed */
	while ((rc = tc_frame_read(hole[1], &frame, &len, 2000)) == 1)
		free(frame);
	CU_ASSERT(rc == 0);
	close(hole[1]);
	tc_vclient_free(v);
	pthread_join(s.th, NULL);
	tc_vserver_free(srv);
}

static void test_client_timeout_and_bad_answer(void)
{
	struct tc_vclient *v = tc_vclient_new();
	int sp[2];
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	tc_vclient_set_link(v, sp[0]);
	struct timespec ts = {0, 50 * 1000000L};
	nanosleep(&ts, NULL);
	reset();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT(tc_vclient_submit(v, &good, 100, on_done, NULL) == 0);
	CU_ASSERT(wait_done(1, 10000) == 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("\n    unanswered check failed after %ld ms: %s", ms, R.last.detail);
	CU_ASSERT(!R.last.valid && strcmp(R.last.problem_type, "serverInternal") == 0);
	CU_ASSERT(ms >= 100 + TC_VCLIENT_GRACE_MS - 50 && ms < 100 + TC_VCLIENT_GRACE_MS + 1500);

	/* A fake validator answers with a problem type that does not exist:
	 * the client drops the link; the check stays in flight for the next. */
	reset();
	CU_ASSERT(tc_vclient_submit(v, &good, 3000, on_done, NULL) == 0);
	uint8_t *frame;
	size_t len;
	CU_ASSERT(tc_frame_read(sp[1], &frame, &len, 2000) == 1);
	free(frame);
	CU_ASSERT(tc_frame_read(sp[1], &frame, &len, 2000) == 1); /* the second check */
	free(frame);
	struct tc_vresult bogus = {0};
	snprintf(bogus.problem_type, sizeof(bogus.problem_type), "teapot");
	uint8_t *out;
	CU_ASSERT_FATAL(tc_vresponse_encode(2, &bogus, &out, &len) == 0);
	CU_ASSERT(tc_frame_write(sp[1], out, len) == 0);
	free(out);
	char b;
	CU_ASSERT(read(sp[1], &b, 1) == 0); /* dropped */
	CU_ASSERT(wait_done(1, 200) == 0);
	CU_ASSERT(tc_vclient_in_flight(v) == 1);
	close(sp[1]);
	tc_vclient_free(v);
}

/* With one worker busy on a hanging target, a check queued behind it whose
 * deadline passes while it waits is answered at once (serverInternal),
 * not run late. */
static void test_queue_wait_counts(void)
{
	char why[256];
	struct tc_vcheck_cfg c = cfg;
	c.concurrency = 1;
	struct tc_vserver *srv = tc_vserver_new(&c, why, sizeof(why));
	CU_ASSERT_FATAL(srv != NULL);
	struct tc_vclient *v = tc_vclient_new();
	struct serving s;
	tc_vclient_set_link(v, start_serving(&s, srv));
	tv_http_set_mode(TV_HTTP_HANG);
	reset();
	static struct tc_vresult hanging, queued;
	CU_ASSERT(tc_vclient_submit(v, &good, 600, on_done, &hanging) == 0);
	CU_ASSERT(tc_vclient_submit(v, &good, 300, on_done, &queued) == 0);
	CU_ASSERT(wait_done(2, 5000) == 2);
	CU_ASSERT(R.valid == 0);
	CU_ASSERT_STRING_EQUAL(hanging.problem_type, "connection");
	CU_ASSERT_STRING_EQUAL(queued.problem_type, "serverInternal");
	CU_ASSERT(strstr(queued.detail, "too busy") != NULL);
	printf("\n    queued behind a hanging check: %s: %s", queued.problem_type, queued.detail);
	tv_http_set_mode(TV_HTTP_OK);
	tc_vclient_free(v);
	pthread_join(s.th, NULL);
	tc_vserver_free(srv);
}

static void send_checks(int fd, int n, uint32_t timeout_ms)
{
	for (int i = 0; i < n; i++) {
		struct tc_vrequest r = {.id = (uint64_t)i + 1, .type = TC_V_HTTP01, .timeout_ms = timeout_ms};
		strcpy(r.identifier, "ok.test");
		r.identifier_len = 7;
		strcpy(r.token, TV_TOKEN);
		strcpy(r.key_authorization, TV_KEYAUTH);
		uint8_t *buf;
		size_t len;
		CU_ASSERT_FATAL(tc_vrequest_encode(&r, &buf, &len) == 0);
		CU_ASSERT(tc_frame_write(fd, buf, len) == 0);
		free(buf);
	}
}

/* A link that ends with TC_V_MAX_IN_FLIGHT checks queued behind a busy
 * worker: its queue is dropped, so the next link may send as many again
 * without being taken for a violation. */
static void test_dead_link_queue_dropped(void)
{
	char why[256];
	struct tc_vcheck_cfg c = cfg;
	c.concurrency = 1;
	struct tc_vserver *srv = tc_vserver_new(&c, why, sizeof(why));
	CU_ASSERT_FATAL(srv != NULL);
	tv_http_set_mode(TV_HTTP_HANG);
	struct serving a, b;
	int fa = start_serving(&a, srv);
	send_checks(fa, 1, 1500);              /* occupies the only worker */
	struct timespec ts = {0, 100 * 1000000L};
	nanosleep(&ts, NULL);
	send_checks(fa, TC_V_MAX_IN_FLIGHT - 1, 3000);
	nanosleep(&ts, NULL);
	close(fa);
	pthread_join(a.th, NULL);
	CU_ASSERT(a.rc == 0);
	int fb = start_serving(&b, srv);
	send_checks(fb, TC_V_MAX_IN_FLIGHT - 1, 3000);
	nanosleep(&ts, NULL);
	tc_vserver_interrupt(srv);
	pthread_join(b.th, NULL);
	CU_ASSERT(b.rc == 0); /* not a violation */
	if (b.rc != 0)
		fprintf(stderr, "%s\n", b.why);
	close(fb);
	tv_http_set_mode(TV_HTTP_OK);
	tc_vserver_free(srv);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"round trip, refusals, throughput", test_round_trip_and_throughput},
		{"server: protocol violation, interrupt", test_server_violation},
		{"client: checks re-sent on a new link", test_resend_on_new_link},
		{"client: timeout, bad answer", test_client_timeout_and_bad_answer},
		{"server: time in the queue counts", test_queue_wait_counts},
		{"server: a dead link's queue is dropped", test_dead_link_queue_dropped},
		{NULL, NULL},
	};
	return tc_run_suite("validator_link", tests, setup, teardown);
}
