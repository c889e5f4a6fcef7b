/* CA certificates already known to chain to a TrustChain root, so a
 * Validate call whose leaf was issued by one costs a single signature check
 * instead of a path build. Entries are immutable and reference counted:
 * a caller keeps the ones it got for as long as it uses them, even if the
 * cache evicts them meanwhile.
 *
 * Only certificates that X509_verify_cert accepted up to the root are ever
 * inserted, so the cache cannot be filled by a caller's junk; it is bounded
 * anyway (oldest unpinned entry evicted). Pinned entries (the root and the
 * intermediate from the data directory) are never evicted. The table is
 * read under a rwlock: handlers on every gRPC worker look up concurrently. */
#ifndef TC_COMMON_CHAIN_CACHE_H
#define TC_COMMON_CHAIN_CACHE_H

#include <openssl/x509.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define TC_CHAIN_CACHE_MAX 64

struct tc_ca_cert {
	atomic_uint refs;
	unsigned char der_hash[32];    /* SHA-256 of der: the cache key */
	X509 *cert;
	EVP_PKEY *key;                 /* cert's public key (owned by cert) */
	unsigned char *der;            /* OPENSSL_malloc'ed */
	size_t der_len;
	int64_t not_before, not_after; /* unix seconds */
	unsigned char spki_hash[32];   /* SHA-256 of the SPKI: issuer_key_hash of its leaves' SCTs */
	struct tc_ca_cert *issuer;     /* the next certificate up (a reference); NULL for a root */
};

/* A new entry (one reference, the caller's) for a verified CA certificate
 * x (its own reference is taken) issued by issuer (a reference is taken;
 * NULL for a trust anchor). NULL on failure. */
struct tc_ca_cert *tc_ca_cert_new(X509 *x, struct tc_ca_cert *issuer);
struct tc_ca_cert *tc_ca_cert_ref(struct tc_ca_cert *e);
void tc_ca_cert_unref(struct tc_ca_cert *e);

struct tc_chain_cache;

struct tc_chain_cache *tc_chain_cache_new(void);
void tc_chain_cache_free(struct tc_chain_cache *c);

/* Adds e (the cache takes its own reference). A pinned entry is never
 * evicted. Adding bytes already present keeps the present entry. */
int tc_chain_cache_add(struct tc_chain_cache *c, struct tc_ca_cert *e, int pinned);

/* The entry for these DER bytes, with a reference for the caller, or NULL. */
struct tc_ca_cert *tc_chain_cache_get(struct tc_chain_cache *c, const unsigned char der_hash[32]);

/* A pinned entry that issued leaf (name, key identifier and key usage
 * match; the signature is not checked here), referenced, or NULL. */
struct tc_ca_cert *tc_chain_cache_pinned_issuer(struct tc_chain_cache *c, X509 *leaf);

size_t tc_chain_cache_size(struct tc_chain_cache *c);

#endif
