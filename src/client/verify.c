/* libtrustchain's verifier: online (Validate + decision cache) and local
 * (common/trust_validator.c, the gateway's own decision code, with a CRL
 * kept fresh in the background); see trustchain/verify.h. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/verify_internal.h"
#include "common/asn1_time.h"
#include "common/file_read.h"
#include "common/trust_validator.h"

#define DEFAULT_CACHE_ENTRIES 1024
#define DEFAULT_CACHE_TTL_MS 1000
#define DEFAULT_CRL_REFRESH_MS 10000
#define DEFAULT_CRL_MAX_AGE_MS 60000
#define MAX_PEM_FILE (256 * 1024)

struct tc_verifier {
	enum tc_verify_mode mode;
	struct tc_client *client;
	struct tc_decision_cache *cache;   /* online; NULL: none */
	struct tc_trust *trust;            /* local, or online's fallback; NULL: none */
	struct tc_crl_source crl_source;
	struct tc_crl_refresher *refresher;
	void (*log)(void *, const char *);
	void *log_arg;
};

static char *read_pem(const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	if (tc_read_file(path, MAX_PEM_FILE, &text, &len, err, errlen) != 0)
		return NULL;
	return text;
}

static EVP_PKEY *read_pubkey(const char *path, char *err, size_t errlen)
{
	char *pem = read_pem(path, err, errlen);
	BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	if (pem && !k)
		snprintf(err, errlen, "%s: not a PEM public key", path);
	BIO_free(b);
	free(pem);
	return k;
}

static int setup_local(struct tc_verifier *v, const struct tc_verifier_options *o, char *err, size_t errlen)
{
	char *root = read_pem(o->root_file, err, errlen);
	char *inter = root && o->intermediate_file ? read_pem(o->intermediate_file, err, errlen) : NULL;
	EVP_PKEY *keys[TC_TRUST_MAX_LOGS] = {0};
	size_t nk = 0;
	int rc = -1;
	if (!root || (o->intermediate_file && !inter))
		goto out;
	if (!o->intermediate_file) {
		snprintf(err, errlen, "local mode needs intermediate_file (it signs the CRL)");
		goto out;
	}
	if (o->n_log_key_files > TC_TRUST_MAX_LOGS) {
		snprintf(err, errlen, "at most %d CT log keys", TC_TRUST_MAX_LOGS);
		goto out;
	}
	for (nk = 0; nk < o->n_log_key_files; nk++)
		if (!(keys[nk] = read_pubkey(o->log_key_files[nk], err, errlen)))
			goto out;
	if (tc_crl_source_init(&v->crl_source, o->client, o->crl_url, 5000, err, errlen) != 0)
		goto out;
	struct tc_trust_config tc = {
		.root_pem = root,
		.intermediate_pem = inter,
		.log_keys = keys,
		.n_log_keys = nk,
		.require_sct = !o->allow_missing_sct,
		.fetch_crl = tc_crl_source_fetch,
		.fetch_arg = &v->crl_source,
		.crl_timing = {.refresh_ms = o->crl_refresh_ms > 0 ? o->crl_refresh_ms : DEFAULT_CRL_REFRESH_MS,
			       .max_age_ms = o->crl_max_age_ms > 0 ? o->crl_max_age_ms : DEFAULT_CRL_MAX_AGE_MS,
			       .background = 1},
	};
	if (!(v->trust = tc_trust_new(&tc, err, errlen)))
		goto out;
	if (!(v->refresher = tc_crl_refresher_start(tc_trust_crl(v->trust), tc.crl_timing.refresh_ms, o->log,
						    o->log_arg))) {
		snprintf(err, errlen, "cannot start the CRL refresher");
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < nk; i++)
		EVP_PKEY_free(keys[i]);
	free(root);
	free(inter);
	return rc;
}

