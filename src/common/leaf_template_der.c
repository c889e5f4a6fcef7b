/* The leaf template written directly as DER: the same bytes as
 * tc_leaf_template_new + tc_template_tbs_der (test_leaf_template checks
 * them against each other), without the dozen OpenSSL objects, extension
 * config parsing and re-encoding per issuance. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/der_writer.h"
#include "common/errorf.h"
#include "common/leaf_template.h"

static const uint8_t OID_RSA_ENCRYPTION[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};

/* Fixed parts: version v3, serial 1 and the placeholder ecdsa-with-SHA256
 * the signer overwrites; basicConstraints critical CA:FALSE; keyUsage
 * critical digitalSignature (and keyEncipherment for RSA keys). */
static const uint8_t VERSION_SERIAL_ALG[] = {0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01, 0x30, 0x0a,
					     0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t EXT_BASIC_CONSTRAINTS[] = {0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01,
						0x01, 0xff, 0x04, 0x02, 0x30, 0x00};
static const uint8_t EXT_KEY_USAGE_SIGN[] = {0x30, 0x0e, 0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01,
					     0x01, 0xff, 0x04, 0x04, 0x03, 0x02, 0x07, 0x80};
static const uint8_t EXT_KEY_USAGE_SIGN_ENCIPHER[] = {0x30, 0x0e, 0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01,
						      0x01, 0xff, 0x04, 0x04, 0x03, 0x02, 0x05, 0xa0};
static const uint8_t OID_EXT_KEY_USAGE[] = {0x55, 0x1d, 0x25};
static const uint8_t OID_SUBJECT_ALT_NAME[] = {0x55, 0x1d, 0x11};
static const uint8_t OID_COMMON_NAME[] = {0x55, 0x04, 0x03};
static const uint8_t OID_SERVER_AUTH[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
static const uint8_t OID_CLIENT_AUTH[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};

/* The one-CN Name OpenSSL writes for MBSTRING_UTF8 under its default
 * "utf8only" string mask: a UTF8String, 1..64 characters (X.520
 * ub-common-name). ASCII only here: every caller passes a DNS name or a
 * textual IP address. */
static int put_cn_name(struct tc_der_writer *w, const char *cn)
{
	size_t n = strlen(cn);
	if (n < 1 || n > 64)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)cn[i] > 0x7f)
			return -1;
	tc_der_open(w, TC_DER_SEQUENCE);
	tc_der_open(w, TC_DER_SET);
	tc_der_open(w, TC_DER_SEQUENCE);
	tc_der_put_tlv(w, TC_DER_OID, OID_COMMON_NAME, sizeof(OID_COMMON_NAME));
	tc_der_put_tlv(w, TC_DER_UTF8STRING, cn, n);
	tc_der_close(w);
	tc_der_close(w);
	tc_der_close(w);
	return 0;
}

static void put_eku(struct tc_der_writer *w, const struct tc_leaf_request *rq)
{
	tc_der_open(w, TC_DER_SEQUENCE);
	tc_der_put_tlv(w, TC_DER_OID, OID_EXT_KEY_USAGE, sizeof(OID_EXT_KEY_USAGE));
	tc_der_open(w, TC_DER_OCTET_STRING);
	tc_der_open(w, TC_DER_SEQUENCE);
	if (rq->server_auth)
		tc_der_put_tlv(w, TC_DER_OID, OID_SERVER_AUTH, sizeof(OID_SERVER_AUTH));
	if (rq->client_auth)
		tc_der_put_tlv(w, TC_DER_OID, OID_CLIENT_AUTH, sizeof(OID_CLIENT_AUTH));
	tc_der_close(w);
	tc_der_close(w);
	tc_der_close(w);
}

/* subjectAltName: the DNS names, then the IP addresses (as a2i_IPADDRESS,
 * for the addresses inet_pton reads). */
