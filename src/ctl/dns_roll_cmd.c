/* trustchainctl dns-roll: the DNSSEC key rollover ceremonies of issue 12.
 *
 *   dns-roll status                 keys, roles, phases, the roll under way
 *                                   and its next step's earliest time
 *   dns-roll start zsk|ksk [timing] ZSK pre-publish / KSK double signature:
 *                                   a new P-256 key made in the HSM
 *                                   (sensitive, never extractable) and
 *                                   published
 *   dns-roll advance                the next step, refused (with the
 *                                   reason) while it is early per the plan
 *
 * The steps change <data_dir>/dns/roll.state (common/dns_roll_state.h),
 * which the resolver follows within seconds (DNSKEY RRset, who signs
 * what) and the signer reads to know which DNS keys it may use. The
 * timing (resolver/dnssec_roll.h) is fixed at start and kept in the
 * state, so every later step is judged by the plan it started with.
 * Each step is journaled in the audit journal. */
#include <errno.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dns_roll_state.h"
#include "common/file_replace.h"
#include "ctl/artefacts.h"
#include "ctl/ceremony.h"
#include "ctl/ctl.h"
#include "ctl/dns_zone_ttl.h"
#include "ctl/files.h"
#include "resolver/dnssec.h"
#include "resolver/dnssec_roll.h"
#include "signer/hsm.h"
#include "signer/pkcs11_keys.h"

#define MAX_OBJECTS 256

int tc_ctl_cmd_dns_roll(struct tc_ctl *ctl, int argc, char **argv);

static void usage(FILE *out)
{
	fprintf(out,
		"usage: trustchainctl [--config FILE] dns-roll status\n"
		"       trustchainctl [--config FILE] dns-roll start zsk|ksk [--propagation S] [--max-ttl S]\n"
		"             [--ds-ttl S] [--parent-propagation S] [--safety S]\n"
		"       trustchainctl [--config FILE] dns-roll advance\n"
		"  zsk: pre-publish (RFC 6781 4.1.1): publish, activate, remove the old ZSK;\n"
		"       from a single CSK the first ZSK roll splits it (the CSK stays as KSK)\n"
		"  ksk: double signature (RFC 6781 4.1.2): publish + sign DNSKEY with both,\n"
		"       hand the printed DS to the parent, advance once the parent serves it,\n"
		"       then advance again to remove the old KSK\n"
		"  timing (seconds, from dns.rollover.* unless given): propagation to every\n"
		"  secondary (propagation_s), the largest TTL of the zone (max_ttl), the\n"
		"  parent's DS TTL (ds_ttl) and propagation (parent_propagation_s), safety\n"
		"  margin (safety_s); the DNSKEY TTL is dns.dnskey_ttl (default %d); start\n"
		"  refuses a max_ttl below the zone's largest TTL (records, updates,\n"
		"  dns.default_ttl, dns.address_ttl, dns.dnskey_ttl)\n",
		TC_DNSSEC_DNSKEY_TTL);
}

static void iso(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
}

static uint16_t flags_of(const struct tc_dns_roll_key *k)
{
	return k->role == TC_DNS_ROLE_ZSK ? TC_DNSSEC_FLAGS_ZSK : TC_DNSSEC_FLAGS_CSK;
}

/* Public keys are kept beside the state (dns/keys/LABEL.pem; the
 * configured key's is dns/zone_key.pem from its ceremony), so status and
 * the DS need neither HSM nor PIN. */
static int pub_path(const struct tc_ctl *ctl, const char *label, char *out, size_t n)
{
	char rel[TC_KEY_LABEL_MAX + 32];
	if (strcmp(label, ctl->cfg.hsm.dns_key_label) == 0)
		snprintf(rel, sizeof(rel), "dns/zone_key.pem");
	else
		snprintf(rel, sizeof(rel), "dns/keys/%s.pem", label);
	return tc_config_data_path(&ctl->cfg, rel, out, n);
}

