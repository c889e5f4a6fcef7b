/* DNS zone key selection: see dns_keys.h. */
#include "signer/dns_keys.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "common/dns_roll_state.h"
#include "common/errorf.h"
#include "common/key_label.h"
#include "common/log.h"

/* DNS keys in the table at once: the roll state names at most
 * TC_DNS_ROLL_MAX_KEYS, so this leaves room for keys a state change has
 * just dropped until they are evicted. */
#define MAX_LOADED 8

/* A key found on the token. Callers use it after the lock is released,
 * so one evicted from the table (no longer in the roll state) is kept on
 * the retired list, never freed while the signer runs: one small record
 * per roll. */
struct loaded_key {
	struct tc_hsm_key key;
	struct loaded_key *next_retired;
};

/* One signer per process; tests that make several start over when the
 * signer changes. Keys found on the token stay cached (their handles are
 * owned by the HSM handle); what is allowed follows the state file. */
static struct {
	pthread_mutex_t lock;
	const struct tc_signer *owner;
	bool seen_exists;
	struct stat seen;
	struct tc_dns_roll_state state;
	bool state_ok;
	size_t nloaded;
	struct loaded_key *loaded[MAX_LOADED];
	struct loaded_key *retired;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void retire(size_t i)
{
	g.loaded[i]->next_retired = g.retired;
	g.retired = g.loaded[i];
	g.loaded[i] = g.loaded[--g.nloaded];
}

/* Drops from the table the keys the roll state no longer names (a caller
 * may not use them: tc_signer_dns_key checks the state first). Called with
 * the lock held, when the table is full. */
static void evict_unlisted(void)
{
	for (size_t i = 0; i < g.nloaded;) {
		const char *label = g.loaded[i]->key.label;
		if (!g.state_ok || !tc_dns_roll_state_find(&g.state, label, strlen(label)))
			retire(i);
		else
			i++;
	}
}

int tc_signer_dns_label_ok(const struct tc_config *cfg, const char *label, size_t len, char *why, size_t wl)
{
	const char *base = cfg->hsm.dns_key_label;
	size_t bl = strlen(base);
	if (!tc_key_label_ok(label, len))
		return tc_errorf(why, wl, "not a key label (1-%d of A-Z a-z 0-9 - _ .)", TC_KEY_LABEL_MAX);
	if (!(len == bl && memcmp(label, base, bl) == 0) &&
	    !(len > bl + 1 && memcmp(label, base, bl) == 0 && label[bl] == '-'))
		return tc_errorf(why, wl, "not '%s' or '%s-...'", base, base);
	const char *others[] = {cfg->hsm.root_key_label, cfg->hsm.intermediate_key_label,
				cfg->hsm.ct_key_label, cfg->hsm.audit_key_label};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (strlen(others[i]) == len && memcmp(others[i], label, len) == 0)
			return tc_errorf(why, wl, "the label of another role's key");
	for (size_t i = 0; i < cfg->ct.log_count; i++)
		if (strlen(cfg->ct.logs[i].key_label) == len && memcmp(cfg->ct.logs[i].key_label, label, len) == 0)
			return tc_errorf(why, wl, "the label of a CT log's key");
	return 0;
}

/* Re-reads the state file when it changed. Called with the lock held. */
static void poll_state(const struct tc_signer *s)
{
	char path[TC_CFG_STR + 64], err[512];
	struct stat st;
	if (tc_config_data_path(&s->cfg, TC_DNS_ROLL_FILE, path, sizeof(path)) != 0)
		return;
	bool exists = stat(path, &st) == 0;
	if (g.owner == s && exists == g.seen_exists &&
	    (!exists || (st.st_ino == g.seen.st_ino && st.st_size == g.seen.st_size &&
			 st.st_mtim.tv_sec == g.seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == g.seen.st_mtim.tv_nsec)))
		return;
	if (g.owner != s)
		while (g.nloaded)
			retire(0);
	g.owner = s;
	g.seen_exists = exists;
	if (exists)
		g.seen = st;
	g.state_ok = tc_dns_roll_state_load(&s->cfg, &g.state, NULL, err, sizeof(err)) == 0;
	if (!g.state_ok)
		tc_log_event(TC_LOG_ERROR, "dns_roll_state_invalid", TC_KV("path", path, "reason", err),
			     "%s: %s: only the configured DNS key may sign", path, err);
}

static bool p256(const struct tc_hsm_key *k)
{
	return k->pub && EVP_PKEY_get_base_id(k->pub) == EVP_PKEY_EC && EVP_PKEY_get_bits(k->pub) == 256;
}

struct tc_hsm_key *tc_signer_dns_key(struct tc_signer *s, const char *sel, int *have)
{
	*have = 0;
	if (!sel || !sel[0] || strcmp(sel, s->cfg.hsm.dns_key_label) == 0) {
		*have = s->have_dns_zone;
		return &s->dns_zone;
	}
	/* protobuf strings are NUL-terminated; a label longer than the limit
	 * is refused before anything else is done with it. */
	size_t len = strnlen(sel, TC_KEY_LABEL_MAX + 1);
	char why[256];
	if (len > TC_KEY_LABEL_MAX || tc_signer_dns_label_ok(&s->cfg, sel, len, why, sizeof(why)) != 0) {
		if (len > TC_KEY_LABEL_MAX)
			snprintf(why, sizeof(why), "longer than %d octets", TC_KEY_LABEL_MAX);
		tc_log_event(TC_LOG_WARN, "dns_key_refused", TC_KV("reason", why), "DNS key selector refused: %s", why);
		return NULL;
	}
	struct tc_hsm_key *out = NULL;
	pthread_mutex_lock(&g.lock);
	poll_state(s);
	if (!g.state_ok || !tc_dns_roll_state_find(&g.state, sel, len)) {
		tc_log_event(TC_LOG_WARN, "dns_key_refused", TC_KV("key", sel),
			     "DNS key '%s' refused: not in the roll state", sel);
		goto out;
	}
	for (size_t i = 0; i < g.nloaded; i++)
		if (strcmp(g.loaded[i]->key.label, sel) == 0) {
			out = &g.loaded[i]->key;
			*have = 1;
			goto out;
		}
	if (g.nloaded == MAX_LOADED)
		evict_unlisted();
	if (g.nloaded == MAX_LOADED) { /* cannot happen: the state names at most 4 */
		tc_warn("more than %d DNS keys in use: restart the signer", MAX_LOADED);
		goto out;
	}
	struct tc_hsm_key k;
	if (tc_hsm_find_key(s->hsm, sel, &k, why, sizeof(why)) != 0) {
		/* Scheduled but not on the token: unavailable, like a key the
		 * ceremony has not made yet. */
		tc_warn("DNS key '%s' unavailable: %s", sel, why);
		static struct tc_hsm_key none;
		out = &none;
		goto out;
	}
	if (!p256(&k)) {
		tc_log_event(TC_LOG_WARN, "dns_key_refused", TC_KV("key", sel),
			     "DNS key '%s' refused: not an EC P-256 key", sel);
		goto out;
	}
	struct loaded_key *lk = calloc(1, sizeof(*lk));
	if (!lk) {
		tc_warn("DNS key '%s': out of memory", sel);
		goto out;
	}
	lk->key = k;
	g.loaded[g.nloaded++] = lk;
	out = &lk->key;
	*have = 1;
out:
	pthread_mutex_unlock(&g.lock);
	return out;
}
