/* The pipelined IPC client (common/ipc_client.c) against a stand-in server
 * on a socketpair: answers in any order reach their callers, a caller that
 * times out gets no answer and a late answer is dropped (ASan: no leak, no
 * use after its caller left), timeouts racing answers from 8 threads, and
 * a closed connection wakes every caller; the same for asynchronous calls
 * (callbacks, each exactly once), whose sends never block on a peer that is
 * not reading. The stand-in speaks the signer's
 * Request/Response: RandomRequest.length is a tag the answer echoes in
 * `error` and that tells the stand-in what to do. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc_client.h"
#include "common/ipc_frame.h"
#include "internal/signer.pb-c.h"
#include "unit/cunit_main.h"

typedef Trustchain__Internal__Request Request;
typedef Trustchain__Internal__Response Response;

/* Tags: the low 16 bits say what the stand-in does. */
#define TAG_DROP 0xdead      /* never answered */
#define TAG_LATE 0xbeef      /* answered after 200 ms */
#define TAG_CLOSE 0xc105     /* the stand-in closes the connection */
#define TAG_JITTER 0x7000    /* answered after 0..3 ms */

struct server {
	int fd;
	pthread_t th;
	long delay_us; /* before its first read: a peer not reading yet */
};

static void sleep_us(long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

static void answer(int fd, uint64_t id, uint32_t tag)
{
	Response r = TRUSTCHAIN__INTERNAL__RESPONSE__INIT;
	char text[32];
	snprintf(text, sizeof(text), "%u", tag);
	r.id = id;
	r.error = text;
	uint8_t buf[128];
	size_t n = trustchain__internal__response__pack(&r, buf);
	tc_frame_write(fd, buf, n);
}

/* Reads every request the socket holds, then answers them newest first (so
 * answers overtake each other), with the delays their tags ask for. */
static void *server_main(void *arg)
{
	struct server *s = arg;
	struct tc_frame_reader fr;
	tc_frame_reader_init(&fr);
	uint8_t chunk[16384];
	struct {
		uint64_t id;
		uint32_t tag;
	} batch[512];
	if (s->delay_us)
		sleep_us(s->delay_us);
	for (;;) {
		ssize_t got = read(s->fd, chunk, sizeof(chunk));
		if (got <= 0 || tc_frame_reader_append(&fr, chunk, (size_t)got) != 0)
			break;
	more:;
		size_t n = 0;
		const uint8_t *frame;
		size_t len;
		while (n < 512 && tc_frame_reader_next(&fr, &frame, &len, NULL) == TC_FRAME_READY) {
			Request *rq = trustchain__internal__request__unpack(NULL, len, frame);
			if (!rq)
				continue;
			batch[n].id = rq->id;
			batch[n].tag = rq->random ? rq->random->length : 0;
			n++;
			trustchain__internal__request__free_unpacked(rq, NULL);
		}
		/* Jittered requests: one pause (0..3 ms) per batch, before
		 * the answers. */
		for (size_t i = 0; i < n; i++)
			if ((batch[i].tag & 0xffff) == TAG_JITTER) {
				sleep_us(rand() % 3000);
				break;
			}
		for (size_t i = n; i-- > 0;) {
			uint32_t what = batch[i].tag & 0xffff;
			if (what == TAG_DROP)
				continue;
			if (what == TAG_CLOSE) {
				shutdown(s->fd, SHUT_RDWR);
				tc_frame_reader_free(&fr);
				return NULL;
			}
			if (what == TAG_LATE)
				sleep_us(200000);
			answer(s->fd, batch[i].id, batch[i].tag);
		}
		if (n == 512) /* frames may be left in the buffer */
			goto more;
	}
	tc_frame_reader_free(&fr);
	return NULL;
}

static struct tc_ipc_client *start(struct server *s)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return NULL;
	s->fd = sv[1];
	if (s->delay_us < 0)
		s->delay_us = 0;
	pthread_create(&s->th, NULL, server_main, s);
	return tc_ipc_client_new(sv[0], &trustchain__internal__request__descriptor,
				 &trustchain__internal__response__descriptor, "stand-in");
}

static void stop(struct server *s, struct tc_ipc_client *c)
{
	tc_ipc_client_free(c); /* the stand-in sees EOF */
	pthread_join(s->th, NULL);
	close(s->fd);
}

/* One call with tag; 1 when answered with that tag, 0 when not answered
 * (err filled), -1 when answered with another call's answer. */
