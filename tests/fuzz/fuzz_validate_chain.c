/* Fuzz Validate's chain handling on arbitrary bytes, through the whole
 * validator (chain splitting, DER/PEM decoding, path building, name and
 * usage checks) and the embedded-SCT parser.
 *
 * Every key and certificate is made once, at the first input: signing a
 * leaf per input held the target at ~23 executions a second, so an input
 * costs only parsing and validation.
 *
 * Input: byte 0 = mode and element count; then elements, each a 2-byte
 * big-endian length and its bytes (the last one takes what is left).
 *   mode 0 (bit 7 clear): the elements are the chain, leaf first.
 *   mode 1 (bits 7, 6 = 1, 0): the first element is put as the SCT list
 *     extension into a leaf of our test intermediate (the DER of a leaf
 *     signed at set-up, its extension replaced), checked by the embedded-SCT
 *     verifier against the test log's key and the intermediate's key hash,
 *     as the validator does behind a verified path.
 *   mode 2 (bits 7, 6 = 1, 1): one of the leaves signed at set-up (byte 0's
 *     low bits pick it; their SCT lists, usages, validity and issuers
 *     differ) with or without the intermediate (byte 1 bit 0), through the
 *     whole validator: byte 1 bits 1-2 the purpose, byte 2 the time (0: now,
 *     else now + (byte 2 - 128) days), the rest the name asked for (a name
 *     with a NUL is refused by the RPC layer before it gets here).
 * Invariants: no crash or leak; never TRUSTED (the CRL source always fails,
 * so a decision is at best REVOCATION_UNKNOWN); a decision with a path has
 * OK_PATH and a verified chain of 3; a leaf of the intermediate in mode 2
 * always has a path (but the precertificate, refused first), a self-signed
 * one never; in mode 1 no SCT list verifies
 * (none was signed by the log). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/ct_sct_verify.h"
#include "common/der.h"
#include "common/der_writer.h"
#include "gateway/validator.h"
#include "support/test_ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tc_validator *v;
static struct tc_test_ca root, inter;
static unsigned char *inter_der;
static size_t inter_len;
static struct tc_sct_log sct_log;        /* the log the validator trusts */
static unsigned char inter_key_hash[32]; /* SHA-256 of the intermediate's SubjectPublicKeyInfo */

/* Mode 1's leaf: its DER cut around the SCT list extension (the last one). */
static struct {
	const uint8_t *tbs_head; /* TBSCertificate contents before [3] */
	size_t tbs_head_len;
	const uint8_t *exts; /* every extension before the SCT list's */
	size_t exts_len;
	const uint8_t *tail; /* signatureAlgorithm and signatureValue */
	size_t tail_len;
} tmpl;

/* Mode 2's leaves, signed at set-up. */
struct signed_leaf {
	unsigned char *der;
	size_t len;
	int path; /* 1: the path must verify (a leaf of the intermediate), -1: must not (self-signed), 0: either */
};
#define N_LEAVES 8
static struct signed_leaf leaves[N_LEAVES];

static const uint8_t sct_oid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02};

static int no_crl(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err, size_t errlen)
{
	(void)arg, (void)der, (void)len, (void)number;
	snprintf(err, errlen, "no signer in the fuzz target");
	return -1;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_validate_chain: set-up failed: %s\n", what);
	abort();
}

/* An SCT list naming our log (v1, its ID, a timestamp, no extensions,
 * SHA-256/ECDSA) with a signature the log never made. */
