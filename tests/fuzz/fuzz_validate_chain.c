/* Fuzz Validate's chain handling on arbitrary bytes, through the whole
 * validator (chain splitting, DER/PEM decoding, path building, name and
 * usage checks) and the embedded-SCT parser.
 *
 * Input: byte 0 = mode and element count; then elements, each a 2-byte
 * big-endian length and its bytes (the last one takes what is left).
 *   mode 0 (bit 7 clear): the elements are the chain, leaf first.
 *   mode 1 (bit 7 set): the first element is put as the SCT list extension
 *     into a leaf our test CA signs, validated with its intermediate; this
 *     reaches the SCT parser behind a real path.
 * Invariants: no crash or leak; never TRUSTED (the CRL source always fails,
 * so a decision is at best REVOCATION_UNKNOWN); a decision with a path has
 * OK_PATH and a verified chain of 3; mode 1 always has a path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/validator.h"
#include "support/test_ca.h"

static struct tc_validator *v;
static struct tc_test_ca root, inter;
static EVP_PKEY *leaf_key;
static unsigned char *inter_der;
static size_t inter_len;

static int no_crl(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err, size_t errlen)
{
	(void)arg, (void)der, (void)len, (void)number;
	snprintf(err, errlen, "no signer in the fuzz target");
	return -1;
}

static void setup(void)
{
	EVP_PKEY *log_key = EVP_EC_gen("P-256");
	leaf_key = EVP_EC_gen("P-256");
	if (!log_key || !leaf_key || tc_test_ca_root(&root, "Fuzz Root", 0, 0) ||
	    tc_test_ca_sub(&inter, &root, "Fuzz Intermediate", 0, 0))
		abort();
	char *root_pem = tc_test_pem(root.cert), *inter_pem = tc_test_pem(inter.cert);
	struct tc_validator_config cfg = {.root_pem = root_pem, .intermediate_pem = inter_pem, .log_key = log_key,
					  .require_sct = 1, .fetch_crl = no_crl};
	char err[256];
	v = tc_validator_new(&cfg, err, sizeof(err));
	inter_der = tc_test_der(inter.cert, &inter_len);
	free(root_pem);
	free(inter_pem);
	EVP_PKEY_free(log_key);
	if (!v || !inter_der)
		abort();
}

static void check(const struct tc_validation *vr, int must_have_path)
{
	int path = 0;
	for (size_t i = 0; i < vr->n_reasons; i++)
		path |= vr->reasons[i] == TRUSTCHAIN__V1__REASON__OK_PATH;
	if (vr->trusted || !vr->detail[0] || vr->n_reasons == 0 || (path && vr->n_path != 3) ||
	    (!path && vr->n_path != 0) || (must_have_path && !path)) {
		fprintf(stderr, "invariant broken: trusted=%d path=%d n_path=%zu detail='%s'\n", vr->trusted, path,
			vr->n_path, vr->detail);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!v)
		setup();
	if (size == 0)
		return 0;
	int mode = data[0] >> 7;
	size_t want = (data[0] & 0x7f) % 12;
	const unsigned char *elems[12];
	size_t lens[12], n = 0;
	const uint8_t *p = data + 1, *end = data + size;
	while (n < want && p < end) {
		size_t len = (size_t)(end - p);
		if (n + 1 < want && len >= 2) {
			size_t l = ((size_t)p[0] << 8) | p[1];
			p += 2;
			len = l < (size_t)(end - p) ? l : (size_t)(end - p);
		}
		elems[n] = p;
		lens[n++] = len;
		p += len;
	}
	struct tc_validation vr;
	if (mode == 0) {
		tc_validator_run(v, elems, lens, n, "svc.example.org", 0, TRUSTCHAIN__V1__PURPOSE__PURPOSE_SERVER_AUTH,
				 &vr);
		check(&vr, 0);
		tc_validation_release(&vr);
		return 0;
	}
	if (n == 0 || lens[0] > 16384)
		return 0;
	struct tc_test_leaf o = {.dns = "svc.example.org", .server = 1, .sct_list = elems[0],
				 .sct_list_len = lens[0]};
	X509 *leaf = tc_test_leaf_new(&inter, leaf_key, &o);
	if (!leaf)
		return 0;
	size_t leaf_len;
	unsigned char *leaf_der = tc_test_der(leaf, &leaf_len);
	const unsigned char *chain[2] = {leaf_der, inter_der};
	size_t chain_lens[2] = {leaf_len, inter_len};
	tc_validator_run(v, chain, chain_lens, 2, "svc.example.org", 0, TRUSTCHAIN__V1__PURPOSE__PURPOSE_SERVER_AUTH,
			 &vr);
	check(&vr, 1);
	tc_validation_release(&vr);
	OPENSSL_free(leaf_der);
	X509_free(leaf);
	return 0;
}
