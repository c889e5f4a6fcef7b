/* The signer's memo of CT log key signatures (src/signer/sig_memo.c) and
 * its use by the embedded-SCT check (embedded_scts.c): a hit needs the same
 * key, digest and signature bytes; everything else is verified with the
 * log's public key as before. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#include "signer/embedded_scts.h"
#include "signer/sig_memo.h"
#include "unit/cunit_main.h"

static void test_memo_match(void)
{
	struct tc_sig_memo *m = tc_sig_memo_new();
	CU_ASSERT_FATAL(m != NULL);
	int key_a, key_b;
	unsigned char md[32], md2[32];
	uint8_t sig[72], big[200];
	memset(md, 7, sizeof(md));
	memset(md2, 7, sizeof(md2));
	md2[31] = 8; /* same slot, other digest */
	memset(sig, 0x30, sizeof(sig));
	memset(big, 1, sizeof(big));
	CU_ASSERT(!tc_sig_memo_has(m, &key_a, md, sig, sizeof(sig)));
	tc_sig_memo_put(m, &key_a, md, sig, sizeof(sig));
	CU_ASSERT(tc_sig_memo_has(m, &key_a, md, sig, sizeof(sig)));
	CU_ASSERT(!tc_sig_memo_has(m, &key_b, md, sig, sizeof(sig)));     /* other key */
	CU_ASSERT(!tc_sig_memo_has(m, &key_a, md2, sig, sizeof(sig)));    /* other digest */
	CU_ASSERT(!tc_sig_memo_has(m, &key_a, md, sig, sizeof(sig) - 1)); /* other length */
	sig[10] ^= 1;
	CU_ASSERT(!tc_sig_memo_has(m, &key_a, md, sig, sizeof(sig))); /* other bytes */
	sig[10] ^= 1;
	tc_sig_memo_put(m, &key_a, md2, sig, sizeof(sig)); /* evicts md */
	CU_ASSERT(!tc_sig_memo_has(m, &key_a, md, sig, sizeof(sig)));
	CU_ASSERT(tc_sig_memo_has(m, &key_a, md2, sig, sizeof(sig)));
	tc_sig_memo_put(m, &key_a, md, big, sizeof(big)); /* too large: not kept */
	CU_ASSERT(!tc_sig_memo_has(m, &key_a, md, big, sizeof(big)));
	CU_ASSERT(!tc_sig_memo_has(NULL, &key_a, md, sig, sizeof(sig)));
	tc_sig_memo_free(m);
}

/* An SCT list with one SCT of log over (issuer key hash, tbs), signed by
 * key; the signed bytes are left in *signed_data. */
static size_t sct_list(EVP_PKEY *key, const unsigned char id[32], const unsigned char ikh[32], const uint8_t *tbs,
		       size_t tbs_len, uint8_t *out, uint8_t *signed_data, size_t *signed_len, size_t *sig_len_out)
{
	uint8_t *d = signed_data;
	size_t n = 0;
	d[n++] = 0; /* v1 */
	d[n++] = 0; /* certificate_timestamp */
	for (int i = 0; i < 8; i++)
		d[n++] = (uint8_t)(0x11 * i);
	d[n++] = 0;
	d[n++] = 1; /* precert_entry */
	memcpy(d + n, ikh, 32);
	n += 32;
	d[n++] = (uint8_t)(tbs_len >> 16);
	d[n++] = (uint8_t)(tbs_len >> 8);
	d[n++] = (uint8_t)tbs_len;
	memcpy(d + n, tbs, tbs_len);
	n += tbs_len;
	d[n++] = 0; /* no extensions */
	d[n++] = 0;
	*signed_len = n;
	uint8_t sig[128];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	CU_ASSERT_FATAL(md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
			EVP_DigestSign(md, sig, &sig_len, d, n) == 1);
	EVP_MD_CTX_free(md);
	size_t sct_len = 1 + 32 + 8 + 2 + 4 + sig_len;
	size_t o = 0;
	out[o++] = (uint8_t)((sct_len + 2) >> 8);
	out[o++] = (uint8_t)(sct_len + 2);
	out[o++] = (uint8_t)(sct_len >> 8);
	out[o++] = (uint8_t)sct_len;
	out[o++] = 0;
	memcpy(out + o, id, 32);
	o += 32;
	memcpy(out + o, d + 2, 8);
	o += 8;
	out[o++] = 0;
	out[o++] = 0;
	out[o++] = 4; /* sha256 */
	out[o++] = 3; /* ecdsa */
	out[o++] = (uint8_t)(sig_len >> 8);
	out[o++] = (uint8_t)sig_len;
	memcpy(out + o, sig, sig_len);
	*sig_len_out = sig_len;
	return o + sig_len;
}

static void test_embedded_check_uses_memo(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	CU_ASSERT_FATAL(key != NULL);
	unsigned char id[32], ikh[32];
	memset(id, 0xaa, sizeof(id));
	memset(ikh, 0xbb, sizeof(ikh));
	uint8_t tbs[300];
	memset(tbs, 0x42, sizeof(tbs));
	uint8_t list[512], data[512];
	size_t data_len, sig_len;
	size_t len = sct_list(key, id, ikh, tbs, sizeof(tbs), list, data, &data_len, &sig_len);
	struct tc_sig_memo *m = tc_sig_memo_new();
	int memo_key;
	struct tc_sct_log_key log = {.id = id, .key = key, .memo = m, .memo_key = &memo_key};
	char why[256];
	/* a real signature, not remembered: verified */
	CU_ASSERT_EQUAL(tc_embedded_scts_check(list, len, &log, ikh, tbs, sizeof(tbs), why, sizeof(why)), 0);
	/* a broken signature, not remembered: refused by verification */
	uint8_t *sig_last = list + len - 1;
	*sig_last ^= 1;
	CU_ASSERT_EQUAL(tc_embedded_scts_check(list, len, &log, ikh, tbs, sizeof(tbs), why, sizeof(why)), -1);
	/* the same bytes remembered as this key's signature over this digest:
	 * accepted without verification (white-box: shows the memo is used) */
	unsigned char md[32];
	SHA256(data, data_len, md);
	tc_sig_memo_put(m, &memo_key, md, list + len - sig_len, sig_len);
	CU_ASSERT_EQUAL(tc_embedded_scts_check(list, len, &log, ikh, tbs, sizeof(tbs), why, sizeof(why)), 0);
	/* ... but not for another key, nor for another TBS */
	int other;
	log.memo_key = &other;
	CU_ASSERT_EQUAL(tc_embedded_scts_check(list, len, &log, ikh, tbs, sizeof(tbs), why, sizeof(why)), -1);
	log.memo_key = &memo_key;
	tbs[5] ^= 1;
	CU_ASSERT_EQUAL(tc_embedded_scts_check(list, len, &log, ikh, tbs, sizeof(tbs), why, sizeof(why)), -1);
	tc_sig_memo_free(m);
	EVP_PKEY_free(key);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"memo: key, digest and signature must all match", test_memo_match},
		{"embedded SCT check: remembered signatures, verified otherwise", test_embedded_check_uses_memo},
		{NULL, NULL},
	};
	return tc_run_suite("sig_memo", tests, NULL, NULL);
}
