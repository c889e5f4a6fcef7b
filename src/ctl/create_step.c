/* The create steps. Each one generates its key inside the HSM with raw
 * PKCS#11 (libp11 0.4.12 cannot), unloads that, then logs in through libp11
 * as the signer does to build the public artefacts, sign the transcript with
 * the audit key and publish everything. The two PKCS#11 stacks are never
 * loaded at the same time: C_Finalize of one would pull the token from under
 * the other. */
#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct_shard.h"
#include "common/file_read.h"
#include "common/file_replace.h"
#include "common/hex.h"
#include "common/key_label.h"
#include "ctl/artefacts.h"
#include "ctl/ca_cert.h"
#include "ctl/ceremony.h"
#include "ctl/files.h"
#include "ctl/transcript.h"
#include "signer/hsm.h"
#include "signer/pkcs11_keys.h"

#define MAX_OBJECTS 64
#define MAX_OUTPUTS 3
#define KEY_ID_LEN 16
/* DNSKEY flags of the zone key: ZONE + SEP, it signs the zone alone (CSK). */
#define ZONE_KEY_FLAGS 257

struct step_run;
typedef int (*produce_fn)(struct step_run *r, char *err, size_t errlen);

struct step_def {
	const char *command;             /* as typed after "ceremony" */
	const char *slug;                /* transcript step, file name, journal op */
	const char *curve;
	const char *files[MAX_OUTPUTS];  /* published under data_dir, never overwritten */
	produce_fn produce;
};

struct output {
	const char *rel;
	char *text;
};

struct step_run {
	struct ceremony_session *s;
	const struct step_def *def;
	const char *label;
	const char *issuer_label;        /* rollover-intermediate: the root that signs it */
	const char *cutover;             /* rollover-intermediate: when it takes over issuance */
	struct tc_hsm *hsm;
	struct tc_hsm_key key;           /* the new key; handles owned by hsm */
	EVP_PKEY *pub;                   /* provider-native copy of its public half */
	json_t *transcript;
	json_t *artefacts;
	struct output out[MAX_OUTPUTS];
	size_t nout;
};

/* Adds a published file: to the outputs and, with its SHA-256, to the
 * transcript. Takes text and extra (more fields for the entry, or NULL). */
static int add_output(struct step_run *r, const char *rel, const char *type, char *text,
		      json_t *extra, char *err, size_t errlen)
{
	json_t *e = extra ? extra : json_object();
	if (!text || !e || r->nout == MAX_OUTPUTS) {
		free(text);
		json_decref(e);
		snprintf(err, errlen, "cannot encode %s", rel);
		return -1;
	}
	char sha[65];
	tc_ctl_sha256_hex(text, strlen(text), sha);
	json_object_set_new(e, "path", json_string(rel));
	json_object_set_new(e, "type", json_string(type));
	json_object_set_new(e, "content", json_string(text));
	json_object_set_new(e, "sha256", json_string(sha));
	json_array_append_new(r->artefacts, e);
	r->out[r->nout].rel = rel;
	r->out[r->nout].text = text;
	r->nout++;
	return 0;
}

