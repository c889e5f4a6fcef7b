/* The submission check for the one chain shape our own gateway sends: a
 * leaf followed by exactly the log's intermediate (optionally then the
 * root), byte for byte. The leaf is read with the strict DER views
 * (common/cert_der.h) and its signature checked against the intermediate's
 * key parsed once, instead of OpenSSL's d2i_X509 and X509_verify_cert
 * (~60% of the log's CPU per submission on OpenSSL 3.0).
 *
 * It only ever ACCEPTS: whatever it is not sure the general OpenSSL path
 * (chain_check.c) would accept with the same result — another chain shape,
 * an extension it does not know, a critical extension OpenSSL does not
 * handle, a field that is not plain DER, a bad signature — is left to that
 * path, which then decides and words the refusal. What it accepts it turns
 * into the same entry and extra_data bytes as the general path (tested:
 * test_chain_check, fuzz_chain_check). The CA's nameConstraints, when they
 * hold only dNSName and iPAddress subtrees (what trustchainctl writes), are
 * checked on the leaf's subjectAltName as X509_verify_cert checks them;
 * the cRLDistributionPoints and authorityInfoAccess our signer adds are
 * understood. */
#ifndef TC_TRANSPARENCY_CHAIN_FAST_H
#define TC_TRANSPARENCY_CHAIN_FAST_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "transparency/chain_check.h"

/* One subtree of a CA's nameConstraints: a dNSName (GEN_DNS) or an
 * iPAddress with its mask (GEN_IPADD), with no minimum or maximum. */
struct tc_nc_tree {
	int type;
	unsigned char *base;
	size_t len;
};

/* The nameConstraints of one CA above the leaf (root or intermediate). */
struct tc_nc_set {
	struct tc_nc_tree *permitted, *excluded;
	size_t n_permitted, n_excluded;
};

struct tc_chain_fast {
	int enabled;            /* 0 when the CA has something the fast path does not model */
	struct tc_nc_set nc[2]; /* nameConstraints of the root and the intermediate, where present */
	size_t n_nc;
	EVP_PKEY *issuer_key;   /* the intermediate's key */
	const unsigned char *inter_der, *root_der; /* the checker's copies */
	size_t inter_len, root_len;
	const unsigned char *inter_subject; /* the intermediate's subject Name (inside inter_der) */
	size_t inter_subject_len;
	const unsigned char *inter_skid; /* its subjectKeyIdentifier; NULL when it has none */
	size_t inter_skid_len;
	unsigned char *extra_chain; /* TLS ASN.1Cert chain: intermediate, root */
	size_t extra_chain_len;
	unsigned char issuer_key_hash[TC_CT_HASH_LEN];
};

/* Prepares the fast path for this root and intermediate (already checked
 * by the caller: the intermediate verifies under the root). Leaves it
 * disabled, with the reason in why, when the CA certificates carry
 * something whose effect on path validation the fast path does not
 * reproduce (name constraints, unhandled critical extensions, ...).
 * 0, or -1 when out of memory. */
int tc_chain_fast_init(struct tc_chain_fast *f, X509 *root, X509 *inter, const unsigned char *root_der,
		       size_t root_len, const unsigned char *inter_der, size_t inter_len,
		       const unsigned char issuer_key_hash[TC_CT_HASH_LEN], char *why, size_t whylen);
void tc_chain_fast_free(struct tc_chain_fast *f);

/* 1 when the chain is accepted (out filled, out->fast = 1), 0 when the
 * general path must decide (out untouched but zeroed). */
int tc_chain_fast_check(const struct tc_chain_fast *f, int precert, unsigned char *const *certs,
			const size_t *lens, size_t n, struct tc_checked_chain *out);

#endif
