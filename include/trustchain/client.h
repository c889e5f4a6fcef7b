/* libtrustchain: the C client of the TrustChain gRPC API
 * (the .proto files under api/trustchain/v1). Other languages generate stubs from the
 * .proto files instead.
 *
 * Every call returns 0 on success or -1 with *st describing the failure:
 * the gRPC status code, the server's message and its machine-readable
 * reason (trailing metadata `trustchain-reason`, see ca.proto). A client may
 * be used from several threads at once. */
#ifndef TRUSTCHAIN_CLIENT_H
#define TRUSTCHAIN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tc_client;

/* Outcome of a call. code is a gRPC status code (0 = OK, 3 =
 * INVALID_ARGUMENT, 7 = PERMISSION_DENIED, 8 = RESOURCE_EXHAUSTED,
 * 14 = UNAVAILABLE, ...). */
struct tc_status {
	int code;
	char message[512];
	char reason[64];   /* "" when the server gave none */
};

/* Name of a gRPC status code ("OK", "INVALID_ARGUMENT", ...). */
const char *tc_status_code_name(int code);

/* How to reach the gateway. Every field may be left zero/NULL. */
struct tc_client_options {
	/* PEM file of the roots that verify the gateway's certificate (our
	 * root, ca/root.pem). NULL: gRPC's default roots. */
	const char *root_ca_file;
	/* Client certificate chain (leaf first) and its private key, PEM, for
	 * mutual TLS; both or neither. */
	const char *cert_file;
	const char *key_file;
	/* Bearer token sent with every call ("authorization: Bearer ..."). */
	const char *bearer_token;
	/* Name checked in the gateway's certificate instead of target's host. */
	const char *server_name;
	/* No TLS at all: only for a gateway configured with gateway.tls: false.
	 * A token would then cross the network in clear. */
	int plaintext;
};

/* Opens a channel to target ("host:port") with options o (NULL: TLS with
 * gRPC's default roots, no client credentials). Files are read here;
 * connecting happens lazily on the first call. Returns NULL with a reason
 * in err. */
struct tc_client *tc_client_open_opts(const char *target, const struct tc_client_options *o, char *err,
				      size_t errlen);
/* tc_client_open_opts(target, NULL, ...): TLS, default roots. */
struct tc_client *tc_client_open(const char *target, char *err, size_t errlen);
void tc_client_close(struct tc_client *c);

/* Per-call deadline in milliseconds (default 30000). */
void tc_client_set_timeout(struct tc_client *c, int timeout_ms);

enum tc_health {
	TC_HEALTH_UNKNOWN = 0,
	TC_HEALTH_SERVING = 1,
	TC_HEALTH_NOT_SERVING = 2,
	TC_HEALTH_SERVICE_UNKNOWN = 3,
};

/* Health.Check of service ("" for the whole gateway); *out gets the status. */
int tc_health_check(struct tc_client *c, const char *service, enum tc_health *out,
		    struct tc_status *st);

enum tc_profile {
	TC_PROFILE_SERVER = 1,            /* extKeyUsage serverAuth */
	TC_PROFILE_CLIENT = 2,            /* clientAuth */
	TC_PROFILE_SERVER_AND_CLIENT = 3, /* both */
};

struct tc_issue_request {
	const unsigned char *csr;      /* PKCS#10, PEM or DER */
	size_t csr_len;
	const char *const *dns_names;  /* may be NULL when n_dns is 0 */
	size_t n_dns;
	const char *const *ip_addresses;
	size_t n_ips;
	enum tc_profile profile;       /* 0 means TC_PROFILE_SERVER */
	uint32_t validity_seconds;     /* 0 = the CA's maximum */
	/* Optional (<= 64 bytes): the same key and request again returns the
	 * certificate issued for it instead of a second one (a retry after a
	 * lost answer); another request under it is refused. */
	const unsigned char *idempotency_key;
	size_t idempotency_key_len;
};

/* One SCT embedded in an issued certificate (RFC 6962), from TrustChain's
 * CT log for the certificate's precertificate entry. */
struct tc_sct {
	unsigned char log_id[32];   /* SHA-256 of the log's public key */
	uint64_t timestamp;         /* milliseconds since the epoch */
	unsigned char *sct;         /* TLS-encoded SignedCertificateTimestamp */
	size_t sct_len;
	unsigned char leaf_hash[32]; /* the entry's RFC 6962 leaf hash */
	/* The entry is durable when the SCT is issued but is sequenced into
	 * the tree later (ct.sequence_interval_ms): its index is usually not
	 * known yet at issuance. Find it later by leaf_hash (get-proof-by-hash). */
	int leaf_index_known;
	uint64_t leaf_index;
};

/* An issued certificate; owned by the caller, free with tc_issue_result_free. */
struct tc_issue_result {
	char *certificate_pem;  /* embeds the SCT list of scts[] */
	char *chain_pem;     /* intermediates, issuer of the leaf first */
	char *root_pem;
	char *serial;        /* lower-case hex */
	int64_t not_before;  /* unix seconds */
	int64_t not_after;
	struct tc_sct *scts; /* n_scts entries */
	size_t n_scts;
	/* With ct.log_stoq_certificates the final certificate is logged too:
	 * certificate_logged, its leaf hash, and its index when known. */
	int certificate_logged;
	unsigned char certificate_leaf_hash[32];
	int certificate_log_index_known;
	uint64_t certificate_log_index;
};

/* CertificateAuthority.Issue. On success *out is a new result. When the CT
 * log is unreachable nothing is issued: UNAVAILABLE, reason ct_unavailable
 * (retry later). */
