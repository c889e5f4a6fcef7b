/* static-ct-api building blocks against the C2SP texts: the tlog-tiles path
 * encoding and tile counts (its worked examples), the signed-note format
 * (the Go sumdb/note Ed25519 example recomputed byte for byte with OpenSSL,
 * the spec's example notes parsed and rewritten byte for byte), and the
 * checkpoint with its RFC6962NoteSignature (made from a tree head signed by
 * a P-256 key, verified, and refused when anything is changed). */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "transparency/checkpoint.h"
#include "transparency/signed_note.h"
#include "transparency/tile_path.h"
#include "unit/cunit_main.h"

static void expect_path(int level, uint64_t index, unsigned width, const char *want)
{
	char got[TC_TILE_PATH_MAX];
	CU_ASSERT_EQUAL_FATAL(tc_tile_path(got, sizeof(got), level, index, width), 0);
	CU_ASSERT_STRING_EQUAL(got, want);
	struct tc_tile_ref ref;
	CU_ASSERT_EQUAL_FATAL(tc_tile_path_parse(got, &ref), 0);
	CU_ASSERT_EQUAL(ref.kind, level == TC_TILE_DATA_LEVEL ? TC_TILE_KIND_DATA : TC_TILE_KIND_HASH);
	CU_ASSERT_EQUAL(ref.level, level);
	CU_ASSERT_EQUAL(ref.index, index);
	CU_ASSERT_EQUAL(ref.width, width);
}

static void test_tile_paths(void)
{
	/* tlog-tiles: "index 1234067 will be encoded as x001/x234/067" */
	expect_path(0, 1234067, 256, "tile/0/x001/x234/067");
	expect_path(TC_TILE_DATA_LEVEL, 1234067, 256, "tile/data/x001/x234/067");
	expect_path(2, 1234067, 17, "tile/2/x001/x234/067.p/17");
	expect_path(0, 0, 1, "tile/0/000.p/1");
	expect_path(1, 5, 256, "tile/1/005");
	expect_path(0, 1000, 255, "tile/0/x001/000.p/255");
	expect_path(63, UINT64_MAX, 256, "tile/63/x018/x446/x744/x073/x709/x551/615");
	char buf[TC_TILE_PATH_MAX];
	CU_ASSERT_NOT_EQUAL(tc_tile_path(buf, sizeof(buf), 64, 0, 256), 0);
	CU_ASSERT_NOT_EQUAL(tc_tile_path(buf, sizeof(buf), 0, 0, 0), 0);
	CU_ASSERT_NOT_EQUAL(tc_tile_path(buf, sizeof(buf), 0, 0, 257), 0);
	CU_ASSERT_NOT_EQUAL(tc_tile_path(buf, 10, 0, 1234067, 256), 0);
}

static void test_tile_path_refusals(void)
{
	static const char *const bad[] = {
		"tile/0/x000/005", "tile/00/005", "tile/0/5", "tile/0/0005", "tile/0/005.p/0", "tile/0/005.p/256",
		"tile/0/005.p/05", "tile/64/000", "tile/data/x1/000", "tile/0/x001/x234/067/", "tile/0/../000",
		"tile/0/005.p/", "tile/0/005.q/5", "tile/-1/000", "tile/0/", "tile/", "tile", "checkpoint/",
		"/checkpoint", "tile/0/x018/x446/x744/x073/x709/x551/616", "tile/0/x001/x001/x001/x001/x001/x001/x001/000",
		"issuer/0123", "issuer/ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
		"issuer/abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789/", "tile/0/00a", "",
	};
	struct tc_tile_ref ref;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tc_tile_path_parse(bad[i], &ref) == 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CU_ASSERT_NOT_EQUAL(tc_tile_path_parse(bad[i], &ref), 0);
	}
	CU_ASSERT_EQUAL(tc_tile_path_parse("checkpoint", &ref), 0);
	CU_ASSERT_EQUAL(ref.kind, TC_TILE_KIND_CHECKPOINT);
	const char *issuer = "issuer/abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
	CU_ASSERT_EQUAL_FATAL(tc_tile_path_parse(issuer, &ref), 0);
	CU_ASSERT_EQUAL(ref.kind, TC_TILE_KIND_ISSUER);
	char back[80];
	CU_ASSERT_EQUAL(tc_tile_issuer_path(back, sizeof(back), ref.fingerprint), 0);
	CU_ASSERT_STRING_EQUAL(back, issuer);
}