struct tc_verifier *tc_verifier_new(const struct tc_verifier_options *o, char *err, size_t errlen)
{
	if (!o || (o->mode != TC_VERIFY_ONLINE && o->mode != TC_VERIFY_LOCAL)) {
		snprintf(err, errlen, "mode must be TC_VERIFY_ONLINE or TC_VERIFY_LOCAL");
		return NULL;
	}
	if (o->mode == TC_VERIFY_ONLINE && !o->client) {
		snprintf(err, errlen, "online mode needs a client");
		return NULL;
	}
	if (o->mode == TC_VERIFY_LOCAL && !o->root_file) {
		snprintf(err, errlen, "local mode needs root_file");
		return NULL;
	}
	struct tc_verifier *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->mode = o->mode;
	v->client = o->client;
	v->log = o->log;
	v->log_arg = o->log_arg;
	if (o->mode == TC_VERIFY_ONLINE && o->cache_ttl_ms >= 0 &&
	    !(v->cache = tc_decision_cache_new(o->cache_entries > 0 ? (size_t)o->cache_entries : DEFAULT_CACHE_ENTRIES,
					       o->cache_ttl_ms > 0 ? o->cache_ttl_ms : DEFAULT_CACHE_TTL_MS))) {
		snprintf(err, errlen, "out of memory");
		tc_verifier_free(v);
		return NULL;
	}
	if (o->root_file && setup_local(v, o, err, errlen) != 0) {
		tc_verifier_free(v);
		return NULL;
	}
	return v;
}

void tc_verifier_free(struct tc_verifier *v)
{
	if (!v)
		return;
	tc_crl_refresher_stop(v->refresher);
	tc_trust_free(v->trust);
	tc_crl_source_clear(&v->crl_source);
	tc_decision_cache_free(v->cache);
	free(v);
}

int64_t tc_verifier_crl_age_ms(struct tc_verifier *v)
{
	struct tc_crl_cache *c = v->trust ? tc_trust_crl(v->trust) : NULL;
	return c ? tc_crl_cache_age_ms(c) : -1;
}

int tc_verdict_has(const struct tc_verdict *vd, enum tc_reason reason)
{
	for (size_t i = 0; i < vd->n_reasons; i++)
		if (vd->reasons[i] == reason)
			return 1;
	return 0;
}

static void decide_local(struct tc_verifier *v, const unsigned char *const *chain, const size_t *lens, size_t n,
			 const char *name, size_t name_len, enum tc_purpose purpose, struct tc_verdict *out)
{
	struct tc_trust_result r;
	tc_trust_run(v->trust, chain, lens, n, name, name_len, 0, purpose, &r);
	out->decision = r.trusted ? TC_TRUSTED : TC_UNTRUSTED;
	for (size_t i = 0; i < r.n_reasons && i < TC_VERDICT_MAX_REASONS; i++)
		out->reasons[out->n_reasons++] = r.reasons[i];
	snprintf(out->detail, sizeof(out->detail), "%s", r.detail);
	out->local = 1;
	tc_trust_result_release(&r);
}

/* The leaf's notAfter from DER, without decoding its key (OpenSSL's key
 * decoders are the slow part): 0 when it cannot be read. */
static int64_t leaf_not_after(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	int64_t t = 0;
	if (!x || tc_asn1_time_unix(X509_get0_notAfter(x), &t) != 0)
		t = 0;
	X509_free(x);
	return t;
}

/* 0 with out filled, -1 when the gateway gave no decision (err set). */
static int decide_online(struct tc_verifier *v, const unsigned char *const *chain, const size_t *lens, size_t n,
			 const char *name, size_t name_len, enum tc_purpose purpose, struct tc_verdict *out,
			 int64_t *not_after, char *err, size_t errlen)
{
	char nm[256];
	if (name_len >= sizeof(nm)) {
		out->decision = TC_UNTRUSTED;
		out->reasons[out->n_reasons++] = TC_REASON_NAME_MISMATCH;
		snprintf(out->detail, sizeof(out->detail), "the name is longer than 253 characters");
		return 0;
	}
	memcpy(nm, name ? name : "", name_len);
	nm[name_len] = '\0';
	struct tc_validate_request rq = {.chain = chain, .chain_lens = lens, .n_chain = n, .name = nm,
					 .purpose = purpose};
	struct tc_validate_result *res = NULL;
	struct tc_status st;
	if (tc_validate(v->client, &rq, &res, &st) != 0) {
		snprintf(err, errlen, "Validate: %s: %.200s", tc_status_code_name(st.code), st.message);
		return -1;
	}
	out->decision = res->decision == TC_TRUSTED ? TC_TRUSTED : TC_UNTRUSTED;
	for (size_t i = 0; i < res->n_reasons && i < TC_VERDICT_MAX_REASONS; i++)
		out->reasons[out->n_reasons++] = res->reasons[i];
	snprintf(out->detail, sizeof(out->detail), "%s", res->detail ? res->detail : "");
	*not_after = res->n_verified_chain ? leaf_not_after(res->verified_chain[0], res->verified_chain_lens[0]) : 0;
	tc_validate_result_free(res);
	return 0;
}

