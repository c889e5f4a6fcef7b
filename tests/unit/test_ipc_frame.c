/* IPC framing (incremental reader, blocking read/write) and the pipelined
 * signer client, against a small fake signer on the other end of a
 * socketpair that answers out of order, closes, or talks garbage. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/signer_client.h"
#include "unit/cunit_main.h"

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Appends one frame (header + payload of len bytes of value fill) to out. */
static size_t put_frame(uint8_t *out, size_t len, uint8_t fill)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	memset(out + 4, fill, len);
	return 4 + len;
}

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* ---- tc_frame_reader ---- */

static void test_reader_byte_by_byte(void)
{
	static const size_t sizes[] = {1, 300, 5000};
	uint8_t stream[6000];
	size_t total = 0;
	for (size_t i = 0; i < 3; i++)
		total += put_frame(stream + total, sizes[i], (uint8_t)(0xa0 + i));

	struct tc_frame_reader r;
	tc_frame_reader_init(&r);
	size_t got = 0;
	for (size_t off = 0; off < total; off++) {
		CU_ASSERT_EQUAL_FATAL(tc_frame_reader_append(&r, stream + off, 1), 0);
		const uint8_t *payload;
		size_t len;
		enum tc_frame_status st = tc_frame_reader_next(&r, &payload, &len, NULL);
		CU_ASSERT_NOT_EQUAL_FATAL(st, TC_FRAME_ERROR);
		if (st == TC_FRAME_READY) {
			CU_ASSERT_FATAL(got < 3);
			CU_ASSERT_EQUAL(len, sizes[got]);
			CU_ASSERT_TRUE(all_bytes(payload, len, (uint8_t)(0xa0 + got)));
			/* A frame is complete exactly when its last byte arrived. */
			size_t end = 0;
			for (size_t i = 0; i <= got; i++)
				end += 4 + sizes[i];
			CU_ASSERT_EQUAL(off + 1, end);
			got++;
		}
	}
	CU_ASSERT_EQUAL(got, 3);
	const uint8_t *payload;
	size_t len;
	CU_ASSERT_EQUAL(tc_frame_reader_next(&r, &payload, &len, NULL), TC_FRAME_NEED_MORE);
	tc_frame_reader_free(&r);
}

static void test_reader_many_frames_in_one_append(void)
{
	enum { N = 200 };
	uint8_t *stream = malloc(N * (4 + N));
	CU_ASSERT_FATAL(stream != NULL);
	size_t total = 0;
	for (size_t i = 0; i < N; i++)
		total += put_frame(stream + total, i + 1, (uint8_t)i);
	/* Half a frame more, completed by a second append. */
	uint8_t tail[4 + 10];
	put_frame(tail, 10, 0x55);

	struct tc_frame_reader r;
	tc_frame_reader_init(&r);
	CU_ASSERT_EQUAL_FATAL(tc_frame_reader_append(&r, stream, total), 0);
	CU_ASSERT_EQUAL_FATAL(tc_frame_reader_append(&r, tail, 7), 0);
	const uint8_t *payload;
	size_t len;
	for (size_t i = 0; i < N; i++) {
		CU_ASSERT_EQUAL_FATAL(tc_frame_reader_next(&r, &payload, &len, NULL), TC_FRAME_READY);
		CU_ASSERT_EQUAL(len, i + 1);
		CU_ASSERT_TRUE(all_bytes(payload, len, (uint8_t)i));
	}
	CU_ASSERT_EQUAL(tc_frame_reader_next(&r, &payload, &len, NULL), TC_FRAME_NEED_MORE);
	CU_ASSERT_EQUAL_FATAL(tc_frame_reader_append(&r, tail + 7, sizeof(tail) - 7), 0);
	CU_ASSERT_EQUAL_FATAL(tc_frame_reader_next(&r, &payload, &len, NULL), TC_FRAME_READY);
	CU_ASSERT_EQUAL(len, 10);
	CU_ASSERT_TRUE(all_bytes(payload, len, 0x55));
	CU_ASSERT_EQUAL(tc_frame_reader_next(&r, &payload, &len, NULL), TC_FRAME_NEED_MORE);
	/* Everything handed out has been dropped from the buffer. */
	CU_ASSERT_EQUAL(r.len, 0);
	tc_frame_reader_free(&r);
	free(stream);
}