static void test_tile_counts(void)
{
	/* tlog-tiles: "a tree of size 70,000 will be represented by 273 full
	 * level 0 tiles, one partial level 0 tile of width 112, one full level
	 * 1 tile, one partial level 1 tile of width 17, and one partial level 2
	 * tile of width 1" */
	CU_ASSERT_EQUAL(tc_tile_full_count(70000, 0), 273);
	CU_ASSERT_EQUAL(tc_tile_partial_width(70000, 0), 112);
	CU_ASSERT_EQUAL(tc_tile_full_count(70000, 1), 1);
	CU_ASSERT_EQUAL(tc_tile_partial_width(70000, 1), 17);
	CU_ASSERT_EQUAL(tc_tile_full_count(70000, 2), 0);
	CU_ASSERT_EQUAL(tc_tile_partial_width(70000, 2), 1);
	CU_ASSERT_EQUAL(tc_tile_partial_width(70000, 3), 0);
	/* "a tree of size 256 will be represented by a full level 0 tile and a
	 * partial level 1 tile of width 1" */
	CU_ASSERT_EQUAL(tc_tile_full_count(256, 0), 1);
	CU_ASSERT_EQUAL(tc_tile_partial_width(256, 0), 0);
	CU_ASSERT_EQUAL(tc_tile_full_count(256, 1), 0);
	CU_ASSERT_EQUAL(tc_tile_partial_width(256, 1), 1);
	CU_ASSERT_EQUAL(tc_tile_partial_width(UINT64_MAX, 7), 255);
	CU_ASSERT_EQUAL(tc_tile_partial_width(UINT64_MAX, 8), 0);
}

