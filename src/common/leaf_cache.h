/* Leaves already validated, so a STOQ node asking about the same peer
 * certificate again (the common case: every connection to a peer presents
 * its certificate) costs a hash and a lookup instead of an X.509 decode
 * (~140 us with OpenSSL 3.0's key decoders) and two ECDSA verifications.
 *
 * An entry holds only what does not depend on the request: the decoded
 * leaf, the CA entry its signature verified with, and the embedded-SCT
 * verdict (a function of the leaf bytes, the issuer key and the log key).
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
	unsigned char der_hash[32];  /* SHA-256 of the leaf's DER: the key */
	X509 *cert;                  /* decoded, extensions cached */
	struct tc_ca_cert *issuer;   /* verified issuer (a reference) */
	enum tc_reason sct;  /* OK_SCT, SCT_MISSING or SCT_INVALID */
	char sct_why[200];           /* the SCT check's detail when not OK */
};

/* A new entry (one reference, the caller's); references to cert and
 * issuer are taken. NULL on failure. */
struct tc_leaf_entry *tc_leaf_entry_new(const unsigned char der_hash[32], X509 *cert, struct tc_ca_cert *issuer,
					enum tc_reason sct, const char *sct_why);
void tc_leaf_entry_unref(struct tc_leaf_entry *e);

struct tc_leaf_cache;

struct tc_leaf_cache *tc_leaf_cache_new(void);
void tc_leaf_cache_free(struct tc_leaf_cache *c);

/* The entry for these DER bytes (referenced), or NULL. */
struct tc_leaf_entry *tc_leaf_cache_get(struct tc_leaf_cache *c, const unsigned char der_hash[32]);

/* Puts e in its slot (the cache takes a reference). */
void tc_leaf_cache_put(struct tc_leaf_cache *c, struct tc_leaf_entry *e);

#endif
