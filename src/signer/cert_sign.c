#include "signer/cert_sign.h"

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errorf.h"
#include "common/metrics_proc.h"
#include "signer/lint.h"
#include "signer/tbs_template.h"

/* Extensions the signer writes itself, whole. */
static const uint8_t EXT_BASIC_CONSTRAINTS_LEAF[] = {
    /* critical, SEQUENCE {} (cA FALSE, no path length) */
    0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00};
static const uint8_t EXT_CT_POISON[] = {
    /* RFC 6962 3.1: critical, extnValue ASN.1 NULL */
    0x30, 0x13, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03,
    0x01, 0x01, 0xff, 0x04, 0x02, 0x05, 0x00};
static const uint8_t VERSION_3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};

const EVP_MD *tc_digest_for_key(EVP_PKEY *key)
{
	return EVP_PKEY_get_bits(key) > 256 ? EVP_sha384() : EVP_sha256();
}

/* Writes tag and length octets; returns how many. */
static size_t put_header(uint8_t *out, uint8_t tag, size_t len)
{
	out[0] = tag;
	return 1 + tc_der_put_len(len, out + 1);
}

static size_t header_size(size_t len)
{
	return tc_der_tlv_size(len) - len;
}

int tc_issuer_init(struct tc_issuer *is, const struct tc_hsm_key *key, char *err, size_t errlen)
{
	memset(is, 0, sizeof(*is));
	if (!key->cert || !key->priv)
		return tc_errorf(err, errlen, "issuing certificate not provisioned");
	is->priv = key->priv;
	is->md = tc_digest_for_key(key->priv);
	static const uint8_t ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	static const uint8_t ecdsa_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
	memcpy(is->alg, is->md == EVP_sha384() ? ecdsa_sha384 : ecdsa_sha256, sizeof(ecdsa_sha256));
	is->alg_len = sizeof(ecdsa_sha256);

	unsigned char *der = NULL;
	int len = i2d_X509(key->cert, &der);
	struct tc_cert_view v;
	char why[200];
	if (len <= 0 || tc_cert_view_parse(der, (size_t)len, &v, why, sizeof(why)) != 0) {
		OPENSSL_free(der);
		return tc_errorf(err, errlen, "issuing certificate unreadable");
	}
	is->name = malloc(v.tbs.subject.tlv_len);
	if (!is->name) {
		OPENSSL_free(der);
		return tc_errorf(err, errlen, "out of memory");
	}
	memcpy(is->name, v.tbs.subject.tlv, v.tbs.subject.tlv_len);
	is->name_len = v.tbs.subject.tlv_len;
	SHA256(v.tbs.spki.tlv, v.tbs.spki.tlv_len, is->key_hash);

	/* authorityKeyIdentifier: SEQUENCE { [0] IMPLICIT keyIdentifier } of the
	 * issuing certificate's subjectKeyIdentifier. */
	struct tc_ext_view ski;
	struct tc_der_elem keyid;
	if (tc_tbs_find_ext(&v.tbs, TC_OID_SUBJECT_KEY_ID, sizeof(TC_OID_SUBJECT_KEY_ID), &ski) == 0 &&
	    tc_der_whole(ski.value.val, ski.value.val_len, TC_DER_OCTET_STRING, &keyid) == TC_DER_OK &&
	    keyid.val_len <= 64) {
		memcpy(is->key_id, keyid.val, keyid.val_len);
		is->key_id_len = keyid.val_len;
		size_t kid = header_size(keyid.val_len) + keyid.val_len;
		size_t seq = header_size(kid) + kid;
		size_t value = header_size(seq) + seq;
		size_t body = 5 + value;
		is->aki_len = header_size(body) + body;
		is->aki = malloc(is->aki_len);
		if (!is->aki) {
			OPENSSL_free(der);
			tc_issuer_fini(is);
			return tc_errorf(err, errlen, "out of memory");
		}
		uint8_t *o = is->aki;
		o += put_header(o, TC_DER_SEQUENCE, body);
		memcpy(o, "\x06\x03\x55\x1d\x23", 5);
		o += 5;
		o += put_header(o, TC_DER_OCTET_STRING, seq);
		o += put_header(o, TC_DER_SEQUENCE, kid);
		o += put_header(o, TC_DER_CONTEXT_PRIM(0), keyid.val_len);
		memcpy(o, keyid.val, keyid.val_len);
	}
	OPENSSL_free(der);
	return 0;
}

