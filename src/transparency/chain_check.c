#include "transparency/chain_check.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "transparency/chain_fast.h"
#include "transparency/ct_precert.h"

struct tc_chain_checker {
	X509 *root;
	X509 *intermediate;
	unsigned char *root_der;
	size_t root_der_len;
	unsigned char issuer_key_hash[TC_CT_HASH_LEN];
	/* The intermediate's DER: a submitted chain element with these bytes is
	 * the already parsed intermediate (decoding costs more than checking). */
	unsigned char *intermediate_der;
	size_t intermediate_der_len;
	/* Root and intermediate as trust anchors. The intermediate's signature
	 * (P-384, the costliest step of a submission) is checked once at load,
	 * so a submission only verifies its leaf (partial chain). Shared by
	 * all threads: OpenSSL locks the store internally. */
	X509_STORE *store;
	struct tc_chain_fast fast;
};

static X509 *read_pem(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!x)
		snprintf(err, errlen, "cannot read a certificate from %s", path);
	return x;
}

int tc_chain_checker_load(const char *root_pem, const char *intermediate_pem, struct tc_chain_checker **out,
			  char *err, size_t errlen)
{
	X509 *root = read_pem(root_pem, err, errlen);
	X509 *inter = root ? read_pem(intermediate_pem, err, errlen) : NULL;
	char why[256];
	int rc = inter ? tc_chain_checker_new(root, inter, out, why, sizeof(why)) : -1;
	if (rc != 0 && inter)
		snprintf(err, errlen, "%s under %s: %s", intermediate_pem, root_pem, why);
	X509_free(root);
	X509_free(inter);
	return rc;
}