/* RFC 4514 / 2253 string form, "CN=..., O=..." as operators read it. */
static void name_text(const X509_NAME *name, char *out, size_t outlen)
{
	out[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		int n = BIO_read(b, out, (int)outlen - 1);
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
}

static json_t *cert_details(X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	if (n <= 0)
		return NULL;
	char fp[65];
	tc_ctl_sha256_hex(der, (size_t)n, fp);
	OPENSSL_free(der);
	char subject[512], issuer[512], serial[2 * 20 + 1] = "";
	name_text(X509_get_subject_name(x), subject, sizeof(subject));
	name_text(X509_get_issuer_name(x), issuer, sizeof(issuer));
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	if (sn->length <= 20)
		tc_hex_encode(sn->data, (size_t)sn->length, serial);
	char nb[64] = "", na[64] = "";
	struct tm tm;
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1)
		strftime(nb, sizeof(nb), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		strftime(na, sizeof(na), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "subject", subject, "issuer", issuer,
			 "serial", serial, "not_before", nb, "not_after", na, "der_sha256", fp);
}

/* 16 random bytes from the token, positive and without a leading zero. */
static int new_serial(struct step_run *r, unsigned char serial[TC_CTL_SERIAL_LEN], char *err,
		      size_t errlen)
{
	if (tc_hsm_random(r->hsm, serial, TC_CTL_SERIAL_LEN) != 0) {
		snprintf(err, errlen, "the token's random number generator failed");
		return -1;
	}
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
	return 0;
}

static int produce_public_key(struct step_run *r, const char *rel, char *err, size_t errlen)
{
	return add_output(r, rel, "public_key", tc_ctl_pubkey_pem(r->pub), NULL, err, errlen);
}

static int produce_audit(struct step_run *r, char *err, size_t errlen)
{
	return produce_public_key(r, r->def->files[0], err, errlen);
}

static int produce_root(struct step_run *r, char *err, size_t errlen)
{
	unsigned char serial[TC_CTL_SERIAL_LEN];
	if (new_serial(r, serial, err, errlen) != 0)
		return -1;
	X509 *root = tc_ctl_make_root(r->s->cfg, "Root CA", r->pub, r->key.priv, serial, err, errlen);
	if (!root)
		return -1;
	int rc = -1;
	/* The signer finds a CA certificate on the token by its key's CKA_ID. */
	if (tc_hsm_store_cert(r->hsm, &r->key, root, err, errlen) == 0)
		rc = add_output(r, r->def->files[0], "certificate", tc_ctl_cert_pem(root),
				cert_details(root), err, errlen);
	X509_free(root);
	return rc;
}

static char *crl_pem(X509_CRL *crl)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	long n;
	if (b && PEM_write_bio_X509_CRL(b, crl) && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (pem = malloc((size_t)n + 1))) {
		memcpy(pem, data, (size_t)n);
		pem[n] = '\0';
	}
	BIO_free(b);
	return pem;
}

static int produce_intermediate(struct step_run *r, char *err, size_t errlen)
{
	const struct tc_config *cfg = r->s->cfg;
	struct tc_hsm_key rk;
	if (tc_hsm_find_key(r->hsm, cfg->hsm.root_key_label, &rk, err, errlen) != 0)
		return -1;
	if (!rk.cert) {
		snprintf(err, errlen, "the root certificate is not on the token next to key '%s'",
			 cfg->hsm.root_key_label);
		return -1;
	}
	unsigned char serial[TC_CTL_SERIAL_LEN];
	if (new_serial(r, serial, err, errlen) != 0)
		return -1;
	EVP_PKEY *root_pub = tc_ctl_plain_pubkey(rk.pub);
	X509 *inter = root_pub ? tc_ctl_make_intermediate(cfg, "Issuing CA 1", r->pub, rk.cert, root_pub, rk.priv,
							  serial, err, errlen)
			       : NULL;
	EVP_PKEY_free(root_pub);
	if (!inter) {
		if (!root_pub)
			snprintf(err, errlen, "cannot read the root public key");
		return -1;
	}
	int rc = -1;
	char *inter_pem = NULL, *root_pem = NULL, *chain = NULL;
	if (tc_hsm_store_cert(r->hsm, &r->key, inter, err, errlen) != 0)
		goto out;
	inter_pem = tc_ctl_cert_pem(inter);
	root_pem = tc_ctl_cert_pem(rk.cert);
	if (inter_pem && root_pem && (chain = malloc(strlen(inter_pem) + strlen(root_pem) + 1)))
		strcat(strcpy(chain, inter_pem), root_pem); /* intermediate, then root */
	if (add_output(r, r->def->files[0], "certificate", inter_pem, cert_details(inter), err,
		       errlen) != 0) {
		inter_pem = NULL;
		goto out;
	}
	inter_pem = NULL;
	rc = add_output(r, r->def->files[1], "certificate_chain", chain, NULL, err, errlen);
	chain = NULL;
	if (rc == 0) {
		/* The root's CRL, where the intermediate's CDP points: signed now,
		 * while the root key is at hand (ca.root_crl_url). */
		EVP_PKEY *rpub = tc_ctl_plain_pubkey(rk.pub);
		X509_CRL *crl = rpub ? tc_ctl_make_root_crl(cfg, rk.cert, rpub, rk.priv, err, errlen) : NULL;
		EVP_PKEY_free(rpub);
		rc = crl ? add_output(r, r->def->files[2], "crl", crl_pem(crl), NULL, err, errlen) : -1;
		X509_CRL_free(crl);
	}
out:
	free(inter_pem);
	free(root_pem);
	free(chain);
	X509_free(inter);
	return rc;
}

