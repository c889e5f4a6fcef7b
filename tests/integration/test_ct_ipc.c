/* The CT log's internal IPC (api/internal/transparency.proto) as the
 * gateway uses it: a real signer and trustchain-transparency, the
 * reconnecting pipelined client (common/ct_client.c) with many threads on
 * one connection, refusals as statuses, and a server that drops a client
 * sending garbage without harming the others, and comes back after a kill. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/ct_client.h"
#include "common/ipc_frame.h"
#include "common/leaf_template.h"
#include "common/signer_client.h"
#include "support/peer_harness.h"
#include "support/sct_mint.h"
#include "support/signer_harness.h"
#include "unit/cunit_main.h"

typedef Trustchain__Internal__Ct__Request Request;
typedef Trustchain__Internal__Ct__Response Response;

static const char *bindir;
static struct tc_harness h;
static struct tc_peer_proc ct_log;
static struct tc_ct_client *client;
static struct tc_sct_minter minter; /* SCTs for the final certificates this test adds itself */
static char sock_path[400];

static int suite_init(void)
{
	if (tc_harness_setup(&h, bindir, NULL) != 0 || tc_harness_start_signer(&h, NULL) != 0 ||
	    tc_peer_start(&h, "transparency", &ct_log) != 0 || tc_sct_minter_open(&minter, &h) != 0)
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/data/%s", h.dir, TC_CT_IPC_SOCKET);
	client = tc_ct_client_new(sock_path);
	return client ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_ct_client_free(client);
	tc_sct_minter_close(&minter);
	tc_peer_stop(&ct_log, SIGTERM);
	tc_harness_cleanup(&h);
	return 0;
}

static Response *call_roots(char *err, size_t errlen)
{
	Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetRootsRequest op = TRUSTCHAIN__INTERNAL__CT__GET_ROOTS_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ROOTS;
	req.get_roots = &op;
	return tc_ct_call(client, &req, 10000, err, errlen);
}

static void test_roots_and_sth(void)
{
	char err[256];
	Response *r = call_roots(err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK);
	CU_ASSERT_EQUAL_FATAL(r->result_case, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_ROOTS);
	CU_ASSERT_EQUAL(r->get_roots->n_certificates, 1);
	CU_ASSERT(r->get_roots->certificates[0].len > 100 && r->get_roots->certificates[0].data[0] == 0x30);
	trustchain__internal__ct__response__free_unpacked(r, NULL);

	Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetSthRequest op = TRUSTCHAIN__INTERNAL__CT__GET_STH_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_STH;
	req.get_sth = &op;
	/* The first tree head is signed just after the log says it is ready:
	 * until then get-sth is UNAVAILABLE. */
	for (int i = 0; i < 100; i++) {
		r = tc_ct_call(client, &req, 10000, err, sizeof(err));
		if (!r || r->status != TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_UNAVAILABLE)
			break;
		trustchain__internal__ct__response__free_unpacked(r, NULL);
		r = NULL;
		usleep(100 * 1000);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK);
	CU_ASSERT_EQUAL_FATAL(r->result_case, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_STH);
	CU_ASSERT_EQUAL(r->get_sth->tree_size, 0);
	CU_ASSERT_EQUAL(r->get_sth->sha256_root_hash.len, 32);
	/* TLS DigitallySigned: sha256 (4), ecdsa (3), length, DER signature. */
	CU_ASSERT(r->get_sth->tree_head_signature.len > 8);
	CU_ASSERT_EQUAL(r->get_sth->tree_head_signature.data[0], 4);
	CU_ASSERT_EQUAL(r->get_sth->tree_head_signature.data[1], 3);
	trustchain__internal__ct__response__free_unpacked(r, NULL);
}

static void expect_status(Request *req, Trustchain__Internal__Ct__Status want)
{
	char err[256];
	Response *r = tc_ct_call(client, req, 10000, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, want);
	CU_ASSERT_EQUAL(r->result_case, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT__NOT_SET);
	CU_ASSERT(r->error && strlen(r->error) > 0);
	trustchain__internal__ct__response__free_unpacked(r, NULL);
}

