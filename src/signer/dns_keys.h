/* The DNS zone keys the signer may use (issue 12 rollovers): the
 * configured one (hsm.keys.dns_zone) and the keys of the roll state
 * (<data_dir>/dns/roll.state, common/dns_roll_state.h) while it lists
 * them. A caller names one by label; the signer trusts no caller, and the
 * state file is not signed, so a name is refused unless it is the
 * configured label or "<configured label>-..." listed in the state now,
 * is no other role's key (root, intermediate, CT, audit) and is an EC
 * P-256 key on the token: whoever can write the state file can at most
 * point the DNS role at another DNS key. */
#ifndef TC_SIGNER_DNS_KEYS_H
#define TC_SIGNER_DNS_KEYS_H

#include <stddef.h>

#include "signer/signer.h"

/* The key that selector names ("" or NULL: the configured one), *have 0
 * when it is not on the token (yet); NULL when the selector names no
 * DNS key we may use (the reason is logged). Thread-safe. */
struct tc_hsm_key *tc_signer_dns_key(struct tc_signer *s, const char *selector, int *have);

/* The refusal rule alone, for tests: 0 when label (len bytes) may be a
 * scheduled DNS key of a signer configured with cfg, else -1 + why. */
int tc_signer_dns_label_ok(const struct tc_config *cfg, const char *label, size_t len, char *why,
			   size_t wl);

#endif
