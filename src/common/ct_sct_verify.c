/* Embedded SCT verification; see ct_sct_verify.h. */
#include "common/ct_sct_verify.h"

#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1.3.6.1.4.1.11129.2.4.2, the SignedCertificateTimestampList extension. */
static const unsigned char SCT_LIST_OID[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};

enum {
	TAG_BOOLEAN = 0x01,
	TAG_OCTET_STRING = 0x04,
	TAG_OID = 0x06,
	TAG_SEQUENCE = 0x30,
	TAG_EXTENSIONS = 0xa3, /* [3] EXPLICIT in TBSCertificate */
};

enum { TLS_HASH_SHA256 = 4, TLS_SIG_RSA = 1, TLS_SIG_ECDSA = 3 };
enum { CT_V1 = 0, CT_SIG_CERTIFICATE_TIMESTAMP = 0, CT_PRECERT_ENTRY = 1 };
#define CT_MAX_TBS 0xffffffu

int tc_sct_log_set_id(struct tc_sct_log *log)
{
	unsigned char *spki = NULL;
	int n = log->key ? i2d_PUBKEY(log->key, &spki) : -1;
	int ok = n > 0 && EVP_Digest(spki, (size_t)n, log->id, NULL, EVP_sha256(), NULL) == 1;
	OPENSSL_free(spki);
	return ok ? 0 : -1;
}

/* ---- a strict DER walker: single-byte tags, definite minimal lengths ---- */

struct tlv {
	unsigned char tag;
	const unsigned char *start; /* the tag byte */
	const unsigned char *val;   /* the content */
	const unsigned char *end;   /* one past the content */
	size_t len;
};

static int der_read(const unsigned char *p, const unsigned char *end, struct tlv *t)
{
	if (p >= end || end - p < 2)
		return -1;
	t->start = p;
	t->tag = *p++;
	if ((t->tag & 0x1f) == 0x1f)
		return -1;
	size_t len = *p++;
	if (len & 0x80) {
		size_t n = len & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - p) < n || p[0] == 0)
			return -1; /* indefinite, too long, or not minimal */
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = (len << 8) | *p++;
		if (len < 0x80)
			return -1;
	}
	if ((size_t)(end - p) < len)
		return -1;
	t->val = p;
	t->len = len;
	t->end = p + len;
	return 0;
}

/* Size of a TLV header (tag + length) for content of len bytes. */
static size_t header_size(size_t len)
{
	return 1 + (len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : len < 0x1000000 ? 4 : 5);
}

static unsigned char *put_header(unsigned char *o, unsigned char tag, size_t len)
{
	*o++ = tag;
	if (len < 0x80) {
		*o++ = (unsigned char)len;
		return o;
	}
	size_t n = header_size(len) - 2;
	*o++ = (unsigned char)(0x80 | n);
	for (size_t i = n; i > 0; i--)
		*o++ = (unsigned char)(len >> (8 * (i - 1)));
	return o;
}

static unsigned char *put_bytes(unsigned char *o, const unsigned char *from, const unsigned char *to)
{
	size_t n = (size_t)(to - from);
	if (n)
		memcpy(o, from, n);
	return o + n;
}

/* Finds the SCT list extension in the extensions SEQUENCE seq: *ext is the
 * whole Extension, *list its TLS payload. 1 absent, 0 found, -1 malformed. */
static int find_sct_extension(const struct tlv *seq, struct tlv *ext, const unsigned char **list, size_t *list_len)
{
	int found = 0;
	for (const unsigned char *p = seq->val; p < seq->end;) {
		struct tlv e, oid, v, inner;
		if (der_read(p, seq->end, &e) != 0 || e.tag != TAG_SEQUENCE)
			return -1;
		if (der_read(e.val, e.end, &oid) != 0 || oid.tag != TAG_OID)
			return -1;
		p = e.end;
		if (oid.len != sizeof(SCT_LIST_OID) || memcmp(oid.val, SCT_LIST_OID, oid.len) != 0)
			continue;
		if (found++)
			return -1; /* RFC 5280: an extension appears at most once */
		if (der_read(oid.end, e.end, &v) != 0)
			return -1;
		if (v.tag == TAG_BOOLEAN && der_read(v.end, e.end, &v) != 0)
			return -1;
		/* extnValue holds one OCTET STRING whose content is the TLS list. */
		if (v.tag != TAG_OCTET_STRING || v.end != e.end || der_read(v.val, v.end, &inner) != 0 ||
		    inner.tag != TAG_OCTET_STRING || inner.end != v.end)
			return -1;
		*ext = e;
		*list = inner.val;
		*list_len = inner.len;
	}
	return found ? 0 : 1;
}

