/* The CT log key as this process sees it: the key lives in the signer's HSM,
 * so every SCT and tree head signature is one SignData call over IPC. Holds
 * the log's public key and log ID (SHA-256 of its SubjectPublicKeyInfo),
 * fetched once at start. */
#ifndef TC_TRANSPARENCY_LOG_SIGNER_H
#define TC_TRANSPARENCY_LOG_SIGNER_H

#include <stddef.h>

#include "transparency/ct_encode.h"

struct tc_child;

#define TC_LOG_SIGNER_MAX_SIG 256 /* a DER ECDSA P-256/P-384 signature is < 110 */

struct tc_log_signer {
	struct tc_child *child;
	unsigned char log_id[TC_CT_LOG_ID_LEN];
	unsigned char *spki; /* DER SubjectPublicKeyInfo of the log key */
	size_t spki_len;
	char ct_log[32]; /* the temporal shard whose key this is ("" the single log) */
};

/* Asks the signer for the CT log public key. 0, or -1 with err set (the
 * signer may still be starting: callers retry). */
int tc_log_signer_init(struct tc_log_signer *s, struct tc_child *child, char *err, size_t errlen);
/* The same for the key of temporal shard ct_log (ct.logs name). */
int tc_log_signer_init_shard(struct tc_log_signer *s, struct tc_child *child, const char *ct_log, char *err,
			     size_t errlen);
void tc_log_signer_free(struct tc_log_signer *s);

/* Has the signer sign an RFC 6962 digitally-signed input with the log key;
 * writes the DER ECDSA signature into sig (cap >= TC_LOG_SIGNER_MAX_SIG). */
int tc_log_signer_sign(struct tc_log_signer *s, const unsigned char *data, size_t len, unsigned char *sig,
		       size_t cap, size_t *sig_len, char *err, size_t errlen);

/* The answer of tc_log_signer_sign_async: the DER signature (sig_len <=
 * TC_LOG_SIGNER_MAX_SIG), or sig NULL and a reason in err. Runs on the
 * signer link's reader thread: it must not block or call the signer
 * synchronously. */
typedef void (*tc_log_signer_done_fn)(void *arg, const unsigned char *sig, size_t sig_len, const char *err);

/* tc_log_signer_sign without a waiting thread: the request is pipelined on
 * the signer link and done(arg, ...) gets the answer. data is copied
 * before the return. 0 when done will be called (exactly once), -1 with
 * err set when nothing was sent (done is not called). */
int tc_log_signer_sign_async(struct tc_log_signer *s, const unsigned char *data, size_t len,
			     tc_log_signer_done_fn done, void *arg, char *err, size_t errlen);

#endif
