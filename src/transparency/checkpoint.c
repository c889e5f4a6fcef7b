#include "transparency/checkpoint.h"

#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

/* One line of text[*pos..len) without its '\n'; -1 when none is left. */
static int next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *line_len)
{
	if (*pos >= len)
		return -1;
	const char *nl = memchr(text + *pos, '\n', len - *pos);
	if (!nl)
		return -1;
	*line = text + *pos;
	*line_len = (size_t)(nl - *line);
	*pos += *line_len + 1;
	return 0;
}

static int parse_size(const char *s, size_t len, uint64_t *out)
{
	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int tc_checkpoint_parse_text(const char *text, size_t len, struct tc_checkpoint *out)
{
	memset(out, 0, sizeof(*out));
	if (tc_note_text_ok(text, len) != 0)
		return -1;
	size_t pos = 0, ol, sl, rl;
	const char *o, *s, *r;
	if (next_line(text, len, &pos, &o, &ol) != 0 || next_line(text, len, &pos, &s, &sl) != 0 ||
	    next_line(text, len, &pos, &r, &rl) != 0 || pos != len)
		return -1; /* three lines, no extension lines */
	if (ol == 0 || ol > TC_CHECKPOINT_MAX_ORIGIN || parse_size(s, sl, &out->tree_size) != 0 || rl != 44)
		return -1;
	memcpy(out->origin, o, ol);
	char b64[45];
	memcpy(b64, r, 44);
	b64[44] = 0;
	unsigned char *root = NULL;
	size_t root_len = 0;
	if (tc_base64_decode(b64, &root, &root_len) != 0 || root_len != TC_CT_HASH_LEN) {
		free(root);
		return -1;
	}
	memcpy(out->root, root, TC_CT_HASH_LEN);
	free(root);
	return 0;
}

uint32_t tc_checkpoint_key_id(const char *origin, const unsigned char log_id[TC_CT_LOG_ID_LEN])
{
	return tc_note_key_id(origin, TC_NOTE_SIG_RFC6962, log_id, TC_CT_LOG_ID_LEN);
}

int tc_checkpoint_format(const char *origin, const unsigned char log_id[TC_CT_LOG_ID_LEN], uint64_t tree_size,
			 uint64_t timestamp, const unsigned char root[TC_CT_HASH_LEN], const unsigned char *sig,
			 size_t sig_len, char **out, size_t *out_len)
{
	*out = NULL;
	if (!origin[0] || strlen(origin) > TC_CHECKPOINT_MAX_ORIGIN || strchr(origin, '\n') ||
	    sig_len > TC_CHECKPOINT_MAX_SIG)
		return -1;
	/* RFC6962NoteSignature: timestamp, then the DigitallySigned struct */
	unsigned char body[8 + 4 + TC_CHECKPOINT_MAX_SIG];
	for (int i = 0; i < 8; i++)
		body[i] = (unsigned char)(timestamp >> (56 - 8 * i));
	size_t ds_len = 0;
	if (tc_ct_encode_digitally_signed(TC_CT_SIG_ECDSA, sig, sig_len, body + 8, sizeof(body) - 8, &ds_len) !=
	    TC_CT_OK)
		return -1;
	char *root_b64 = tc_base64_encode(root, TC_CT_HASH_LEN);
	char *line = tc_note_sig_line(origin, tc_checkpoint_key_id(origin, log_id), body, 8 + ds_len);
	int rc = -1;
	if (root_b64 && line) {
		size_t cap = strlen(origin) + 24 + strlen(root_b64) + 3 + strlen(line) + 1;
		char *note = malloc(cap);
		if (note) {
			int n = snprintf(note, cap, "%s\n%llu\n%s\n\n%s", origin, (unsigned long long)tree_size,
					 root_b64, line);
			if (n > 0 && (size_t)n < cap) {
				*out = note;
				*out_len = (size_t)n;
				rc = 0;
			} else {
				free(note);
			}
		}
	}
	free(root_b64);
	free(line);
	if (rc == 0) {
		/* what we publish must be what a monitor accepts */
		struct tc_checkpoint check;
		struct tc_note n;
		int ok = tc_note_parse(*out, *out_len, &n) == 0 &&
			 tc_checkpoint_parse_text(n.text, n.text_len, &check) == 0;
		tc_note_free(&n);
		if (!ok) {
			free(*out);
			*out = NULL;
			rc = -1;
		}
	}
	return rc;
}

int tc_checkpoint_log_id(EVP_PKEY *key, unsigned char log_id[TC_CT_LOG_ID_LEN])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);
	if (n <= 0)
		return -1;
	SHA256(der, (size_t)n, log_id);
	OPENSSL_free(der);
	return 0;
}

