/* Bringing the signer's state up and down: PIN, token, keys, journal and
 * revocations, in the order that lets each step fail cleanly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/ct_shard.h"
#include "common/log.h"
#include "signer/idempotency.h"
#include "signer/pin.h"
#include "signer/sig_memo.h"
#include "signer/signer.h"
#include "signer/softhsm_view.h"

/* Creates dir (one level) with mode 0700 unless it exists. */
static int ensure_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
	return -1;
}

static void load_key(struct tc_signer *s, const char *label, struct tc_hsm_key *key, int *have)
{
	char why[256];
	*have = tc_hsm_find_key(s->hsm, label, key, why, sizeof(why)) == 0;
	if (!*have)
		tc_warn("key '%s' unavailable: %s", label, why);
}

struct tc_hsm_key *tc_signer_ct_key(struct tc_signer *s, const char *ct_log, int *have)
{
	*have = 0;
	if (!ct_log[0]) {
		*have = s->have_ct_single;
		return &s->ct_log;
	}
	for (size_t i = 0; i < s->n_ct_shards; i++)
		if (strcmp(s->ct_shard_name[i], ct_log) == 0) {
			*have = s->have_ct_shard[i];
			return &s->ct_shard[i];
		}
	return NULL;
}

int tc_signer_init(struct tc_signer *s, const struct tc_config *cfg, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	tc_policy_from_config(cfg, &s->policy);
	pthread_mutex_init(&s->precert_lock, NULL);
	s->sct_memo = tc_sig_memo_new(); /* NULL: every SCT is verified, as before */
	if (tc_softhsm_view_setup(cfg, err, errlen) != 0)
		return -1;
	char pin[TC_PIN_MAX];
	if (tc_pin_read(cfg, pin, err, errlen) != 0)
		return -1;
	s->hsm = tc_hsm_open(cfg->hsm.module, cfg->hsm.token_label, pin, err, errlen);
	tc_pin_wipe(pin);
	if (!s->hsm)
		return -1;
	load_key(s, cfg->hsm.root_key_label, &s->root, &s->have_root);
	load_key(s, cfg->hsm.intermediate_key_label, &s->intermediate, &s->have_intermediate);
	load_key(s, cfg->hsm.ct_key_label, &s->ct_log, &s->have_ct_single);
	s->have_ct_log = s->have_ct_single;
	if (cfg->ct.log_count > 0) {
		struct tc_ct_shard sh[TC_CFG_MAX_CT_LOGS];
		s->n_ct_shards = tc_ct_shards(cfg, sh);
		for (size_t i = 0; i < s->n_ct_shards; i++) {
			/* Same size, NUL-terminated by tc_ct_shards (names of 1-31). */
			_Static_assert(sizeof(s->ct_shard_name[i]) == sizeof(sh[i].name), "shard name sizes");
			memcpy(s->ct_shard_name[i], sh[i].name, sizeof(sh[i].name));
			load_key(s, sh[i].key_label, &s->ct_shard[i], &s->have_ct_shard[i]);
			s->have_ct_log |= s->have_ct_shard[i];
		}
	}
	load_key(s, cfg->hsm.dns_key_label, &s->dns_zone, &s->have_dns_zone);
	load_key(s, cfg->hsm.audit_key_label, &s->audit, &s->have_audit);
	if (s->have_intermediate && !s->intermediate.cert) {
		tc_warn("intermediate key '%s' has no certificate on the token: issuance disabled",
			cfg->hsm.intermediate_key_label);
		s->have_intermediate = 0;
	}
	char why[256];
	if (s->have_intermediate && tc_issuer_init(&s->issuer, &s->intermediate, why, sizeof(why)) != 0) {
		tc_warn("intermediate key '%s': %s: issuance disabled", cfg->hsm.intermediate_key_label, why);
		s->have_intermediate = 0;
	}
	if (s->have_intermediate && tc_issuer_set_urls(&s->issuer, cfg->ca.crl_url, cfg->ca.issuer_url, why,
						       sizeof(why)) != 0) {
		tc_warn("%s: issuance disabled", why);
		s->have_intermediate = 0;
	}

	char path[TC_CFG_STR + 64];
	if (tc_config_data_path(cfg, "journal", path, sizeof(path)) != 0 ||
	    ensure_dir(path, err, errlen) != 0)
		goto fail;
	tc_config_data_path(cfg, "journal/audit.jsonl", path, sizeof(path));
	s->journal = tc_journal_open(path, err, errlen);
	if (!s->journal)
		goto fail;
	/* After the journal's verification: its idempotency records come back. */
	if (!(s->idem = tc_idem_new(TC_IDEM_MAX_RECORDS, TC_IDEM_TTL_S)) || tc_idem_load(s->idem, path, time(NULL)) < 0)
		tc_warn("idempotency records not reloaded: a retried keyed request may be signed again");
	if (tc_config_data_path(cfg, "ca", path, sizeof(path)) != 0 || ensure_dir(path, err, errlen) != 0)
		goto fail;
	tc_config_data_path(cfg, "ca/revocations.log", path, sizeof(path));
	s->revocations = tc_revocations_open(path, err, errlen);
	if (!s->revocations)
		goto fail;
	tc_revocations_set_configured_issuer(s->revocations, cfg->hsm.intermediate_key_label);
	tc_issuers_init(s); /* after the journal: loading the next intermediate is journaled */
	return 0;
fail:
	tc_signer_fini(s);
	return -1;
}

void tc_signer_fini(struct tc_signer *s)
{
	tc_revocations_close(s->revocations);
	tc_issuers_fini(s);
	tc_journal_close(s->journal);
	tc_idem_free(s->idem);
	tc_sig_memo_free(s->sct_memo);
	tc_hsm_close(s->hsm);
	for (int i = 0; i < TC_PRECERT_SLOTS; i++)
		tc_leaf_free(&s->precerts[i].completed);
	tc_issuer_fini(&s->issuer);
	pthread_mutex_destroy(&s->precert_lock);
	memset(s, 0, sizeof(*s));
}