void tc_issuer_fini(struct tc_issuer *is)
{
	free(is->name);
	free(is->aki);
	free(is->urls);
	memset(is, 0, sizeof(*is));
}

void tc_leaf_free(struct tc_leaf *leaf)
{
	free(leaf->buf);
	memset(leaf, 0, sizeof(*leaf));
}

/* The serial as a DER INTEGER (a positive number in the fewest octets). */
static size_t put_serial(uint8_t *out, const unsigned char serial[TC_SERIAL_LEN])
{
	size_t skip = 0;
	while (skip < TC_SERIAL_LEN - 1 && serial[skip] == 0)
		skip++;
	size_t n = TC_SERIAL_LEN - skip;
	int pad = serial[skip] & 0x80 ? 1 : 0;
	size_t o = put_header(out, TC_DER_INTEGER, n + (size_t)pad);
	if (pad)
		out[o++] = 0;
	memcpy(out + o, serial + skip, n);
	return o + n;
}

int tc_leaf_complete(const struct tc_tbs_view *tmpl, const struct tc_issuer *is,
		     const unsigned char serial[TC_SERIAL_LEN], struct tc_leaf *leaf, unsigned char fingerprint[32],
		     char *err, size_t errlen)
{
	memset(leaf, 0, sizeof(*leaf));
	if (!is->name)
		return tc_errorf(err, errlen, "issuing certificate not provisioned");
	if (!is->aki)
		return tc_errorf(err, errlen, "cannot complete the certificate (the issuing certificate has no subjectKeyIdentifier)");
	struct tc_ext_view e;
	int has_ski = tc_tbs_find_ext(tmpl, TC_OID_SUBJECT_KEY_ID, sizeof(TC_OID_SUBJECT_KEY_ID), &e) == 0;
	int has_bc = tc_tbs_find_ext(tmpl, TC_OID_BASIC_CONSTRAINTS, sizeof(TC_OID_BASIC_CONSTRAINTS), &e) == 0;

	/* The subjectKeyIdentifier the signer adds: SHA-1 of the key's bits
	 * (RFC 5280 4.2.1.2 method 1). */
	uint8_t ski[2 + 2 + 3 + 2 + 2 + 20] = {0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14};
	if (!has_ski) {
		struct tc_der_cursor c = tc_der_inside(&tmpl->spki);
		struct tc_der_elem alg, key;
		const uint8_t *bits;
		size_t bits_len;
		if (tc_der_next(&c, &alg) != TC_DER_OK || tc_der_next(&c, &key) != TC_DER_OK ||
		    tc_der_bit_string_bytes(&key, &bits, &bits_len) != TC_DER_OK)
			return tc_errorf(err, errlen, "cannot complete the certificate");
		SHA1(bits, bits_len, ski + 11);
	}

	size_t tmpl_exts = tmpl->has_extensions ? tmpl->extensions.val_len : 0;
	size_t cap = sizeof(VERSION_3) + 3 + TC_SERIAL_LEN + is->alg_len + is->name_len + tmpl->validity.tlv_len +
		     tmpl->subject.tlv_len + tmpl->spki.tlv_len + tmpl_exts + is->aki_len + is->urls_len + sizeof(ski) +
		     sizeof(EXT_BASIC_CONSTRAINTS_LEAF);
	uint8_t *buf = malloc(cap), *o = buf;
	if (!buf)
		return tc_errorf(err, errlen, "out of memory");
	memcpy(o, VERSION_3, sizeof(VERSION_3));
	o += sizeof(VERSION_3);
	o += put_serial(o, serial);
	memcpy(o, is->alg, is->alg_len);
	o += is->alg_len;
	memcpy(o, is->name, is->name_len);
	o += is->name_len;
	const struct tc_der_elem *fields[] = {&tmpl->validity, &tmpl->subject, &tmpl->spki};
	for (size_t i = 0; i < 3; i++) {
		memcpy(o, fields[i]->tlv, fields[i]->tlv_len);
		o += fields[i]->tlv_len;
	}
	leaf->head_len = (size_t)(o - buf);

	/* The template's extensions in their order, but the caller's AKI, which
	 * the issuer's replaces at the end; then SKI and basicConstraints
	 * unless the template has them. */
	if (tmpl->has_extensions) {
		struct tc_der_cursor c = tc_der_inside(&tmpl->extensions);
		while (tc_ext_next(&c, &e) == TC_DER_OK) {
			if (TC_DER_OID_IS(&e.oid, TC_OID_AUTHORITY_KEY_ID))
				continue;
			memcpy(o, e.whole.tlv, e.whole.tlv_len);
			o += e.whole.tlv_len;
		}
	}
	memcpy(o, is->aki, is->aki_len);
	o += is->aki_len;
	if (is->urls_len) { /* CDP and AIA: the signer's, like the AKI */
		memcpy(o, is->urls, is->urls_len);
		o += is->urls_len;
	}
	if (!has_ski) {
		memcpy(o, ski, sizeof(ski));
		o += sizeof(ski);
	}
	if (!has_bc) {
		memcpy(o, EXT_BASIC_CONSTRAINTS_LEAF, sizeof(EXT_BASIC_CONSTRAINTS_LEAF));
		o += sizeof(EXT_BASIC_CONSTRAINTS_LEAF);
	}
	leaf->buf = buf;
	leaf->exts_len = (size_t)(o - buf) - leaf->head_len;

	uint8_t *tbs;
	size_t tbs_len;
	if (tc_leaf_tbs(leaf, 0, NULL, 0, &tbs, &tbs_len) != 0) {
		tc_leaf_free(leaf);
		return tc_errorf(err, errlen, "out of memory");
	}
	SHA256(tbs, tbs_len, fingerprint);
	free(tbs);
	return 0;
}