static enum tc_frame_status feed(const uint8_t *bytes, size_t n, const char **why)
{
	struct tc_frame_reader r;
	tc_frame_reader_init(&r);
	const uint8_t *payload;
	size_t len;
	*why = NULL;
	CU_ASSERT_EQUAL(tc_frame_reader_append(&r, bytes, n), 0);
	enum tc_frame_status st = tc_frame_reader_next(&r, &payload, &len, why);
	tc_frame_reader_free(&r);
	return st;
}

static void test_reader_bad_frames(void)
{
	const char *why;
	static const uint8_t empty[] = {0, 0, 0, 0, 0x08, 0x01};
	CU_ASSERT_EQUAL(feed(empty, sizeof(empty), &why), TC_FRAME_ERROR);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_STRING_EQUAL(why, "empty frame");

	static const uint8_t oversized[] = {0x00, 0x10, 0x00, 0x01, 0x08};
	CU_ASSERT_EQUAL(feed(oversized, sizeof(oversized), &why), TC_FRAME_ERROR);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_STRING_EQUAL(why, "frame larger than the 1 MiB limit");

	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
	CU_ASSERT_EQUAL(feed(huge, sizeof(huge), &why), TC_FRAME_ERROR);

	/* Someone speaking HTTP to the socket: "GET " is a 1.2 GB length. */
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	CU_ASSERT_EQUAL(feed((const uint8_t *)http, sizeof(http) - 1, &why), TC_FRAME_ERROR);

	/* A header alone is not an error yet, nor is a partial header. */
	static const uint8_t partial[] = {0x00, 0x00, 0x01};
	CU_ASSERT_EQUAL(feed(partial, sizeof(partial), &why), TC_FRAME_NEED_MORE);

	/* The error is sticky: later frames are never parsed from a broken stream. */
	struct tc_frame_reader r;
	tc_frame_reader_init(&r);
	uint8_t good[8];
	put_frame(good, 4, 1);
	const uint8_t *payload;
	size_t len;
	CU_ASSERT_EQUAL(tc_frame_reader_append(&r, empty, 4), 0);
	CU_ASSERT_EQUAL(tc_frame_reader_append(&r, good, sizeof(good)), 0);
	CU_ASSERT_EQUAL(tc_frame_reader_next(&r, &payload, &len, NULL), TC_FRAME_ERROR);
	CU_ASSERT_EQUAL(tc_frame_reader_next(&r, &payload, &len, NULL), TC_FRAME_ERROR);
	tc_frame_reader_free(&r);
}

static void test_reader_max_frame_and_bound(void)
{
	size_t max = TC_IPC_MAX_FRAME;
	uint8_t *big = malloc(4 + max);
	CU_ASSERT_FATAL(big != NULL);
	put_frame(big, max, 0x77);

	struct tc_frame_reader r;
	tc_frame_reader_init(&r);
	const uint8_t *payload;
	size_t len;
	/* A frame of exactly the limit is fine. */
	CU_ASSERT_EQUAL_FATAL(tc_frame_reader_append(&r, big, 4 + max), 0);
	CU_ASSERT_EQUAL_FATAL(tc_frame_reader_next(&r, &payload, &len, NULL), TC_FRAME_READY);
	CU_ASSERT_EQUAL(len, max);
	CU_ASSERT_TRUE(all_bytes(payload, len, 0x77));
	tc_frame_reader_free(&r);

	/* Buffering stops at one maximal frame plus 64 KiB, whatever the peer sends. */
	tc_frame_reader_init(&r);
	size_t bound = TC_IPC_MAX_FRAME + 4 + 65536;
	CU_ASSERT_EQUAL(tc_frame_reader_append(&r, big, 4 + max), 0);
	CU_ASSERT_EQUAL(tc_frame_reader_append(&r, big, bound - (4 + max)), 0);
	CU_ASSERT_EQUAL(r.len, bound);
	CU_ASSERT_EQUAL(tc_frame_reader_append(&r, big, 1), -1);
	CU_ASSERT_EQUAL(r.len, bound);
	tc_frame_reader_free(&r);

	/* One oversized append is refused outright. */
	tc_frame_reader_init(&r);
	uint8_t *huge = calloc(1, bound + 1);
	CU_ASSERT_FATAL(huge != NULL);
	CU_ASSERT_EQUAL(tc_frame_reader_append(&r, huge, bound + 1), -1);
	CU_ASSERT_EQUAL(r.len, 0);
	tc_frame_reader_free(&r);
	free(huge);
	free(big);
}

