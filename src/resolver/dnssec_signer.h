/* The zone key as the resolver sees it: a public key it asks the signer
 * for, and signatures the signer makes in the HSM (SignData with
 * KEY_ROLE_DNS_ZONE; the signer hashes with SHA-256 and checks that the
 * data is an RRSIG signing input for our zone). Every signature is
 * verified here against the public key before it is published, so a
 * wrong key or a broken HSM never reaches validators as a bogus zone. */
#ifndef TC_RESOLVER_DNSSEC_SIGNER_H
#define TC_RESOLVER_DNSSEC_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/dnssec.h"

struct tc_child;
struct tc_dnssec_signer;

enum tc_dnssec_key_state {
	TC_DNSSEC_KEY_OK = 0,
	TC_DNSSEC_KEY_NOT_PROVISIONED,   /* no zone key on the token (no ceremony yet) */
	TC_DNSSEC_KEY_FAILED,            /* signer unreachable or refused */
};

/* Fetches the zone keys of the roll state (common/dns_roll_state.h; without
 * one, the configured key as a CSK). On success *out holds a signer whose
 * first zone-signing DNSKEY is in dnskey; tc_dnssec_signer_keyset gives
 * them all. err says why otherwise (one key missing: NOT_PROVISIONED). */
enum tc_dnssec_key_state tc_dnssec_signer_open(struct tc_child *child,
					       struct tc_dnssec_signer **out,
					       uint8_t dnskey[TC_DNSSEC_DNSKEY_LEN], char *err,
					       size_t errlen);
void tc_dnssec_signer_free(struct tc_dnssec_signer *s);
/* The DNSKEY set and who signs what, for struct tc_dnssec_zone_key.set;
 * owned by s. */
const struct tc_dnssec_keyset *tc_dnssec_signer_keyset(const struct tc_dnssec_signer *s);

/* tc_dnssec_sign_fn over the signer; ctx is the struct tc_dnssec_signer.
 * The key is the one whose tag the RRSIG head in data names. */
int tc_dnssec_signer_sign(void *ctx, const uint8_t *data, size_t len,
			  uint8_t sig[TC_DNSSEC_SIG_LEN], char *err, size_t errlen);

/* Signs n inputs together: every SignData is sent before any answer is
 * awaited (pipelined on the one signer connection, no thread per call), so
 * the signer's workers sign them side by side and its audit journal makes
 * them durable in one group commit, where one call at a time would wait a
 * journal sync each. sigs[i] is the (verified) signature of data[i]. 0, or
 * -1 with err for the first input that failed (returns only once every
 * answer came or timed out). */
int tc_dnssec_signer_sign_many(struct tc_dnssec_signer *s, const uint8_t *const *data, const size_t *len,
			       size_t n, uint8_t (*sigs)[TC_DNSSEC_SIG_LEN], char *err, size_t errlen);

#endif
