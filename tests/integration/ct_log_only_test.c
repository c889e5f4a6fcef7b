/* Log-only submissions (AddChainRequest.log_only over the internal IPC: the
 * gateway logging a final certificate whose SCT it would discard): the
 * entry is durable and sequenced like any other, with no SCT and no log
 * key signature; the same certificate submitted later over HTTP add-chain
 * gets a valid SCT whose timestamp is the one of the leaf already in the
 * tree; a log-only entry survives kill -9; and it needs no signer at all. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ct_client.h"
#include "support/ct_log_fixture.h"
#include "transparency/merkle.h"
#include "unit/cunit_main.h"

typedef Trustchain__Internal__Ct__Request Request;
typedef Trustchain__Internal__Ct__Response Response;

static const char *bindir;
static struct tc_ct_fixture f;
static struct tc_ct_client *ipc;

/* Every certificate a test makes, freed at suite cleanup: a fatal
 * assertion leaves its test at once and must not leak what it held. */
static unsigned char *made[32];
static size_t n_made;

static unsigned char *issue_cert(size_t *len)
{
	unsigned char *cert = tc_ct_fixture_issue(&f, len);
	if (cert && n_made < sizeof(made) / sizeof(made[0]))
		made[n_made++] = cert;
	else if (cert) {
		free(cert);
		cert = NULL;
	}
	return cert;
}

static int suite_init(void)
{
	if (tc_ct_fixture_setup(&f, bindir, "  sequence_interval_ms: 50\n") != 0 || tc_ct_fixture_start_log(&f) != 0)
		return 1;
	ipc = tc_ct_client_new(tc_harness_path(&f.h, TC_CT_IPC_SOCKET));
	return ipc ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_ct_client_free(ipc);
	tc_ct_fixture_cleanup(&f);
	while (n_made > 0)
		free(made[--n_made]);
	return 0;
}

/* IPC add-chain of cert + intermediate; the answer (or NULL). */
static Response *ipc_add(const unsigned char *cert, size_t len, int log_only)
{
	ProtobufCBinaryData chain[2] = {{.data = (uint8_t *)cert, .len = len},
					{.data = f.inter_der, .len = f.inter_len}};
	Trustchain__Internal__Ct__AddChainRequest add = TRUSTCHAIN__INTERNAL__CT__ADD_CHAIN_REQUEST__INIT;
	add.n_chain = 2;
	add.chain = chain;
	add.log_only = log_only;
	Request req = TRUSTCHAIN__INTERNAL__CT__REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__CT__REQUEST__OP_ADD_CHAIN;
	req.add_chain = &add;
	char err[256];
	return tc_ct_call(ipc, &req, 10000, err, sizeof(err));
}

/* The static-ct-api leaf_index extension of each index asked for, kept
 * for the entries that point at it. */
static unsigned char exts[1024][8];

/* The x509 entry of cert at timestamp and leaf index (its leaf carries the
 * static-ct-api leaf_index extension), and its leaf hash. */
static struct tc_ct_entry entry_at(const unsigned char *cert, size_t len, uint64_t timestamp, uint64_t index,
				   unsigned char hash[TC_MERKLE_HASH_LEN])
{
	CU_ASSERT_FATAL(index < 1024);
	unsigned char *x = exts[index];
	x[0] = 0;
	x[1] = 0;
	x[2] = 5;
	for (int i = 0; i < 5; i++)
		x[3 + i] = (unsigned char)(index >> (32 - 8 * i));
	struct tc_ct_entry e = {.type = TC_CT_X509_ENTRY, .timestamp = timestamp, .cert = cert, .cert_len = len,
				.extensions = x, .extensions_len = 8};
	unsigned char leaf[4096];
	size_t leaf_len = 0;
	CU_ASSERT_FATAL(tc_ct_encode_leaf(&e, leaf, sizeof(leaf), &leaf_len) == TC_CT_OK);
	CU_ASSERT_FATAL(tc_merkle_leaf_hash(leaf, leaf_len, hash) == 0);
	return e;
}

/* A log-only answer: no SCT, the log's ID, a timestamp, the leaf's index
 * (*index) and hash. */
static uint64_t expect_logged(Response *r, const unsigned char *cert, size_t len, uint64_t *index)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->status, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK);
	CU_ASSERT_EQUAL_FATAL(r->result_case, TRUSTCHAIN__INTERNAL__CT__RESPONSE__RESULT_ADD_CHAIN);
	const Trustchain__Internal__Ct__AddChainResponse *a = r->add_chain;
	CU_ASSERT_EQUAL(a->sct.len, 0);
	CU_ASSERT_EQUAL(a->log_id.len, 32);
	CU_ASSERT(a->timestamp > 1600000000000ull);
	unsigned char hash[TC_MERKLE_HASH_LEN];
	*index = a->leaf_index;
	entry_at(cert, len, a->timestamp, a->leaf_index, hash);
	CU_ASSERT_EQUAL_FATAL(a->leaf_hash.len, TC_MERKLE_HASH_LEN);
	CU_ASSERT(memcmp(a->leaf_hash.data, hash, TC_MERKLE_HASH_LEN) == 0);
	uint64_t t = a->timestamp;
	trustchain__internal__ct__response__free_unpacked(r, NULL);
	return t;
}