int tc_sct_split_certificate(const unsigned char *cert, size_t cert_len, unsigned char **tbs, size_t *tbs_len,
			     const unsigned char **list, size_t *list_len)
{
	*tbs = NULL;
	*tbs_len = 0;
	*list = NULL;
	*list_len = 0;
	struct tlv c, t, f, exts = {0}, seq, ext;
	if (!cert || der_read(cert, cert + cert_len, &c) != 0 || c.tag != TAG_SEQUENCE || c.end != cert + cert_len ||
	    der_read(c.val, c.end, &t) != 0 || t.tag != TAG_SEQUENCE)
		return -1;
	int have_exts = 0;
	for (const unsigned char *p = t.val; p < t.end; p = f.end) {
		if (der_read(p, t.end, &f) != 0)
			return -1;
		if (f.tag == TAG_EXTENSIONS) {
			if (have_exts++)
				return -1;
			exts = f;
		}
	}
	if (!have_exts)
		return 1;
	if (der_read(exts.val, exts.end, &seq) != 0 || seq.tag != TAG_SEQUENCE || seq.end != exts.end)
		return -1;
	int rc = find_sct_extension(&seq, &ext, list, list_len);
	if (rc != 0)
		return rc;

	/* TBS' = everything before [3], [3] { SEQUENCE { the other
	 * extensions } } unless none are left (DER omits an empty list), and
	 * whatever followed [3]. It is never longer than the original. */
	size_t rest = seq.len - (size_t)(ext.end - ext.start);
	size_t exts_len = rest ? header_size(header_size(rest) + rest) + header_size(rest) + rest : 0;
	size_t content = (size_t)(exts.start - t.val) + exts_len + (size_t)(t.end - exts.end);
	size_t total = header_size(content) + content;
	unsigned char *out = malloc(total);
	if (!out)
		return -1;
	unsigned char *o = put_header(out, TAG_SEQUENCE, content);
	o = put_bytes(o, t.val, exts.start);
	if (rest) {
		o = put_header(o, TAG_EXTENSIONS, header_size(rest) + rest);
		o = put_header(o, TAG_SEQUENCE, rest);
		o = put_bytes(o, seq.val, ext.start);
		o = put_bytes(o, ext.end, seq.end);
	}
	o = put_bytes(o, exts.end, t.end);
	*tbs = out;
	*tbs_len = (size_t)(o - out);
	return 0;
}

/* ---- the TLS side: SCT list and signature input ---- */

struct sct {
	int version;
	const unsigned char *log_id;
	uint64_t timestamp;
	const unsigned char *ext;
	size_t ext_len;
	int hash_alg, sig_alg;
	const unsigned char *sig;
	size_t sig_len;
};