static size_t sct_list_for_log(unsigned char out[128])
{
	static const uint8_t sig[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
	unsigned char *p = out + 4;
	*p++ = 0; /* v1 */
	memcpy(p, sct_log.id, 32);
	p += 32;
	uint64_t ts = (uint64_t)time(NULL) * 1000;
	for (int i = 7; i >= 0; i--)
		*p++ = (unsigned char)(ts >> (8 * i));
	*p++ = 0, *p++ = 0;    /* no extensions */
	*p++ = 4, *p++ = 3;    /* sha256, ecdsa */
	*p++ = 0, *p++ = sizeof(sig);
	memcpy(p, sig, sizeof(sig));
	p += sizeof(sig);
	size_t sct_len = (size_t)(p - out) - 4, list_len = sct_len + 2;
	out[0] = (unsigned char)(list_len >> 8), out[1] = (unsigned char)list_len;
	out[2] = (unsigned char)(sct_len >> 8), out[3] = (unsigned char)sct_len;
	return (size_t)(p - out);
}

static void sign_leaf(struct signed_leaf *l, const struct tc_test_ca *ca, EVP_PKEY *key, const struct tc_test_leaf *o)
{
	X509 *x = tc_test_leaf_new(ca, key, o);
	unsigned char *der = x ? tc_test_der(x, &l->len) : NULL;
	if (!der)
		die("leaf");
	if (!(l->der = malloc(l->len)))
		die("out of memory");
	memcpy(l->der, der, l->len);
	/* A precertificate (poison) is refused before its path is built. */
	l->path = ca != &inter ? -1 : o->poison ? 0 : 1;
	OPENSSL_free(der);
	X509_free(x);
}

/* Cuts leaf (DER, its SCT list extension last) into tmpl's parts. */
static void cut_template(const unsigned char *der, size_t len)
{
	struct tc_der_elem cert, tbs, e, exts_outer, exts, last = {0};
	if (tc_der_whole(der, len, TC_DER_SEQUENCE, &cert) != TC_DER_OK)
		die("template certificate");
	struct tc_der_cursor c = tc_der_inside(&cert);
	if (tc_der_expect(&c, TC_DER_SEQUENCE, &tbs) != TC_DER_OK)
		die("template TBSCertificate");
	tmpl.tail = c.p;
	tmpl.tail_len = c.left;
	struct tc_der_cursor t = tc_der_inside(&tbs);
	tmpl.tbs_head = t.p;
	for (;;) {
		const uint8_t *at = t.p;
		if (tc_der_next(&t, &e) != TC_DER_OK)
			die("template without extensions");
		if (e.tag == TC_DER_CONTEXT(3)) {
			tmpl.tbs_head_len = (size_t)(at - tmpl.tbs_head);
			exts_outer = e;
			break;
		}
	}
	struct tc_der_cursor o = tc_der_inside(&exts_outer);
	if (tc_der_expect(&o, TC_DER_SEQUENCE, &exts) != TC_DER_OK)
		die("template extensions");
	struct tc_der_cursor x = tc_der_inside(&exts);
	tmpl.exts = x.p;
	while (tc_der_next(&x, &e) == TC_DER_OK)
		last = e;
	struct tc_der_cursor l = last.tlv ? tc_der_inside(&last) : x;
	struct tc_der_elem oid;
	if (!last.tlv || tc_der_expect(&l, TC_DER_OID, &oid) != TC_DER_OK || !TC_DER_OID_IS(&oid, sct_oid))
		die("template's last extension is not the SCT list");
	tmpl.exts_len = (size_t)(last.tlv - tmpl.exts);
}

/* The template leaf with list as its SCT list extension (malloc'ed). */
static uint8_t *leaf_with_list(const uint8_t *list, size_t list_len, size_t *len)
{
	struct tc_der_writer w;
	tc_der_writer_init(&w);
	tc_der_open(&w, TC_DER_SEQUENCE);       /* Certificate */
	tc_der_open(&w, TC_DER_SEQUENCE);       /* TBSCertificate */
	tc_der_put(&w, tmpl.tbs_head, tmpl.tbs_head_len);
	tc_der_open(&w, TC_DER_CONTEXT(3));
	tc_der_open(&w, TC_DER_SEQUENCE);       /* Extensions */
	tc_der_put(&w, tmpl.exts, tmpl.exts_len);
	tc_der_open(&w, TC_DER_SEQUENCE);       /* Extension */
	tc_der_put_tlv(&w, TC_DER_OID, sct_oid, sizeof(sct_oid));
	tc_der_open(&w, TC_DER_OCTET_STRING);   /* extnValue */
	tc_der_put_tlv(&w, TC_DER_OCTET_STRING, list, list_len);
	tc_der_close(&w);
	tc_der_close(&w);
	tc_der_close(&w);
	tc_der_close(&w);
	tc_der_close(&w);
	tc_der_put(&w, tmpl.tail, tmpl.tail_len);
	tc_der_close(&w);
	return tc_der_writer_take(&w, len);
}

static void setup(void)
{
	EVP_PKEY *log_key = EVP_EC_gen("P-256"), *leaf_key = EVP_EC_gen("P-256"), *self_key = EVP_EC_gen("P-256");
	if (!log_key || !leaf_key || !self_key || tc_test_ca_root(&root, "Fuzz Root", 0, 0) ||
	    tc_test_ca_sub(&inter, &root, "Fuzz Intermediate", 0, 0))
		die("keys");
	char *root_pem = tc_test_pem(root.cert), *inter_pem = tc_test_pem(inter.cert);
	struct tc_validator_config cfg = {.root_pem = root_pem, .intermediate_pem = inter_pem, .log_key = log_key,
					  .require_sct = 1, .fetch_crl = no_crl};
	char err[256];
	v = tc_validator_new(&cfg, err, sizeof(err));
	inter_der = tc_test_der(inter.cert, &inter_len);
	free(root_pem);
	free(inter_pem);
	unsigned char *spki = NULL;
	int spki_len = i2d_PUBKEY(inter.key, &spki);
	sct_log.key = log_key;
	if (!v || !inter_der || spki_len <= 0 || tc_sct_log_set_id(&sct_log) != 0 ||
	    EVP_Digest(spki, (size_t)spki_len, inter_key_hash, NULL, EVP_sha256(), NULL) != 1)
		die(v ? "intermediate" : err);
	OPENSSL_free(spki);

	unsigned char list[128];
	size_t list_len = sct_list_for_log(list);
	int64_t now = (int64_t)time(NULL);
	const struct tc_test_leaf o[N_LEAVES] = {
		{.dns = "svc.example.org", .server = 1, .sct_list = list, .sct_list_len = list_len},
		{.dns = "svc.example.org", .server = 1},
		{.dns = "svc.example.org", .ip = "192.0.2.7", .client = 1, .cn = "svc.example.org",
		 .sct_list = list, .sct_list_len = list_len},
		{.dns = "*.example.org", .server = 1, .client = 1, .nb = now - 30 * 86400, .na = now - 86400},
		{.dns = "svc.example.org", .any_eku = 1, .no_ku = 1, .nb = now + 86400, .na = now + 30 * 86400},
		{.dns = "svc.example.org", .ca = 1, .no_eku = 1},
		{.dns = "svc.example.org", .server = 1, .poison = 1},
		{.dns = "svc.example.org", .server = 1}, /* self-signed */
	};
	for (int i = 0; i < N_LEAVES; i++)
		sign_leaf(&leaves[i], i == N_LEAVES - 1 ? NULL : &inter, i == N_LEAVES - 1 ? self_key : leaf_key, &o[i]);
	cut_template(leaves[0].der, leaves[0].len);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(self_key);
}

static void check(const struct tc_validation *vr, int must_have_path, int must_not)
{
	int path = 0;
	for (size_t i = 0; i < vr->n_reasons; i++)
		path |= vr->reasons[i] == TRUSTCHAIN__V1__REASON__OK_PATH;
	if (vr->trusted || !vr->detail[0] || vr->n_reasons == 0 || (path && vr->n_path != 3) ||
	    (!path && vr->n_path != 0) || (must_have_path && !path) || (must_not && path)) {
		fprintf(stderr, "invariant broken: trusted=%d path=%d n_path=%zu detail='%s'\n", vr->trusted, path,
			vr->n_path, vr->detail);
		abort();
	}
}

/* Mode 1: the SCT list parser and verifier on a leaf of the intermediate. */
static void sct_mode(const uint8_t *list, size_t list_len)
{
	size_t len;
	uint8_t *leaf = leaf_with_list(list, list_len, &len);
	if (!leaf)
		return;
	char why[256] = "";
	enum tc_sct_verdict r = tc_sct_verify_embedded(leaf, len, inter_key_hash, &sct_log, 1, why, sizeof(why));
	if (r == TC_SCT_VERIFIED || (r != TC_SCT_NONE && r != TC_SCT_BAD) || !why[0]) {
		fprintf(stderr, "invariant broken: SCT verdict %d for a list the log never signed ('%s')\n", (int)r,
			why);
		abort();
	}
	free(leaf);
}

/* Mode 2: a signed leaf through the whole validator. */
static void leaf_mode(unsigned pick, const uint8_t *p, size_t n)
{
	static const Trustchain__V1__Purpose purposes[4] = {
		TRUSTCHAIN__V1__PURPOSE__PURPOSE_SERVER_AUTH, TRUSTCHAIN__V1__PURPOSE__PURPOSE_CLIENT_AUTH,
		TRUSTCHAIN__V1__PURPOSE__PURPOSE_UNSPECIFIED, (Trustchain__V1__Purpose)7};
	const struct signed_leaf *l = &leaves[pick % N_LEAVES];
	uint8_t opts = n > 0 ? p[0] : 0, when = n > 1 ? p[1] : 0;
	size_t skip = n < 2 ? n : 2;
	char name[300];
	size_t name_len = n - skip < sizeof(name) - 1 ? n - skip : sizeof(name) - 1;
	memcpy(name, p + skip, name_len);
	if (memchr(name, 0, name_len))
		return;
	name[name_len] = '\0';
	int64_t at = when ? (int64_t)time(NULL) + ((int64_t)when - 128) * 86400 : 0;
	const unsigned char *chain[2] = {l->der, inter_der};
	size_t lens[2] = {l->len, inter_len};
	struct tc_validation vr;
	tc_validator_run(v, chain, lens, (opts & 1) ? 1 : 2, name, at, purposes[(opts >> 1) & 3], &vr);
	check(&vr, l->path > 0, l->path < 0);
	tc_validation_release(&vr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!v)
		setup();
	if (size == 0)
		return 0;
	int mode = data[0] >> 7 ? 1 + ((data[0] >> 6) & 1) : 0;
	if (mode == 2) {
		leaf_mode(data[0] & 0x3f, data + 1, size - 1);
		return 0;
	}
	size_t want = (data[0] & (mode ? 0x3f : 0x7f)) % 12;
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
	if (mode == 1) {
		if (n > 0 && lens[0] <= 16384)
			sct_mode(elems[0], lens[0]);
		return 0;
	}
	struct tc_validation vr;
	tc_validator_run(v, elems, lens, n, "svc.example.org", 0, TRUSTCHAIN__V1__PURPOSE__PURPOSE_SERVER_AUTH, &vr);
	check(&vr, 0, 0);
	tc_validation_release(&vr);
	return 0;
}