int tc_leaf_tbs(const struct tc_leaf *leaf, int precert, const uint8_t *sct_list, size_t sct_len, uint8_t **tbs,
		size_t *tbs_len)
{
	/* RFC 6962 3.3: the SCT list extension's extnValue is an OCTET STRING
	 * holding an OCTET STRING of the TLS-encoded list; not critical. */
	static const uint8_t sct_oid[] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};
	size_t sct_inner = 0, sct_value = 0, sct_body = 0, extra = 0;
	if (precert) {
		extra = sizeof(EXT_CT_POISON);
	} else if (sct_list && sct_len) {
		sct_inner = header_size(sct_len) + sct_len;
		sct_value = header_size(sct_inner) + sct_inner;
		sct_body = sizeof(sct_oid) + sct_value;
		extra = header_size(sct_body) + sct_body;
	}
	size_t ext_seq = leaf->exts_len + extra;
	size_t ext_tagged = header_size(ext_seq) + ext_seq;
	size_t body = leaf->head_len + header_size(ext_tagged) + ext_tagged;
	size_t total = header_size(body) + body;
	uint8_t *buf = malloc(total), *o = buf;
	if (!buf)
		return -1;
	o += put_header(o, TC_DER_SEQUENCE, body);
	memcpy(o, leaf->buf, leaf->head_len);
	o += leaf->head_len;
	o += put_header(o, TC_DER_CONTEXT(3), ext_tagged);
	o += put_header(o, TC_DER_SEQUENCE, ext_seq);
	memcpy(o, leaf->buf + leaf->head_len, leaf->exts_len);
	o += leaf->exts_len;
	if (precert) {
		memcpy(o, EXT_CT_POISON, sizeof(EXT_CT_POISON));
		o += sizeof(EXT_CT_POISON);
	} else if (extra) {
		o += put_header(o, TC_DER_SEQUENCE, sct_body);
		memcpy(o, sct_oid, sizeof(sct_oid));
		o += sizeof(sct_oid);
		o += put_header(o, TC_DER_OCTET_STRING, sct_inner);
		o += put_header(o, TC_DER_OCTET_STRING, sct_len);
		memcpy(o, sct_list, sct_len);
		o += sct_len;
	}
	*tbs = buf;
	*tbs_len = (size_t)(o - buf);
	return 0;
}