/* The key of label with its certificate, and that certificate's public key
 * as a plain software key (*pub, to free). */
static int find_ca(struct step_run *r, const char *label, struct tc_hsm_key *k, EVP_PKEY **pub, char *err,
		   size_t errlen)
{
	if (tc_hsm_find_key(r->hsm, label, k, err, errlen) != 0)
		return -1;
	if (!k->cert) {
		snprintf(err, errlen, "no certificate on the token next to key '%s'", label);
		return -1;
	}
	if (!(*pub = tc_ctl_plain_pubkey(k->pub))) {
		snprintf(err, errlen, "cannot read the public key of '%s'", label);
		return -1;
	}
	return 0;
}

/* Rollover, new root: its self-signed certificate (stored on the token,
 * so it can sign intermediates) and the cross certificate of the same
 * subject and key signed by the current root (hsm.root_key_label). */
static int produce_root_next(struct step_run *r, char *err, size_t errlen)
{
	const struct tc_config *cfg = r->s->cfg;
	struct tc_hsm_key old;
	EVP_PKEY *old_pub = NULL;
	unsigned char serial[TC_CTL_SERIAL_LEN], cross_serial[TC_CTL_SERIAL_LEN];
	char suffix[96];
	snprintf(suffix, sizeof(suffix), "Root CA %s", r->label);
	if (find_ca(r, cfg->hsm.root_key_label, &old, &old_pub, err, errlen) != 0 ||
	    new_serial(r, serial, err, errlen) != 0 || new_serial(r, cross_serial, err, errlen) != 0) {
		EVP_PKEY_free(old_pub);
		return -1;
	}
	X509 *root = tc_ctl_make_root(cfg, suffix, r->pub, r->key.priv, serial, err, errlen);
	X509 *cross = root ? tc_ctl_make_cross(cfg, root, old.cert, old_pub, old.priv, cross_serial, err, errlen) : NULL;
	int rc = -1;
	if (cross && tc_hsm_store_cert(r->hsm, &r->key, root, err, errlen) == 0 &&
	    add_output(r, r->def->files[0], "certificate", tc_ctl_cert_pem(root), cert_details(root), err, errlen) == 0)
		rc = add_output(r, r->def->files[1], "cross_certificate", tc_ctl_cert_pem(cross), cert_details(cross), err,
				errlen);
	X509_free(root);
	X509_free(cross);
	EVP_PKEY_free(old_pub);
	return rc;
}

/* Rollover, new intermediate: signed by issuer_label's root (the current
 * or a new one), same profile as the first (nameConstraints, URLs), with
 * the time it is to take over issuance in the transcript. The chain file
 * is the intermediate, then its root's cross certificate when the root is
 * a rollover root (what clients with the old trust store need). */
