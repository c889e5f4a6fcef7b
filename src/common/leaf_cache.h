/* Leaves already validated, so a STOQ node asking about the same peer
 * certificate again (the common case: every connection to a peer presents
 * its certificate) costs a lookup instead of an X.509 decode (~140 us with
 * OpenSSL 3.0's key decoders) and two ECDSA verifications.
 *
 * The key is the leaf's DER itself: a cheap non-cryptographic hash of it
 * picks the slot and a byte comparison with the DER the entry keeps decides
 * the match, so a hit is exactly the same certificate, without the
 * SHA-256 (and OpenSSL 3's digest fetch) each call used to cost.
 *
 * An entry holds only what does not depend on the request: the decoded
 * leaf, its validity window in unix seconds, the CA entry its signature
 * verified with, and the embedded-SCT verdict (a function of the leaf
 * bytes, the issuer key and the log key).
 * Time, name, key usage and revocation are checked on every call. Only
 * leaves with a verified path are inserted, so the cache fills only with
 * certificates our CA issued. Direct-mapped and bounded: an insert replaces
 * whatever occupied its slot. Entries are immutable and reference counted;
 * the table is read under a rwlock from every gRPC worker. */
#ifndef TC_COMMON_LEAF_CACHE_H
#define TC_COMMON_LEAF_CACHE_H

#include <openssl/x509.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/chain_cache.h"
#include "trustchain/client.h"

#define TC_LEAF_CACHE_SLOTS 4096 /* power of two */

struct tc_leaf_entry {
	atomic_uint refs;
	uint64_t der_hash;           /* tc_leaf_der_hash of der: picks the slot */
	unsigned char *der;          /* the leaf's DER (a copy): the key */
	size_t der_len;
	X509 *cert;                  /* decoded, extensions cached */
	int64_t not_before, not_after; /* cert's validity, unix seconds */
	int times_ok;                /* 0: cert's validity does not decode */
	struct tc_ca_cert *issuer;   /* verified issuer (a reference) */
	enum tc_reason sct;  /* OK_SCT, SCT_MISSING or SCT_INVALID */
	char sct_why[200];           /* the SCT check's detail when not OK */
};

/* The slot hash of a leaf's DER (not collision resistant: lookups compare
 * the bytes). */
uint64_t tc_leaf_der_hash(const unsigned char *der, size_t len);

/* A new entry (one reference, the caller's) for the leaf der[len] that
 * decoded to cert; der is copied, references to cert and issuer are
 * taken. NULL on failure. */
struct tc_leaf_entry *tc_leaf_entry_new(const unsigned char *der, size_t len, X509 *cert, struct tc_ca_cert *issuer,
					enum tc_reason sct, const char *sct_why);
void tc_leaf_entry_unref(struct tc_leaf_entry *e);

struct tc_leaf_cache;

struct tc_leaf_cache *tc_leaf_cache_new(void);
void tc_leaf_cache_free(struct tc_leaf_cache *c);

/* The entry for exactly these DER bytes (referenced), or NULL. */
struct tc_leaf_entry *tc_leaf_cache_get(struct tc_leaf_cache *c, const unsigned char *der, size_t len);

/* Puts e in its slot (the cache takes a reference). */
void tc_leaf_cache_put(struct tc_leaf_cache *c, struct tc_leaf_entry *e);

#endif
