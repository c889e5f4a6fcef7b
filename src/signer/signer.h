/* State of the running signer and the per-peer capability model. */
#ifndef TC_SIGNER_SIGNER_H
#define TC_SIGNER_SIGNER_H

#include <pthread.h>
#include <stdint.h>

#include "common/config.h"
#include "internal/signer.pb-c.h"
#include "signer/cert_sign.h"
#include "signer/hsm.h"
#include "signer/issuers.h"
#include "signer/journal.h"
#include "signer/policy.h"
#include "signer/revocation.h"
#include "signer/tbs_template.h"

enum tc_capability {
	TC_CAP_SIGN_CERT = 1u << 0,
	TC_CAP_SIGN_CT = 1u << 1,
	TC_CAP_SIGN_DNS = 1u << 2,
	TC_CAP_PUBLIC = 1u << 3,
	TC_CAP_RANDOM = 1u << 4,
	TC_CAP_REVOKE = 1u << 5,
	TC_CAP_CRL = 1u << 6,
	TC_CAP_PING = 1u << 7,
};

struct tc_peer_identity {
	char name[32];
	unsigned caps;
	/* When set, certificates for this peer may only name exactly this DNS
	 * name (the resolver gets its own TLS certificate, nothing else). */
	char only_name[TC_CFG_STR + 8];
};

/* Fills id for a known peer name; -1 for an unknown name. */
int tc_peer_identity_for(const struct tc_config *cfg, const char *name, struct tc_peer_identity *id);

/* Precertificates waiting for their final certificate: a set-associative
 * table (a serial hashes to one set of TC_PRECERT_WAYS slots; the oldest
 * slot of a full set is reused), so concurrent issuances colliding on a
 * set do not evict each other. A final certificate frees its slot. The
 * slot keeps the completed certificate (poison removed) and the hash of
 * the template it came from: a final certificate from the very same
 * template reuses it instead of parsing, checking and completing the
 * template a second time. */
#define TC_PRECERT_SLOTS 4096
#define TC_PRECERT_WAYS 8

struct tc_precert_slot {
	unsigned char serial[TC_SERIAL_LEN];
	unsigned char fingerprint[32];
	int used;
	uint64_t stamp; /* insertion order, to find the oldest of a set */
	unsigned char template_hash[32]; /* SHA-256 of the template as received */
	char peer[32];                   /* who asked: only it may finalize it this way */
	const struct tc_issuer_slot *issuer; /* who signed it: its final twin is signed the same */
	struct tc_leaf completed;        /* owned; buf NULL when not kept */
};

struct tc_signer {
	struct tc_config cfg;
	struct tc_policy policy;
	struct tc_hsm *hsm;
	struct tc_hsm_key root, intermediate, ct_log, dns_zone, audit;
	int have_root, have_intermediate, have_ct_log, have_dns_zone, have_audit;
	/* The temporal shards' CT log keys (ct.logs, common/ct_shard.h); with
	 * shards, ct_log above is the single log's from before them (it only
	 * signs that log's tree heads, retired) and have_ct_log says any key
	 * is loaded. */
	int have_ct_single;
	size_t n_ct_shards;
	char ct_shard_name[TC_CFG_MAX_CT_LOGS][TC_CT_LOG_NAME_MAX];
	struct tc_hsm_key ct_shard[TC_CFG_MAX_CT_LOGS];
	int have_ct_shard[TC_CFG_MAX_CT_LOGS];
	struct tc_issuer issuer; /* the intermediate, as leaves name it */
	struct tc_issuers *issuers; /* every issuing intermediate, the cut-over (issuers.h) */
	struct tc_journal *journal;
	struct tc_revocations *revocations;
	pthread_mutex_t precert_lock;
	struct tc_precert_slot precerts[TC_PRECERT_SLOTS];
	uint64_t precert_stamp; /* guarded by precert_lock */
	struct tc_idem *idem;   /* idempotency keys' certificates (idempotency.h) */
	struct tc_sig_memo *sct_memo; /* CT log key signatures made lately (sig_memo.h); may be NULL */
};

/* Opens the HSM (logging in with the configured PIN, which is wiped right
 * after), finds the keys by label, opens the journal and the revocation
 * store. A key that is not on the token yet is reported and left
 * unavailable; a missing token, wrong PIN or damaged journal is an error. */
int tc_signer_init(struct tc_signer *s, const struct tc_config *cfg, char *err, size_t errlen);
void tc_signer_fini(struct tc_signer *s);

/* The CT log key of shard ct_log ("" the single log); NULL when no such
 * log is configured, *have 0 when its key is not on the token. */
struct tc_hsm_key *tc_signer_ct_key(struct tc_signer *s, const char *ct_log, int *have);

/* Handles one request from peer and returns the packed Response (malloc'ed)
 * in *out. Always produces a response for a decoded request: refusals are
 * responses with a non-OK status. Returns -1 only on out-of-memory. */
int tc_signer_handle(struct tc_signer *s, const struct tc_peer_identity *peer,
		     const Trustchain__Internal__Request *req, uint8_t **out, size_t *out_len);

#endif