/* ---- tc_frame_write / tc_frame_read ---- */

struct writer_arg {
	int fd;
	const uint8_t *payload;
	size_t len;
	int rc;
};

static void *writer_main(void *p)
{
	struct writer_arg *a = p;
	a->rc = tc_frame_write(a->fd, a->payload, a->len);
	return NULL;
}

static void test_write_read_round_trip(void)
{
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	static const size_t sizes[] = {1, 17, 70000, TC_IPC_MAX_FRAME};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *out = malloc(sizes[i]);
		CU_ASSERT_FATAL(out != NULL);
		for (size_t k = 0; k < sizes[i]; k++)
			out[k] = (uint8_t)(k * 7 + i);
		/* Large frames exceed the socket buffer: write from another thread. */
		struct writer_arg wa = {.fd = sv[0], .payload = out, .len = sizes[i], .rc = -2};
		pthread_t t;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, writer_main, &wa), 0);
		uint8_t *in = NULL;
		size_t len = 0;
		CU_ASSERT_EQUAL(tc_frame_read(sv[1], &in, &len, 5000), 1);
		pthread_join(t, NULL);
		CU_ASSERT_EQUAL(wa.rc, 0);
		CU_ASSERT_EQUAL(len, sizes[i]);
		CU_ASSERT_TRUE(in && len == sizes[i] && memcmp(in, out, len) == 0);
		free(in);
		free(out);
	}
	/* Clean EOF between frames is 0, not an error. */
	close(sv[0]);
	uint8_t *in = NULL;
	size_t len = 0;
	CU_ASSERT_EQUAL(tc_frame_read(sv[1], &in, &len, 1000), 0);
	close(sv[1]);
}

static void test_write_refuses_bad_sizes(void)
{
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	uint8_t b = 1;
	errno = 0;
	CU_ASSERT_EQUAL(tc_frame_write(sv[0], &b, 0), -1);
	CU_ASSERT_EQUAL(errno, EMSGSIZE);
	errno = 0;
	CU_ASSERT_EQUAL(tc_frame_write(sv[0], &b, TC_IPC_MAX_FRAME + 1), -1);
	CU_ASSERT_EQUAL(errno, EMSGSIZE);
	/* Nothing reached the peer. */
	close(sv[0]);
	uint8_t *in = NULL;
	size_t len;
	CU_ASSERT_EQUAL(tc_frame_read(sv[1], &in, &len, 1000), 0);
	close(sv[1]);
}

static void test_read_truncated_frame(void)
{
	int sv[2];
	/* EOF inside the payload. */
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	uint8_t partial[4 + 10];
	put_frame(partial, 10, 9);
	partial[3] = 100; /* claims 100 bytes, sends 10 */
	CU_ASSERT_EQUAL(write(sv[0], partial, sizeof(partial)), (ssize_t)sizeof(partial));
	close(sv[0]);
	uint8_t *in = NULL;
	size_t len = 0;
	errno = 0;
	CU_ASSERT_EQUAL(tc_frame_read(sv[1], &in, &len, 1000), -1);
	CU_ASSERT_EQUAL(errno, EPROTO);
	CU_ASSERT_PTR_NULL(in);
	close(sv[1]);

	/* EOF inside the header. */
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL(write(sv[0], partial, 2), 2);
	close(sv[0]);
	errno = 0;
	CU_ASSERT_EQUAL(tc_frame_read(sv[1], &in, &len, 1000), -1);
	CU_ASSERT_EQUAL(errno, EPROTO);
	close(sv[1]);
}

/* A bounded write to a peer that never reads fails with EAGAIN about when
 * the bound says, instead of blocking for ever. */
static void test_write_bounded_when_peer_never_reads(void)
{
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL_FATAL(tc_frame_bound_writes(sv[0], 100), 0);
	static uint8_t payload[64 * 1024];
	int rc = 0, frames = 0;
	long t0 = now_ms();
	errno = 0;
	while (frames < 1000 && (rc = tc_frame_write(sv[0], payload, sizeof(payload))) == 0)
		frames++;
	long took = now_ms() - t0;
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
	CU_ASSERT_TRUE(frames < 1000);
	CU_ASSERT_TRUE(took >= 90 && took < 5000);
	close(sv[0]);
	close(sv[1]);
}