static int name_ok(const char *name, size_t name_len, struct tc_verdict *out)
{
	for (size_t i = 0; i < name_len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f) {
			out->decision = TC_UNTRUSTED;
			out->reasons[out->n_reasons++] = TC_REASON_NAME_MISMATCH;
			snprintf(out->detail, sizeof(out->detail),
				 "the expected name holds a control byte at offset %zu: refused, not cut short", i);
			return 0;
		}
	}
	return 1;
}

static void log_verdict(struct tc_verifier *v, const char *name, size_t name_len, const struct tc_verdict *vd)
{
	if (!v->log || vd->decision == TC_TRUSTED)
		return;
	char line[800];
	int k = snprintf(line, sizeof(line), "trustchain: peer '%.*s' UNTRUSTED (%s%s):", (int)(name_len > 253 ? 253 : name_len),
			 name ? name : "", vd->local ? "local" : "online", vd->from_cache ? ", cached" : "");
	for (size_t i = 0; i < vd->n_reasons && k > 0 && (size_t)k < sizeof(line); i++)
		if (vd->reasons[i] >= TC_REASON_CHAIN_EMPTY)
			k += snprintf(line + k, sizeof(line) - (size_t)k, " %s", tc_reason_name(vd->reasons[i]));
	if (k > 0 && (size_t)k < sizeof(line))
		snprintf(line + k, sizeof(line) - (size_t)k, " -- %s", vd->detail);
	v->log(v->log_arg, line);
}

int tc_verifier_check(struct tc_verifier *v, const unsigned char *const *chain, const size_t *lens, size_t n,
		      const char *name, size_t name_len, enum tc_purpose purpose, struct tc_verdict *out)
{
	struct tc_verdict local;
	if (!out)
		out = &local;
	memset(out, 0, sizeof(*out));
	if (!name)
		name_len = 0;
	if (!name_ok(name, name_len, out))
		goto done;
	if (v->mode == TC_VERIFY_LOCAL) {
		decide_local(v, chain, lens, n, name, name_len, purpose, out);
		goto done;
	}
	unsigned char key[32];
	int keyed = v->cache && n > 0 && lens[0] > 0 &&
		    tc_decision_key(chain[0], lens[0], name, name_len, purpose, key) == 0;
	if (keyed && tc_decision_cache_get(v->cache, key, out)) {
		out->from_cache = 1;
		goto done;
	}
	char err[300];
	int64_t not_after = 0;
	if (decide_online(v, chain, lens, n, name, name_len, purpose, out, &not_after, err, sizeof(err)) == 0) {
		/* A decision that depends on a CRL the gateway could not get is
		 * not worth remembering. */
		if (keyed && !tc_verdict_has(out, TC_REASON_REVOCATION_UNKNOWN))
			tc_decision_cache_put(v->cache, key, out, not_after);
	} else if (v->trust) {
		memset(out, 0, sizeof(*out));
		decide_local(v, chain, lens, n, name, name_len, purpose, out);
	} else {
		memset(out, 0, sizeof(*out));
		out->decision = TC_UNTRUSTED;
		snprintf(out->detail, sizeof(out->detail), "no decision (fail closed): %s", err);
	}
done:
	log_verdict(v, name, name_len, out);
	return out->decision == TC_TRUSTED;
}