static int put_sans(struct tc_der_writer *w, const struct tc_leaf_request *rq)
{
	static const uint8_t critical = 0xff;
	tc_der_open(w, TC_DER_SEQUENCE);
	tc_der_put_tlv(w, TC_DER_OID, OID_SUBJECT_ALT_NAME, sizeof(OID_SUBJECT_ALT_NAME));
	if (rq->n_dns == 0) /* critical with an empty subject (RFC 5280 4.2.1.6) */
		tc_der_put_tlv(w, TC_DER_BOOLEAN, &critical, 1);
	tc_der_open(w, TC_DER_OCTET_STRING);
	tc_der_open(w, TC_DER_SEQUENCE);
	for (size_t i = 0; i < rq->n_dns; i++)
		tc_der_put_tlv(w, TC_DER_CONTEXT_PRIM(2), rq->dns_names[i], strlen(rq->dns_names[i]));
	for (size_t i = 0; i < rq->n_ips; i++) {
		unsigned char addr[16];
		if (inet_pton(AF_INET, rq->ips[i], addr) == 1)
			tc_der_put_tlv(w, TC_DER_CONTEXT_PRIM(7), addr, 4);
		else if (inet_pton(AF_INET6, rq->ips[i], addr) == 1)
			tc_der_put_tlv(w, TC_DER_CONTEXT_PRIM(7), addr, 16);
		else
			return -1;
	}
	tc_der_close(w);
	tc_der_close(w);
	tc_der_close(w);
	return 0;
}

/* 1 when spki is an rsaEncryption SubjectPublicKeyInfo. */
static int spki_is_rsa(const uint8_t *spki, size_t len)
{
	struct tc_der_elem seq, alg, oid;
	if (tc_der_whole(spki, len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return 0;
	struct tc_der_cursor c = tc_der_inside(&seq);
	if (tc_der_expect(&c, TC_DER_SEQUENCE, &alg) != TC_DER_OK)
		return 0;
	struct tc_der_cursor a = tc_der_inside(&alg);
	return tc_der_expect(&a, TC_DER_OID, &oid) == TC_DER_OK && TC_DER_OID_IS(&oid, OID_RSA_ENCRYPTION);
}

int tc_leaf_tbs_der(const struct tc_leaf_request *rq, const uint8_t *spki, size_t spki_len, uint8_t **der,
		    size_t *len, char *err, size_t errlen)
{
	*der = NULL;
	*len = 0;
	struct tc_der_elem key;
	if (!spki || tc_der_whole(spki, spki_len, TC_DER_SEQUENCE, &key) != TC_DER_OK ||
	    rq->n_dns + rq->n_ips == 0)
		return tc_errorf(err, errlen, "a leaf needs a public key and at least one name");
	const char *cn = rq->n_dns ? rq->dns_names[0] : rq->ips[0];
	struct tc_der_writer w;
	tc_der_writer_init(&w);
	tc_der_open(&w, TC_DER_SEQUENCE);
	tc_der_put(&w, VERSION_SERIAL_ALG, sizeof(VERSION_SERIAL_ALG));
	int ok = put_cn_name(&w, cn) == 0; /* issuer: a placeholder too */
	tc_der_open(&w, TC_DER_SEQUENCE);
	ok = ok && tc_der_put_time(&w, rq->not_before) == 0 && tc_der_put_time(&w, rq->not_after) == 0;
	tc_der_close(&w);
	/* IP-only: an empty subject (see tc_leaf_template_new). */
	if (rq->n_dns)
		ok = ok && put_cn_name(&w, cn) == 0;
	else
		tc_der_open(&w, TC_DER_SEQUENCE), tc_der_close(&w);
	tc_der_put(&w, spki, spki_len);
	tc_der_open(&w, TC_DER_CONTEXT(3));
	tc_der_open(&w, TC_DER_SEQUENCE);
	tc_der_put(&w, EXT_BASIC_CONSTRAINTS, sizeof(EXT_BASIC_CONSTRAINTS));
	if (spki_is_rsa(spki, spki_len))
		tc_der_put(&w, EXT_KEY_USAGE_SIGN_ENCIPHER, sizeof(EXT_KEY_USAGE_SIGN_ENCIPHER));
	else
		tc_der_put(&w, EXT_KEY_USAGE_SIGN, sizeof(EXT_KEY_USAGE_SIGN));
	if (rq->server_auth || rq->client_auth)
		put_eku(&w, rq);
	ok = ok && put_sans(&w, rq) == 0;
	tc_der_close(&w);
	tc_der_close(&w);
	tc_der_close(&w);
	if (!ok) {
		tc_der_writer_free(&w);
		return tc_errorf(err, errlen, "cannot build the certificate template (bad name or address?)");
	}
	if (!(*der = tc_der_writer_take(&w, len)))
		return tc_errorf(err, errlen, "cannot build the certificate template (out of memory)");
	return 0;
}