/* Rebuilds a note from its parsed parts: text, blank line, signatures. */
static char *rewrite(const struct tc_note *n)
{
	size_t cap = n->text_len + 2;
	char *lines[TC_NOTE_MAX_SIGS];
	for (size_t i = 0; i < n->n_sigs; i++) {
		lines[i] = tc_note_sig_line(n->sigs[i].name, n->sigs[i].key_id, n->sigs[i].sig, n->sigs[i].sig_len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(lines[i]);
		cap += strlen(lines[i]);
	}
	char *out = malloc(cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	memcpy(out, n->text, n->text_len);
	size_t len = n->text_len;
	out[len++] = '\n';
	for (size_t i = 0; i < n->n_sigs; i++) {
		memcpy(out + len, lines[i], strlen(lines[i]));
		len += strlen(lines[i]);
		free(lines[i]);
	}
	out[len] = 0;
	return out;
}

static const char POEM[] = "Ognuno sta solo sul cuor della terra\n"
			   "trafitto da un raggio di sole:\n"
			   "\n"
			   "ed \xc3\xa8 subito sera.\n"
			   "\n"
			   "\xe2\x80\x94 quasimodo.example/salvatore "
			   "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
static const char SOFA[] = "example.com/behind-the-sofa\n"
			   "20852163\n"
			   "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
			   "\n"
			   "\xe2\x80\x94 example.com/behind-the-sofa "
			   "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

static void test_spec_notes_round_trip(void)
{
	struct tc_note n;
	/* signed-note's example: the text keeps its inner blank line */
	CU_ASSERT_EQUAL_FATAL(tc_note_parse(POEM, strlen(POEM), &n), 0);
	CU_ASSERT_EQUAL(n.n_sigs, 1);
	CU_ASSERT_STRING_EQUAL(n.sigs[0].name, "quasimodo.example/salvatore");
	CU_ASSERT_EQUAL(n.text_len, strlen(POEM) - strlen(strstr(POEM, "\n\n\xe2\x80\x94")) + 1);
	char *again = rewrite(&n);
	CU_ASSERT_STRING_EQUAL(again, POEM);
	free(again);
	tc_note_free(&n);

	/* tlog-checkpoint's example */
	CU_ASSERT_EQUAL_FATAL(tc_note_parse(SOFA, strlen(SOFA), &n), 0);
	struct tc_checkpoint cp;
	CU_ASSERT_EQUAL_FATAL(tc_checkpoint_parse_text(n.text, n.text_len, &cp), 0);
	CU_ASSERT_STRING_EQUAL(cp.origin, "example.com/behind-the-sofa");
	CU_ASSERT_EQUAL(cp.tree_size, 20852163);
	CU_ASSERT_EQUAL(cp.root[0], 0x0a);
	CU_ASSERT_EQUAL(cp.root[31], 0x62);
	again = rewrite(&n);
	CU_ASSERT_STRING_EQUAL(again, SOFA);
	free(again);
	tc_note_free(&n);
}

static void test_note_refusals(void)
{
	static const char *const bad[] = {
		"text\n",                                         /* no signature */
		"text\n\n",                                       /* blank line, no signature */
		"text\n\n\xe2\x80\x94 name AAAA\n",               /* 3 bytes: no key ID */
		"text\n\n\xe2\x80\x94 name AAAAAA==\n",           /* 4 bytes but padding wrong? fine below */
		"text\n\n\xe2\x80\x94 na+me AAAAAAA=\n",          /* '+' in the name */
		"text\n\n\xe2\x80\x94  AAAAAAA=\n",               /* empty name */
		"text\n\n- name AAAAAAA=\n",                      /* not an em dash */
		"text\n\n\xe2\x80\x94 name AAAAAAA=",             /* no final newline */
		"te\txt\n\n\xe2\x80\x94 name AAAAAAA=\n",         /* control character */
		"te\xc0\xafxt\n\n\xe2\x80\x94 name AAAAAAA=\n",   /* overlong UTF-8 */
		"text\n\n\xe2\x80\x94 name AAAAAAA=\n\n",         /* blank line among signatures */
		"text\n\n\xe2\x80\x94 name AAAA AAAA\n",          /* space in the base64 */
		"\n\n\xe2\x80\x94 name AAAAAAA=\n",               /* empty text */
	};
	struct tc_note n;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (i == 3)
			continue; /* "AAAAAA==" is 4 bytes, a valid empty signature */
		int rc = tc_note_parse(bad[i], strlen(bad[i]), &n);
		if (rc == 0)
			fprintf(stderr, "accepted note %zu\n", i);
		CU_ASSERT_NOT_EQUAL(rc, 0);
		tc_note_free(&n);
	}
	CU_ASSERT_EQUAL(tc_note_parse(bad[3], strlen(bad[3]), &n), 0);
	tc_note_free(&n);
	/* 33 signatures: over the limit; 16 are fine */
	char many[4096] = "text\n\n";
	for (int i = 0; i < 33; i++) {
		strcat(many, "\xe2\x80\x94 k AAAAAAA=\n");
		if (i == 15) {
			CU_ASSERT_EQUAL(tc_note_parse(many, strlen(many), &n), 0);
			CU_ASSERT_EQUAL(n.n_sigs, 16);
			tc_note_free(&n);
		}
	}
	CU_ASSERT_NOT_EQUAL(tc_note_parse(many, strlen(many), &n), 0);
	tc_note_free(&n);
}

/* Go's golang.org/x/mod/sumdb/note example: PRIVATE+KEY+PeterNeumann+
 * c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz signs the text into
 * exactly this note (Ed25519 is deterministic). */
static void test_ed25519_note_vector(void)
{
	static const char text[] = "If you think cryptography is the answer to your problem,\n"
				   "then you don't know what your problem is.\n";
	static const char want[] = "If you think cryptography is the answer to your problem,\n"
				   "then you don't know what your problem is.\n"
				   "\n"
				   "\xe2\x80\x94 PeterNeumann "
				   "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
	unsigned char *skey = NULL, *vkey = NULL;
	size_t slen = 0, vlen = 0;
	CU_ASSERT_EQUAL_FATAL(tc_base64_decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &skey, &slen), 0);
	CU_ASSERT_EQUAL_FATAL(tc_base64_decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &vkey, &vlen), 0);
	CU_ASSERT_EQUAL_FATAL(slen, 33);
	CU_ASSERT_EQUAL_FATAL(vlen, 33);
	CU_ASSERT_EQUAL(skey[0], TC_NOTE_SIG_ED25519);
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, skey + 1, 32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	unsigned char pub[32];
	size_t pub_len = sizeof(pub);
	CU_ASSERT_EQUAL(EVP_PKEY_get_raw_public_key(k, pub, &pub_len), 1);
	CU_ASSERT_EQUAL(memcmp(pub, vkey + 1, 32), 0); /* the verifier key's */
	uint32_t id = tc_note_key_id("PeterNeumann", TC_NOTE_SIG_ED25519, pub, 32);
	CU_ASSERT_EQUAL(id, 0xc74f20a3);
	unsigned char sig[64];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	CU_ASSERT_EQUAL_FATAL(EVP_DigestSignInit(md, NULL, NULL, NULL, k), 1);
	CU_ASSERT_EQUAL_FATAL(EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)text, strlen(text)), 1);
	EVP_MD_CTX_free(md);
	char *line = tc_note_sig_line("PeterNeumann", id, sig, sig_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	char note[512];
	snprintf(note, sizeof(note), "%s\n%s", text, line);
	CU_ASSERT_STRING_EQUAL(note, want);
	struct tc_note n;
	CU_ASSERT_EQUAL_FATAL(tc_note_parse(want, strlen(want), &n), 0);
	CU_ASSERT_EQUAL(n.sigs[0].key_id, 0xc74f20a3);
	CU_ASSERT_EQUAL(n.text_len, strlen(text));
	tc_note_free(&n);
	free(line);
	EVP_PKEY_free(k);
	free(skey);
	free(vkey);
}

