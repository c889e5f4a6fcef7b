/* Differential fuzzing of the CT log's submission check: the DER fast path
 * (transparency/chain_fast.c, through tc_chain_check) against OpenSSL's
 * path (tc_chain_check_openssl) on the same chain. The fast path may only
 * ever accept what OpenSSL accepts, with byte-identical entry (for a
 * precertificate, the TBS without its poison) and extra_data; whenever it
 * steps aside the outcome is OpenSSL's by construction.
 *
 * Input: byte 0 = flags, the rest a certificate part.
 *   bit 0: add-pre-chain (else add-chain)
 *   bit 1: the chain carries the root after the intermediate
 *   bit 2: the rest is a whole certificate, used as is; otherwise it is a
 *          TBSCertificate that the harness signs with the intermediate's
 *          key, so mutations of the TBS still reach the checks behind the
 *          signature.
 *   bit 3: the intermediate carries nameConstraints (dNSName and
 *          iPAddress subtrees, permitted and excluded: INTER_NAME_CONSTRAINTS
 *          below), which the fast path checks itself (chain_fast.c
 *          names_within) as trustchainctl's intermediates need; same
 *          subject and key, so the same leaves verify under both.
 * The intermediate's key is fixed (below) so the seeds' issuer name and
 * authorityKeyIdentifier match (tests/data/fuzz/chain_check: TBSs of
 * precertificates with the poison first, last or alone, and of final
 * certificates). */
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/test_ca.h"
#include "transparency/chain_check.h"

/* A throwaway test key, generated for this target: P-256. */
static const char INTER_KEY[] = "-----BEGIN PRIVATE KEY-----\n"
				"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1PGe9JG6Pa4JjI+b\n"
				"gq0jg8Ky/nQ8Yn5RsYJbCIjgRbKhRANCAAQBPLuJIAWiT/v/FbwXB3pU+i7CLxQc\n"
				"Yp2sjoB0S1aANQYKK2RmwSohIkYsw1U2OO+c8u/tk7yBHQtZ2XwfBs2Q\n"
				"-----END PRIVATE KEY-----\n";

/* ASan's quarantine, 256 MB by default, holds freed chunks back from reuse
 * to catch a use after free. OpenSSL's decoders make thousands of small
 * allocations per input, so with 256 MB every allocation lands on memory
 * last touched long ago (page faults, TLB shootdowns: 1,483 executions per
 * CPU second); 32 MB, still the frees of many whole inputs, gives 3,968.
 * ASAN_OPTIONS in the environment still overrides it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=32";
}

/* The constrained intermediate's subtrees: names the seeds use
 * (leaf.example.org) inside, a subdomain excluded, addresses of both
 * families. */
static const char INTER_NAME_CONSTRAINTS[] = "critical,permitted;DNS:example.org,permitted;DNS:.example.net,"
				       "excluded;DNS:secret.example.org,permitted;IP:192.0.2.0/255.255.255.0,"
				       "permitted;IP:2001:db8::/ffff:ffff::,excluded;IP:192.0.2.128/255.255.255.128";

/* One intermediate under the root and the checker that accepts its
 * leaves. */
struct issuer {
	struct tc_test_ca ca;
	struct tc_chain_checker *chk;
	unsigned char *der;
	size_t len;
};

static struct tc_test_ca root;
static struct issuer plain, constrained;
static unsigned char *root_der;
static size_t root_len;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_chain_check: %s\n", what);
	abort();
}

static void add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (!ext || !X509_add_ext(cert, ext, -1))
		fail("cannot add an extension to the intermediate");
	X509_EXTENSION_free(ext);
}

/* An intermediate re-keyed with key (subjectKeyIdentifier anew), with
 * nameConstraints nc when not NULL; its checker must take the fast path. */
static void make_issuer(struct issuer *is, EVP_PKEY *key, const char *nc)
{
	if (tc_test_ca_sub(&is->ca, &root, "Fuzz Intermediate", 0, 0))
		fail("cannot build the test CA");
	EVP_PKEY_free(is->ca.key);
	if (!EVP_PKEY_up_ref(key))
		fail("cannot share the intermediate's key");
	is->ca.key = key;
	X509_EXTENSION_free(
		X509_delete_ext(is->ca.cert, X509_get_ext_by_NID(is->ca.cert, NID_subject_key_identifier, -1)));
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, root.cert, is->ca.cert, NULL, NULL, 0);
	if (!X509_set_pubkey(is->ca.cert, key))
		fail("cannot re-key the intermediate");
	add_ext(is->ca.cert, &ctx, NID_subject_key_identifier, "hash");
	if (nc)
		add_ext(is->ca.cert, &ctx, NID_name_constraints, nc);
	char err[256];
	if (!X509_sign(is->ca.cert, root.key, EVP_sha256()) ||
	    tc_chain_checker_new(root.cert, is->ca.cert, &is->chk, err, sizeof(err)) != 0)
		fail("cannot set up the checker");
	if (!tc_chain_checker_fast(is->chk))
		fail("the checker does not take the fast path for this intermediate");
	if (!(is->der = tc_test_der(is->ca.cert, &is->len)))
		fail("out of memory");
}