int tc_chain_checker_new(X509 *root, X509 *intermediate, struct tc_chain_checker **out, char *err, size_t errlen)
{
	struct tc_chain_checker *chk = calloc(1, sizeof(*chk));
	if (!chk || !X509_up_ref(root)) {
		free(chk);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	chk->root = root;
	if (!X509_up_ref(intermediate)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	chk->intermediate = intermediate;
	unsigned char *der = NULL;
	int len;
	if ((len = i2d_X509(chk->root, &chk->root_der)) <= 0) {
		snprintf(err, errlen, "cannot encode the root");
		goto fail;
	}
	chk->root_der_len = (size_t)len;
	if ((len = i2d_X509(chk->intermediate, &der)) <= 0 ||
	    tc_ct_issuer_key_hash(der, (size_t)len, chk->issuer_key_hash) != TC_CT_OK) {
		snprintf(err, errlen, "cannot hash the intermediate's key");
		OPENSSL_free(der);
		goto fail;
	}
	chk->intermediate_der = der;
	chk->intermediate_der_len = (size_t)len;
	EVP_PKEY *root_key = X509_get0_pubkey(chk->root);
	if (!root_key || X509_verify(chk->intermediate, root_key) != 1) {
		snprintf(err, errlen, "the intermediate is not signed by the root");
		goto fail;
	}
	if (!(chk->store = X509_STORE_new()) || !X509_STORE_add_cert(chk->store, chk->root) ||
	    !X509_STORE_add_cert(chk->store, chk->intermediate)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	X509_STORE_set_flags(chk->store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
	char why[128] = "";
	if (tc_chain_fast_init(&chk->fast, chk->root, chk->intermediate, chk->root_der, chk->root_der_len,
			       chk->intermediate_der, chk->intermediate_der_len, chk->issuer_key_hash, why,
			       sizeof(why)) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!chk->fast.enabled)
		tc_info("submissions checked by OpenSSL only: %s", why);
	*out = chk;
	return 0;
fail:
	tc_chain_checker_free(chk);
	return -1;
}

int tc_chain_checker_fast(const struct tc_chain_checker *chk)
{
	return chk->fast.enabled;
}

void tc_chain_checker_free(struct tc_chain_checker *chk)
{
	if (!chk)
		return;
	X509_free(chk->root);
	X509_free(chk->intermediate);
	OPENSSL_free(chk->intermediate_der);
	X509_STORE_free(chk->store);
	tc_chain_fast_free(&chk->fast);
	OPENSSL_free(chk->root_der);
	free(chk);
}

void tc_chain_checker_root(const struct tc_chain_checker *chk, const unsigned char **der, size_t *len)
{
	*der = chk->root_der;
	*len = chk->root_der_len;
}

void tc_checked_chain_free(struct tc_checked_chain *cc)
{
	free(cc->owned);
	free(cc->extra);
	memset(cc, 0, sizeof(*cc));
}

static void put24(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 16);
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)v;
}

/* TLS encoding of [lead (an ASN.1Cert, optional)] ASN.1Cert chain<0..2^24-1>
 * from the verified chain minus its first element, always up to the root
 * (a partial chain that stops at the trusted intermediate gets the root
 * appended, so the stored chain is what a full path build gives). */
static int encode_extra_chain(STACK_OF(X509) *verified, const unsigned char *lead, size_t lead_len,
			      struct tc_checked_chain *out);

static int encode_extra(const struct tc_chain_checker *chk, STACK_OF(X509) *verified, const unsigned char *lead,
			size_t lead_len, struct tc_checked_chain *out)
{
	int n = sk_X509_num(verified);
	if (n > 0 && X509_cmp(sk_X509_value(verified, n - 1), chk->root) == 0)
		return encode_extra_chain(verified, lead, lead_len, out);
	STACK_OF(X509) *full = sk_X509_dup(verified); /* shallow: no references taken */
	int rc = full && sk_X509_push(full, chk->root) ? encode_extra_chain(full, lead, lead_len, out) : -1;
	sk_X509_free(full);
	return rc;
}

static int encode_extra_chain(STACK_OF(X509) *verified, const unsigned char *lead, size_t lead_len,
			      struct tc_checked_chain *out)
{
	size_t chain_len = 0;
	int n = sk_X509_num(verified);
	for (int i = 1; i < n; i++) {
		int l = i2d_X509(sk_X509_value(verified, i), NULL);
		if (l <= 0)
			return -1;
		chain_len += 3 + (size_t)l;
	}
	size_t total = (lead ? 3 + lead_len : 0) + 3 + chain_len;
	if (chain_len > TC_CT_MAX_CERT_LEN || lead_len > TC_CT_MAX_CERT_LEN || !(out->extra = malloc(total)))
		return -1;
	unsigned char *p = out->extra;
	if (lead) {
		put24(p, lead_len);
		memcpy(p + 3, lead, lead_len);
		p += 3 + lead_len;
	}
	put24(p, chain_len);
	p += 3;
	for (int i = 1; i < n; i++) {
		unsigned char *q = p + 3;
		int l = i2d_X509(sk_X509_value(verified, i), &q);
		put24(p, (size_t)l);
		p += 3 + l;
	}
	out->extra_len = total;
	return 0;
}

/* A precertificate's poison extension is critical by design (RFC 6962
 * 3.1) and unknown to path validation; accept exactly that one at the leaf
 * and keep refusing any other unhandled critical extension. */
static int allow_poison(int ok, X509_STORE_CTX *ctx)
{
	if (ok || X509_STORE_CTX_get_error(ctx) != X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION ||
	    X509_STORE_CTX_get_error_depth(ctx) != 0)
		return ok;
	X509 *x = X509_STORE_CTX_get_current_cert(ctx);
	for (int i = 0; i < X509_get_ext_count(x); i++) {
		X509_EXTENSION *ext = X509_get_ext(x, i);
		if (X509_EXTENSION_get_critical(ext) && !X509_supported_extension(ext) &&
		    OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_ct_precert_poison)
			return 0;
	}
	return 1;
}

int tc_chain_check(const struct tc_chain_checker *chk, int precert, unsigned char *const *certs,
		   const size_t *lens, size_t n, struct tc_checked_chain *out, char *err, size_t errlen)
{
	if (tc_chain_fast_check(&chk->fast, precert, certs, lens, n, out) == 1)
		return 0;
	return tc_chain_check_openssl(chk, precert, certs, lens, n, out, err, errlen);
}

int tc_chain_check_openssl(const struct tc_chain_checker *chk, int precert, unsigned char *const *certs,
			   const size_t *lens, size_t n, struct tc_checked_chain *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (n == 0) {
		snprintf(err, errlen, "empty chain");
		return -1;
	}
	int rc = -1;
	X509 *leaf = NULL;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!untrusted || !ctx) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = certs[i];
		X509 *x = NULL;
		if (i > 0 && lens[i] == chk->intermediate_der_len &&
		    memcmp(certs[i], chk->intermediate_der, lens[i]) == 0 && X509_up_ref(chk->intermediate)) {
			x = chk->intermediate;
			p += lens[i];
		} else if (lens[i] <= TC_CT_MAX_CERT_LEN) {
			x = d2i_X509(NULL, &p, (long)lens[i]);
		}
		if (!x || p != certs[i] + lens[i]) {
			X509_free(x);
			snprintf(err, errlen, "chain[%zu] is not a DER certificate", i);
			goto done;
		}
		if (i == 0)
			leaf = x;
		else if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			snprintf(err, errlen, "out of memory");
			goto done;
		}
	}
	int poisoned = X509_get_ext_by_NID(leaf, NID_ct_precert_poison, -1) >= 0;
	if (poisoned != precert) {
		snprintf(err, errlen, precert ? "not a precertificate (no poison extension)"
					      : "a precertificate belongs in add-pre-chain");
		goto done;
	}
	if (!X509_STORE_CTX_init(ctx, chk->store, leaf, untrusted)) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (precert)
		X509_STORE_CTX_set_verify_cb(ctx, allow_poison);
	if (X509_verify_cert(ctx) != 1) {
		snprintf(err, errlen, "chain does not lead to an accepted root: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto done;
	}
	STACK_OF(X509) *verified = X509_STORE_CTX_get0_chain(ctx);
	if (precert) {
		/* Issued directly by an intermediate under our root: the issuing one,
		 * or its successor during a CA key rollover (signer/issuers.h),
		 * whose key the entry then names. */
		X509 *by = sk_X509_num(verified) >= 2 ? sk_X509_value(verified, 1) : NULL;
		if (by && X509_cmp(by, chk->root) == 0)
			by = NULL; /* the root signs no leaf */
		unsigned char by_hash[TC_CT_HASH_LEN];
		int hashed = 0;
		if (by && X509_cmp(by, chk->intermediate) == 0) {
			/* Our intermediate: its key hash was taken once at load
			 * (re-encoding and re-parsing it cost ~20% of the log's
			 * CPU per submission). */
			memcpy(by_hash, chk->issuer_key_hash, TC_CT_HASH_LEN);
			hashed = 1;
		} else if (by) {
			unsigned char *by_der = NULL;
			int by_len = i2d_X509(by, &by_der);
			hashed = by_len > 0 && tc_ct_issuer_key_hash(by_der, (size_t)by_len, by_hash) == TC_CT_OK;
			OPENSSL_free(by_der);
		}
		if (!by || X509_check_ca(by) == 0 || !hashed) {
			snprintf(err, errlen, "precertificate not issued by this log's intermediate");
			goto done;
		}
		size_t tbs_len = 0;
		int st = tc_ct_precert_tbs_x509(leaf, &out->owned, &tbs_len); /* leaf loses its poison */
		if (st != TC_CT_OK) {
			snprintf(err, errlen, "precertificate: %s", tc_ct_strerror(st));
			goto done;
		}
		out->entry.type = TC_CT_PRECERT_ENTRY;
		out->entry.cert = out->owned;
		out->entry.cert_len = tbs_len;
		memcpy(out->entry.issuer_key_hash, by_hash, TC_CT_HASH_LEN);
		if (encode_extra(chk, verified, certs[0], lens[0], out) != 0) {
			snprintf(err, errlen, "chain too long");
			goto done;
		}
	} else {
		if (!(out->owned = malloc(lens[0]))) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		memcpy(out->owned, certs[0], lens[0]);
		out->entry.type = TC_CT_X509_ENTRY;
		out->entry.cert = out->owned;
		out->entry.cert_len = lens[0];
		if (encode_extra(chk, verified, NULL, 0, out) != 0) {
			snprintf(err, errlen, "chain too long");
			goto done;
		}
	}
	rc = 0;
done:
	if (rc != 0)
		tc_checked_chain_free(out);
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	return rc;
}
