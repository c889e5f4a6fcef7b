/* Chain splitting for Validate; see chain_parse.h. */
#include "common/chain_parse.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#define PEM_PREFIX "-----BEGIN"
/* Base64 is 4/3 of the DER plus line breaks and armour: an element larger
 * than this cannot hold TC_CHAIN_MAX_CERTS certificates within bounds. */
#define MAX_PEM_ELEMENT (TC_CHAIN_MAX_CERTS * TC_CHAIN_MAX_CERT_BYTES * 3 / 2)

/* Exactly one definite-length DER SEQUENCE filling [der, der + len). */
static int der_sequence_fills(const unsigned char *der, size_t len)
{
	if (len < 2 || der[0] != 0x30)
		return 0;
	size_t hdr = 2, body = der[1];
	if (body & 0x80) {
		size_t n = body & 0x7f;
		if (n == 0 || n > 3 || len < 2 + n || der[2] == 0)
			return 0; /* indefinite (BER), too long for our bounds, or not minimal */
		body = 0;
		for (size_t i = 0; i < n; i++)
			body = (body << 8) | der[2 + i];
		if (body < 0x80)
			return 0;
		hdr += n;
	}
	return hdr + body == len;
}

static enum tc_chain_status add_der(struct tc_chain *chain, const unsigned char *der, size_t len,
				    unsigned char *owned, size_t elem, char *why, size_t whylen)
{
	if (chain->n == TC_CHAIN_MAX_CERTS) {
		OPENSSL_free(owned);
		snprintf(why, whylen, "more than %d certificates", TC_CHAIN_MAX_CERTS);
		return TC_CHAIN_MALFORMED;
	}
	if (len > TC_CHAIN_MAX_CERT_BYTES) {
		OPENSSL_free(owned);
		snprintf(why, whylen, "chain element %zu: a certificate of %zu bytes (at most %d)", elem, len,
			 TC_CHAIN_MAX_CERT_BYTES);
		return TC_CHAIN_MALFORMED;
	}
	if (!der_sequence_fills(der, len)) {
		OPENSSL_free(owned);
		snprintf(why, whylen, "chain element %zu is not one DER certificate", elem);
		return TC_CHAIN_MALFORMED;
	}
	struct tc_chain_cert *c = &chain->certs[chain->n++];
	c->der = der;
	c->len = len;
	c->owned = owned;
	return TC_CHAIN_OK;
}

/* Every CERTIFICATE block of a PEM element, in order. Text around the
 * blocks is ignored, as PEM readers do; any other block type, or base64
 * that does not decode, makes the element malformed. */
static enum tc_chain_status add_pem(struct tc_chain *chain, const unsigned char *text, size_t len, size_t elem,
				    char *why, size_t whylen)
{
	if (len > MAX_PEM_ELEMENT) {
		snprintf(why, whylen, "chain element %zu: %zu bytes of PEM is too large", elem, len);
		return TC_CHAIN_MALFORMED;
	}
	BIO *b = BIO_new_mem_buf(text, (int)len);
	if (!b) {
		snprintf(why, whylen, "out of memory");
		return TC_CHAIN_MALFORMED;
	}
	enum tc_chain_status st = TC_CHAIN_OK;
	size_t found = 0;
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long n = 0;
		if (!PEM_read_bio(b, &name, &header, &data, &n)) {
			unsigned long e = ERR_peek_last_error();
			/* Running out of blocks is the normal end; anything else is bad PEM. */
			if (found == 0 || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
				snprintf(why, whylen, "chain element %zu: %s", elem,
					 found ? "PEM after the first block does not decode" : "PEM does not decode");
				st = TC_CHAIN_MALFORMED;
			}
			break;
		}
		int is_cert = strcmp(name, PEM_STRING_X509) == 0;
		OPENSSL_free(name);
		OPENSSL_free(header);
		if (!is_cert) {
			OPENSSL_free(data);
			snprintf(why, whylen, "chain element %zu: a PEM block that is not a CERTIFICATE", elem);
			st = TC_CHAIN_MALFORMED;
			break;
		}
		found++;
		st = add_der(chain, data, (size_t)n, data, elem, why, whylen);
		if (st != TC_CHAIN_OK)
			break;
	}
	ERR_clear_error();
	BIO_free(b);
	return st;
}

enum tc_chain_status tc_chain_split(const unsigned char *const *elems, const size_t *lens, size_t n,
				    struct tc_chain *chain, char *why, size_t whylen)
{
	memset(chain, 0, sizeof(*chain));
	why[0] = '\0';
	size_t nonempty = 0;
	for (size_t i = 0; i < n; i++)
		nonempty += lens[i] > 0;
	if (nonempty == 0) {
		snprintf(why, whylen, "the chain holds no certificate");
		return TC_CHAIN_EMPTY;
	}
	if (n > TC_CHAIN_MAX_CERTS) {
		snprintf(why, whylen, "%zu chain elements (at most %d)", n, TC_CHAIN_MAX_CERTS);
		return TC_CHAIN_MALFORMED;
	}
	for (size_t i = 0; i < n; i++) {
		enum tc_chain_status st;
		if (lens[i] == 0) {
			snprintf(why, whylen, "chain element %zu is empty", i);
			st = TC_CHAIN_MALFORMED;
		} else if (lens[i] >= strlen(PEM_PREFIX) && memcmp(elems[i], PEM_PREFIX, strlen(PEM_PREFIX)) == 0) {
			st = add_pem(chain, elems[i], lens[i], i, why, whylen);
		} else {
			st = add_der(chain, elems[i], lens[i], NULL, i, why, whylen);
		}
		if (st != TC_CHAIN_OK)
			return st;
	}
	return TC_CHAIN_OK;
}

void tc_chain_release(struct tc_chain *chain)
{
	for (size_t i = 0; i < chain->n; i++)
		OPENSSL_free(chain->certs[i].owned);
	chain->n = 0;
}

X509 *tc_chain_parse_cert(const struct tc_chain_cert *c)
{
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->len);
	if (x && p != c->der + c->len) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}
