#include "common/cert_der.h"

#include <stdlib.h>
#include <string.h>

#include "common/errorf.h"

const uint8_t TC_OID_CT_POISON[10] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03};
const uint8_t TC_OID_CT_SCT_LIST[10] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};

static int is_time(const struct tc_der_elem *e)
{
	return e->tag == TC_DER_UTCTIME || e->tag == TC_DER_GENERALIZEDTIME;
}

int tc_tbs_view_parse(const uint8_t *der, size_t len, struct tc_tbs_view *v, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	if (tc_der_whole(der, len, TC_DER_SEQUENCE, &v->whole) != TC_DER_OK)
		return tc_errorf(err, errlen, "TBSCertificate is not one DER SEQUENCE");
	struct tc_der_cursor c = tc_der_inside(&v->whole);
	struct tc_der_elem tagged;
	int rc = tc_der_optional(&c, TC_DER_CONTEXT(0), &tagged);
	if (rc == TC_DER_MALFORMED)
		return tc_errorf(err, errlen, "TBSCertificate: malformed DER");
	if (rc == TC_DER_OK) {
		if (tc_der_whole(tagged.val, tagged.val_len, TC_DER_INTEGER, &v->version) != TC_DER_OK)
			return tc_errorf(err, errlen, "TBSCertificate: bad version");
		v->has_version = 1;
	}
	if (tc_der_expect(&c, TC_DER_INTEGER, &v->serial) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->sig_alg) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->issuer) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->validity) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->subject) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->spki) != TC_DER_OK)
		return tc_errorf(err, errlen, "TBSCertificate: fields missing or out of order");
	/* DER: the fewest octets, or one serial would have two encodings. */
	if (!tc_der_integer_valid(&v->serial) || (v->has_version && !tc_der_integer_valid(&v->version)))
		return tc_errorf(err, errlen, "TBSCertificate: serial or version not a minimal INTEGER");
	struct tc_der_cursor vc = tc_der_inside(&v->validity);
	if (tc_der_next(&vc, &v->not_before) != TC_DER_OK || !is_time(&v->not_before) ||
	    tc_der_next(&vc, &v->not_after) != TC_DER_OK || !is_time(&v->not_after) || !tc_der_at_end(&vc))
		return tc_errorf(err, errlen, "TBSCertificate: bad validity");
	/* issuerUniqueID [1] and subjectUniqueID [2]: never in what we issue
	 * or log, and RFC 5280 says CAs must not generate them. */
	if (tc_der_optional(&c, TC_DER_CONTEXT(3), &v->extensions_tagged) == TC_DER_OK) {
		if (tc_der_whole(v->extensions_tagged.val, v->extensions_tagged.val_len, TC_DER_SEQUENCE,
				 &v->extensions) != TC_DER_OK || v->extensions.val_len == 0)
			return tc_errorf(err, errlen, "TBSCertificate: bad extensions");
		v->has_extensions = 1;
		struct tc_der_cursor ec = tc_der_inside(&v->extensions);
		struct tc_ext_view ext;
		int erc;
		while ((erc = tc_ext_next(&ec, &ext)) == TC_DER_OK)
			;
		if (erc != TC_DER_END)
			return tc_errorf(err, errlen, "TBSCertificate: malformed extension");
	}
	if (!tc_der_at_end(&c))
		return tc_errorf(err, errlen, "TBSCertificate: unexpected fields after the key");
	return 0;
}

int tc_cert_view_parse(const uint8_t *der, size_t len, struct tc_cert_view *v, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	if (tc_der_whole(der, len, TC_DER_SEQUENCE, &v->whole) != TC_DER_OK)
		return tc_errorf(err, errlen, "not one DER certificate");
	struct tc_der_cursor c = tc_der_inside(&v->whole);
	struct tc_der_elem tbs, sig;
	if (tc_der_expect(&c, TC_DER_SEQUENCE, &tbs) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_SEQUENCE, &v->sig_alg) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_BIT_STRING, &sig) != TC_DER_OK || !tc_der_at_end(&c))
		return tc_errorf(err, errlen, "certificate: not TBS, algorithm, signature");
	if (tc_der_bit_string_bytes(&sig, &v->sig, &v->sig_len) != TC_DER_OK)
		return tc_errorf(err, errlen, "certificate: bad signature BIT STRING");
	if (tc_tbs_view_parse(tbs.tlv, tbs.tlv_len, &v->tbs, err, errlen) != 0)
		return -1;
	/* RFC 5280 4.1.1.2: the two algorithm fields must be identical. */
	if (v->sig_alg.tlv_len != v->tbs.sig_alg.tlv_len ||
	    memcmp(v->sig_alg.tlv, v->tbs.sig_alg.tlv, v->sig_alg.tlv_len) != 0)
		return tc_errorf(err, errlen, "certificate: signature algorithm differs from the TBS's");
	return 0;
}

