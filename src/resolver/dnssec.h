/* DNSSEC (RFC 4033-4035) for the authoritative zone: canonical form and
 * order (RFC 4034 §6), the RRSIG signing input, DNSKEY and key tag, and
 * pre-signing a whole zone (DNSKEY at the apex, an NSEC chain, RRSIGs over
 * every authoritative RRset) with a caller-supplied signature function, so
 * this code holds no key and does no I/O: the resolver passes a function
 * that asks the signer process (the HSM) and tests pass a local key.
 *
 * Algorithm 13 only (ECDSAP256SHA256, RFC 6605): a signature is the
 * 64-octet r || s over SHA-256 of the signing input. */
#ifndef TC_RESOLVER_DNSSEC_H
#define TC_RESOLVER_DNSSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/zone.h"

#define TC_DNSSEC_ALG_ECDSAP256SHA256 13
#define TC_DNSSEC_SIG_LEN 64
#define TC_DNSSEC_DNSKEY_LEN (4 + 64)       /* flags, protocol, algorithm, X || Y */
#define TC_DNSSEC_FLAGS_CSK 257             /* ZONE | SEP: one key signs everything */
#define TC_DNSSEC_RRSIG_FIXED 18            /* RRSIG RDATA before the signer name */
#define TC_DNSSEC_DNSKEY_TTL 3600
/* The signer accepts at most this much to sign (dispatch.c checks it too). */
#define TC_DNSSEC_MAX_SIGNING_INPUT (64 * 1024)

/* RFC 4034 §6.1 canonical order of two uncompressed wire names (any case):
 * <0, 0, >0 like memcmp. */
int tc_dnssec_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* RFC 4034 appendix B key tag of DNSKEY RDATA. */
uint16_t tc_dnssec_key_tag(const uint8_t *rdata, size_t len);

/* DNSKEY RDATA for algorithm 13 from the 64-octet public point X || Y. */
void tc_dnssec_dnskey_rdata(uint8_t out[TC_DNSSEC_DNSKEY_LEN], uint16_t flags,
			    const uint8_t point[64]);

/* RDATA of the RRSIG without its signature (RFC 4034 §3.1, §3.1.8.1):
 * the head of the signing input. signer is the zone apex (lower-cased
 * here). Returns the length, 0 when cap is too small. */
struct tc_rrsig_fields {
	uint16_t type_covered;
	uint8_t labels;
	uint32_t original_ttl;
	uint32_t expiration, inception;   /* seconds since the epoch, mod 2^32 */
	uint16_t key_tag;
	const uint8_t *signer;
	size_t signer_len;
};
size_t tc_dnssec_rrsig_head(uint8_t *out, size_t cap, const struct tc_rrsig_fields *f);

/* Labels field of an RRSIG at owner (RFC 4034 §3.1.3): the owner's label
 * count, a leading "*" label not counted. */
uint8_t tc_dnssec_rrsig_labels(const uint8_t *owner, size_t olen);

/* Canonical RDATA (RFC 4034 §6.2, RFC 6840 §5.1): names inside the RDATA of
 * NS, CNAME, PTR, MX, SRV and SOA lower-cased; other types unchanged.
 * out must hold rdlen octets. */
void tc_dnssec_canonical_rdata(uint16_t type, const uint8_t *rdata, size_t rdlen, uint8_t *out);

/* The complete signing input (RFC 4034 §3.1.8.1): head, then every record of
 * the RRset in canonical form (lower-case owner, class IN, the original TTL,
 * canonical RDATA) in canonical RDATA order, duplicates once. Returns a
 * malloc'ed buffer and its length in *len, or NULL (out of memory, or over
 * TC_DNSSEC_MAX_SIGNING_INPUT). */
uint8_t *tc_dnssec_signing_input(const uint8_t *head, size_t headlen, const uint8_t *owner,
				 size_t olen, uint16_t type, uint32_t ttl,
				 const struct tc_zone_rr *rrs, size_t count, size_t *len);

/* The NSEC type bitmap (RFC 4034 §4.1.2) of a sorted list of types. Returns
 * its length (at most 32 windows of 34 octets). */
size_t tc_dnssec_type_bitmap(const uint16_t *types, size_t ntypes, uint8_t *out, size_t cap);

/* Makes a 64-octet signature over data; 0 or -1 with a reason. */
typedef int (*tc_dnssec_sign_fn)(void *ctx, const uint8_t *data, size_t len,
				 uint8_t sig[TC_DNSSEC_SIG_LEN], char *err, size_t errlen);

/* Several keys during a rollover (dnssec_roll.h, common/dns_roll_state.h):
 * every key of the set is in the DNSKEY RRset; the DNSKEY RRset is signed
 * by each key with signs_dnskey, every other RRset by each with
 * signs_zone. sign() is asked for each; the RRSIG head in its input names
 * the key by its tag. */
#define TC_DNSSEC_MAX_KEYS 4
#define TC_DNSSEC_FLAGS_ZSK 256             /* ZONE only */
struct tc_dnssec_keyset {
	size_t n;
	struct {
		uint8_t dnskey[TC_DNSSEC_DNSKEY_LEN];
		bool signs_dnskey, signs_zone;
	} key[TC_DNSSEC_MAX_KEYS];
};

struct tc_dnssec_zone_key {
	uint8_t dnskey[TC_DNSSEC_DNSKEY_LEN];   /* our DNSKEY RDATA (algorithm 13) */
	uint32_t inception, expiration;
	tc_dnssec_sign_fn sign;
	void *ctx;
	/* NULL: dnskey alone signs everything; else the keys of a rollover
	 * (dnskey is then ignored). */
	const struct tc_dnssec_keyset *set;
	/* TTL of the DNSKEY RRset (dns.dnskey_ttl); 0 takes
	 * TC_DNSSEC_DNSKEY_TTL. Rollover waits follow it (dnssec_roll.h). */
	uint32_t dnskey_ttl;
};

/* Signs zone in place: removes any RRSIG/NSEC/NSEC3/NSEC3PARAM it holds,
 * adds the DNSKEY at the apex (TTL key->dnskey_ttl, default 3600), evens out TTLs inside each
 * RRset (the smallest wins, RFC 2181 §5.2), builds the NSEC chain over the
 * authoritative names in canonical order (TTL min(SOA TTL, MINIMUM),
 * RFC 9077) and adds an RRSIG over every authoritative RRset (at a
 * delegation only DS and NSEC; nothing below one). Returns the number of
 * signatures made, or -1 with a reason; a zone that failed part way must
 * be thrown away. */
long tc_zone_sign(struct tc_zone *zone, const struct tc_dnssec_zone_key *key, char *err,
		  size_t errlen);

/* ECDSA-Sig-Value (DER, as the signer returns it) -> r || s, each left
 * padded to 32 octets. 0, or -1 for anything that is not a P-256 sized
 * signature. */
int tc_dnssec_sig_from_der(const uint8_t *der, size_t len, uint8_t out[TC_DNSSEC_SIG_LEN]);

/* DER SubjectPublicKeyInfo of a P-256 key -> X || Y. 0 or -1. */
int tc_dnssec_point_from_spki(const uint8_t *der, size_t len, uint8_t point[64]);

#endif
