#include "ctl/artefacts.h"

#include <ctype.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/hex.h"

static char *bio_text(BIO *b)
{
	char *mem;
	long n = BIO_get_mem_data(b, &mem);
	char *out = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (out) {
		memcpy(out, mem, (size_t)n);
		out[n] = '\0';
	}
	return out;
}

char *tc_ctl_cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = b && PEM_write_bio_X509(b, x) == 1 ? bio_text(b) : NULL;
	BIO_free(b);
	return out;
}

char *tc_ctl_pubkey_pem(EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = b && PEM_write_bio_PUBKEY(b, key) == 1 ? bio_text(b) : NULL;
	BIO_free(b);
	return out;
}

EVP_PKEY *tc_ctl_plain_pubkey(EVP_PKEY *key)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);
	if (n <= 0)
		return NULL;
	const unsigned char *p = der;
	EVP_PKEY *copy = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	return copy;
}

void tc_ctl_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data, len, md);
	tc_hex_encode(md, sizeof(md), out);
}

int tc_ctl_ct_log_id(EVP_PKEY *pub, char *out, size_t outlen)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pub, &der);
	if (n <= 0)
		return -1;
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	char *b64 = tc_base64_encode(md, sizeof(md));
	int rc = b64 && snprintf(out, outlen, "%s", b64) < (int)outlen ? 0 : -1;
	free(b64);
	return rc;
}

/* Owner name in canonical (lower-case) DNS wire format, RFC 4034 6.2. */
static int zone_wire(const char *zone, unsigned char *out, size_t outlen, size_t *len)
{
	size_t o = 0, n = strlen(zone);
	if (n && zone[n - 1] == '.')
		n--;
	size_t start = 0;
	while (start < n) {
		size_t end = start;
		while (end < n && zone[end] != '.')
			end++;
		size_t lab = end - start;
		if (lab == 0 || lab > 63 || o + 1 + lab + 1 > outlen)
			return -1;
		out[o++] = (unsigned char)lab;
		for (size_t i = start; i < end; i++)
			out[o++] = (unsigned char)tolower((unsigned char)zone[i]);
		start = end + 1;
	}
	out[o++] = 0;
	*len = o;
	return 0;
}

/* RFC 4034 appendix B. */
static uint16_t key_tag(const unsigned char *rdata, size_t len)
{
	uint32_t ac = 0;
	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xFFFF;
	return (uint16_t)(ac & 0xFFFF);
}

int tc_ctl_dns_records(EVP_PKEY *pub, const char *zone, uint16_t flags, char *dnskey,
		       size_t dnskey_len, char *ds, size_t ds_len, char *err, size_t errlen)
{
	EVP_PKEY *plain = tc_ctl_plain_pubkey(pub);
	unsigned char point[133];
	size_t plen = 0;
	int ok = plain && EVP_PKEY_get_octet_string_param(plain, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
							  point, sizeof(point), &plen) == 1;
	EVP_PKEY_free(plain);
	/* Algorithm 13 (ECDSAP256SHA256) publishes X || Y without the 0x04 prefix. */
	if (!ok || plen != 65 || point[0] != 0x04) {
		snprintf(err, errlen, "zone key is not an uncompressed P-256 point");
		return -1;
	}
	unsigned char rdata[4 + 64];
	rdata[0] = (unsigned char)(flags >> 8);
	rdata[1] = (unsigned char)flags;
	rdata[2] = 3;  /* protocol */
	rdata[3] = 13; /* ECDSAP256SHA256 */
	memcpy(rdata + 4, point + 1, 64);

	unsigned char msg[256 + sizeof(rdata)];
	size_t wl;
	if (zone_wire(zone, msg, 256, &wl) != 0) {
		snprintf(err, errlen, "'%s' is not a valid zone name", zone);
		return -1;
	}
	memcpy(msg + wl, rdata, sizeof(rdata));
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(msg, wl + sizeof(rdata), md);
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	tc_hex_encode(md, sizeof(md), hex);
	for (char *p = hex; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	char *b64 = tc_base64_encode(rdata + 4, 64);
	if (!b64) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t zl = strlen(zone);
	const char *dot = zl && zone[zl - 1] == '.' ? "" : ".";
	snprintf(dnskey, dnskey_len, "%s%s IN DNSKEY %u 3 13 %s", zone, dot, (unsigned)flags, b64);
	snprintf(ds, ds_len, "%s%s IN DS %u 13 2 %s", zone, dot, (unsigned)key_tag(rdata, sizeof(rdata)), hex);
	free(b64);
	return 0;
}