int tc_ext_next(struct tc_der_cursor *c, struct tc_ext_view *out)
{
	memset(out, 0, sizeof(*out));
	int rc = tc_der_next(c, &out->whole);
	if (rc != TC_DER_OK)
		return rc;
	if (out->whole.tag != TC_DER_SEQUENCE)
		return TC_DER_MALFORMED;
	struct tc_der_cursor ec = tc_der_inside(&out->whole);
	struct tc_der_elem crit;
	if (tc_der_expect(&ec, TC_DER_OID, &out->oid) != TC_DER_OK || !tc_der_oid_valid(&out->oid))
		return TC_DER_MALFORMED;
	rc = tc_der_optional(&ec, TC_DER_BOOLEAN, &crit);
	if (rc == TC_DER_OK) {
		/* DER: a DEFAULT FALSE field is absent when false, and TRUE is 0xff. */
		if (crit.val_len != 1 || crit.val[0] != 0xff)
			return TC_DER_MALFORMED;
		out->critical = 1;
	} else if (rc != TC_DER_END) {
		return TC_DER_MALFORMED;
	}
	if (tc_der_expect(&ec, TC_DER_OCTET_STRING, &out->value) != TC_DER_OK || !tc_der_at_end(&ec))
		return TC_DER_MALFORMED;
	return TC_DER_OK;
}

int tc_tbs_find_ext(const struct tc_tbs_view *v, const uint8_t *oid, size_t oid_len, struct tc_ext_view *out)
{
	if (!v->has_extensions)
		return 1;
	struct tc_der_cursor c = tc_der_inside(&v->extensions);
	struct tc_ext_view e;
	int found = 0, rc;
	while ((rc = tc_ext_next(&c, &e)) == TC_DER_OK) {
		if (!tc_der_oid_is(&e.oid, oid, oid_len))
			continue;
		if (found)
			return -1;
		*out = e;
		found = 1;
	}
	if (rc != TC_DER_END)
		return -1;
	return found ? 0 : 1;
}

/* Writes a header (tag, length octets) at p; returns the octets written. */
static size_t put_header(uint8_t *p, uint8_t tag, size_t len)
{
	p[0] = tag;
	return 1 + tc_der_put_len(len, p + 1);
}

int tc_tbs_without_ext(const struct tc_tbs_view *v, const struct tc_ext_view *ext, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	const uint8_t *exts = v->extensions.val, *exts_end = exts + v->extensions.val_len;
	const uint8_t *cut = ext->whole.tlv, *cut_end = cut + ext->whole.tlv_len;
	if (!v->has_extensions || cut < exts || cut_end > exts_end || cut_end < cut)
		return -1;
	/* TBS contents: [fields before [3]] [3] [anything after [3]] */
	const uint8_t *body = v->whole.val, *body_end = body + v->whole.val_len;
	const uint8_t *tagged = v->extensions_tagged.tlv, *tagged_end = tagged + v->extensions_tagged.tlv_len;
	size_t ext_left = (size_t)(cut - exts) + (size_t)(exts_end - cut_end);
	size_t seq_size = tc_der_tlv_size(ext_left);
	size_t tagged_size = ext_left ? tc_der_tlv_size(seq_size) : 0;
	size_t tbs_body = (size_t)(tagged - body) + tagged_size + (size_t)(body_end - tagged_end);
	size_t total = tc_der_tlv_size(tbs_body);
	uint8_t *p = malloc(total);
	if (!p)
		return -1;
	size_t o = put_header(p, TC_DER_SEQUENCE, tbs_body);
	memcpy(p + o, body, (size_t)(tagged - body));
	o += (size_t)(tagged - body);
	if (ext_left) {
		o += put_header(p + o, TC_DER_CONTEXT(3), seq_size);
		o += put_header(p + o, TC_DER_SEQUENCE, ext_left);
		memcpy(p + o, exts, (size_t)(cut - exts));
		o += (size_t)(cut - exts);
		memcpy(p + o, cut_end, (size_t)(exts_end - cut_end));
		o += (size_t)(exts_end - cut_end);
	}
	memcpy(p + o, tagged_end, (size_t)(body_end - tagged_end));
	o += (size_t)(body_end - tagged_end);
	*out = p;
	*len = o;
	return 0;
}