static uint64_t be(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* A v1 SignedCertificateTimestamp filling exactly [p, end). */
static int parse_sct(const unsigned char *p, const unsigned char *end, struct sct *s)
{
	size_t left = (size_t)(end - p);
	if (left < 1 + 32 + 8 + 2)
		return -1;
	s->version = p[0];
	s->log_id = p + 1;
	s->timestamp = be(p + 33, 8);
	s->ext_len = (size_t)be(p + 41, 2);
	p += 43;
	if ((size_t)(end - p) < s->ext_len + 4)
		return -1;
	s->ext = p;
	p += s->ext_len;
	s->hash_alg = p[0];
	s->sig_alg = p[1];
	s->sig_len = (size_t)be(p + 2, 2);
	p += 4;
	if ((size_t)(end - p) != s->sig_len)
		return -1;
	s->sig = p;
	return 0;
}

/* The digitally-signed input of a precert SCT (RFC 6962 3.2). */
static unsigned char *signature_input(const struct sct *s, const unsigned char *tbs, size_t tbs_len,
				      const unsigned char issuer_key_hash[32], size_t *len)
{
	*len = 1 + 1 + 8 + 2 + 32 + 3 + tbs_len + 2 + s->ext_len;
	unsigned char *buf = malloc(*len), *o = buf;
	if (!buf)
		return NULL;
	*o++ = CT_V1;
	*o++ = CT_SIG_CERTIFICATE_TIMESTAMP;
	for (int i = 7; i >= 0; i--)
		*o++ = (unsigned char)(s->timestamp >> (8 * i));
	*o++ = 0;
	*o++ = CT_PRECERT_ENTRY;
	memcpy(o, issuer_key_hash, 32);
	o += 32;
	*o++ = (unsigned char)(tbs_len >> 16);
	*o++ = (unsigned char)(tbs_len >> 8);
	*o++ = (unsigned char)tbs_len;
	memcpy(o, tbs, tbs_len);
	o += tbs_len;
	*o++ = (unsigned char)(s->ext_len >> 8);
	*o++ = (unsigned char)s->ext_len;
	if (s->ext_len)
		memcpy(o, s->ext, s->ext_len);
	return buf;
}

static int verify_sct(const struct sct *s, const struct tc_sct_log *log, const unsigned char *tbs, size_t tbs_len,
		      const unsigned char issuer_key_hash[32], char *why, size_t whylen)
{
	int want_sig = EVP_PKEY_get_base_id(log->key) == EVP_PKEY_RSA ? TLS_SIG_RSA : TLS_SIG_ECDSA;
	if (s->version != CT_V1 || s->hash_alg != TLS_HASH_SHA256 || s->sig_alg != want_sig) {
		snprintf(why, whylen, "an SCT from our log has version %d, hash %d, signature %d (want v1, sha256, %d)",
			 s->version, s->hash_alg, s->sig_alg, want_sig);
		return -1;
	}
	size_t in_len;
	unsigned char *in = signature_input(s, tbs, tbs_len, issuer_key_hash, &in_len);
	EVP_MD_CTX *md = in ? EVP_MD_CTX_new() : NULL;
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, log->key) == 1 &&
		 EVP_DigestVerify(md, s->sig, s->sig_len, in, in_len) == 1;
	EVP_MD_CTX_free(md);
	free(in);
	if (!ok)
		snprintf(why, whylen, "the SCT of our log (timestamp %llu) does not verify over this certificate",
			 (unsigned long long)s->timestamp);
	return ok ? 0 : -1;
}

static const struct tc_sct_log *find_log(const unsigned char *id, const struct tc_sct_log *logs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(logs[i].id, id, TC_SCT_LOG_ID_LEN) == 0)
			return &logs[i];
	return NULL;
}

enum tc_sct_verdict tc_sct_verify_embedded(const unsigned char *cert, size_t cert_len,
					   const unsigned char issuer_key_hash[32], const struct tc_sct_log *logs,
					   size_t n_logs, char *why, size_t whylen)
{
	unsigned char *tbs;
	size_t tbs_len, list_len;
	const unsigned char *list;
	int rc = tc_sct_split_certificate(cert, cert_len, &tbs, &tbs_len, &list, &list_len);
	if (rc == 1) {
		snprintf(why, whylen, "the certificate has no embedded SCT");
		return TC_SCT_NONE;
	}
	if (rc != 0 || tbs_len > CT_MAX_TBS || list_len < 2 || be(list, 2) != list_len - 2 || list_len == 2) {
		free(tbs);
		snprintf(why, whylen, "the embedded SCT list is malformed");
		return TC_SCT_BAD;
	}
	enum tc_sct_verdict v = TC_SCT_NONE;
	snprintf(why, whylen, "no embedded SCT is from a TrustChain log");
	const unsigned char *end = list + list_len;
	for (const unsigned char *p = list + 2; p < end && v != TC_SCT_BAD;) {
		size_t n = (size_t)(end - p) >= 2 ? (size_t)be(p, 2) : 0;
		struct sct s;
		if (n == 0 || (size_t)(end - p) - 2 < n || parse_sct(p + 2, p + 2 + n, &s) != 0) {
			snprintf(why, whylen, "the embedded SCT list is malformed");
			v = TC_SCT_BAD;
			break;
		}
		p += 2 + n;
		const struct tc_sct_log *log = find_log(s.log_id, logs, n_logs);
		if (!log)
			continue; /* another log's promise: not ours to judge */
		if (verify_sct(&s, log, tbs, tbs_len, issuer_key_hash, why, whylen) != 0)
			v = TC_SCT_BAD;
		else
			v = TC_SCT_VERIFIED;
	}
	free(tbs);
	if (v == TC_SCT_VERIFIED && why && whylen)
		why[0] = '\0';
	return v;
}