static void setup(void)
{
	BIO *b = BIO_new_mem_buf(INTER_KEY, -1);
	EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!key || tc_test_ca_root(&root, "Fuzz Root", 0, 0))
		fail("cannot build the test CA");
	make_issuer(&plain, key, NULL);
	make_issuer(&constrained, key, INTER_NAME_CONSTRAINTS);
	EVP_PKEY_free(key);
	if (!(root_der = tc_test_der(root.cert, &root_len)))
		fail("out of memory");
}

static void put_len(unsigned char **p, size_t n)
{
	if (n < 0x80) {
		*(*p)++ = (unsigned char)n;
		return;
	}
	int octets = n <= 0xff ? 1 : n <= 0xffff ? 2 : 3;
	*(*p)++ = (unsigned char)(0x80 | octets);
	for (int i = octets - 1; i >= 0; i--)
		*(*p)++ = (unsigned char)(n >> (8 * i));
}

/* Certificate { tbs, ecdsa-with-SHA256, signature by the intermediate }. */
static unsigned char *sign_tbs(const uint8_t *tbs, size_t tbs_len, size_t *len)
{
	static const unsigned char alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	unsigned char sig[80];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, plain.ca.key) == 1 &&
		 EVP_DigestSign(md, sig, &sig_len, tbs, tbs_len) == 1;
	EVP_MD_CTX_free(md);
	if (!ok || tbs_len > 0xfff000)
		return NULL;
	size_t body = tbs_len + sizeof(alg) + 2 + 1 + sig_len + 4;
	unsigned char *der = malloc(body + 8), *p = der;
	if (!der)
		return NULL;
	*p++ = 0x30;
	unsigned char *len_at = p;
	p += 4; /* room; fixed below */
	memcpy(p, tbs, tbs_len);
	p += tbs_len;
	memcpy(p, alg, sizeof(alg));
	p += sizeof(alg);
	*p++ = 0x03;
	put_len(&p, sig_len + 1);
	*p++ = 0x00;
	memcpy(p, sig, sig_len);
	p += sig_len;
	size_t content = (size_t)(p - (len_at + 4));
	unsigned char hdr[5], *h = hdr;
	put_len(&h, content);
	size_t hl = (size_t)(h - hdr);
	memmove(len_at + hl, len_at + 4, content);
	memcpy(len_at, hdr, hl);
	*len = 1 + hl + content;
	return der;
}

static void compare(const struct issuer *is, int precert, unsigned char *leaf, size_t leaf_len, int with_root)
{
	struct tc_chain_checker *chk = is->chk;
	unsigned char *certs[3] = {leaf, is->der, root_der};
	size_t lens[3] = {leaf_len, is->len, root_len};
	size_t n = with_root ? 3 : 2;
	struct tc_checked_chain a, b;
	char ea[256] = "", eb[256] = "";
	int ra = tc_chain_check(chk, precert, certs, lens, n, &a, ea, sizeof(ea));
	int rb = tc_chain_check_openssl(chk, precert, certs, lens, n, &b, eb, sizeof(eb));
	if (ra != rb)
		fail(a.fast ? "the fast path accepted what OpenSSL refuses" : "same path, different outcome");
	if (ra != 0 && strcmp(ea, eb) != 0)
		fail("refusals differ");
	if (ra == 0 && (a.entry.type != b.entry.type || a.entry.cert_len != b.entry.cert_len ||
			memcmp(a.entry.cert, b.entry.cert, a.entry.cert_len) != 0 ||
			memcmp(a.entry.issuer_key_hash, b.entry.issuer_key_hash, TC_CT_HASH_LEN) != 0 ||
			a.extra_len != b.extra_len || memcmp(a.extra, b.extra, a.extra_len) != 0))
		fail("accepted entries differ");
	tc_checked_chain_free(&a);
	tc_checked_chain_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!root_der)
		setup();
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	size_t len = size - 1;
	unsigned char *leaf = NULL;
	if (flags & 4) {
		if ((leaf = malloc(len ? len : 1)))
			memcpy(leaf, data + 1, len);
	} else {
		leaf = sign_tbs(data + 1, len, &len);
	}
	if (leaf)
		compare(flags & 8 ? &constrained : &plain, flags & 1, leaf, len, (flags >> 1) & 1);
	free(leaf);
	return 0;
}