static int produce_intermediate_next(struct step_run *r, char *err, size_t errlen)
{
	const struct tc_config *cfg = r->s->cfg;
	struct tc_hsm_key rk;
	EVP_PKEY *root_pub = NULL;
	unsigned char serial[TC_CTL_SERIAL_LEN];
	char suffix[96];
	snprintf(suffix, sizeof(suffix), "Issuing CA %s", r->label);
	if (find_ca(r, r->issuer_label, &rk, &root_pub, err, errlen) != 0 || new_serial(r, serial, err, errlen) != 0) {
		EVP_PKEY_free(root_pub);
		return -1;
	}
	X509 *inter = tc_ctl_make_intermediate(cfg, suffix, r->pub, rk.cert, root_pub, rk.priv, serial, err, errlen);
	EVP_PKEY_free(root_pub);
	if (!inter)
		return -1;
	json_object_set_new(r->transcript, "cutover", json_string(r->cutover));
	json_object_set_new(r->transcript, "issuer_key", json_string(r->issuer_label));
	int rc = -1;
	char *pem = tc_ctl_cert_pem(inter), *cross = NULL, *chain = NULL;
	char rel[PATH_MAX], path[PATH_MAX];
	snprintf(rel, sizeof(rel), "ca/rollover/%s-cross.pem", r->issuer_label);
	if (strcmp(r->issuer_label, cfg->hsm.root_key_label) != 0 && tc_config_data_path(cfg, rel, path, sizeof(path)) == 0) {
		char ferr[256];
		size_t n;
		if (tc_read_file(path, 256 * 1024, &cross, &n, ferr, sizeof(ferr)) != 0)
			cross = NULL;
	}
	if (tc_hsm_store_cert(r->hsm, &r->key, inter, err, errlen) != 0 || !pem)
		goto out;
	if ((chain = malloc(strlen(pem) + (cross ? strlen(cross) : 0) + 1)))
		strcat(strcpy(chain, pem), cross ? cross : "");
	if (add_output(r, r->def->files[0], "certificate", pem, cert_details(inter), err, errlen) != 0) {
		pem = NULL;
		goto out;
	}
	pem = NULL;
	rc = add_output(r, r->def->files[1], "certificate_chain", chain, NULL, err, errlen);
	chain = NULL;
out:
	free(pem);
	free(cross);
	free(chain);
	X509_free(inter);
	return rc;
}

static int produce_ct_log(struct step_run *r, char *err, size_t errlen)
{
	char log_id[64];
	if (tc_ctl_ct_log_id(r->pub, log_id, sizeof(log_id)) != 0) {
		snprintf(err, errlen, "cannot compute the log ID");
		return -1;
	}
	if (produce_public_key(r, r->def->files[0], err, errlen) != 0)
		return -1;
	json_object_set_new(r->transcript, "log_id", json_string(log_id));
	size_t n = strlen(log_id) + 2;
	char *text = malloc(n);
	if (text)
		snprintf(text, n, "%s\n", log_id);
	return add_output(r, r->def->files[1], "log_id", text, NULL, err, errlen);
}

static int produce_dns_zone(struct step_run *r, char *err, size_t errlen)
{
	const char *zone = r->s->cfg->bootstrap.domain;
	char dnskey[512], ds[512];
	if (tc_ctl_dns_records(r->pub, zone, ZONE_KEY_FLAGS, dnskey, sizeof(dnskey), ds, sizeof(ds),
			       err, errlen) != 0)
		return -1;
	json_object_set_new(r->transcript, "dnssec",
			    json_pack("{s:s, s:s, s:s}", "zone", zone, "dnskey", dnskey, "ds", ds));
	return produce_public_key(r, r->def->files[0], err, errlen);
}

static const struct step_def steps[CEREMONY_KEY_COUNT] = {
	[CEREMONY_AUDIT] = {"create-audit-key", "create-audit-key", "P-256",
			    {"audit/audit_public_key.pem"}, produce_audit},
	[CEREMONY_ROOT] = {"create-root", "create-root", "P-384", {"ca/root.pem"}, produce_root},
	[CEREMONY_INTERMEDIATE] = {"create-intermediate", "create-intermediate", "P-256",
				   {"ca/intermediate.pem", "ca/chain.pem", "ca/root.crl"}, produce_intermediate},
	[CEREMONY_CT_LOG] = {"create-key ct-log", "create-key-ct-log", "P-256",
			     {"ct/log_public_key.pem", "ct/log_id.txt"}, produce_ct_log},
	[CEREMONY_DNS_ZONE] = {"create-key dns-zone", "create-key-dns-zone", "P-256",
			       {"dns/zone_key.pem"}, produce_dns_zone},
};

const char *ceremony_key_step(enum ceremony_key k) { return steps[k].command; }

const char *ceremony_key_label(const struct tc_config *cfg, enum ceremony_key k)
{
	switch (k) {
	case CEREMONY_AUDIT: return cfg->hsm.audit_key_label;
	case CEREMONY_ROOT: return cfg->hsm.root_key_label;
	case CEREMONY_INTERMEDIATE: return cfg->hsm.intermediate_key_label;
	case CEREMONY_CT_LOG: return cfg->hsm.ct_key_label;
	case CEREMONY_DNS_ZONE: return cfg->hsm.dns_key_label;
	default: return "";
	}
}