static int call(struct tc_ipc_client *c, uint32_t tag, int timeout_ms, char *err, size_t errlen)
{
	Request rq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__RandomRequest rr = TRUSTCHAIN__INTERNAL__RANDOM_REQUEST__INIT;
	rr.length = tag;
	rq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_RANDOM;
	rq.random = &rr;
	Response *r = (Response *)tc_ipc_call(c, &rq.base, timeout_ms, err, errlen);
	if (!r)
		return 0;
	char want[32];
	snprintf(want, sizeof(want), "%u", tag);
	int ok = r->error && strcmp(r->error, want) == 0;
	trustchain__internal__response__free_unpacked(r, NULL);
	return ok ? 1 : -1;
}

struct caller {
	struct tc_ipc_client *c;
	int index, calls, timeout_ms;
	uint32_t what;
	atomic_int *answered, *unanswered, *wrong;
};

static void *caller_main(void *arg)
{
	struct caller *k = arg;
	char err[128];
	for (int i = 0; i < k->calls; i++) {
		uint32_t tag = ((uint32_t)(k->index * 4096 + i) << 16) | k->what;
		int rc = call(k->c, tag, k->timeout_ms, err, sizeof(err));
		atomic_fetch_add(rc == 1 ? k->answered : rc == 0 ? k->unanswered : k->wrong, 1);
	}
	return NULL;
}