/* ---- checkpoints with an RFC6962NoteSignature ---- */

static EVP_PKEY *p256(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	return k;
}

static size_t sign_sth(EVP_PKEY *k, uint64_t ts, uint64_t size, const unsigned char root[32], unsigned char *sig)
{
	unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN];
	tc_ct_encode_sth_signature_input(ts, size, root, input);
	size_t len = 128;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	CU_ASSERT_EQUAL_FATAL(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	CU_ASSERT_EQUAL_FATAL(EVP_DigestSign(md, sig, &len, input, sizeof(input)), 1);
	EVP_MD_CTX_free(md);
	return len;
}

static void test_checkpoint_rfc6962_signature(void)
{
	EVP_PKEY *k = p256(), *other = p256();
	unsigned char log_id[32], root[32], sig[128];
	CU_ASSERT_EQUAL_FATAL(tc_checkpoint_log_id(k, log_id), 0);
	for (int i = 0; i < 32; i++)
		root[i] = (unsigned char)(i * 7);
	uint64_t ts = 1700000000123ull, size = 70000;
	size_t sig_len = sign_sth(k, ts, size, root, sig);
	const char *origin = "ct.trust.example:6962";
	char *note = NULL;
	size_t len = 0;
	CU_ASSERT_EQUAL_FATAL(tc_checkpoint_format(origin, log_id, size, ts, root, sig, sig_len, &note, &len), 0);
	CU_ASSERT_EQUAL(strlen(note), len);
	CU_ASSERT_EQUAL(strncmp(note, "ct.trust.example:6962\n70000\n", 28), 0);

	/* the key ID is SHA-256(origin || 0x0A || 0x05 || log ID)[:4] */
	unsigned char pre[64];
	size_t ol = strlen(origin);
	memcpy(pre, origin, ol);
	pre[ol] = '\n';
	pre[ol + 1] = 0x05;
	memcpy(pre + ol + 2, log_id, 32);
	unsigned char h[32];
	SHA256(pre, ol + 34, h);
	struct tc_note n;
	CU_ASSERT_EQUAL_FATAL(tc_note_parse(note, len, &n), 0);
	CU_ASSERT_EQUAL(n.sigs[0].key_id, (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3]);
	/* timestamp(8) || sha256(4) ecdsa(3) || len(2) || the DER signature */
	CU_ASSERT_EQUAL(n.sigs[0].sig_len, 12 + sig_len);
	CU_ASSERT_EQUAL(n.sigs[0].sig[7], (unsigned char)ts);
	CU_ASSERT_EQUAL(n.sigs[0].sig[8], 4);
	CU_ASSERT_EQUAL(n.sigs[0].sig[9], 3);
	CU_ASSERT_EQUAL(memcmp(n.sigs[0].sig + 12, sig, sig_len), 0);
	tc_note_free(&n);

	struct tc_checkpoint cp;
	char err[256];
	CU_ASSERT_EQUAL(tc_checkpoint_verify(note, len, origin, k, &cp, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cp.tree_size, size);
	CU_ASSERT_EQUAL(cp.timestamp, ts);
	CU_ASSERT_EQUAL(memcmp(cp.root, root, 32), 0);
	CU_ASSERT_EQUAL(tc_checkpoint_verify(note, len, NULL, k, &cp, err, sizeof(err)), 0);
	/* another key, another origin, a changed size: refused */
	CU_ASSERT_NOT_EQUAL(tc_checkpoint_verify(note, len, origin, other, &cp, err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(tc_checkpoint_verify(note, len, "ct.other.example:6962", k, &cp, err, sizeof(err)), 0);
	char *forged = strdup(note);
	forged[ol + 1] = '8'; /* 70000 -> 80000 */
	CU_ASSERT_NOT_EQUAL(tc_checkpoint_verify(forged, len, origin, k, &cp, err, sizeof(err)), 0);
	free(forged);
	/* a checkpoint signed by another key under the same name: not ours */
	unsigned char other_id[32];
	tc_checkpoint_log_id(other, other_id);
	sig_len = sign_sth(other, ts, size, root, sig);
	char *note2 = NULL;
	size_t len2 = 0;
	CU_ASSERT_EQUAL_FATAL(tc_checkpoint_format(origin, other_id, size, ts, root, sig, sig_len, &note2, &len2), 0);
	CU_ASSERT_NOT_EQUAL(tc_checkpoint_verify(note2, len2, origin, k, &cp, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no signature by the log key"));
	/* our key ID but another key's signature: refused as a bad signature */
	char *swapped = NULL;
	size_t swapped_len = 0;
	CU_ASSERT_EQUAL_FATAL(
		tc_checkpoint_format(origin, log_id, size, ts, root, sig, sig_len, &swapped, &swapped_len), 0);
	CU_ASSERT_NOT_EQUAL(tc_checkpoint_verify(swapped, swapped_len, origin, k, &cp, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not verify"));
	free(swapped);
	free(note2);
	free(note);
	/* extension lines are not allowed in these checkpoints; sizes are canonical */
	static const char *const texts[] = {
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n",
		"o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",
		"o\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n0\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
	};
	for (int i = 0; i < 4; i++)
		CU_ASSERT_NOT_EQUAL(tc_checkpoint_parse_text(texts[i], strlen(texts[i]), &cp), 0);
	CU_ASSERT_EQUAL(tc_checkpoint_parse_text(texts[4], strlen(texts[4]), &cp), 0);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"tlog-tiles path encoding", test_tile_paths},
		{"non-canonical paths refused", test_tile_path_refusals},
		{"tlog-tiles tile counts", test_tile_counts},
		{"spec example notes round trip", test_spec_notes_round_trip},
		{"malformed notes refused", test_note_refusals},
		{"sumdb Ed25519 note vector", test_ed25519_note_vector},
		{"checkpoint RFC6962NoteSignature", test_checkpoint_rfc6962_signature},
		{NULL, NULL},
	};
	return tc_run_suite("static_ct", tests, NULL, NULL);
}