static const struct tc_p11_object_info *find_private(const struct tc_p11_object_info *objs, int n,
						     const char *label)
{
	for (int i = 0; i < n; i++)
		if (strcmp(objs[i].klass, "private") == 0 && strcmp(objs[i].label, label) == 0)
			return &objs[i];
	return NULL;
}

int ceremony_existing_keys(struct ceremony_session *s, unsigned *present)
{
	*present = 0;
	if (ceremony_read_pin(s) != 0)
		return -1;
	char err[1024];
	struct tc_p11_object_info *objs = calloc(MAX_OBJECTS, sizeof(*objs));
	struct tc_p11 *p = objs ? tc_p11_load(s->cfg->hsm.module, err, sizeof(err)) : NULL;
	int n = p ? tc_p11_list_objects(p, s->cfg->hsm.token_label, s->pin, objs, MAX_OBJECTS, err,
					sizeof(err))
		  : -1;
	tc_p11_unload(p);
	if (n < 0) {
		tc_ctl_error("%s", objs ? err : "out of memory");
		free(objs);
		return -1;
	}
	for (int k = 0; k < CEREMONY_KEY_COUNT; k++)
		if (find_private(objs, n, ceremony_key_label(s->cfg, (enum ceremony_key)k)))
			*present |= 1u << k;
	free(objs);
	return 0;
}

/* Published artefacts are never replaced: one left over from an earlier
 * token means the operator must decide what happens to it. */
static int outputs_exist(const struct step_run *r)
{
	for (size_t i = 0; i < MAX_OUTPUTS && r->def->files[i]; i++) {
		char path[PATH_MAX];
		if (tc_config_data_path(r->s->cfg, r->def->files[i], path, sizeof(path)) != 0 ||
		    tc_ctl_file_exists(path)) {
			tc_ctl_error("%s: %s exists already (left from an earlier token?); refusing to "
				     "overwrite it",
				     r->def->command, path);
			return 1;
		}
	}
	return 0;
}

/* Checks the preconditions on the token, generates the key and reads its
 * attributes back: a key the token did not make sensitive and
 * non-extractable is reported as a failure, never used. */
static int generate_key(struct step_run *r, enum ceremony_key k, unsigned char id[KEY_ID_LEN],
			json_t **attrs)
{
	const struct tc_config *cfg = r->s->cfg;
	char err[1024];
	int rc = -1;
	struct tc_p11_object_info *objs = calloc(MAX_OBJECTS, sizeof(*objs));
	if (!objs) {
		tc_ctl_error("out of memory");
		return -1;
	}
	struct tc_p11 *p = tc_p11_load(cfg->hsm.module, err, sizeof(err));
	if (!p) {
		tc_ctl_error("%s", err);
		goto out;
	}
	if (!tc_p11_token_exists(p, cfg->hsm.token_label)) {
		tc_ctl_error("%s: no token labelled '%s'; run 'ceremony init-token' first",
			     r->def->command, cfg->hsm.token_label);
		goto out;
	}
	int n = tc_p11_list_objects(p, cfg->hsm.token_label, r->s->pin, objs, MAX_OBJECTS, err, sizeof(err));
	if (n < 0) {
		tc_ctl_error("%s", err);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (strcmp(objs[i].label, r->label) == 0) {
			tc_ctl_error("%s: a key labelled '%s' exists already on token '%s'; refusing to "
				     "overwrite it",
				     r->def->command, r->label, cfg->hsm.token_label);
			goto out;
		}
	}
	if (outputs_exist(r))
		goto out;
	if (k != CEREMONY_AUDIT && !find_private(objs, n, cfg->hsm.audit_key_label)) {
		tc_ctl_error("%s: no audit key '%s' on the token to sign the transcript; run "
			     "'ceremony create-audit-key' first",
			     r->def->command, cfg->hsm.audit_key_label);
		goto out;
	}
	if (k == CEREMONY_INTERMEDIATE && !find_private(objs, n, cfg->hsm.root_key_label)) {
		tc_ctl_error("%s: no root key '%s' on the token; run 'ceremony create-root' first",
			     r->def->command, cfg->hsm.root_key_label);
		goto out;
	}
	if (tc_p11_generate_ec(p, cfg->hsm.token_label, r->s->pin, r->label, r->def->curve, id, err,
			       sizeof(err)) != 0) {
		tc_ctl_error("%s: %s", r->def->command, err);
		goto out;
	}
	n = tc_p11_list_objects(p, cfg->hsm.token_label, r->s->pin, objs, MAX_OBJECTS, err, sizeof(err));
	const struct tc_p11_object_info *mine = n > 0 ? find_private(objs, n, r->label) : NULL;
	char id_hex[2 * KEY_ID_LEN + 1];
	tc_hex_encode(id, KEY_ID_LEN, id_hex);
	if (!mine || strcmp(mine->id_hex, id_hex) != 0) {
		tc_ctl_error("%s: the new key '%s' cannot be read back from the token", r->def->command,
			     r->label);
		goto out;
	}
	if (mine->sensitive != 1 || mine->extractable != 0 || mine->always_sensitive != 1 ||
	    mine->never_extractable != 1) {
		tc_ctl_error("%s: the token did not make key '%s' sensitive and non-extractable",
			     r->def->command, r->label);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (strcmp(objs[i].id_hex, id_hex) == 0 && strcmp(objs[i].label, r->label) != 0) {
			tc_ctl_error("%s: CKA_ID %s of the new key is used by '%s' too", r->def->command,
				     id_hex, objs[i].label);
			goto out;
		}
	}
	*attrs = json_pack("{s:b, s:b, s:b, s:b}", "sensitive", 1, "extractable", 0,
			   "always_sensitive", 1, "never_extractable", 1);
	rc = *attrs ? 0 : -1;
out:
	tc_p11_unload(p);
	free(objs);
	return rc;
}