/* timestamp(8) || hash(1) sig_alg(1) len(2) signature: the parts. */
static int parse_note_sig(const unsigned char *b, size_t len, uint64_t *ts, int *sig_alg,
			  const unsigned char **sig, size_t *sig_len)
{
	if (len < 12)
		return -1;
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | b[i];
	size_t n = (size_t)b[10] << 8 | b[11];
	if (b[8] != TC_CT_HASH_SHA256 || n != len - 12 || n == 0)
		return -1;
	*ts = t;
	*sig_alg = b[9];
	*sig = b + 12;
	*sig_len = n;
	return 0;
}

int tc_checkpoint_verify(const char *note, size_t len, const char *origin, EVP_PKEY *key,
			 struct tc_checkpoint *out, char *err, size_t errlen)
{
	struct tc_note n;
	unsigned char log_id[TC_CT_LOG_ID_LEN];
	int rc = -1;
	if (tc_note_parse(note, len, &n) != 0) {
		snprintf(err, errlen, "not a signed note");
	} else if (tc_checkpoint_parse_text(n.text, n.text_len, out) != 0) {
		snprintf(err, errlen, "note text is not a checkpoint (origin, size, root)");
	} else if (origin && strcmp(origin, out->origin) != 0) {
		snprintf(err, errlen, "checkpoint origin \"%s\" is not the log's \"%s\"", out->origin, origin);
	} else if (tc_checkpoint_log_id(key, log_id) != 0) {
		snprintf(err, errlen, "log key unusable");
	} else {
		uint32_t id = tc_checkpoint_key_id(out->origin, log_id);
		const struct tc_note_sig *s = NULL;
		for (size_t i = 0; i < n.n_sigs && !s; i++)
			if (n.sigs[i].key_id == id && strcmp(n.sigs[i].name, out->origin) == 0)
				s = &n.sigs[i];
		uint64_t ts;
		int alg;
		const unsigned char *sig;
		size_t sig_len;
		unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN];
		EVP_MD_CTX *md = NULL;
		if (!s) {
			snprintf(err, errlen, "no signature by the log key (name %s, key ID %08x)", out->origin, id);
		} else if (parse_note_sig(s->sig, s->sig_len, &ts, &alg, &sig, &sig_len) != 0 ||
			   sig_len > sizeof(out->signature)) {
			snprintf(err, errlen, "log signature is not an RFC6962NoteSignature");
		} else if (alg != (EVP_PKEY_base_id(key) == EVP_PKEY_RSA ? TC_CT_SIG_RSA : TC_CT_SIG_ECDSA)) {
			snprintf(err, errlen, "log signature algorithm %d does not match the log key", alg);
		} else {
			tc_ct_encode_sth_signature_input(ts, out->tree_size, out->root, input);
			md = EVP_MD_CTX_new();
			if (md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
			    EVP_DigestVerify(md, sig, sig_len, input, sizeof(input)) == 1) {
				out->timestamp = ts;
				memcpy(out->signature, sig, sig_len);
				out->signature_len = sig_len;
				rc = 0;
			} else {
				snprintf(err, errlen, "log signature does not verify (tree size %llu)",
					 (unsigned long long)out->tree_size);
			}
			EVP_MD_CTX_free(md);
		}
	}
	tc_note_free(&n);
	return rc;
}