int tc_issue(struct tc_client *c, const struct tc_issue_request *rq,
	     struct tc_issue_result **out, struct tc_status *st);
void tc_issue_result_free(struct tc_issue_result *r);

/* RFC 5280 CRLReason codes accepted by tc_revoke (7 is unused). */
enum tc_revocation_reason {
	TC_REVOKE_UNSPECIFIED = 0,
	TC_REVOKE_KEY_COMPROMISE = 1,
	TC_REVOKE_CA_COMPROMISE = 2,
	TC_REVOKE_AFFILIATION_CHANGED = 3,
	TC_REVOKE_SUPERSEDED = 4,
	TC_REVOKE_CESSATION_OF_OPERATION = 5,
	TC_REVOKE_CERTIFICATE_HOLD = 6,
	TC_REVOKE_REMOVE_FROM_CRL = 8,
	TC_REVOKE_PRIVILEGE_WITHDRAWN = 9,
	TC_REVOKE_AA_COMPROMISE = 10,
};

/* CertificateAuthority.Revoke of the certificate with serial (hex, as in
 * tc_issue_result.serial). *revocation_time (may be NULL) gets when it took
 * effect, the original time when it was already revoked. Needs a caller
 * with the revoke right. */
int tc_revoke(struct tc_client *c, const char *serial_hex, enum tc_revocation_reason reason,
	      int64_t *revocation_time, struct tc_status *st);

/* The CA's current CRL; owned by the caller, free with tc_crl_free. */
struct tc_crl {
	unsigned char *der;
	size_t der_len;
	char *pem;             /* the same as PEM (made locally when the gateway left it out) */
	uint64_t crl_number;
	int64_t this_update;   /* unix seconds */
	int64_t next_update;
};

/* CertificateAuthority.GetCrl. On success *out is a new CRL. */
int tc_get_crl(struct tc_client *c, struct tc_crl **out, struct tc_status *st);
void tc_crl_free(struct tc_crl *crl);

/* ---- Validation.Validate: the STOQ trust decision ---- */

enum tc_purpose {
	TC_PURPOSE_SERVER_AUTH = 1, /* the chain's owner is a TLS/QUIC server (0 means this too) */
	TC_PURPOSE_CLIENT_AUTH = 2, /* the chain's owner is a TLS/QUIC client */
};

enum tc_decision {
	TC_DECISION_UNSPECIFIED = 0,
	TC_TRUSTED = 1,
	TC_UNTRUSTED = 2,
};

/* The reasons of validation.proto, same numbers. OK_* and NAME_NOT_CHECKED
 * report checks that passed or did not apply; the others explain an
 * UNTRUSTED decision (SCT_MISSING only when the gateway requires SCTs). */
enum tc_reason {
	TC_REASON_UNSPECIFIED = 0,
	TC_REASON_OK_PATH = 1,
	TC_REASON_OK_VALIDITY = 2,
	TC_REASON_OK_NAME = 3,
	TC_REASON_OK_KEY_USAGE = 4,
	TC_REASON_OK_SCT = 5,
	TC_REASON_OK_NOT_REVOKED = 6,
	TC_REASON_NAME_NOT_CHECKED = 7,
	TC_REASON_CHAIN_EMPTY = 20,
	TC_REASON_CHAIN_MALFORMED = 21,
	TC_REASON_PATH_UNTRUSTED = 22,
	TC_REASON_NOT_YET_VALID = 23,
	TC_REASON_EXPIRED = 24,
	TC_REASON_NAME_MISMATCH = 25,
	TC_REASON_KEY_USAGE_MISMATCH = 26,
	TC_REASON_SCT_MISSING = 27,
	TC_REASON_SCT_INVALID = 28,
	TC_REASON_REVOKED = 29,
	TC_REASON_REVOCATION_UNKNOWN = 30,
};

/* "OK_PATH", "EXPIRED", ... ("UNKNOWN_REASON" for a value this library
 * does not know, e.g. from a newer gateway). */
const char *tc_reason_name(int reason);
/* "TRUSTED", "UNTRUSTED" or "UNSPECIFIED". */
const char *tc_decision_name(int decision);

struct tc_validate_request {
	const unsigned char *const *chain; /* leaf first; each DER, or PEM text (may hold several) */
	const size_t *chain_lens;
	size_t n_chain;
	const char *name;                  /* DNS name or IP address; NULL or "" skips the name check */
	int64_t time;                      /* unix seconds; 0 = now */
	enum tc_purpose purpose;           /* 0 = TC_PURPOSE_SERVER_AUTH */
};

/* A decision; owned by the caller, free with tc_validate_result_free. */
struct tc_validate_result {
	enum tc_decision decision;
	enum tc_reason *reasons;           /* every check's outcome, in the order they ran */
	size_t n_reasons;
	char *detail;                      /* the first failure, "" when trusted */
	unsigned char **verified_chain;    /* DER, leaf first, ending with the root */
	size_t *verified_chain_lens;
	size_t n_verified_chain;
};

/* Validation.Validate. A chain that does not verify is no error: the call
 * returns 0 with decision TC_UNTRUSTED. -1 means no decision was made. */
int tc_validate(struct tc_client *c, const struct tc_validate_request *rq,
		struct tc_validate_result **out, struct tc_status *st);
void tc_validate_result_free(struct tc_validate_result *r);

/* 1 when reason is in r's reasons. */
int tc_validate_result_has(const struct tc_validate_result *r, enum tc_reason reason);

#ifdef __cplusplus
}
#endif

#endif