static int write_outputs(struct step_run *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->nout; i++) {
		char path[PATH_MAX], dir[PATH_MAX];
		if (tc_config_data_path(r->s->cfg, r->out[i].rel, path, sizeof(path)) != 0) {
			snprintf(err, errlen, "server.data_dir is too long");
			return -1;
		}
		snprintf(dir, sizeof(dir), "%s", path);
		if (tc_ctl_mkdirs(dirname(dir), 0755, err, errlen) != 0 ||
		    tc_ctl_write_new_file(path, r->out[i].text, strlen(r->out[i].text), 0644, err,
					  errlen) != 0)
			return -1;
	}
	return 0;
}

/* With the key made: build artefacts, sign the transcript, publish. */
static int publish(struct step_run *r, const unsigned char id[KEY_ID_LEN], json_t *attrs)
{
	const struct tc_config *cfg = r->s->cfg;
	char err[1024], desc[512], id_hex[2 * KEY_ID_LEN + 1];
	char *doc = NULL, *canon = NULL;
	int rc = -1;
	tc_hex_encode(id, KEY_ID_LEN, id_hex);
	r->hsm = tc_hsm_open(cfg->hsm.module, cfg->hsm.token_label, r->s->pin, err, sizeof(err));
	if (!r->hsm || tc_hsm_find_key(r->hsm, r->label, &r->key, err, sizeof(err)) != 0)
		goto fail;
	if (r->key.id_len != KEY_ID_LEN || memcmp(r->key.id, id, KEY_ID_LEN) != 0) {
		snprintf(err, sizeof(err), "libp11 found a different key labelled '%s'", r->label);
		goto fail;
	}
	r->pub = tc_ctl_plain_pubkey(r->key.pub);
	if (!r->pub) {
		snprintf(err, sizeof(err), "cannot read the public key of '%s'", r->label);
		goto fail;
	}
	tc_hsm_describe(r->hsm, desc, sizeof(desc));
	r->transcript = ceremony_transcript_base(r->s, r->def->slug);
	r->artefacts = json_array();
	if (!r->transcript || !r->artefacts) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	json_object_set_new(r->transcript, "token", json_string(desc));
	json_object_set_new(r->transcript, "key",
			    json_pack("{s:s, s:s, s:s, s:O}", "label", r->label, "id", id_hex, "curve",
				      r->def->curve, "private_key", attrs));
	json_object_set(r->transcript, "artefacts", r->artefacts);
	if (r->def->produce(r, err, sizeof(err)) != 0)
		goto fail;

	/* The audit key signs every transcript, its own included. */
	struct tc_hsm_key audit;
	if (tc_hsm_find_key(r->hsm, cfg->hsm.audit_key_label, &audit, err, sizeof(err)) != 0)
		goto fail;
	doc = tc_transcript_sign(r->transcript, audit.priv, audit.id, audit.id_len, err, sizeof(err));
	canon = tc_transcript_canonical(r->transcript);
	if (!doc || !canon)
		goto fail;
	tc_hsm_close(r->hsm);
	r->hsm = NULL;

	char dir[PATH_MAX], tpath[PATH_MAX];
	if (write_outputs(r, err, sizeof(err)) != 0 ||
	    tc_config_data_path(cfg, "ceremonies", dir, sizeof(dir)) != 0 ||
	    tc_transcript_store(dir, r->def->slug, doc, tpath, sizeof(tpath), err, sizeof(err)) != 0)
		goto fail;
	unsigned long long seq;
	if (ceremony_journal(r->s, r->def->slug, r->label, canon, tpath, &seq) != 0)
		goto out;

	printf("%s: generated EC %s key '%s' (CKA_ID %s) on %s\n", r->def->command, r->def->curve,
	       r->label, id_hex, desc);
	for (size_t i = 0; i < r->nout; i++) {
		char sha[65];
		tc_ctl_sha256_hex(r->out[i].text, strlen(r->out[i].text), sha);
		printf("  wrote %s (sha256 %s)\n", r->out[i].rel, sha);
	}
	printf("  transcript %s, journal record %llu\n", tpath, seq);
	/* The zone key's DS goes to the parent zone: show it right away. */
	json_t *dnssec = json_object_get(r->transcript, "dnssec");
	if (dnssec)
		printf("  %s\n  %s\n", json_string_value(json_object_get(dnssec, "dnskey")),
		       json_string_value(json_object_get(dnssec, "ds")));
	rc = 0;
	goto out;
fail:
	tc_ctl_error("%s: %s", r->def->command, err);
out:
	free(doc);
	free(canon);
	tc_hsm_close(r->hsm);
	r->hsm = NULL;
	return rc;
}

