/* libtrustchain's peer verification for TLS and QUIC stacks: decide whether
 * the certificate chain a peer presented is trustworthy for the expected
 * name and purpose, through TrustChain (DESIGN.md section 5).
 *
 * Two modes:
 *  - online: the gateway's Validate RPC decides; decisions are kept in a
 *    bounded cache keyed by SHA-256(leaf) + name + purpose, each for at most
 *    cache_ttl_ms and never past the leaf's notAfter, so a revocation is
 *    seen within cache_ttl_ms (plus the gateway's own one-second CRL cache).
 *  - local: the same decision code as the gateway's Validate (path to the
 *    configured root, validity, name, EKU/KU, embedded SCTs against the
 *    configured log keys, revocation) runs in-process, with a CRL a
 *    background thread refreshes every crl_refresh_ms from the gateway
 *    (GetCrl) or a CRL URL. Once the CRL is older than crl_max_age_ms every
 *    decision is UNTRUSTED (REVOCATION_UNKNOWN): fail closed.
 * Online mode with local material configured (root_file set) falls back to
 * the local decision when the gateway does not answer.
 *
 * The hooks for the two TLS libraries ngtcp2 runs on are in
 * trustchain/verify_openssl.h and trustchain/verify_gnutls.h. A verifier is
 * used from any number of threads. */
#ifndef TRUSTCHAIN_VERIFY_H
#define TRUSTCHAIN_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "trustchain/client.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tc_verify_mode {
	TC_VERIFY_ONLINE = 1,
	TC_VERIFY_LOCAL = 2,
};

struct tc_verifier_options {
	enum tc_verify_mode mode;
	/* The gateway (borrowed; must outlive the verifier): Validate in
	 * online mode, GetCrl in local mode without crl_url. */
	struct tc_client *client;
	/* Online: decision cache size (0: 1024) and reuse bound (0: 1000 ms;
	 * negative: no cache). */
	int cache_entries;
	int cache_ttl_ms;
	/* Local: our root and issuing intermediate (PEM files), the CT log
	 * public keys (PEM files) SCTs must verify against. */
	const char *root_file;
	const char *intermediate_file;
	const char *const *log_key_files;
	size_t n_log_key_files;
	int allow_missing_sct;  /* 0 (default): a leaf without a verifying SCT is UNTRUSTED */
	/* Local: the CRL. crl_url is "http://host:port/path" serving the DER
	 * CRL; NULL fetches it with GetCrl through client. */
	const char *crl_url;
	int crl_refresh_ms;     /* 0: 10000 */
	int crl_max_age_ms;     /* 0: 60000; older -> fail closed */
	/* Called with one line per non-trusted decision and per CRL refresh
	 * failure (NULL: silent). Never given key material. */
	void (*log)(void *arg, const char *line);
	void *log_arg;
};

#define TC_VERDICT_MAX_REASONS 16

/* One decision with its reasons, for the application to log or act on. */
struct tc_verdict {
	enum tc_decision decision;              /* TC_TRUSTED or TC_UNTRUSTED */
	enum tc_reason reasons[TC_VERDICT_MAX_REASONS];
	size_t n_reasons;
	char detail[512];                       /* the first failure; "" when trusted */
	int from_cache;                         /* online: answered from the decision cache */
	int local;                              /* decided in-process (local mode or fallback) */
};

struct tc_verifier;

/* NULL with err on a bad option or unreadable file. */
struct tc_verifier *tc_verifier_new(const struct tc_verifier_options *o, char *err, size_t errlen);
void tc_verifier_free(struct tc_verifier *v);

/* Decides for the chain (leaf first, DER or PEM each) presented by a peer
 * that must be name (name_len bytes; 0: not checked; a NUL or control byte
 * inside is refused, never cut short) acting as purpose. Returns 1 when
 * trusted, 0 when not; out (may be NULL) gets the verdict. */
int tc_verifier_check(struct tc_verifier *v, const unsigned char *const *chain, const size_t *lens, size_t n,
		      const char *name, size_t name_len, enum tc_purpose purpose, struct tc_verdict *out);

/* 1 when reason is among the verdict's reasons. */
int tc_verdict_has(const struct tc_verdict *vd, enum tc_reason reason);

/* Local mode: age of the CRL in ms (-1: none yet). */
int64_t tc_verifier_crl_age_ms(struct tc_verifier *v);

#ifdef __cplusplus
}
#endif

#endif
