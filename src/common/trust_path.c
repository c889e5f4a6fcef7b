/* Path to a TrustChain root; see validate_internal.h.
 *
 * Times are not checked here (X509_V_FLAG_NO_CHECK_TIME): a path is a
 * property of the certificates alone, so verified CAs can be cached for
 * any validation time, and the validity check reports NOT_YET_VALID or
 * EXPIRED on its own instead of a path failure. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "common/trust_internal.h"

static int der_hash(const struct tc_chain_cert *c, unsigned char out[32])
{
	return EVP_Digest(c->der, c->len, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

/* What X509_verify_cert would refuse in a leaf before looking at its
 * issuer, checked here for the cached path which skips it. */
static enum tc_path_result leaf_acceptable(X509 *leaf, char *why, size_t whylen)
{
	uint32_t flags = X509_get_extension_flags(leaf);
	if (flags & EXFLAG_INVALID) {
		snprintf(why, whylen, "the leaf has an undecodable or repeated extension");
		return TC_PATH_MALFORMED;
	}
	if (X509_get_ext_by_NID(leaf, NID_ct_precert_poison, -1) >= 0) {
		snprintf(why, whylen, "the leaf is a CT precertificate, which is not usable as a certificate");
		return TC_PATH_UNTRUSTED;
	}
	if (flags & EXFLAG_CRITICAL) {
		snprintf(why, whylen, "the leaf has a critical extension we do not handle");
		return TC_PATH_UNTRUSTED;
	}
	return TC_PATH_OK;
}

/* The cached path: an issuer we verified before (found by the bytes the
 * caller sent, or pinned) and one signature check. 1 when candidate issued
 * leaf (*issuer referenced), 0 when it did not, -1 when its name matches
 * but the signature does not verify. */
/* The short path checks one signature, so it must also check what
 * X509_verify_cert would: the leaf's names against the nameConstraints of
 * every CA above it (the issuing intermediate carries them: a leaf its key
 * signed outside them is untrusted by any TLS stack, and by us). The CN
 * counts as a DNS name when it looks like one, as OpenSSL does. 1 when
 * the leaf falls outside. */
static int outside_name_constraints(X509 *leaf, const struct tc_ca_cert *ca, char *why, size_t whylen)
{
	for (; ca; ca = ca->issuer) {
		NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca->cert, NID_name_constraints, NULL, NULL);
		if (!nc)
			continue;
		int rc = NAME_CONSTRAINTS_check(leaf, nc);
		if (rc == X509_V_OK)
			rc = NAME_CONSTRAINTS_check_CN(leaf, nc);
		NAME_CONSTRAINTS_free(nc);
		if (rc != X509_V_OK) {
			ERR_clear_error();
			snprintf(why, whylen, "the leaf's names are outside its issuer's name constraints (%s)",
				 X509_verify_cert_error_string(rc));
			return 1;
		}
	}
	return 0;
}

static int try_issuer(X509 *leaf, struct tc_ca_cert *candidate, struct tc_ca_cert **issuer, char *why,
		      size_t whylen)
{
	if (X509_check_issued(candidate->cert, leaf) != X509_V_OK)
		return 0;
	if (X509_verify(leaf, candidate->key) != 1) {
		ERR_clear_error();
		snprintf(why, whylen, "the leaf's signature does not verify with its issuer's key");
		return -1;
	}
	if (outside_name_constraints(leaf, candidate, why, whylen))
		return -1;
	*issuer = tc_ca_cert_ref(candidate);
	return 1;
}

/* Caches every CA of a verified path below the root and returns the
 * leaf's issuer (referenced). */
static struct tc_ca_cert *cache_path(struct tc_trust *v, STACK_OF(X509) *path)
{
	int n = sk_X509_num(path);
	struct tc_ca_cert *up = tc_ca_cert_ref(v->root);
	for (int i = n - 2; i >= 1 && up; i--) {
		X509 *x = sk_X509_value(path, i);
		struct tc_ca_cert *e = tc_ca_cert_new(x, up);
		if (e) {
			struct tc_ca_cert *known = tc_chain_cache_get(v->cas, e->der_hash);
			if (known) {
				tc_ca_cert_unref(e);
				e = known;
			} else {
				tc_chain_cache_add(v->cas, e, 0);
			}
		}
		tc_ca_cert_unref(up);
		up = e;
	}
	return up;
}

/* X509_verify_cert against the root with the presented certificates as
 * untrusted material. */
