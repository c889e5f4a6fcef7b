/* Idempotent issuance (issue 11): a peer may name a certificate request
 * with a key (SignCertificateRequest.idempotency_key). A caller that lost
 * the answer (a crash after the request left, before its result was
 * stored) asks again with the same key and gets the very certificate that
 * was signed, never a second signature over the same request.
 *
 * The signer trusts no peer, so the records live here and in the audit
 * journal (an "idempotency" record per signature made under a key, holding
 * the certificate), from which they are reloaded at start:
 * - same peer + key + request: the stored precertificate / certificate;
 * - same key, another request (other subject, names, key or extensions;
 *   validity is not compared: a retry's template is built later): refused;
 * - a request under a key whose first request is still being signed: busy
 *   (transient, retry);
 * - records expire after ttl_s; at most max_records are kept (the oldest is
 *   dropped first), so memory is bounded whatever the peers send. */
#ifndef TC_SIGNER_IDEMPOTENCY_H
#define TC_SIGNER_IDEMPOTENCY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TC_IDEM_KEY_MAX 128      /* the gateway scopes a caller's 64 bytes by its identity */
#define TC_IDEM_TTL_S (24 * 3600)
#define TC_IDEM_MAX_RECORDS 4096

struct tc_idem;

struct tc_idem *tc_idem_new(size_t max_records, uint32_t ttl_s);
void tc_idem_free(struct tc_idem *t);

enum tc_idem_verdict {
	TC_IDEM_SIGN = 0,   /* sign (*tbs may have been replaced by the first request's template) */
	TC_IDEM_REPLAY = 1, /* answered from the record: *der and serial filled */
	TC_IDEM_REFUSED = 2,/* the key names another request (why filled) */
	TC_IDEM_BUSY = 3,   /* the key's request is being signed now */
	TC_IDEM_ERROR = 4,  /* malformed (why filled) or out of memory */
};

/* Looks the request up and, for TC_IDEM_SIGN, marks it in flight: the caller
 * must then call tc_idem_finish() exactly once. For a final certificate the
 * template is replaced by the one its precertificate came from (the retry's
 * template has a later validity), which *tbs then points at (valid until
 * tc_idem_finish). *der (malloc'ed, for TC_IDEM_REPLAY) is the caller's. */
enum tc_idem_verdict tc_idem_begin(struct tc_idem *t, const char *peer, const uint8_t *key, size_t key_len,
				   int precert, const uint8_t **tbs, size_t *tbs_len, const uint8_t *serial,
				   size_t serial_len, uint8_t **der, size_t *der_len, uint8_t out_serial[16],
				   char *why, size_t wl, time_t now);

/* Ends what tc_idem_begin started: der (NULL when nothing was signed, which
 * forgets an unsigned precertificate's record) is kept as the key's
 * precertificate or certificate. *journal_detail (malloc'ed, or NULL when
 * there is nothing to journal) is the text of the journal record that
 * makes it survive a restart (tc_idem_load reads it back). */
void tc_idem_finish(struct tc_idem *t, const char *peer, const uint8_t *key, size_t key_len, int precert,
		    const uint8_t *der, size_t der_len, const uint8_t serial[16], char **journal_detail,
		    time_t now);

/* Drops the key's record (its precertificate can no longer be finished). */
void tc_idem_forget(struct tc_idem *t, const char *peer, const uint8_t *key, size_t key_len, time_t now);

/* The journal record op for tc_idem_finish's detail. */
#define TC_IDEM_JOURNAL_OP "idempotency"

/* Reloads the records of the last ttl_s from the journal at path. Returns
 * the number loaded, or -1 when the file cannot be read. */
long tc_idem_load(struct tc_idem *t, const char *path, time_t now);

/* The identity of a leaf template for the "same request" rule: SHA-256
 * over its subject, public key and extensions (what the caller chose;
 * serial, issuer, algorithm are the signer's and validity moves with the
 * clock). 0, or -1 when der is not a template. */
int tc_idem_request_digest(const uint8_t *der, size_t len, unsigned char out[32]);

#endif
