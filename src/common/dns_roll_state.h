/* The DNSSEC key roll state of the zone (issue 12): which HSM keys are in
 * the DNSKEY RRset, in which role (KSK, ZSK, or one CSK signing
 * everything), whether each signs yet or no more, since when, and the
 * rollover under way with its timing parameters. One small text file,
 * <data_dir>/dns/roll.state, replaced durably (file_replace) by the
 * ceremony steps of trustchainctl dns-roll, read by the resolver (what to
 * publish and sign with) and by the signer (which DNS keys a caller may
 * name). Without the file the zone has its one configured key
 * (hsm.keys.dns_zone) as an active CSK, as before rollovers existed.
 *
 *   trustchain-dns-roll 1
 *   key LABEL csk|ksk|zsk published|active|retired SINCE
 *   roll zsk|ksk NEW OLD PUBLISH DS_SEEN DNSKEY_TTL MAX_SIG_TTL DS_TTL PROP PARENT_PROP SAFETY
 *
 * published: in the DNSKEY RRset, signs nothing yet; active: signs (a KSK
 * the DNSKEY RRset, a ZSK everything else, a CSK both); retired: still in
 * the DNSKEY RRset, signs no more (its signatures may still be cached).
 * Times are Unix seconds; DS_SEEN 0 until the parent serves the new DS. */
#ifndef TC_COMMON_DNS_ROLL_STATE_H
#define TC_COMMON_DNS_ROLL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/key_label.h"

#define TC_DNS_ROLL_MAX_KEYS 4
#define TC_DNS_ROLL_FILE "dns/roll.state"
#define TC_DNS_ROLL_MAX_BYTES 4096

enum tc_dns_key_role { TC_DNS_ROLE_CSK, TC_DNS_ROLE_KSK, TC_DNS_ROLE_ZSK };
enum tc_dns_key_phase { TC_DNS_KEY_PUBLISHED, TC_DNS_KEY_ACTIVE, TC_DNS_KEY_RETIRED };
enum tc_dns_roll_kind { TC_DNS_ROLL_NONE, TC_DNS_ROLL_ZSK, TC_DNS_ROLL_KSK };

struct tc_dns_roll_key {
	char label[TC_KEY_LABEL_MAX + 1];
	enum tc_dns_key_role role;
	enum tc_dns_key_phase phase;
	int64_t since;
};

struct tc_dns_roll_state {
	size_t nkeys;
	struct tc_dns_roll_key key[TC_DNS_ROLL_MAX_KEYS];
	enum tc_dns_roll_kind rolling;
	char new_label[TC_KEY_LABEL_MAX + 1], old_label[TC_KEY_LABEL_MAX + 1];
	int64_t publish, ds_seen;
	uint32_t dnskey_ttl, max_sig_ttl, ds_ttl, propagation_s, parent_propagation_s, safety_s;
};

/* Strict reader of the file's bytes (no NUL, known words only, labels per
 * key_label.h, each once, a roll naming keys of the set). 0 or -1 + why. */
int tc_dns_roll_state_parse(const char *buf, size_t n, struct tc_dns_roll_state *st, char *why,
			    size_t wl);
/* The file's bytes; the length, 0 when cap is too small. */
size_t tc_dns_roll_state_format(const struct tc_dns_roll_state *st, char *out, size_t cap);

/* The state of cfg's data dir: the file, or (absent) the configured key as
 * an active CSK with *exists false. 0, or -1 with err (unreadable,
 * damaged). exists may be NULL. */
int tc_dns_roll_state_load(const struct tc_config *cfg, struct tc_dns_roll_state *st, bool *exists,
			   char *err, size_t errlen);
/* Replaces the file durably (mode 0644: it holds no secret). */
int tc_dns_roll_state_save(const struct tc_config *cfg, const struct tc_dns_roll_state *st, char *err,
			   size_t errlen);

/* The key labelled label (length-delimited), or NULL. */
const struct tc_dns_roll_key *tc_dns_roll_state_find(const struct tc_dns_roll_state *st,
						     const char *label, size_t len);

const char *tc_dns_key_role_name(enum tc_dns_key_role r);
const char *tc_dns_key_phase_name(enum tc_dns_key_phase p);

#endif