int tc_issuer_sign_tbs(uint8_t *tbs, size_t tbs_len, const struct tc_issuer *is, const char *op, unsigned char **der,
		       size_t *der_len, char *err, size_t errlen)
{
	/* As X509_sign does: one DigestSign over the TBS bytes. */
	size_t sig_len = (size_t)EVP_PKEY_get_size(is->priv);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t bits = 1 + sig_len;
	size_t body = tbs_len + is->alg_len + header_size(bits) + bits;
	size_t cap = header_size(body) + body;
	uint8_t *cert = malloc(cap);
	uint8_t *sig = cert ? cert + cap - sig_len : NULL; /* signed in place, moved once its length is known */
	double t0 = tc_pm_now();
	int signed_ok = ctx && cert && EVP_DigestSignInit(ctx, NULL, is->md, NULL, is->priv) == 1 &&
			EVP_DigestSign(ctx, sig, &sig_len, tbs, tbs_len) == 1;
	tc_pm_hsm_op(op, signed_ok, tc_pm_now() - t0);
	if (!signed_ok) {
		unsigned long e = ERR_get_error();
		ERR_clear_error();
		EVP_MD_CTX_free(ctx);
		free(tbs);
		free(cert);
		return tc_errorf(err, errlen, "signing failed: %s", e ? ERR_reason_error_string(e) : "HSM error");
	}
	EVP_MD_CTX_free(ctx);
	bits = 1 + sig_len;
	body = tbs_len + is->alg_len + header_size(bits) + bits;
	uint8_t *o = cert;
	o += put_header(o, TC_DER_SEQUENCE, body);
	memcpy(o, tbs, tbs_len);
	o += tbs_len;
	memcpy(o, is->alg, is->alg_len);
	o += is->alg_len;
	o += put_header(o, TC_DER_BIT_STRING, bits);
	*o++ = 0; /* no unused bits */
	memmove(o, sig, sig_len);
	o += sig_len;
	free(tbs);
	*der = cert;
	*der_len = (size_t)(o - cert);
	return 0;
}

int tc_leaf_sign(const struct tc_leaf *leaf, const struct tc_issuer *is, int precert, const uint8_t *sct_list,
		 size_t sct_len, unsigned char **der, size_t *der_len, char *err, size_t errlen)
{
	uint8_t *tbs;
	size_t tbs_len;
	if (tc_leaf_tbs(leaf, precert, sct_list, sct_len, &tbs, &tbs_len) != 0)
		return tc_errorf(err, errlen, "out of memory");
	return tc_issuer_sign_tbs(tbs, tbs_len, is, "sign_certificate", der, der_len, err, errlen);
}

int tc_leaf_sign_checked(const struct tc_leaf *leaf, const struct tc_issuer *is, const struct tc_policy *policy,
			 int precert, const uint8_t *sct_list, size_t sct_len, unsigned char **der, size_t *der_len,
			 const char **lint, char *err, size_t errlen)
{
	*lint = NULL;
	uint8_t *tbs;
	size_t tbs_len;
	if (tc_leaf_tbs(leaf, precert, sct_list, sct_len, &tbs, &tbs_len) != 0)
		return tc_errorf(err, errlen, "out of memory");
	struct tc_lint_issuer li = {.sig_alg = is->alg, .sig_alg_len = is->alg_len, .name = is->name,
				    .name_len = is->name_len, .key_id = is->key_id_len ? is->key_id : NULL,
				    .key_id_len = is->key_id_len};
	struct tc_lint_result lr;
	if (tc_lint_tbs(tbs, tbs_len, precert ? TC_LINT_PRECERT : TC_LINT_LEAF, &li, policy, &lr) != 0) {
		free(tbs);
		*lint = lr.lint;
		tc_errorf(err, errlen, "%s: %s", lr.lint, lr.detail);
		return 1;
	}
	/* The very bytes just linted go to the HSM. */
	return tc_issuer_sign_tbs(tbs, tbs_len, is, "sign_certificate", der, der_len, err, errlen) == 0 ? 0 : -1;
}