static void test_read_timeout(void)
{
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	uint8_t *in = NULL;
	size_t len = 0;
	long t0 = now_ms();
	errno = 0;
	CU_ASSERT_EQUAL(tc_frame_read(sv[1], &in, &len, 50), -1);
	long took = now_ms() - t0;
	CU_ASSERT_EQUAL(errno, ETIMEDOUT);
	CU_ASSERT_TRUE(took >= 49 && took < 2000);

	/* The deadline covers the whole frame, not each read: a peer that
	 * trickles a header and stops still times out. */
	uint8_t hdr[4 + 1];
	put_frame(hdr, 1, 0);
	CU_ASSERT_EQUAL(write(sv[0], hdr, 4), 4);
	t0 = now_ms();
	errno = 0;
	CU_ASSERT_EQUAL(tc_frame_read(sv[1], &in, &len, 50), -1);
	CU_ASSERT_EQUAL(errno, ETIMEDOUT);
	CU_ASSERT_TRUE(now_ms() - t0 < 2000);
	close(sv[0]);
	close(sv[1]);
}

static void test_read_refuses_oversize_header(void)
{
	static const uint8_t headers[][4] = {{0x00, 0x10, 0x00, 0x01}, {0, 0, 0, 0}, {0xff, 0xff, 0xff, 0xff}};
	for (size_t i = 0; i < 3; i++) {
		int sv[2];
		CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		CU_ASSERT_EQUAL(write(sv[0], headers[i], 4), 4);
		uint8_t *in = NULL;
		size_t len = 0;
		errno = 0;
		/* Refused from the header alone: no waiting for (or allocating) the body. */
		long t0 = now_ms();
		CU_ASSERT_EQUAL(tc_frame_read(sv[1], &in, &len, 5000), -1);
		CU_ASSERT_EQUAL(errno, EMSGSIZE);
		CU_ASSERT_TRUE(now_ms() - t0 < 1000);
		close(sv[0]);
		close(sv[1]);
	}
}

/* ---- tc_signer_client against a fake signer ---- */

enum responder_mode {
	ANSWER_REVERSED,   /* read n requests, answer them last to first */
	CLOSE_AFTER_READ,  /* read n requests, close without answering */
	GARBAGE,           /* read one request, answer with undecodable bytes */
	ANSWER_LATE,       /* read one request, answer after the caller gave up */
};

struct responder {
	int fd;
	enum responder_mode mode;
	int n;
	int late_pipe[2];   /* ANSWER_LATE: the test writes a byte when the caller timed out */
	int requests_seen;
	int bad_requests;
};

static int send_response(int fd, const Trustchain__Internal__Request *req)
{
	Trustchain__Internal__Response resp = TRUSTCHAIN__INTERNAL__RESPONSE__INIT;
	Trustchain__Internal__RandomResponse rr = TRUSTCHAIN__INTERNAL__RANDOM_RESPONSE__INIT;
	uint8_t data[256];
	/* The answer is derived from the request, so a mix-up is visible. */
	uint32_t n = req->random->length;
	memset(data, (int)n, n);
	rr.data.data = data;
	rr.data.len = n;
	resp.id = req->id;
	resp.status = TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK;
	resp.result_case = TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_RANDOM;
	resp.random = &rr;
	uint8_t buf[512];
	size_t len = trustchain__internal__response__pack(&resp, buf);
	return tc_frame_write(fd, buf, len);
}

static void *responder_main(void *p)
{
	struct responder *r = p;
	Trustchain__Internal__Request *reqs[64] = {0};
	int want = r->mode == ANSWER_REVERSED || r->mode == CLOSE_AFTER_READ ? r->n : 1;
	for (int i = 0; i < want; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		if (tc_frame_read(r->fd, &buf, &len, 10000) != 1)
			break;
		reqs[i] = trustchain__internal__request__unpack(NULL, len, buf);
		free(buf);
		if (!reqs[i] || reqs[i]->op_case != TRUSTCHAIN__INTERNAL__REQUEST__OP_RANDOM) {
			r->bad_requests++;
			break;
		}
		r->requests_seen++;
	}
	switch (r->mode) {
	case ANSWER_REVERSED:
		for (int i = r->requests_seen - 1; i >= 0; i--)
			send_response(r->fd, reqs[i]);
		break;
	case CLOSE_AFTER_READ:
		close(r->fd);
		r->fd = -1;
		break;
	case GARBAGE: {
		static const uint8_t junk[] = {0x0f, 0xff, 0xff, 0xff};
		tc_frame_write(r->fd, junk, sizeof(junk));
		break;
	}
	case ANSWER_LATE: {
		char c;
		if (read(r->late_pipe[0], &c, 1) == 1 && reqs[0])
			send_response(r->fd, reqs[0]);
		/* Then answer one more call normally. */
		uint8_t *buf = NULL;
		size_t len = 0;
		if (tc_frame_read(r->fd, &buf, &len, 10000) == 1) {
			Trustchain__Internal__Request *req = trustchain__internal__request__unpack(NULL, len, buf);
			if (req && req->op_case == TRUSTCHAIN__INTERNAL__REQUEST__OP_RANDOM)
				send_response(r->fd, req);
			trustchain__internal__request__free_unpacked(req, NULL);
		}
		free(buf);
		break;
	}
	}
	for (int i = 0; i < 64; i++)
		if (reqs[i])
			trustchain__internal__request__free_unpacked(reqs[i], NULL);
	return NULL;
}

