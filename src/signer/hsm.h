/* The signer's view of the HSM through libp11: one logged-in token, keys
 * found by label, signing through OpenSSL EVP_PKEY handles whose private
 * half never leaves the token. EC keys sign on PKCS#11 sessions of our own,
 * one kept per signing thread, with the key copied into a session object
 * (hsm_sign.h); other keys through libp11. */
#ifndef TC_SIGNER_HSM_H
#define TC_SIGNER_HSM_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

struct tc_hsm;

struct tc_hsm_key {
	char label[64];
	unsigned char id[64];
	size_t id_len;
	EVP_PKEY *priv;  /* signs through the token (hsm_sign.h for EC keys) */
	EVP_PKEY *p11_priv; /* libp11's private key when priv is ours (freed at close, as libp11 wants it) */
	EVP_PKEY *pub;
	X509 *cert;      /* certificate stored with the same CKA_ID, if any */
	/* The public half again as a plain software key, decoded once: checking
	 * a signature of this key (an SCT of the CT log key) needs no token
	 * round trip and none of libp11's key methods. */
	EVP_PKEY *verify;
	unsigned char spki_sha256[32]; /* of its DER SubjectPublicKeyInfo: the RFC 6962 log ID */
};

/* Loads module, finds the token by label and logs in. The PIN is kept in
 * the handle (wiped at close), as libp11 itself keeps it, so that
 * tc_hsm_recover can log in again after the token lost its sessions. */
struct tc_hsm *tc_hsm_open(const char *module, const char *token_label, const char *pin,
			   char *err, size_t errlen);
void tc_hsm_close(struct tc_hsm *h);

/* Finds the private key with CKA_LABEL label (and its certificate).
 * Returns 0, or -1 with err set. key->* are owned by the hsm handle. */
int tc_hsm_find_key(struct tc_hsm *h, const char *label, struct tc_hsm_key *key, char *err,
		    size_t errlen);

/* Stores cert on the token with the key's CKA_ID and label. */
int tc_hsm_store_cert(struct tc_hsm *h, const struct tc_hsm_key *key, X509 *cert, char *err,
		      size_t errlen);

/* Fills buf from the token's RNG (after one recovery when it fails). */
int tc_hsm_random(struct tc_hsm *h, unsigned char *buf, size_t len);

/* Call after an HSM operation failed: sessions the HSM dropped
 * (CKR_SESSION_HANDLE_INVALID), or all of them and the login when the
 * token was removed and is back, would otherwise fail every later call.
 * libp11's session pool is reset and the login restored with a session of
 * our own. Failures within 50 ms are recovered once. 0 when the token
 * answers again, -1 when it does not (yet): call again on the next
 * failure. When the token had lost its login (it was removed, or reset)
 * and is back, the key handles of every loaded key may be stale: the
 * process then exits (status 75) for its supervisor to start it afresh.
 * A watchdog thread calls it too when the token fails a random draw.
 * Thread-safe. */
int tc_hsm_recover(struct tc_hsm *h);

/* Token description for transcripts: "label / manufacturer / model / serial". */
void tc_hsm_describe(struct tc_hsm *h, char *out, size_t outlen);

#endif
