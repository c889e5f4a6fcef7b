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

/* Fetches the zone key. On success *out holds a signer whose DNSKEY is in
 * dnskey (flags 257). err says why otherwise. */
enum tc_dnssec_key_state tc_dnssec_signer_open(struct tc_child *child,
					       struct tc_dnssec_signer **out,
					       uint8_t dnskey[TC_DNSSEC_DNSKEY_LEN], char *err,
					       size_t errlen);
void tc_dnssec_signer_free(struct tc_dnssec_signer *s);

/* tc_dnssec_sign_fn over the signer; ctx is the struct tc_dnssec_signer. */
int tc_dnssec_signer_sign(void *ctx, const uint8_t *data, size_t len,
			  uint8_t sig[TC_DNSSEC_SIG_LEN], char *err, size_t errlen);

#endif