static int run_create(struct step_run *r, enum ceremony_key k);

int ceremony_create(struct ceremony_session *s, enum ceremony_key k)
{
	struct step_run r = {.s = s, .def = &steps[k], .label = ceremony_key_label(s->cfg, k)};
	return run_create(&r, k);
}

/* create-key ct-log --log NAME: the key of a temporal shard (ct.logs),
 * the same step as the single log's with the shard's label and files
 * (common/ct_shard.h: ct/keys/<name>.pem, ct/keys/<name>.log_id.txt). */
int ceremony_create_ct_shard(struct ceremony_session *s, const struct tc_ct_shard *sh)
{
	char f0[TC_CT_LOG_NAME_MAX + 32], f1[TC_CT_LOG_NAME_MAX + 32];
	if (tc_ct_shard_rel(sh, TC_CT_SHARD_PUBLIC_KEY, f0, sizeof(f0)) != 0 ||
	    tc_ct_shard_rel(sh, TC_CT_SHARD_LOG_ID, f1, sizeof(f1)) != 0)
		return -1;
	struct step_def def = {"create-key ct-log", "create-key-ct-log", "P-256", {f0, f1}, produce_ct_log};
	struct step_run r = {.s = s, .def = &def, .label = sh->key_label};
	return run_create(&r, CEREMONY_CT_LOG);
}

