/* A CT log under test: a real signer (signer_harness: dev ceremony on a
 * SoftHSM token), certificates it issues through the gateway capability
 * (precertificate, an SCT of the log key minted by the test, final
 * certificate: sct_mint.h, so the log holds only what tests submit),
 * and trustchain-transparency run with its own signer link on a free
 * loopback port, spoken to over HTTP (common/http_client). Every tree head
 * and proof it hands back has been verified with the published log key. */
#ifndef TC_TESTS_CT_LOG_FIXTURE_H
#define TC_TESTS_CT_LOG_FIXTURE_H

#include <openssl/evp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/http_client.h"
#include "support/sct_mint.h"
#include "support/signer_harness.h"
#include "transparency/ct_encode.h"

struct tc_signer_client;

struct tc_ct_fixture {
	struct tc_harness h;
	int port;
	char url[64];
	pid_t log_pid;
	EVP_PKEY *log_key;
	unsigned char *inter_der;
	size_t inter_len;
	struct tc_signer_client *gw; /* the gateway capability, for issuing */
	struct tc_sct_minter minter; /* the SCTs of final certificates */
	struct tc_http_client *http; /* the test thread's connection */
	/* The SCTs' extensions (static-ct-api leaf_index), which the entries
	 * filled by submit point at: kept until cleanup. */
	pthread_mutex_t ext_lock;
	struct tc_ct_fixture_ext *exts;
};

struct tc_ct_head {
	uint64_t size, timestamp;
	unsigned char root[32];
};

/* Harness, signer, log key; ct_yaml holds extra "  key: value\n" lines for
 * the ct: section. Does not start the log. 0 or -1. */
int tc_ct_fixture_setup(struct tc_ct_fixture *f, const char *bindir, const char *ct_yaml);
void tc_ct_fixture_cleanup(struct tc_ct_fixture *f);

/* Starts the log; returns once get-sth answers (<= 20 s). */
int tc_ct_fixture_start_log(struct tc_ct_fixture *f);
/* SIGKILL / SIGTERM and reap: the signal number / exit status, or -1. */
int tc_ct_fixture_kill_log(struct tc_ct_fixture *f);
int tc_ct_fixture_stop_log(struct tc_ct_fixture *f);

/* A fresh end-entity certificate (DER, malloc'd) from the real signer. */
unsigned char *tc_ct_fixture_issue(struct tc_ct_fixture *f, size_t *len);

/* get-sth with its signature verified. 0 or -1. */
int tc_ct_fixture_sth(struct tc_ct_fixture *f, struct tc_http_client *c, struct tc_ct_head *out);
/* Waits up to wait_ms for a verified tree head of at least size entries. */
int tc_ct_fixture_wait_sth(struct tc_ct_fixture *f, uint64_t size, int wait_ms, struct tc_ct_head *out);

/* add-chain of cert + the intermediate on connection c. On HTTP 200 with a
 * valid SCT (log ID, signature over e with the SCT's timestamp and
 * extensions) carrying a static-ct-api leaf_index extension returns 0 and
 * fills e (pointing at cert, its extensions the SCT's) and its SCT's
 * signature text; -1 on any network failure or other answer. Thread-safe
 * (no CUnit). */
int tc_ct_fixture_submit(struct tc_ct_fixture *f, struct tc_http_client *c, const unsigned char *cert,
			 size_t cert_len, struct tc_ct_entry *e, char *sct_sig, size_t sig_cap);

/* The leaf index in e's extensions (static-ct-api), or UINT64_MAX. */
uint64_t tc_ct_fixture_leaf_index(const struct tc_ct_entry *e);

/* get-proof-by-hash for e in the tree of head, verified against its root:
 * 0 and the index, -1 otherwise. */
int tc_ct_fixture_prove(struct tc_ct_fixture *f, struct tc_http_client *c, const struct tc_ct_entry *e,
			const struct tc_ct_head *head, uint64_t *index);
/* get-sth-consistency from old to new, verified. 0 or -1. */
int tc_ct_fixture_consistent(struct tc_ct_fixture *f, struct tc_http_client *c, const struct tc_ct_head *old,
			     const struct tc_ct_head *new_head);

#endif