static void run_callers(struct tc_ipc_client *c, int threads, int calls, int timeout_ms, uint32_t what,
			int *answered, int *unanswered, int *wrong)
{
	atomic_int a = 0, u = 0, w = 0;
	struct caller k[16];
	pthread_t th[16];
	for (int i = 0; i < threads; i++) {
		k[i] = (struct caller){.c = c, .index = i, .calls = calls, .timeout_ms = timeout_ms, .what = what,
				       .answered = &a, .unanswered = &u, .wrong = &w};
		pthread_create(&th[i], NULL, caller_main, &k[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	*answered = a;
	*unanswered = u;
	*wrong = w;
}

static void test_answers_reach_their_callers(void)
{
	struct server s = {0};
	struct tc_ipc_client *c = start(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	int a, u, w;
	run_callers(c, 8, 500, 5000, 0, &a, &u, &w);
	CU_ASSERT_EQUAL(a, 8 * 500);
	CU_ASSERT_EQUAL(u + w, 0);
	stop(&s, c);
}

static void test_timeout_and_late_answer(void)
{
	struct server s = {0};
	struct tc_ipc_client *c = start(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	char err[128] = "";
	CU_ASSERT_EQUAL(call(c, TAG_DROP, 50, err, sizeof(err)), 0);
	CU_ASSERT(strstr(err, "did not answer") != NULL);
	/* Answered after its caller left: dropped by the reader. */
	CU_ASSERT_EQUAL(call(c, TAG_LATE, 50, err, sizeof(err)), 0);
	sleep_us(300000);
	CU_ASSERT(tc_ipc_client_alive(c));
	CU_ASSERT_EQUAL(call(c, 7, 5000, err, sizeof(err)), 1);
	stop(&s, c);
}

/* Timeouts close to the answer time: both outcomes, never a wrong answer. */
static void test_timeouts_racing_answers(void)
{
	struct server s = {0};
	struct tc_ipc_client *c = start(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	int a, u, w;
	run_callers(c, 8, 150, 2, TAG_JITTER, &a, &u, &w);
	fprintf(stderr, " (%d answered, %d timed out) ", a, u);
	CU_ASSERT_EQUAL(w, 0);
	CU_ASSERT_EQUAL(a + u, 8 * 150);
	char err[128];
	CU_ASSERT_EQUAL(call(c, 9, 5000, err, sizeof(err)), 1);
	stop(&s, c);
}

static void *dropped_call(void *arg)
{
	struct tc_ipc_client *c = arg;
	char err[128] = "";
	int rc = call(c, TAG_DROP, 10000, err, sizeof(err));
	return rc == 0 && strstr(err, "connection closed") ? (void *)1 : NULL;
}

static void test_close_wakes_every_caller(void)
{
	struct server s = {0};
	struct tc_ipc_client *c = start(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, dropped_call, c);
	sleep_us(100000);
	char err[128] = "";
	CU_ASSERT_EQUAL(call(c, TAG_CLOSE, 10000, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++) {
		void *ok;
		pthread_join(th[i], &ok);
		CU_ASSERT_PTR_NOT_NULL(ok);
	}
	CU_ASSERT_FALSE(tc_ipc_client_alive(c));
	CU_ASSERT_EQUAL(call(c, 1, 1000, err, sizeof(err)), 0);
	CU_ASSERT(strstr(err, "closed") != NULL);
	stop(&s, c);
}

/* Asynchronous calls: what each callback got. */
struct async_box {
	atomic_int calls, answered, unanswered, wrong, closed, timed_out;
};

struct async_call {
	struct async_box *box;
	uint32_t tag;
};

static void async_done(void *arg, ProtobufCMessage *resp, const char *err)
{
	struct async_call *k = arg;
	Response *r = (Response *)resp;
	if (r) {
		char want[32];
		snprintf(want, sizeof(want), "%u", k->tag);
		atomic_fetch_add(r->error && strcmp(r->error, want) == 0 ? &k->box->answered : &k->box->wrong, 1);
		trustchain__internal__response__free_unpacked(r, NULL);
	} else {
		atomic_fetch_add(&k->box->unanswered, 1);
		if (err && strstr(err, "closed"))
			atomic_fetch_add(&k->box->closed, 1);
		if (err && strstr(err, "did not answer"))
			atomic_fetch_add(&k->box->timed_out, 1);
	}
	atomic_fetch_add(&k->box->calls, 1);
	free(k);
}

/* Sends one asynchronous call with tag; 0 when
 * its callback will run. */
static int send_async(struct tc_ipc_client *c, struct async_box *box, uint32_t tag, int timeout_ms)
{
	Request rq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__RandomRequest rr = TRUSTCHAIN__INTERNAL__RANDOM_REQUEST__INIT;
	rr.length = tag;
	rq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_RANDOM;
	rq.random = &rr;
	struct async_call *k = malloc(sizeof(*k));
	*k = (struct async_call){.box = box, .tag = tag};
	char err[128];
	if (tc_ipc_call_async(c, &rq.base, timeout_ms, async_done, k, err, sizeof(err)) != 0) {
		free(k);
		return -1;
	}
	return 0;
}

static int wait_calls(struct async_box *box, int n, int ms)
{
	for (int i = 0; i < ms && atomic_load(&box->calls) < n; i++)
		sleep_us(1000);
	return atomic_load(&box->calls);
}

static void test_async_answers_matched(void)
{
	struct server s = {0};
	struct tc_ipc_client *c = start(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct async_box box = {0};
	int sent = 0;
	for (int i = 0; i < 4000; i++)
		sent += send_async(c, &box, ((uint32_t)i << 16) | TAG_JITTER, 10000) == 0;
	CU_ASSERT_EQUAL(sent, 4000);
	/* Synchronous callers share the connection meanwhile. */
	int a, u, w;
	run_callers(c, 4, 100, 5000, 0, &a, &u, &w);
	CU_ASSERT_EQUAL(a, 400);
	CU_ASSERT_EQUAL(wait_calls(&box, 4000, 10000), 4000);
	CU_ASSERT_EQUAL(atomic_load(&box.answered), 4000);
	CU_ASSERT_EQUAL(atomic_load(&box.wrong) + atomic_load(&box.unanswered), 0);
	stop(&s, c);
}

static void test_async_timeout_once(void)
{
	struct server s = {0};
	struct tc_ipc_client *c = start(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct async_box box = {0};
	CU_ASSERT_EQUAL(send_async(c, &box, TAG_DROP, 100), 0);
	CU_ASSERT_EQUAL(send_async(c, &box, TAG_LATE, 50), 0);
	/* Never answered: expired within a tick or two of its deadline. */
	CU_ASSERT_EQUAL(wait_calls(&box, 2, 1000), 2);
	CU_ASSERT_EQUAL(atomic_load(&box.timed_out), 2);
	sleep_us(400000); /* the late answer arrives: dropped, no second callback */
	CU_ASSERT_EQUAL(atomic_load(&box.calls), 2);
	CU_ASSERT(tc_ipc_client_alive(c));
	CU_ASSERT_EQUAL(send_async(c, &box, 5u << 16, 5000), 0);
	CU_ASSERT_EQUAL(wait_calls(&box, 3, 5000), 3);
	CU_ASSERT_EQUAL(atomic_load(&box.answered), 1);
	stop(&s, c);
}

static void test_async_close_and_free(void)
{
	struct server s = {0};
	struct tc_ipc_client *c = start(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct async_box box = {0};
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(send_async(c, &box, TAG_DROP, 10000), 0);
	sleep_us(50000);
	CU_ASSERT_EQUAL(send_async(c, &box, TAG_CLOSE, 10000), 0);
	CU_ASSERT_EQUAL(wait_calls(&box, 9, 5000), 9);
	CU_ASSERT_EQUAL(atomic_load(&box.closed), 9);
	/* Closed: refused at once, the callback never runs. */
	CU_ASSERT_EQUAL(send_async(c, &box, 1, 1000), -1);
	stop(&s, c);
	CU_ASSERT_EQUAL(atomic_load(&box.calls), 9);

	/* Freeing the client with calls in flight runs their callbacks. */
	struct server s2 = {0};
	c = start(&s2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct async_box box2 = {0};
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(send_async(c, &box2, TAG_DROP, 10000), 0);
	stop(&s2, c);
	CU_ASSERT_EQUAL(atomic_load(&box2.calls), 8);
	CU_ASSERT_EQUAL(atomic_load(&box2.closed), 8);
}

/* A peer that does not read for a while: asynchronous sends return at once
 * (what the socket does not take is queued), and every call is answered
 * once it reads. */
static void test_async_send_never_blocks(void)
{
	struct server s = {.delay_us = 2000000};
	struct tc_ipc_client *c = start(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct async_box box = {0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int n = 6000, sent = 0; /* far more frames than a socket buffer holds */
	for (int i = 0; i < n; i++)
		sent += send_async(c, &box, ((uint32_t)(i & 0x7fff) << 16) | 1, 20000) == 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, " (%d sends in %.0f ms) ", sent, took * 1e3);
	CU_ASSERT_EQUAL(sent, n);
	CU_ASSERT(took < 1.5); /* the peer reads only after 2 s */
	CU_ASSERT_EQUAL(wait_calls(&box, n, 20000), n);
	CU_ASSERT_EQUAL(atomic_load(&box.answered), n);
	stop(&s, c);
}

/* Callbacks that call again from the reader thread (what an issuance does:
 * each answer sends its next step): those sends are held while the reader
 * delivers the responses of one read and leave together after it. Every
 * chain runs to its end, each step answered once. */
struct chain {
	struct tc_ipc_client *c;
	struct async_box *box;
	int left;
	atomic_int *ended;
};

static void chain_step(void *arg, ProtobufCMessage *resp, const char *err)
{
	(void)err;
	struct chain *ch = arg;
	if (resp) {
		atomic_fetch_add(&ch->box->answered, 1);
		trustchain__internal__response__free_unpacked((Response *)resp, NULL);
	} else {
		atomic_fetch_add(&ch->box->unanswered, 1);
	}
	Request rq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__RandomRequest rr = TRUSTCHAIN__INTERNAL__RANDOM_REQUEST__INIT;
	rr.length = 1u << 16;
	rq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_RANDOM;
	rq.random = &rr;
	char e[128];
	if (!resp || ch->left-- <= 0 || tc_ipc_call_async(ch->c, &rq.base, 5000, chain_step, ch, e, sizeof(e)) != 0)
		atomic_fetch_add(ch->ended, 1);
}

static void test_async_chains_from_callbacks(void)
{
	struct server s = {0};
	struct tc_ipc_client *c = start(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	enum { CHAINS = 64, STEPS = 50 };
	static struct chain ch[CHAINS];
	struct async_box box = {0};
	atomic_int ended = 0;
	for (int i = 0; i < CHAINS; i++) {
		ch[i] = (struct chain){.c = c, .box = &box, .left = STEPS, .ended = &ended};
		Request rq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
		Trustchain__Internal__RandomRequest rr = TRUSTCHAIN__INTERNAL__RANDOM_REQUEST__INIT;
		rr.length = 1u << 16;
		rq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_RANDOM;
		rq.random = &rr;
		char e[128];
		CU_ASSERT_EQUAL(tc_ipc_call_async(c, &rq.base, 5000, chain_step, &ch[i], e, sizeof(e)), 0);
	}
	for (int i = 0; i < 10000 && atomic_load(&ended) < CHAINS; i++)
		sleep_us(1000);
	CU_ASSERT_EQUAL(atomic_load(&ended), CHAINS);
	CU_ASSERT_EQUAL(atomic_load(&box.answered), CHAINS * (STEPS + 1));
	CU_ASSERT_EQUAL(atomic_load(&box.unanswered), 0);
	stop(&s, c);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"8 threads pipelined, answers out of order", test_answers_reach_their_callers},
		{"timeout, then a late answer dropped", test_timeout_and_late_answer},
		{"timeouts racing answers (8 threads)", test_timeouts_racing_answers},
		{"closed connection wakes every caller", test_close_wakes_every_caller},
		{"async: 4,000 calls matched by id beside synchronous callers", test_async_answers_matched},
		{"async: timeouts expire once, late answers dropped", test_async_timeout_once},
		{"async: close and free run every callback once", test_async_close_and_free},
		{"async: sends never block on a peer not reading", test_async_send_never_blocks},
		{"async: callbacks that call again (held sends) run every chain", test_async_chains_from_callbacks},
		{NULL, NULL},
	};
	return tc_run_suite("ipc_client", tests, NULL, NULL);
}