int ceremony_dev_ct_shards(struct ceremony_session *s)
{
	struct tc_ct_shard sh[TC_CFG_MAX_CT_LOGS];
	size_t n_sh = s->cfg->ct.log_count ? tc_ct_shards(s->cfg, sh) : 0;
	if (n_sh == 0 || ceremony_read_pin(s) != 0)
		return n_sh == 0 ? 0 : -1;
	char err[1024];
	struct tc_p11_object_info *objs = calloc(MAX_OBJECTS, sizeof(*objs));
	struct tc_p11 *p = objs ? tc_p11_load(s->cfg->hsm.module, err, sizeof(err)) : NULL;
	int n = p ? tc_p11_list_objects(p, s->cfg->hsm.token_label, s->pin, objs, MAX_OBJECTS, err, sizeof(err))
		  : -1;
	tc_p11_unload(p);
	if (n < 0) {
		tc_ctl_error("%s", objs ? err : "out of memory");
		free(objs);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n_sh && rc == 0; i++) {
		if (find_private(objs, n, sh[i].key_label))
			printf("dev: key '%s' of CT log '%s' exists, skipped\n", sh[i].key_label, sh[i].name);
		else
			rc = ceremony_create_ct_shard(s, &sh[i]);
	}
	free(objs);
	return rc;
}

/* Names the new intermediate and its cut-over in ca/rollover/next, the
 * file the running signer and gateway watch (signer/issuers.h): it only
 * schedules what the signed transcript already holds, and is replaced by
 * the next rollover. */
static int schedule_next(const struct tc_config *cfg, const char *label, const char *cutover)
{
	char path[PATH_MAX], line[128], err[256];
	int n = snprintf(line, sizeof(line), "%s %s\n", label, cutover);
	if (n < 0 || (size_t)n >= sizeof(line) || tc_config_data_path(cfg, "ca/rollover/next", path, sizeof(path)) != 0 ||
	    tc_file_replace(path, line, (size_t)n, 0644, err, sizeof(err)) != 0) {
		tc_ctl_error("rollover-intermediate: cannot write ca/rollover/next: %s", n > 0 ? err : "too long");
		return -1;
	}
	printf("  scheduled: %s takes over issuance at %s (ca/rollover/next)\n", label, cutover);
	return 0;
}

int ceremony_rollover(struct ceremony_session *s, int root, const char *label, const char *issuer_label,
		      const char *cutover)
{
	if (!tc_key_label_ok(label, strlen(label)) ||
	    (issuer_label && !tc_key_label_ok(issuer_label, strlen(issuer_label)))) {
		tc_ctl_error("rollover: key labels are 1-48 of A-Z a-z 0-9 - _ .");
		return -1;
	}
	struct step_def def = {root ? "rollover-root" : "rollover-intermediate",
			       root ? "rollover-root" : "rollover-intermediate", root ? "P-384" : "P-256",
			       {NULL}, root ? produce_root_next : produce_intermediate_next};
	char f0[PATH_MAX], f1[PATH_MAX];
	snprintf(f0, sizeof(f0), "ca/rollover/%s.pem", label);
	snprintf(f1, sizeof(f1), root ? "ca/rollover/%s-cross.pem" : "ca/rollover/%s-chain.pem", label);
	def.files[0] = f0;
	def.files[1] = f1;
	struct step_run r = {.s = s, .def = &def, .label = label, .issuer_label = issuer_label, .cutover = cutover};
	/* The checks of create-root: an audit key to sign the transcript. */
	if (run_create(&r, CEREMONY_ROOT) != 0)
		return -1;
	return root ? 0 : schedule_next(s->cfg, label, cutover);
}

static int run_create(struct step_run *rp, enum ceremony_key k)
{
	struct step_run r = *rp;
	struct ceremony_session *s = r.s;
	if (ceremony_read_pin(s) != 0 || ceremony_open_journal(s) != 0)
		return -1;
	unsigned char id[KEY_ID_LEN];
	json_t *attrs = NULL;
	if (generate_key(&r, k, id, &attrs) != 0)
		return -1;
	int rc = publish(&r, id, attrs);
	if (ceremony_reown_hsm(s->cfg) != 0)
		rc = -1;
	json_decref(attrs);
	json_decref(r.transcript);
	json_decref(r.artefacts);
	EVP_PKEY_free(r.pub);
	for (size_t i = 0; i < r.nout; i++)
		free(r.out[i].text);
	if (rc != 0)
		fprintf(stderr,
			"trustchainctl: key '%s' now exists on the token but its step did not complete; "
			"see hsm/CEREMONY.md (recovering from an interrupted step)\n",
			r.label);
	return rc;
}
