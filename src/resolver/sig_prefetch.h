/* The HSM signatures a zone build needs, asked of the signer together.
 *
 * tc_zone_sign asks for one signature at a time, and each SignData is a
 * round trip to the signer, an HSM operation and an audit-journal record
 * synced before the answer: signed one after the other, a dynamic update
 * that changes k RRsets waits for k+1 (the SOA) journal syncs in a row. A
 * prefetch runs the signing once with a function that only collects the
 * signing inputs the cache of the previous build does not hold, sends the
 * signer all of them at once (tc_dnssec_signer_sign_many: pipelined on its
 * connection, so its pool signs them in parallel and its journal commits
 * them in one sync; 16 blocking calls in flight, as before, cost a batch of
 * 45 updates three syncs in a row and 16 threads' wake-ups), and
 * leaves the verified signatures in a cache the real signing pass then
 * takes them from. A prefetch that fails changes nothing: the real pass
 * asks for what is missing itself and reports the error. */
#ifndef TC_RESOLVER_SIG_PREFETCH_H
#define TC_RESOLVER_SIG_PREFETCH_H

#include <stddef.h>

#include "resolver/dnssec.h"
#include "resolver/dnssec_signer.h"
#include "resolver/sig_cache.h"

/* key: the build's key (dnskey and validity times; sign and ctx are not
 * used). prev: the previous build's signatures (may be NULL). Signatures
 * made go into out (by SHA-256 of their signing input). Returns how many
 * were made, or -1 (err set) when one could not be. zone is signed in
 * place with placeholder signatures: sign it again before serving it. */
long tc_sig_prefetch(struct tc_zone *zone, const struct tc_dnssec_zone_key *key, struct tc_dnssec_signer *signer,
		     const struct tc_sig_cache *prev, struct tc_sig_cache *out, char *err, size_t errlen);

#endif