static EVP_PKEY *load_pub(const struct tc_ctl *ctl, const char *label)
{
	char path[PATH_MAX];
	if (pub_path(ctl, label, path, sizeof(path)) != 0)
		return NULL;
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

/* DNSKEY and DS lines of one key; "" when its public key is not at hand. */
static void records(const struct tc_ctl *ctl, const struct tc_dns_roll_key *k, char *dnskey, size_t dl,
		    char *ds, size_t dsl)
{
	char err[256];
	dnskey[0] = ds[0] = '\0';
	EVP_PKEY *pub = load_pub(ctl, k->label);
	if (pub && tc_ctl_dns_records(pub, ctl->cfg.bootstrap.domain, flags_of(k), dnskey, dl, ds, dsl, err,
				      sizeof(err)) != 0)
		dnskey[0] = ds[0] = '\0';
	EVP_PKEY_free(pub);
}

static struct tc_dns_roll_key *find(struct tc_dns_roll_state *st, const char *label)
{
	return (struct tc_dns_roll_key *)tc_dns_roll_state_find(st, label, strlen(label));
}

static struct tc_roll_params params_of(const struct tc_dns_roll_state *st)
{
	struct tc_roll_params p = {.dnskey_ttl = st->dnskey_ttl,
				   .max_sig_ttl = st->max_sig_ttl,
				   .ds_ttl = st->ds_ttl,
				   .propagation_s = st->propagation_s,
				   .parent_propagation_s = st->parent_propagation_s,
				   .safety_s = st->safety_s};
	return p;
}

/* The next step of the roll under way: its name, earliest time and why it
 * must wait until then. */
struct next_step {
	const char *name;
	int64_t earliest;
	char why[256];
};

static void next_step(const struct tc_dns_roll_state *st, struct next_step *ns)
{
	struct tc_roll_params p = params_of(st);
	struct tc_roll_plan plan;
	const struct tc_dns_roll_key *nk = tc_dns_roll_state_find(st, st->new_label, strlen(st->new_label));
	memset(ns, 0, sizeof(*ns));
	if (st->rolling == TC_DNS_ROLL_ZSK) {
		tc_roll_plan(TC_ROLL_ZSK_PREPUBLISH, &p, (time_t)st->publish, 0, &plan);
		if (nk->phase == TC_DNS_KEY_PUBLISHED) {
			ns->name = "activate";
			ns->earliest = plan.activate;
			snprintf(ns->why, sizeof(ns->why),
				 "caches may hold the DNSKEY RRset without the new ZSK until publish + propagation "
				 "(%u s) + DNSKEY TTL (%u s) + safety (%u s)",
				 p.propagation_s, p.dnskey_ttl, p.safety_s);
		} else {
			/* From the actual activation: the old key's signatures were
			 * served until then. */
			int64_t from_active = nk->since + p.propagation_s + p.max_sig_ttl + p.safety_s;
			ns->name = "remove";
			ns->earliest = from_active > plan.remove ? from_active : plan.remove;
			snprintf(ns->why, sizeof(ns->why),
				 "caches may hold signatures of the old ZSK until activation + propagation (%u s) "
				 "+ largest TTL (%u s) + safety (%u s)",
				 p.propagation_s, p.max_sig_ttl, p.safety_s);
		}
		return;
	}
	tc_roll_plan(TC_ROLL_KSK_DOUBLE_SIGNATURE, &p, (time_t)st->publish, (time_t)st->ds_seen, &plan);
	if (!st->ds_seen) {
		ns->name = "ds-seen";
		ns->earliest = plan.ds_submit;
		snprintf(ns->why, sizeof(ns->why),
			 "the new DS may reach the parent only once every cache has the DNSKEY RRset with the "
			 "new KSK: publish + propagation (%u s) + DNSKEY TTL (%u s) + safety (%u s)",
			 p.propagation_s, p.dnskey_ttl, p.safety_s);
	} else {
		ns->name = "remove";
		ns->earliest = plan.remove;
		snprintf(ns->why, sizeof(ns->why),
			 "caches may hold the parent's old DS RRset until the new DS was seen + parent "
			 "propagation (%u s) + DS TTL (%u s) + safety (%u s)",
			 p.parent_propagation_s, p.ds_ttl, p.safety_s);
	}
}

static int show(struct tc_ctl *ctl)
{
	struct tc_dns_roll_state st;
	bool exists;
	char err[512], when[32];
	if (tc_dns_roll_state_load(&ctl->cfg, &st, &exists, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		return TC_CTL_FAIL;
	}
	printf("zone %s: %zu DNSSEC key%s%s\n", ctl->cfg.bootstrap.domain, st.nkeys, st.nkeys == 1 ? "" : "s",
	       exists ? "" : " (no roll yet: the configured key signs everything)");
	for (size_t i = 0; i < st.nkeys; i++) {
		const struct tc_dns_roll_key *k = &st.key[i];
		char dnskey[512], ds[512];
		records(ctl, k, dnskey, sizeof(dnskey), ds, sizeof(ds));
		unsigned tag = 0;
		if (ds[0])
			sscanf(strstr(ds, " DS ") ? strstr(ds, " DS ") : "", " DS %u", &tag);
		iso(k->since, when, sizeof(when));
		printf("key %s %s %s since %s flags %u tag %u\n", k->label, tc_dns_key_role_name(k->role),
		       tc_dns_key_phase_name(k->phase), k->since ? when : "(start)", flags_of(k), tag);
		if (ds[0] && k->role != TC_DNS_ROLE_ZSK)
			printf("  %s\n", ds);
	}
	if (st.rolling == TC_DNS_ROLL_NONE) {
		printf("roll: none\n");
		return TC_CTL_OK;
	}
	struct next_step ns;
	next_step(&st, &ns);
	iso(st.publish, when, sizeof(when));
	printf("roll: %s %s -> %s, published %s\n",
	       st.rolling == TC_DNS_ROLL_ZSK ? "zsk pre-publish" : "ksk double-signature", st.old_label,
	       st.new_label, when);
	iso(ns.earliest, when, sizeof(when));
	long long wait = (long long)(ns.earliest - time(NULL));
	printf("next: %s, earliest %s (%s)\n", ns.name, when, wait > 0 ? "wait" : "may be taken now");
	if (wait > 0)
		printf("  in %lld s: %s\n", wait, ns.why);
	return TC_CTL_OK;
}

/* Generates the new key on the token (checked sensitive and never
 * extractable, as the create steps do) and writes its public key. */
static int make_key(struct tc_ctl *ctl, struct ceremony_session *s, const char *label)
{
	const struct tc_config *cfg = &ctl->cfg;
	char err[1024];
	unsigned char id[16];
	int rc = -1;
	struct tc_p11_object_info *objs = calloc(MAX_OBJECTS, sizeof(*objs));
	struct tc_p11 *p = objs ? tc_p11_load(cfg->hsm.module, err, sizeof(err)) : NULL;
	if (!p) {
		tc_ctl_error("%s", objs ? err : "out of memory");
		free(objs);
		return -1;
	}
	if (tc_p11_generate_ec(p, cfg->hsm.token_label, s->pin, label, "P-256", id, err, sizeof(err)) != 0) {
		tc_ctl_error("generating '%s': %s", label, err);
		goto out;
	}
	int n = tc_p11_list_objects(p, cfg->hsm.token_label, s->pin, objs, MAX_OBJECTS, err, sizeof(err));
	const struct tc_p11_object_info *mine = NULL;
	for (int i = 0; i < n; i++)
		if (strcmp(objs[i].klass, "private") == 0 && strcmp(objs[i].label, label) == 0)
			mine = &objs[i];
	if (!mine || mine->sensitive != 1 || mine->extractable != 0 || mine->always_sensitive != 1 ||
	    mine->never_extractable != 1) {
		tc_ctl_error("the token did not make key '%s' sensitive and non-extractable", label);
		goto out;
	}
	rc = 0;
out:
	tc_p11_unload(p);
	free(objs);
	/* Run as root, the token's new object files are root's: the signer
	 * (its own user) could not read them. */
	if (ceremony_reown_hsm(cfg) != 0)
		rc = -1;
	if (rc != 0)
		return -1;
	/* libp11 only after the raw module is unloaded (pkcs11_keys.h). */
	struct tc_hsm *h = tc_hsm_open(cfg->hsm.module, cfg->hsm.token_label, s->pin, err, sizeof(err));
	struct tc_hsm_key key;
	EVP_PKEY *pub = NULL;
	char *pem = NULL, path[PATH_MAX], dir[PATH_MAX];
	if (!h || tc_hsm_find_key(h, label, &key, err, sizeof(err)) != 0 || !(pub = tc_ctl_plain_pubkey(key.pub)) ||
	    !(pem = tc_ctl_pubkey_pem(pub))) {
		tc_ctl_error("reading the public key of '%s': %s", label, h ? err : err);
		rc = -1;
	} else if (pub_path(ctl, label, path, sizeof(path)) != 0 ||
		   tc_config_data_path(cfg, "dns/keys", dir, sizeof(dir)) != 0 ||
		   tc_ctl_mkdirs(dir, 0755, err, sizeof(err)) != 0 ||
		   tc_file_replace(path, pem, strlen(pem), 0644, err, sizeof(err)) != 0) {
		tc_ctl_error("writing the public key of '%s': %s", label, err);
		rc = -1;
	}
	free(pem);
	EVP_PKEY_free(pub);
	tc_hsm_close(h);
	return rc;
}

/* The step's record in the audit journal. The state file is already
 * replaced: a journal that cannot be written is reported, not undone. */
static void journal(struct ceremony_session *s, const char *step, const char *label,
		    const struct tc_dns_roll_state *st)
{
	char buf[TC_DNS_ROLL_MAX_BYTES];
	size_t n = tc_dns_roll_state_format(st, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	unsigned long long seq = 0;
	if (ceremony_open_journal(s) != 0 || ceremony_journal(s, step, label, buf, "dns/roll.state", &seq) != 0) {
		fprintf(stderr, "trustchainctl: warning: %s is done but not in the audit journal\n", step);
		return;
	}
	printf("journal record %llu\n", seq);
}

static int save(struct tc_ctl *ctl, const struct tc_dns_roll_state *st)
{
	char err[512], dir[PATH_MAX];
	if (tc_config_data_path(&ctl->cfg, "dns", dir, sizeof(dir)) != 0 ||
	    tc_ctl_mkdirs(dir, 0755, err, sizeof(err)) != 0 || tc_dns_roll_state_save(&ctl->cfg, st, err, sizeof(err)) != 0) {
		tc_ctl_error("saving the roll state: %s", err);
		return -1;
	}
	return 0;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int start(struct tc_ctl *ctl, int argc, char **argv)
{
	if (argc < 1 || (strcmp(argv[0], "zsk") != 0 && strcmp(argv[0], "ksk") != 0)) {
		usage(stderr);
		return TC_CTL_USAGE;
	}
	bool zsk = strcmp(argv[0], "zsk") == 0;
	struct tc_dns_roll_state st;
	char err[512];
	if (tc_dns_roll_state_load(&ctl->cfg, &st, NULL, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		return TC_CTL_FAIL;
	}
	/* dns.rollover.* (the configuration), then the command line. */
	st.dnskey_ttl = ctl->cfg.dns.dnskey_ttl;
	st.max_sig_ttl = ctl->cfg.dns.roll_max_ttl;
	st.ds_ttl = ctl->cfg.dns.roll_ds_ttl;
	st.propagation_s = ctl->cfg.dns.roll_propagation_s;
	st.parent_propagation_s = ctl->cfg.dns.roll_parent_propagation_s;
	st.safety_s = ctl->cfg.dns.roll_safety_s;
	static const char *const opts[] = {"--propagation", "--max-ttl", "--ds-ttl", "--parent-propagation",
					   "--safety"};
	uint32_t *dst[] = {&st.propagation_s, &st.max_sig_ttl, &st.ds_ttl, &st.parent_propagation_s, &st.safety_s};
	for (int i = 1; i < argc; i += 2) {
		size_t o = 0;
		while (o < 5 && strcmp(argv[i], opts[o]) != 0)
			o++;
		if (o == 5 || i + 1 >= argc || parse_u32(argv[i + 1], 366 * 86400, dst[o]) != 0) {
			tc_ctl_error("bad option '%s'", argv[i]);
			usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	/* The roll's waits count on max_ttl being the longest any RRset (and
	 * so its RRSIGs) of the zone lives in caches: the records, the
	 * generated ones (dns.default_ttl, dns.address_ttl), the journaled
	 * updates and the DNSKEY RRset (dns.dnskey_ttl). A smaller one would
	 * remove a retired key while signatures by it are still cached, and
	 * validators would see those answers bogus: refused. */
	uint32_t zone_max = 0;
	char carrier[1100];
	if (tc_ctl_zone_max_ttl(&ctl->cfg, &zone_max, carrier, sizeof(carrier), err, sizeof(err)) != 0) {
		tc_ctl_error("refused: cannot read the zone's TTLs: %s", err);
		return TC_CTL_FAIL;
	}
	if (st.max_sig_ttl < zone_max) {
		tc_ctl_error("refused: max_ttl %u (dns.rollover.max_ttl or --max-ttl) is below the zone's largest "
			     "TTL %u (%s); raise max_ttl to at least %u or lower that TTL",
			     st.max_sig_ttl, zone_max, carrier, zone_max);
		return TC_CTL_FAIL;
	}
	if (st.rolling != TC_DNS_ROLL_NONE) {
		tc_ctl_error("refused: a %s roll to %s is under way; finish it first (dns-roll status)",
			     st.rolling == TC_DNS_ROLL_ZSK ? "zsk" : "ksk", st.new_label);
		return TC_CTL_FAIL;
	}
	/* The key that goes: the active ZSK (or the CSK) / the active KSK. A
	 * lone CSK cannot do a double-signature KSK roll: removing it would
	 * leave the zone data unsigned. */
	struct tc_dns_roll_key *old = NULL;
	for (size_t i = 0; i < st.nkeys && !old; i++)
		if (st.key[i].phase == TC_DNS_KEY_ACTIVE &&
		    st.key[i].role == (zsk ? TC_DNS_ROLE_ZSK : TC_DNS_ROLE_KSK))
			old = &st.key[i];
	for (size_t i = 0; i < st.nkeys && !old; i++)
		if (st.key[i].phase == TC_DNS_KEY_ACTIVE && st.key[i].role == TC_DNS_ROLE_CSK)
			old = zsk ? &st.key[i] : NULL;
	if (!old) {
		tc_ctl_error("refused: %s", zsk ? "no active ZSK or CSK to roll"
						: "no separate KSK: the zone has one CSK; run a ZSK roll first "
						  "(it splits the CSK, which then stays as the KSK)");
		return TC_CTL_FAIL;
	}
	if (st.nkeys == TC_DNS_ROLL_MAX_KEYS) {
		tc_ctl_error("refused: %d keys in the set already", TC_DNS_ROLL_MAX_KEYS);
		return TC_CTL_FAIL;
	}
	int64_t now = (int64_t)time(NULL);
	char label[TC_KEY_LABEL_MAX + 16];
	int ll = snprintf(label, sizeof(label), "%s-%s-%lld", ctl->cfg.hsm.dns_key_label, zsk ? "zsk" : "ksk",
			  (long long)now);
	if (ll < 0 || !tc_key_label_ok(label, (size_t)ll) || find(&st, label)) {
		tc_ctl_error("refused: cannot name the new key ('%s' too long, or taken)", label);
		return TC_CTL_FAIL;
	}
	struct ceremony_session s;
	ceremony_session_begin(&s, ctl);
	int rc = TC_CTL_FAIL;
	if (ceremony_read_pin(&s) != 0 || make_key(ctl, &s, label) != 0)
		goto out;
	struct tc_dns_roll_key *nk = &st.key[st.nkeys++];
	memset(nk, 0, sizeof(*nk));
	memcpy(nk->label, label, (size_t)ll + 1);
	nk->role = zsk ? TC_DNS_ROLE_ZSK : TC_DNS_ROLE_KSK;
	/* ZSK: published only; KSK: signs the DNSKEY RRset beside the old one
	 * at once (double signature). */
	nk->phase = zsk ? TC_DNS_KEY_PUBLISHED : TC_DNS_KEY_ACTIVE;
	nk->since = now;
	st.rolling = zsk ? TC_DNS_ROLL_ZSK : TC_DNS_ROLL_KSK;
	memcpy(st.new_label, label, (size_t)ll + 1); /* <= 48 octets: tc_key_label_ok */
	memcpy(st.old_label, old->label, sizeof(st.old_label));
	st.publish = now;
	st.ds_seen = 0;
	if (save(ctl, &st) != 0)
		goto out;
	printf("%s roll started: new key %s published (old %s)\n", zsk ? "zsk" : "ksk", label, old->label);
	char dnskey[512], ds[512];
	records(ctl, nk, dnskey, sizeof(dnskey), ds, sizeof(ds));
	printf("  %s\n", dnskey);
	if (!zsk)
		printf("DS for the parent (hand it over at the ds-seen step's earliest time, not before):\n  %s\n", ds);
	journal(&s, zsk ? "dns-roll-start-zsk" : "dns-roll-start-ksk", label, &st);
	rc = show(ctl);
out:
	ceremony_session_end(&s);
	return rc;
}

static int advance(struct tc_ctl *ctl)
{
	struct tc_dns_roll_state st;
	char err[512], when[32];
	if (tc_dns_roll_state_load(&ctl->cfg, &st, NULL, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		return TC_CTL_FAIL;
	}
	if (st.rolling == TC_DNS_ROLL_NONE) {
		tc_ctl_error("refused: no roll under way (dns-roll start zsk|ksk)");
		return TC_CTL_FAIL;
	}
	struct next_step ns;
	next_step(&st, &ns);
	int64_t now = (int64_t)time(NULL);
	if (now < ns.earliest) {
		iso(ns.earliest, when, sizeof(when));
		tc_ctl_error("refused: step %s is early: earliest %s, in %lld s: %s", ns.name, when,
			     (long long)(ns.earliest - now), ns.why);
		return TC_CTL_FAIL;
	}
	struct tc_dns_roll_key *nk = find(&st, st.new_label), *old = find(&st, st.old_label);
	char step[64];
	snprintf(step, sizeof(step), "dns-roll-%s-%s", st.rolling == TC_DNS_ROLL_ZSK ? "zsk" : "ksk", ns.name);
	if (strcmp(ns.name, "activate") == 0) {
		nk->phase = TC_DNS_KEY_ACTIVE;
		nk->since = now;
		if (old->role == TC_DNS_ROLE_CSK) {
			old->role = TC_DNS_ROLE_KSK; /* the split: it keeps signing the DNSKEY RRset */
		} else {
			old->phase = TC_DNS_KEY_RETIRED;
		}
		old->since = now;
	} else if (strcmp(ns.name, "ds-seen") == 0) {
		st.ds_seen = now;
	} else {
		/* remove: a CSK turned KSK by the split stays; a retired ZSK or
		 * the old KSK goes. */
		if (!(st.rolling == TC_DNS_ROLL_ZSK && old->role == TC_DNS_ROLE_KSK)) {
			size_t i = (size_t)(old - st.key);
			memmove(&st.key[i], &st.key[i + 1], (st.nkeys - i - 1) * sizeof(st.key[0]));
			st.nkeys--;
		}
		st.rolling = TC_DNS_ROLL_NONE;
	}
	if (save(ctl, &st) != 0)
		return TC_CTL_FAIL;
	printf("%s done\n", step);
	if (strcmp(ns.name, "ds-seen") == 0) {
		char dnskey[512], ds[512];
		records(ctl, nk, dnskey, sizeof(dnskey), ds, sizeof(ds));
		printf("the parent serves the new DS:\n  %s\n", ds);
	}
	struct ceremony_session s;
	ceremony_session_begin(&s, ctl);
	journal(&s, step, st.new_label, &st);
	ceremony_session_end(&s);
	return show(ctl);
}

int tc_ctl_dns_roll_ds(struct tc_ctl *ctl, int anchor);

/* trustchainctl dns ds [--anchor] once a roll state exists: the DNSKEY and
 * DS of every key that signs the DNSKEY RRset (KSK, CSK), or a delv
 * trust-anchors block of their DS; -1 without a roll state (dns ds then
 * prints the configured key's, as before rollovers). */
int tc_ctl_dns_roll_ds(struct tc_ctl *ctl, int anchor)
{
	struct tc_dns_roll_state st;
	bool exists;
	char err[512];
	if (tc_dns_roll_state_load(&ctl->cfg, &st, &exists, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		return TC_CTL_FAIL;
	}
	if (!exists)
		return -1;
	if (anchor)
		printf("trust-anchors {\n");
	for (size_t i = 0; i < st.nkeys; i++) {
		if (st.key[i].role == TC_DNS_ROLE_ZSK)
			continue;
		char dnskey[512], ds[512], owner[300], digest[130];
		unsigned tag, alg, dtype;
		records(ctl, &st.key[i], dnskey, sizeof(dnskey), ds, sizeof(ds));
		if (!ds[0] || sscanf(ds, "%299s IN DS %u %u %u %129s", owner, &tag, &alg, &dtype, digest) != 5) {
			tc_ctl_error("no public key for '%s' in the data directory", st.key[i].label);
			return TC_CTL_FAIL;
		}
		if (anchor)
			printf("\t\"%s\" static-ds %u %u %u \"%s\";\n", owner, tag, alg, dtype, digest);
		else
			printf("%s\n%s\n", dnskey, ds);
	}
	if (anchor)
		printf("};\n");
	return TC_CTL_OK;
}

int tc_ctl_cmd_dns_roll(struct tc_ctl *ctl, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "status") == 0)
		return show(ctl);
	if (argc >= 3 && strcmp(argv[1], "start") == 0)
		return start(ctl, argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "advance") == 0)
		return advance(ctl);
	if (argc == 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return TC_CTL_OK;
	}
	usage(stderr);
	return TC_CTL_USAGE;
}