static enum tc_path_result full_path(struct tc_trust *v, X509 *leaf, STACK_OF(X509) *untrusted,
				     struct tc_ca_cert **issuer, char *why, size_t whylen)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!ctx || X509_STORE_CTX_init(ctx, v->store, leaf, untrusted) != 1) {
		X509_STORE_CTX_free(ctx);
		snprintf(why, whylen, "out of memory");
		return TC_PATH_UNTRUSTED;
	}
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
	enum tc_path_result r = TC_PATH_UNTRUSTED;
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		snprintf(why, whylen, "no path to a TrustChain root: %s (at certificate %d of the path)",
			 X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ctx));
	} else if (sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) < 2) {
		snprintf(why, whylen, "the leaf is the TrustChain root itself, not an end-entity certificate");
	} else if (!(*issuer = cache_path(v, X509_STORE_CTX_get0_chain(ctx)))) {
		snprintf(why, whylen, "out of memory");
	} else {
		r = TC_PATH_OK;
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

/* The presented CAs: known ones from the cache by their bytes (known[i]
 * referenced), the others decoded into *untrusted; one that does not
 * decode makes the chain malformed. hint (may be NULL) is a cached CA
 * tried first by comparing bytes: a cached leaf's issuer, presented again
 * with it, then costs no SHA-256. */
static enum tc_path_result presented_cas(struct tc_trust *v, const struct tc_chain *chain,
					 const struct tc_ca_cert *hint, struct tc_ca_cert *known[],
					 STACK_OF(X509) **untrusted, char *why, size_t whylen)
{
	for (size_t i = 1; i < chain->n; i++) {
		if (hint && chain->certs[i].len == hint->der_len &&
		    memcmp(chain->certs[i].der, hint->der, hint->der_len) == 0) {
			known[i] = tc_ca_cert_ref((struct tc_ca_cert *)hint);
			continue;
		}
		unsigned char h[32];
		if (der_hash(&chain->certs[i], h) != 0) {
			snprintf(why, whylen, "out of memory");
			return TC_PATH_UNTRUSTED;
		}
		if ((known[i] = tc_chain_cache_get(v->cas, h)))
			continue;
		X509 *x = tc_chain_parse_cert(&chain->certs[i]);
		if (!x) {
			snprintf(why, whylen, "certificate %zu of the chain does not decode", i);
			return TC_PATH_MALFORMED;
		}
		if ((!*untrusted && !(*untrusted = sk_X509_new_null())) || !sk_X509_push(*untrusted, x)) {
			X509_free(x);
			snprintf(why, whylen, "out of memory");
			return TC_PATH_UNTRUSTED;
		}
	}
	return TC_PATH_OK;
}

/* A leaf validated before: its decoded form, issuer and SCT verdict come
 * from the cache. The answer must not depend on what happens to be cached,
 * so the presented CAs must still all decode, and the remembered issuer
 * must be one a fresh validation would find: presented, or pinned.
 * Returns 0 (*r set) when the entry applies, -1 when it does not. */
static int cached_leaf(struct tc_trust *v, const struct tc_chain *chain, struct tc_leaf_entry *e, X509 **leaf,
		       struct tc_ca_cert **issuer, enum tc_path_result *r, char *why, size_t whylen)
{
	struct tc_ca_cert *known[TC_CHAIN_MAX_CERTS] = {0};
	STACK_OF(X509) *untrusted = NULL;
	*r = presented_cas(v, chain, e->issuer, known, &untrusted, why, whylen);
	int applies = *r != TC_PATH_OK;
	for (size_t i = 1; i < chain->n; i++) {
		applies |= known[i] == e->issuer;
		tc_ca_cert_unref(known[i]);
	}
	sk_X509_pop_free(untrusted, X509_free);
	if (!applies) {
		struct tc_ca_cert *pinned = tc_chain_cache_pinned_issuer(v->cas, e->cert);
		applies = pinned == e->issuer;
		tc_ca_cert_unref(pinned);
	}
	if (!applies || X509_up_ref(e->cert) != 1)
		return -1;
	*leaf = e->cert;
	if (*r == TC_PATH_OK)
		*issuer = tc_ca_cert_ref(e->issuer);
	return 0;
}

enum tc_path_result tc_validate_path(struct tc_trust *v, const struct tc_chain *chain, X509 **leaf,
				     struct tc_ca_cert **issuer, struct tc_leaf_entry **cached, char *why,
				     size_t whylen)
{
	*issuer = NULL;
	*leaf = NULL;
	*cached = NULL;
	enum tc_path_result r;
	if (v->leaves && (*cached = tc_leaf_cache_get(v->leaves, chain->certs[0].der, chain->certs[0].len))) {
		if (cached_leaf(v, chain, *cached, leaf, issuer, &r, why, whylen) == 0)
			return r;
		tc_leaf_entry_unref(*cached);
		*cached = NULL;
		why[0] = '\0';
	}
	if (!(*leaf = tc_chain_parse_cert(&chain->certs[0]))) {
		snprintf(why, whylen, "the leaf certificate does not decode");
		return TC_PATH_MALFORMED;
	}
	r = leaf_acceptable(*leaf, why, whylen);
	if (r != TC_PATH_OK)
		return r;

	struct tc_ca_cert *known[TC_CHAIN_MAX_CERTS] = {0};
	STACK_OF(X509) *untrusted = NULL;
	r = presented_cas(v, chain, NULL, known, &untrusted, why, whylen);
	/* The leaf's issuer among the known CAs, or the pinned ones (a STOQ
	 * peer may present its leaf alone). */
	for (size_t i = 1; i < chain->n && r == TC_PATH_OK && !*issuer; i++) {
		if (!known[i])
			continue;
		if (try_issuer(*leaf, known[i], issuer, why, whylen) < 0)
			r = TC_PATH_UNTRUSTED;
	}
	if (r == TC_PATH_OK && !*issuer) {
		struct tc_ca_cert *pinned = tc_chain_cache_pinned_issuer(v->cas, *leaf);
		if (pinned) {
			if (try_issuer(*leaf, pinned, issuer, why, whylen) < 0)
				r = TC_PATH_UNTRUSTED;
			tc_ca_cert_unref(pinned);
		}
	}
	if (r == TC_PATH_OK && !*issuer) {
		/* Known CAs go back in as untrusted material too: they may be
		 * the upper part of a path through an unknown one. */
		for (size_t i = 1; i < chain->n && r == TC_PATH_OK; i++) {
			if (known[i] && ((!untrusted && !(untrusted = sk_X509_new_null())) ||
					 !sk_X509_push(untrusted, known[i]->cert) || !X509_up_ref(known[i]->cert))) {
				snprintf(why, whylen, "out of memory");
				r = TC_PATH_UNTRUSTED;
			}
		}
		if (r == TC_PATH_OK)
			r = full_path(v, *leaf, untrusted, issuer, why, whylen);
	}
	for (size_t i = 1; i < chain->n; i++)
		tc_ca_cert_unref(known[i]);
	sk_X509_pop_free(untrusted, X509_free);
	return r;
}
