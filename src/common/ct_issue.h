/* Issuance with embedded SCTs (DESIGN 3, steps 2 to 5), the one path every
 * certificate our CA signs takes: the gateway's Issue and our processes' own
 * TLS certificates (the gateway's, the resolver's DoQ certificate) alike.
 * The signer signs a precertificate, the CT log durably stores it and
 * returns an SCT, the signer signs the final certificate with the SCT list
 * (it checks the final certificate is the precertificate's twin), and with
 * ct.log_stoq_certificates the final certificate is logged too. Any failure
 * of the log means no certificate: never one without an SCT. */
#ifndef TC_COMMON_CT_ISSUE_H
#define TC_COMMON_CT_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "common/child_runtime.h"

#define TC_SERIAL_MAX 20

/* How long each call may take: a signature (journaled) from the signer;
 * an add-(pre-)chain waits for a synced write and the log key's signature,
 * and, while the log is restarting, for the log to be back. */
#define TC_CT_ISSUE_SIGNER_TIMEOUT_MS 10000
#define TC_CT_ISSUE_LOG_TIMEOUT_MS 10000

struct tc_ct_client;

/* Where the flow's calls go; the caller keeps these alive. */
struct tc_ct_issuer {
	struct tc_child *child;                /* the signer link */
	struct tc_ct_client *ct;               /* the CT log (NULL: none, every issuance fails) */
	const unsigned char *intermediate_der; /* the issuing certificate, sent after the leaf */
	size_t intermediate_der_len;
	/* The issuing certificate of a (pre)certificate when it may be another
	 * than intermediate_der (a CA key rollover, gateway/ca_rollover.h):
	 * its DER and length, NULL for intermediate_der. NULL: none. */
	const unsigned char *(*issuer_of)(void *arg, const unsigned char *cert, size_t len, size_t *issuer_len);
	void *issuer_arg;
	/* The cross certificate (our root -> a new root) sent after that
	 * issuing certificate when it is under a new root (issuer_arg too);
	 * NULL: none. */
	const unsigned char *(*cross_of)(void *arg, const unsigned char *cert, size_t len, size_t *cross_len);
	int log_final;                         /* ct.log_stoq_certificates */
	const struct tc_config *cfg;           /* ct.logs: picks the shard by notAfter (NULL: the log does) */
	const unsigned char *idempotency_key;  /* signer/idempotency.h; NULL: none */
	size_t idempotency_key_len;
};

/* An SCT as the log gave it, and where its entry is. */
struct tc_logged {
	unsigned char log_id[32];
	uint64_t timestamp;
	unsigned char *sct; /* TLS-encoded SignedCertificateTimestamp (malloc'd) */
	size_t sct_len;
	unsigned char leaf_hash[32];
	int leaf_index_known;
	uint64_t leaf_index;
};

struct tc_issued_cert {
	unsigned char *der; /* the final certificate (malloc'd) */
	size_t der_len;
	unsigned char serial[TC_SERIAL_MAX];
	size_t serial_len;
	struct tc_logged precert; /* the SCT embedded in der */
	int final_logged;         /* the final certificate's own entry */
	struct tc_logged final;   /* logged without an SCT: sct is NULL */
};

enum tc_ct_issue_fault {
	TC_CT_ISSUE_SIGNER_UNREACHABLE, /* the signer did not answer */
	TC_CT_ISSUE_SIGNER_REFUSED,     /* status, reason and message are the signer's */
	TC_CT_ISSUE_LOG_UNREACHABLE,    /* the log did not answer */
	TC_CT_ISSUE_LOG_REFUSED,        /* status and message are the log's */
	TC_CT_ISSUE_INTERNAL,           /* a malformed answer, out of memory */
};

struct tc_ct_issue_error {
	enum tc_ct_issue_fault fault;
	int status;        /* Trustchain__Internal__Status or __Ct__Status */
	char reason[64];   /* the signer's machine-readable reason (signer.proto) */
	char message[256];
	int precert;       /* the failing step was the precertificate's */
};

/* Signs the leaf template tbs (DER TBSCertificate) as described above.
 * 0, or -1 with err set; nothing is returned then. */
int tc_ct_issue(const struct tc_ct_issuer *iss, const unsigned char *tbs, size_t tbs_len,
		struct tc_issued_cert *out, struct tc_ct_issue_error *err);

/* tc_ct_issue without a waiting thread: each answer of the signer or the
 * log moves the issuance on from the thread that received it. done runs
 * exactly once, with out set (valid during the call only) and err NULL on
 * success, or out NULL and err set; it may run before tc_ct_issue_async
 * returns (a failure at the first step), on the signer's or the log's
 * reader thread, or on a thread that waits for a log that is away (as
 * tc_ct_issue would). It must not block for long. tbs is copied. */
typedef void (*tc_ct_issue_done_fn)(void *arg, const struct tc_issued_cert *out,
				    const struct tc_ct_issue_error *err);
void tc_ct_issue_async(const struct tc_ct_issuer *iss, const unsigned char *tbs, size_t tbs_len,
		       tc_ct_issue_done_fn done, void *arg);

/* Waits until no issuance waits for the log on a thread of its own: call
 * before freeing iss->ct. Issuances in flight on the links themselves end
 * when their links are freed (their done gets the failure). */
void tc_ct_issue_async_quiesce(void);

/* 1 when the same request may succeed later (the signer or the log away or
 * restarting, a precertificate the signer lost meanwhile), 0 when the
 * signer refused what was asked (policy, malformed, not allowed). */
int tc_ct_issue_transient(const struct tc_ct_issue_error *err);

/* A sentence for logs: which step failed and why. */
void tc_ct_issue_describe(const struct tc_ct_issue_error *err, char *out, size_t outlen);

void tc_issued_cert_free(struct tc_issued_cert *c);

/* The TLS SignedCertificateTimestampList (RFC 6962 3.3) of one SCT into
 * out (cap bytes). Returns the length, or 0 when it does not fit. */
size_t tc_sct_list_encode(const unsigned char *sct, size_t sct_len, unsigned char *out, size_t cap);

#endif