static void test_refusals(void)
{
	Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	expect_status(&req, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_BAD_REQUEST); /* no operation */

	Trustchain__Internal__Ct__GetEntriesRequest ge = TRUSTCHAIN__INTERNAL__CT__GET_ENTRIES_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ENTRIES;
	req.get_entries = &ge;
	ge.start = 0;
	ge.end = 10;
	expect_status(&req, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OUT_OF_RANGE); /* empty tree */
	ge.start = 5;
	ge.end = 1;
	expect_status(&req, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_BAD_REQUEST);

	Trustchain__Internal__Ct__GetProofByHashRequest pb = TRUSTCHAIN__INTERNAL__CT__GET_PROOF_BY_HASH_REQUEST__INIT;
	unsigned char hash[31] = {0};
	pb.hash.data = hash;
	pb.hash.len = sizeof(hash);
	pb.tree_size = 1;
	req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_PROOF_BY_HASH;
	req.get_proof_by_hash = &pb;
	expect_status(&req, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_BAD_REQUEST);

	unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	ProtobufCBinaryData chain[1] = {{.data = junk, .len = sizeof(junk)}};
	Trustchain__Internal__Ct__AddChainRequest add = TRUSTCHAIN__INTERNAL__CT__ADD_CHAIN_REQUEST__INIT;
	add.n_chain = 1;
	add.chain = chain;
	req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_PRE_CHAIN;
	req.add_pre_chain = &add;
	expect_status(&req, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_BAD_REQUEST);
	add.n_chain = 0;
	expect_status(&req, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_BAD_REQUEST);
}

#define THREADS 16
#define CALLS 200

static void *caller(void *arg)
{
	long *ok = arg;
	for (int i = 0; i < CALLS; i++) {
		char err[256];
		Response *r = call_roots(err, sizeof(err));
		if (r && r->status == TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK &&
		    r->result_case == TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_ROOTS)
			(*ok)++;
		if (r)
			trustchain__internal__ct__response__free_unpacked(r, NULL);
	}
	return NULL;
}

/* Many threads pipelining on one connection all get their own answers. */
static void test_pipelined_threads(void)
{
	pthread_t t[THREADS];
	long ok[THREADS] = {0};
	for (int i = 0; i < THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, caller, &ok[i]), 0);
	long total = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		total += ok[i];
	}
	CU_ASSERT_EQUAL(total, THREADS * CALLS);
}