struct caller {
	struct tc_signer_client *client;
	uint32_t length;   /* unique per caller */
	int timeout_ms;
	Trustchain__Internal__Response *resp;
	uint64_t sent_id;
	char err[256];
};

static void *caller_main(void *p)
{
	struct caller *c = p;
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__RandomRequest rr = TRUSTCHAIN__INTERNAL__RANDOM_REQUEST__INIT;
	rr.length = c->length;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_RANDOM;
	req.random = &rr;
	c->resp = tc_signer_call(c->client, &req, c->timeout_ms, c->err, sizeof(c->err));
	c->sent_id = req.id;
	return NULL;
}

/* Runs n concurrent callers against a responder in mode; fills callers[]. */
static void run_callers(struct responder *r, struct tc_signer_client *client, struct caller *callers,
			int n, int timeout_ms)
{
	pthread_t rt, ct[64];
	CU_ASSERT_EQUAL_FATAL(pthread_create(&rt, NULL, responder_main, r), 0);
	for (int i = 0; i < n; i++) {
		callers[i] = (struct caller){.client = client, .length = (uint32_t)(i + 1) * 3,
					     .timeout_ms = timeout_ms};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&ct[i], NULL, caller_main, &callers[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(ct[i], NULL);
	pthread_join(rt, NULL);
}

static void test_client_out_of_order_responses(void)
{
	enum { N = 8 };
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct tc_signer_client *client = tc_signer_client_new(sv[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(client);
	struct responder r = {.fd = sv[1], .mode = ANSWER_REVERSED, .n = N};
	struct caller callers[N];
	run_callers(&r, client, callers, N, 10000);
	CU_ASSERT_EQUAL(r.requests_seen, N);
	CU_ASSERT_EQUAL(r.bad_requests, 0);
	for (int i = 0; i < N; i++) {
		Trustchain__Internal__Response *resp = callers[i].resp;
		if (!resp)
			fprintf(stderr, "\n  caller %d: %s\n", i, callers[i].err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
		CU_ASSERT_EQUAL(resp->id, callers[i].sent_id);
		CU_ASSERT_EQUAL_FATAL(resp->result_case, TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_RANDOM);
		CU_ASSERT_EQUAL(resp->random->data.len, callers[i].length);
		CU_ASSERT_TRUE(all_bytes(resp->random->data.data, resp->random->data.len,
					 (uint8_t)callers[i].length));
		for (int k = 0; k < i; k++)
			CU_ASSERT_NOT_EQUAL(callers[k].sent_id, callers[i].sent_id);
		trustchain__internal__response__free_unpacked(resp, NULL);
	}
	CU_ASSERT_TRUE(tc_signer_client_alive(client));
	tc_signer_client_free(client);
	close(sv[1]);
}

static void test_client_peer_closes(void)
{
	enum { N = 4 };
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct tc_signer_client *client = tc_signer_client_new(sv[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(client);
	struct responder r = {.fd = sv[1], .mode = CLOSE_AFTER_READ, .n = N};
	struct caller callers[N];
	long t0 = now_ms();
	run_callers(&r, client, callers, N, 20000);
	/* Every pending call fails as soon as the peer is gone, long before its timeout. */
	CU_ASSERT_TRUE(now_ms() - t0 < 5000);
	CU_ASSERT_EQUAL(r.requests_seen, N);
	for (int i = 0; i < N; i++) {
		CU_ASSERT_PTR_NULL(callers[i].resp);
		CU_ASSERT_STRING_EQUAL(callers[i].err, "signer connection closed");
	}
	CU_ASSERT_FALSE(tc_signer_client_alive(client));
	/* Later calls fail at once. */
	struct caller late = {.client = client, .length = 1, .timeout_ms = 20000};
	caller_main(&late);
	CU_ASSERT_PTR_NULL(late.resp);
	CU_ASSERT_STRING_EQUAL(late.err, "signer connection is closed");
	tc_signer_client_free(client);
}

static void test_client_garbage_response(void)
{
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct tc_signer_client *client = tc_signer_client_new(sv[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(client);
	struct responder r = {.fd = sv[1], .mode = GARBAGE};
	struct caller callers[1];
	long t0 = now_ms();
	run_callers(&r, client, callers, 1, 20000);
	/* The fake signer keeps its end open: the garbage alone ended the call. */
	CU_ASSERT_TRUE(now_ms() - t0 < 5000);
	CU_ASSERT_PTR_NULL(callers[0].resp);
	CU_ASSERT_STRING_EQUAL(callers[0].err, "signer connection closed");
	CU_ASSERT_FALSE(tc_signer_client_alive(client));
	tc_signer_client_free(client);
	close(sv[1]);
}

static void test_client_timeout_then_late_answer(void)
{
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct tc_signer_client *client = tc_signer_client_new(sv[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(client);
	struct responder r = {.fd = sv[1], .mode = ANSWER_LATE};
	CU_ASSERT_EQUAL_FATAL(pipe(r.late_pipe), 0);
	pthread_t rt;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&rt, NULL, responder_main, &r), 0);

	struct caller first = {.client = client, .length = 5, .timeout_ms = 100};
	long t0 = now_ms();
	caller_main(&first);
	long took = now_ms() - t0;
	CU_ASSERT_PTR_NULL(first.resp);
	CU_ASSERT_STRING_EQUAL(first.err, "signer did not answer in 100 ms");
	CU_ASSERT_TRUE(took >= 99 && took < 5000);
	/* The answer arrives after its caller left: it is dropped, and the
	 * connection keeps working for the next call. */
	CU_ASSERT_EQUAL(write(r.late_pipe[1], "x", 1), 1);
	struct caller second = {.client = client, .length = 9, .timeout_ms = 10000};
	caller_main(&second);
	CU_ASSERT_PTR_NOT_NULL_FATAL(second.resp);
	CU_ASSERT_EQUAL(second.resp->id, second.sent_id);
	CU_ASSERT_NOT_EQUAL(second.sent_id, first.sent_id);
	CU_ASSERT_EQUAL(second.resp->random->data.len, 9);
	trustchain__internal__response__free_unpacked(second.resp, NULL);
	pthread_join(rt, NULL);
	CU_ASSERT_TRUE(tc_signer_client_alive(client));
	tc_signer_client_free(client);
	close(sv[1]);
	close(r.late_pipe[0]);
	close(r.late_pipe[1]);
}

int main(void)
{
	/* tc_frame_write() uses write(): a peer that closes mid-write raises
	 * SIGPIPE, which a process using the client must ignore (as daemons do)
	 * to get the error return these tests check. */
	signal(SIGPIPE, SIG_IGN);
	static const struct tc_test tests[] = {
		{"reader: byte by byte", test_reader_byte_by_byte},
		{"reader: many frames in one append", test_reader_many_frames_in_one_append},
		{"reader: empty, oversized and garbage frames", test_reader_bad_frames},
		{"reader: maximal frame and buffer bound", test_reader_max_frame_and_bound},
		{"write/read: round trip", test_write_read_round_trip},
		{"write: bad sizes refused", test_write_refuses_bad_sizes},
		{"read: truncated frame then EOF", test_read_truncated_frame},
		{"read: timeout", test_read_timeout},
		{"write: bounded when the peer never reads", test_write_bounded_when_peer_never_reads},
		{"read: oversize header refused", test_read_refuses_oversize_header},
		{"client: out-of-order responses", test_client_out_of_order_responses},
		{"client: peer closes", test_client_peer_closes},
		{"client: garbage response", test_client_garbage_response},
		{"client: timeout then late answer", test_client_timeout_then_late_answer},
		{NULL, NULL},
	};
	return tc_run_suite("ipc_frame", tests, NULL, NULL);
}
