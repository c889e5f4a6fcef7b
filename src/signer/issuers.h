/* The issuing intermediates of a running signer and which one signs now
 * (issue 14 part 8, CA key rollover). The configured intermediate
 * (hsm.keys.intermediate) is the first; `ceremony rollover-intermediate`
 * names the next one and its cut-over time in <data_dir>/ca/rollover/next
 * ("LABEL YYYY-MM-DDTHH:MM:SSZ"). The signer reads that file at start and
 * again when it changes while running (checked at most once a second),
 * loads the next key and its certificate from the token, keeps signing
 * with the current intermediate until the cut-over and then switches by
 * itself: no restart, and no caller ever picks the issuer (a final
 * certificate is signed by whoever signed its precertificate). Every
 * intermediate stays loaded, so each keeps signing its own CRL while the
 * certificates it issued are valid. The switch is journaled.
 * `ceremony finalize-rollover` (after the cut-over) appends the schedule's
 * line to ca/rollover/finalized: from then on a restart loads those
 * intermediates and issues with the last one at once, journaling no second
 * switch; the configured intermediate stays loaded and keeps signing its
 * CRL (still served at ca.crl_url, the URL its leaves carry). */
#ifndef TC_SIGNER_ISSUERS_H
#define TC_SIGNER_ISSUERS_H

#include <stddef.h>
#include <time.h>

#include "common/rollover_sched.h" /* tc_rollover_parse_line */
#include "signer/cert_sign.h"
#include "signer/hsm.h"

#define TC_ISSUERS_MAX 8
#define TC_ROLLOVER_FINALIZED_MAX 4096 /* ca/rollover/finalized */

struct tc_signer;

/* One issuing intermediate; never freed while the signer runs. */
struct tc_issuer_slot {
	struct tc_hsm_key key;
	struct tc_issuer issuer; /* with this intermediate's own CRL/AIA URLs */
};

/* Sets up the list with the configured intermediate (when usable) and the
 * scheduled next one, if any. Never fails: a bad schedule is logged and
 * issuance goes on with the current intermediate. */
void tc_issuers_init(struct tc_signer *s);
void tc_issuers_fini(struct tc_signer *s);

/* The intermediate that signs a new precertificate at now, after
 * re-reading a changed schedule and switching at the cut-over (journaled
 * once); NULL when none is provisioned. */
const struct tc_issuer_slot *tc_issuers_current(struct tc_signer *s, time_t now);

/* The intermediate with this key label ("" = the current one), for its
 * CRL; NULL when unknown. */
const struct tc_issuer_slot *tc_issuers_find(struct tc_signer *s, const char *label, size_t label_len);

/* How many intermediates are loaded (1 without a rollover scheduled). */
int tc_issuers_count(struct tc_signer *s);


/* The URL for label derived from base: base's last path segment replaced
 * by "<label><ext>" (ca.crl_url .../intermediate.crl -> .../L.crl). ""
 * when base is "". 0, or -1 when it does not fit. */
int tc_issuer_url_for(const char *base, const char *label, const char *ext, char *out, size_t outlen);

#endif