/* The entry of cert at timestamp and leaf index want is in a signed tree
 * (waits for it), at that index (*index). */
static void expect_in_tree(const unsigned char *cert, size_t len, uint64_t timestamp, uint64_t want,
			   uint64_t *index)
{
	unsigned char hash[TC_MERKLE_HASH_LEN];
	struct tc_ct_entry e = entry_at(cert, len, timestamp, want, hash);
	struct tc_ct_head head;
	int found = 0;
	for (int i = 0; i < 100 && !found; i++) {
		found = tc_ct_fixture_sth(&f, f.http, &head) == 0 && head.size > 0 &&
			tc_ct_fixture_prove(&f, f.http, &e, &head, index) == 0;
		if (!found)
			usleep(100000);
	}
	CU_ASSERT(found);
	CU_ASSERT(!found || *index == want);
}

static void test_log_only_then_sct(void)
{
	size_t len;
	unsigned char *cert = issue_cert(&len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	uint64_t at = 0, at2 = 0;
	uint64_t t = expect_logged(ipc_add(cert, len, 1), cert, len, &at);
	/* a second log-only submission is the same entry */
	CU_ASSERT_EQUAL(expect_logged(ipc_add(cert, len, 1), cert, len, &at2), t);
	CU_ASSERT_EQUAL(at2, at);
	uint64_t index = 0, again = 0;
	expect_in_tree(cert, len, t, at, &index);

	/* HTTP add-chain: an SCT that verifies (checked by the fixture) over
	 * the leaf already logged, i.e. with its timestamp */
	struct tc_ct_entry e;
	char sig[200], sig2[200];
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_submit(&f, f.http, cert, len, &e, sig, sizeof(sig)), 0);
	CU_ASSERT_EQUAL(e.timestamp, t);
	/* its SCT carries the entry's index (static-ct-api) */
	CU_ASSERT_EQUAL(tc_ct_fixture_leaf_index(&e), index);
	expect_in_tree(cert, len, e.timestamp, index, &again);
	CU_ASSERT_EQUAL(again, index);
	/* the SCT is kept: the same one again, over HTTP and over the IPC */
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_submit(&f, f.http, cert, len, &e, sig2, sizeof(sig2)), 0);
	CU_ASSERT_STRING_EQUAL(sig, sig2);
	Response *r = ipc_add(cert, len, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->status, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK);
	CU_ASSERT(r->add_chain->sct.len > 0);
	CU_ASSERT_EQUAL(r->add_chain->timestamp, t);
	CU_ASSERT(r->add_chain->leaf_index_known && r->add_chain->leaf_index == index);
	trustchain__internal__ct__response__free_unpacked(r, NULL);

	/* without log_only the IPC signs as before */
	unsigned char *other = issue_cert(&len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	r = ipc_add(other, len, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK);
	CU_ASSERT(r->add_chain && r->add_chain->sct.len > 0);
	trustchain__internal__ct__response__free_unpacked(r, NULL);
}

/* The answer came after the entry was durable: kill -9 right after it,
 * and the restarted log sequences it, with the same timestamp. */
static void test_log_only_survives_kill(void)
{
	enum { N = 8 };
	unsigned char *certs[N];
	size_t lens[N];
	uint64_t ts[N], at[N];
	for (int i = 0; i < N; i++) {
		certs[i] = issue_cert(&lens[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(certs[i]);
		ts[i] = expect_logged(ipc_add(certs[i], lens[i], 1), certs[i], lens[i], &at[i]);
	}
	CU_ASSERT_EQUAL(tc_ct_fixture_kill_log(&f), SIGKILL);
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_start_log(&f), 0);
	for (int i = 0; i < N; i++) {
		uint64_t index, again;
		expect_in_tree(certs[i], lens[i], ts[i], at[i], &index);
		/* and the duplicate index survived with it */
		CU_ASSERT_EQUAL(expect_logged(ipc_add(certs[i], lens[i], 1), certs[i], lens[i], &again), ts[i]);
		CU_ASSERT_EQUAL(again, at[i]);
	}
}

/* No log key signature: with the signer gone a log-only submission is
 * still logged, while one that needs an SCT is refused. */
static void test_log_only_needs_no_signer(void)
{
	size_t len, len2;
	unsigned char *cert = issue_cert(&len), *cert2 = issue_cert(&len2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cert2);
	CU_ASSERT_EQUAL_FATAL(tc_harness_stop_signer(&f.h), 0);
	uint64_t at;
	expect_logged(ipc_add(cert, len, 1), cert, len, &at);
	Response *r = ipc_add(cert2, len2, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_UNAVAILABLE);
	trustchain__internal__ct__response__free_unpacked(r, NULL);
}

int main(int argc, char **argv)
{
	bindir = argc > 1 ? argv[1] : "build/bin";
	static const struct tc_test tests[] = {
		{"log-only entry in the tree, later HTTP add-chain gets its SCT", test_log_only_then_sct},
		{"log-only entries survive kill -9", test_log_only_survives_kill},
		{"log-only needs no signer", test_log_only_needs_no_signer},
		{NULL, NULL},
	};
	return tc_run_suite("ct_log_only", tests, suite_init, suite_cleanup);
}
