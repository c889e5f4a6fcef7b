#include "signer/embedded_scts.h"

#include <stdio.h>
#include <string.h>

#include "signer/sig_memo.h"

enum { SCT_V1 = 0, SIG_CERTIFICATE_TIMESTAMP = 0, PRECERT_ENTRY = 1 };
enum { TLS_HASH_SHA256 = 4, TLS_SIG_RSA = 1, TLS_SIG_ECDSA = 3 };
#define LOG_ID_LEN 32
#define MAX_TBS 0xffffffu /* opaque TBSCertificate<1..2^24-1> */

/* One SerializedSCT, as views into the list. */
struct sct {
	int version;
	const uint8_t *log_id;
	const uint8_t *timestamp; /* 8 bytes, big-endian, signed as they are */
	const uint8_t *ext;       /* with its 2-byte length */
	size_t ext_len;
	int hash_alg, sig_alg;
	const uint8_t *sig;
	size_t sig_len;
};

static size_t be16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

/* A v1-shaped SignedCertificateTimestamp filling exactly [p, p + n). */
static int sct_parse(const uint8_t *p, size_t n, struct sct *s)
{
	if (n < 1 + LOG_ID_LEN + 8 + 2)
		return -1;
	s->version = p[0];
	s->log_id = p + 1;
	s->timestamp = p + 1 + LOG_ID_LEN;
	s->ext = p + 1 + LOG_ID_LEN + 8;
	s->ext_len = be16(s->ext);
	size_t off = 1 + LOG_ID_LEN + 8 + 2 + s->ext_len;
	if (n < off + 4)
		return -1;
	s->hash_alg = p[off];
	s->sig_alg = p[off + 1];
	s->sig_len = be16(p + off + 2);
	s->sig = p + off + 4;
	return n == off + 4 + s->sig_len ? 0 : -1;
}

/* The signature over the RFC 6962 3.2 digitally-signed struct, fed to the
 * verifier in pieces (no copy of the TBS); one our log key made over the
 * same digest in this process is known good without verifying it. */
static int sct_verifies(const struct sct *s, const struct tc_sct_log_key *log, const unsigned char issuer_key_hash[32],
			const uint8_t *tbs, size_t tbs_len)
{
	EVP_PKEY *key = log->key;
	uint8_t head[1 + 1 + 8 + 2 + 32 + 3];
	head[0] = SCT_V1;
	head[1] = SIG_CERTIFICATE_TIMESTAMP;
	memcpy(head + 2, s->timestamp, 8);
	head[10] = 0;
	head[11] = PRECERT_ENTRY;
	memcpy(head + 12, issuer_key_hash, 32);
	head[44] = (uint8_t)(tbs_len >> 16);
	head[45] = (uint8_t)(tbs_len >> 8);
	head[46] = (uint8_t)tbs_len;
	if (log->memo) {
		unsigned char digest[32];
		unsigned int dlen = 0;
		EVP_MD_CTX *h = EVP_MD_CTX_new();
		int hashed = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
			     EVP_DigestUpdate(h, head, sizeof(head)) == 1 && EVP_DigestUpdate(h, tbs, tbs_len) == 1 &&
			     EVP_DigestUpdate(h, s->ext, 2 + s->ext_len) == 1 && EVP_DigestFinal_ex(h, digest, &dlen) == 1;
		EVP_MD_CTX_free(h);
		if (hashed && dlen == 32 && tc_sig_memo_has(log->memo, log->memo_key, digest, s->sig, s->sig_len))
			return 1;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestVerifyUpdate(md, head, sizeof(head)) == 1 && EVP_DigestVerifyUpdate(md, tbs, tbs_len) == 1 &&
		 EVP_DigestVerifyUpdate(md, s->ext, 2 + s->ext_len) == 1 &&
		 EVP_DigestVerifyFinal(md, s->sig, s->sig_len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* Judges one SCT of our log: 0, or -1 with why. */
static int sct_check(const struct sct *s, const struct tc_sct_log_key *log, const unsigned char issuer_key_hash[32],
		     const uint8_t *tbs, size_t tbs_len, char *why, size_t whylen)
{
	int want_sig = EVP_PKEY_get_base_id(log->key) == EVP_PKEY_RSA ? TLS_SIG_RSA : TLS_SIG_ECDSA;
	if (s->version != SCT_V1 || s->hash_alg != TLS_HASH_SHA256 || s->sig_alg != want_sig) {
		snprintf(why, whylen,
			 "an SCT of our CT log has version %d, hash %d, signature %d (want v1, sha256, %d)",
			 s->version, s->hash_alg, s->sig_alg, want_sig);
		return -1;
	}
	if (!sct_verifies(s, log, issuer_key_hash, tbs, tbs_len)) {
		snprintf(why, whylen,
			 "an SCT of our CT log does not verify over this certificate's precertificate entry");
		return -1;
	}
	return 0;
}

int tc_embedded_scts_check(const uint8_t *list, size_t list_len, const struct tc_sct_log_key *log,
			   const unsigned char issuer_key_hash[32], const uint8_t *precert_tbs, size_t tbs_len,
			   char *why, size_t whylen)
{
	/* SerializedSCT sct_list<1..2^16-1>, each opaque SerializedSCT<1..2^16-1> */
	if (list_len < 2 + 2 || be16(list) != list_len - 2) {
		snprintf(why, whylen, "the SCT list is not a TLS SignedCertificateTimestampList");
		return -1;
	}
	if (tbs_len == 0 || tbs_len > MAX_TBS) {
		snprintf(why, whylen, "the certificate is too large for a CT entry");
		return -1;
	}
	int ours = 0;
	for (size_t off = 2; off < list_len;) {
		struct sct s;
		size_t n = list_len - off >= 2 ? be16(list + off) : 0;
		if (n == 0 || list_len - off - 2 < n || sct_parse(list + off + 2, n, &s) != 0) {
			snprintf(why, whylen, "the SCT list holds a malformed SCT");
			return -1;
		}
		off += 2 + n;
		if (memcmp(s.log_id, log->id, LOG_ID_LEN) != 0)
			continue;
		if (sct_check(&s, log, issuer_key_hash, precert_tbs, tbs_len, why, whylen) != 0)
			return -1;
		ours++;
	}
	if (!ours) {
		snprintf(why, whylen, "the SCT list holds no SCT from our CT log");
		return -1;
	}
	return 0;
}