static int raw_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* 1 when the server closed fd within 5 s. */
static int closed_by_server(int fd)
{
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char b;
	ssize_t n = read(fd, &b, 1);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Garbage and oversized frames cost their sender its connection, nobody
 * else anything. */
static void test_garbage_drops_only_that_client(void)
{
	int fd = raw_connect();
	CU_ASSERT_FATAL(fd >= 0);
	const unsigned char garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	CU_ASSERT_EQUAL(tc_frame_write(fd, garbage, sizeof(garbage)), 0);
	CU_ASSERT_TRUE(closed_by_server(fd));
	close(fd);

	fd = raw_connect();
	CU_ASSERT_FATAL(fd >= 0);
	const unsigned char huge[4] = {0x7f, 0xff, 0xff, 0xff}; /* 2 GiB announced */
	CU_ASSERT_EQUAL(write(fd, huge, sizeof(huge)), 4);
	CU_ASSERT_TRUE(closed_by_server(fd));
	close(fd);

	char err[256];
	Response *r = call_roots(err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(r);
	if (r)
		trustchain__internal__ct__response__free_unpacked(r, NULL);
}

/* ---- get-entries answers always fit a frame ---- */

#define TC_CT_SCT_CAP 512 /* a serialized SCT is ~120 bytes */
#define BIG_CERTS 420
#define BIG_NAMES 60
#define ADDERS 8

struct adder {
	struct tc_signer_client *signer;
	EVP_PKEY *key;
	int from, to;
	int ok;
};

/* A certificate of ~3 KB (60 long names) from the real signer: its
 * precertificate's SCT minted by the test, which adds the final
 * certificate alone to the log. */
static unsigned char *big_cert(struct adder *a, int n, size_t *len)
{
	char names_buf[BIG_NAMES][80];
	const char *names[BIG_NAMES];
	for (int i = 0; i < BIG_NAMES; i++) {
		snprintf(names_buf[i], sizeof(names_buf[i]), "host-%04d-%02d.some-rather-long-label.hypermesh.online", n,
			 i);
		names[i] = names_buf[i];
	}
	time_t now = time(NULL);
	struct tc_leaf_request rq = {.pubkey = a->key, .dns_names = names, .n_dns = BIG_NAMES, .server_auth = 1,
				     .not_before = now - 60, .not_after = now + 1800};
	char err[256];
	X509 *x = tc_leaf_template_new(&rq, err, sizeof(err));
	unsigned char *tbs;
	size_t tbs_len;
	if (!x || tc_template_tbs_der(x, &tbs, &tbs_len) != 0) {
		X509_free(x);
		return NULL;
	}
	X509_free(x);
	unsigned char *out = tc_sct_minter_issue(&minter, a->signer, tbs, tbs_len, len, NULL, NULL, err, sizeof(err));
	OPENSSL_free(tbs);
	if (!out)
		fprintf(stderr, "issuance failed: %s\n", err);
	return out;
}

static void *add_big(void *arg)
{
	struct adder *a = arg;
	for (int n = a->from; n < a->to; n++) {
		size_t len = 0;
		unsigned char *der = big_cert(a, n, &len);
		if (!der)
			continue;
		ProtobufCBinaryData chain[1] = {{.data = der, .len = len}};
		Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
		Trustchain__Internal__Ct__AddChainRequest add = TRUSTCHAIN__INTERNAL__CT__ADD_CHAIN_REQUEST__INIT;
		add.n_chain = 1;
		add.chain = chain;
		req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_CHAIN;
		req.add_chain = &add;
		char err[256];
		Response *r = tc_ct_call(client, &req, 30000, err, sizeof(err));
		if (r && r->status == TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK)
			a->ok++;
		if (r)
			trustchain__internal__ct__response__free_unpacked(r, NULL);
		free(der);
	}
	return NULL;
}

static Response *get_entries(uint64_t start, uint64_t end)
{
	Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	Trustchain__Internal__Ct__GetEntriesRequest ge = TRUSTCHAIN__INTERNAL__CT__GET_ENTRIES_REQUEST__INIT;
	ge.start = start;
	ge.end = end;
	req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_ENTRIES;
	req.get_entries = &ge;
	char err[256];
	return tc_ct_call(client, &req, 30000, err, sizeof(err));
}

/* More than 1 MiB of entries: one get-entries answer stops short of the
 * frame limit (instead of failing the connection), and asking again from
 * the next index gets the rest. */
static void test_get_entries_fit_a_frame(void)
{
	int sfd = tc_harness_connect(&h, "gateway");
	struct tc_signer_client *signer = tc_signer_client_new(sfd);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	CU_ASSERT_FATAL(signer && key);
	struct adder a[ADDERS];
	pthread_t t[ADDERS];
	for (int i = 0; i < ADDERS; i++) {
		a[i] = (struct adder){.signer = signer, .key = key, .from = i * BIG_CERTS / ADDERS,
				      .to = (i + 1) * BIG_CERTS / ADDERS};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, add_big, &a[i]), 0);
	}
	int added = 0;
	for (int i = 0; i < ADDERS; i++) {
		pthread_join(t[i], NULL);
		added += a[i].ok;
	}
	tc_signer_client_free(signer);
	EVP_PKEY_free(key);
	CU_ASSERT_EQUAL_FATAL(added, BIG_CERTS);

	/* Wait for the sequencer to cover them all with a signed tree head. */
	uint64_t size = 0;
	for (int i = 0; i < 200 && size < BIG_CERTS; i++) {
		Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
		Trustchain__Internal__Ct__GetSthRequest op = TRUSTCHAIN__INTERNAL__CT__GET_STH_REQUEST__INIT;
		req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_GET_STH;
		req.get_sth = &op;
		char err[256];
		Response *r = tc_ct_call(client, &req, 10000, err, sizeof(err));
		if (r && r->result_case == TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_STH)
			size = r->get_sth->tree_size;
		if (r)
			trustchain__internal__ct__response__free_unpacked(r, NULL);
		if (size < BIG_CERTS)
			usleep(100 * 1000);
	}
	CU_ASSERT_EQUAL_FATAL(size, BIG_CERTS);

	uint64_t next = 0, bytes = 0;
	int answers = 0;
	while (next < size && answers < 10) {
		Response *r = get_entries(next, size - 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL_FATAL(r->result_case, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_GET_ENTRIES);
		size_t n = r->get_entries->n_entries;
		CU_ASSERT_FATAL(n > 0);
		for (size_t i = 0; i < n; i++)
			bytes += r->get_entries->entries[i]->leaf_input.len + r->get_entries->entries[i]->extra_data.len;
		CU_ASSERT(trustchain__internal__ct__response__get_packed_size(r) <= TC_IPC_MAX_FRAME);
		next += n;
		answers++;
		trustchain__internal__ct__response__free_unpacked(r, NULL);
	}
	CU_ASSERT_EQUAL(next, size);
	CU_ASSERT(bytes > TC_IPC_MAX_FRAME);
	CU_ASSERT(answers >= 2);
}

/* ---- submissions pipelined on one connection ---- */

#define BURST 300
#define BURST_DUPS 20 /* the first BURST_DUPS certificates are sent twice in the burst */

static unsigned char *small_cert(struct tc_signer_client *signer, EVP_PKEY *key, int n, size_t *len)
{
	char name[80];
	snprintf(name, sizeof(name), "burst-%04d.hypermesh.online", n);
	const char *names[] = {name};
	time_t now = time(NULL);
	struct tc_leaf_request rq = {.pubkey = key, .dns_names = names, .n_dns = 1, .server_auth = 1,
				     .not_before = now - 60, .not_after = now + 1800};
	char err[256];
	X509 *x = tc_leaf_template_new(&rq, err, sizeof(err));
	unsigned char *tbs;
	size_t tbs_len;
	if (!x || tc_template_tbs_der(x, &tbs, &tbs_len) != 0) {
		X509_free(x);
		return NULL;
	}
	X509_free(x);
	unsigned char *out = tc_sct_minter_issue(&minter, signer, tbs, tbs_len, len, NULL, NULL, err, sizeof(err));
	OPENSSL_free(tbs);
	return out;
}

/* The leaf index an SCT names (static-ct-api leaf_index, the only
 * extension this log writes: version, log ID, timestamp, then 00 08 00 00
 * 05 and five bytes), or UINT64_MAX. */
static uint64_t sct_index(const uint8_t *sct, size_t len)
{
	if (len < 1 + 32 + 8 + 2 + 8 || sct[41] != 0 || sct[42] != 8 || sct[43] != 0 || sct[45] != 5)
		return UINT64_MAX;
	uint64_t v = 0;
	for (int i = 0; i < 5; i++)
		v = v << 8 | sct[46 + i];
	return v;
}

/* Every request of a burst written before any answer is read: the log
 * starts each as it is read (no thread waits for one), so all are in
 * flight at once; each gets its own answer by id, every new certificate
 * its own leaf index, and a certificate sent twice in the burst the same
 * SCT both times (the second waits for the first, then finds its record). */
static void test_pipelined_submissions(void)
{
	int sfd = tc_harness_connect(&h, "gateway");
	struct tc_signer_client *signer = tc_signer_client_new(sfd);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	CU_ASSERT_FATAL(signer && key);
	static unsigned char *der[BURST];
	static size_t len[BURST];
	for (int i = 0; i < BURST; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(der[i] = small_cert(signer, key, i, &len[i]));
	tc_signer_client_free(signer);
	EVP_PKEY_free(key);

	int fd = raw_connect();
	CU_ASSERT_FATAL(fd >= 0);
	int frames = BURST + BURST_DUPS;
	for (int k = 0; k < frames; k++) {
		int i = k < BURST ? k : k - BURST; /* the duplicates last, while the first are in flight */
		ProtobufCBinaryData chain[1] = {{.data = der[i], .len = len[i]}};
		Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
		Trustchain__Internal__Ct__AddChainRequest add = TRUSTCHAIN__INTERNAL__CT__ADD_CHAIN_REQUEST__INIT;
		add.n_chain = 1;
		add.chain = chain;
		req.id = (uint64_t)k + 1;
		req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_CHAIN;
		req.add_chain = &add;
		uint8_t buf[4096];
		size_t n = trustchain__internal__ct__request__get_packed_size(&req);
		CU_ASSERT_FATAL(n <= sizeof(buf));
		trustchain__internal__ct__request__pack(&req, buf);
		CU_ASSERT_EQUAL_FATAL(tc_frame_write(fd, buf, n), 0);
	}
	static int answered[BURST + BURST_DUPS];
	static uint64_t index_of[BURST + BURST_DUPS];
	static uint8_t sct_of[BURST + BURST_DUPS][TC_CT_SCT_CAP];
	static size_t sct_len_of[BURST + BURST_DUPS];
	int ok = 0;
	for (int k = 0; k < frames; k++) {
		uint8_t *frame = NULL;
		size_t flen = 0;
		if (tc_frame_read(fd, &frame, &flen, 60000) != 1)
			break;
		Response *r = trustchain__internal__ct__response__unpack(NULL, flen, frame);
		free(frame);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		uint64_t id = r->id;
		if (id >= 1 && id <= (uint64_t)frames && !answered[id - 1] &&
		    r->status == TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK &&
		    r->result_case == TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_ADD_CHAIN &&
		    r->add_chain->sct.len > 0 && r->add_chain->sct.len <= TC_CT_SCT_CAP) {
			answered[id - 1] = 1;
			index_of[id - 1] = sct_index(r->add_chain->sct.data, r->add_chain->sct.len);
			memcpy(sct_of[id - 1], r->add_chain->sct.data, r->add_chain->sct.len);
			sct_len_of[id - 1] = r->add_chain->sct.len;
			ok++;
		}
		trustchain__internal__ct__response__free_unpacked(r, NULL);
	}
	close(fd);
	CU_ASSERT_EQUAL_FATAL(ok, frames);
	/* new certificates: distinct indices */
	for (int a = 0; a < BURST; a++)
		for (int b = a + 1; b < BURST; b++)
			if (index_of[a] == UINT64_MAX || index_of[a] == index_of[b]) {
				CU_FAIL("two certificates got the same leaf index");
				a = BURST;
				break;
			}
	/* duplicates: the original SCT and index */
	for (int d = 0; d < BURST_DUPS; d++) {
		CU_ASSERT_EQUAL(sct_len_of[BURST + d], sct_len_of[d]);
		CU_ASSERT(memcmp(sct_of[BURST + d], sct_of[d], sct_len_of[d]) == 0);
	}
	for (int i = 0; i < BURST; i++)
		free(der[i]);
}

/* The log killed: calls fail at once with a reason; restarted: the same
 * client reconnects by itself. */
static void test_reconnect_after_kill(void)
{
	CU_ASSERT_EQUAL(tc_peer_stop(&ct_log, SIGKILL), 128 + SIGKILL);
	char err[256];
	Response *r = call_roots(err, sizeof(err));
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "transparency log"));
	CU_ASSERT_EQUAL_FATAL(tc_peer_start(&h, "transparency", &ct_log), 0);
	r = call_roots(err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(r);
	if (r) {
		CU_ASSERT_EQUAL(r->status, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK);
		trustchain__internal__ct__response__free_unpacked(r, NULL);
	}
	/* A clean stop removes the socket it bound. */
	CU_ASSERT_EQUAL(tc_peer_stop(&ct_log, SIGTERM), 0);
	CU_ASSERT_NOT_EQUAL(access(sock_path, F_OK), 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BINDIR\n", argv[0]);
		return 2;
	}
	bindir = argv[1];
	static const struct tc_test tests[] = {
		{"get-roots and get-sth over the IPC", test_roots_and_sth},
		{"refusals are statuses with reasons", test_refusals},
		{"16 threads pipelined on one connection", test_pipelined_threads},
		{"garbage drops only that client", test_garbage_drops_only_that_client},
		{"get-entries answers fit a frame, the rest follows", test_get_entries_fit_a_frame},
		{"300 submissions pipelined on one connection, duplicates among them", test_pipelined_submissions},
		{"log killed: prompt failure, then reconnect", test_reconnect_after_kill},
		{NULL, NULL},
	};
	return tc_run_suite("ct_ipc", tests, suite_init, suite_cleanup);
}
