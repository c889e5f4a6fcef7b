#include "ctl/transcript.h"

#include <dirent.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/base64.h"
#include "ctl/artefacts.h"
#include "ctl/files.h"

#define FILE_FLAGS (JSON_INDENT(2) | JSON_SORT_KEYS)
#define MAX_SIG 256

char *tc_transcript_canonical(const json_t *transcript)
{
	return json_dumps(transcript, JSON_COMPACT | JSON_SORT_KEYS);
}

/* The published file: FILE_FLAGS layout plus a final newline. */
static char *file_text(const json_t *doc)
{
	char *body = json_dumps(doc, FILE_FLAGS);
	if (!body)
		return NULL;
	size_t n = strlen(body);
	char *out = realloc(body, n + 2);
	if (!out) {
		free(body);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}

char *tc_transcript_sign(const json_t *transcript, EVP_PKEY *audit_priv,
			 const unsigned char *audit_key_id, size_t audit_key_id_len, char *err,
			 size_t errlen)
{
	char *canon = tc_transcript_canonical(transcript);
	if (!canon) {
		snprintf(err, errlen, "cannot serialise the transcript");
		return NULL;
	}
	unsigned char sig[MAX_SIG];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, audit_priv) == 1 &&
		 EVP_DigestSign(md, sig, &siglen, (const unsigned char *)canon, strlen(canon)) == 1;
	EVP_MD_CTX_free(md);
	free(canon);
	if (!ok) {
		snprintf(err, errlen, "the audit key refused to sign the transcript: %s",
			 ERR_reason_error_string(ERR_peek_last_error()));
		return NULL;
	}
	char id_hex[2 * 64 + 1];
	if (audit_key_id_len > 64) {
		snprintf(err, errlen, "audit key id too long");
		return NULL;
	}
	tc_hex_encode(audit_key_id, audit_key_id_len, id_hex);
	char *sig_b64 = tc_base64_encode(sig, siglen);
	json_t *doc = sig_b64 ? json_pack("{s:O, s:s, s:s}", "transcript", transcript, "signature",
					  sig_b64, "audit_key_id", id_hex)
			      : NULL;
	free(sig_b64);
	char *text = doc ? file_text(doc) : NULL;
	json_decref(doc);
	if (!text)
		snprintf(err, errlen, "cannot serialise the signed transcript");
	return text;
}

/* Highest NNNN of the NNNN-*.json files in dir (0 when none). */
static int highest_number(const char *dir, unsigned *out, char *err, size_t errlen)
{
	*out = 0;
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "cannot read %s", dir);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		unsigned n;
		char dash;
		if (strlen(e->d_name) > 5 && sscanf(e->d_name, "%4u%c", &n, &dash) == 2 && dash == '-' &&
		    n > *out)
			*out = n;
	}
	closedir(d);
	return 0;
}

int tc_transcript_store(const char *dir, const char *step, const char *doc, char *path,
			size_t pathlen, char *err, size_t errlen)
{
	if (tc_ctl_mkdirs(dir, 0755, err, errlen) != 0)
		return -1;
	unsigned last;
	if (highest_number(dir, &last, err, errlen) != 0)
		return -1;
	if (last >= 9999) {
		snprintf(err, errlen, "%s: transcript numbers exhausted", dir);
		return -1;
	}
	if (snprintf(path, pathlen, "%s/%04u-%s.json", dir, last + 1, step) >= (int)pathlen) {
		snprintf(err, errlen, "transcript path too long");
		return -1;
	}
	return tc_ctl_write_new_file(path, doc, strlen(doc), 0644, err, errlen);
}

static void copy_str(char *out, size_t outlen, json_t *v)
{
	snprintf(out, outlen, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int tc_transcript_verify(const char *doc, size_t len, EVP_PKEY *audit_pub,
			 struct tc_transcript_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof(*info));
	json_error_t jerr;
	json_t *root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "not valid JSON (line %d: %s)", jerr.line, jerr.text);
		return -1;
	}
	int rc = -1;
	json_t *t = json_object_get(root, "transcript");
	const char *sig_b64 = json_string_value(json_object_get(root, "signature"));
	const char *key_id = json_string_value(json_object_get(root, "audit_key_id"));
	if (!json_is_object(root) || json_object_size(root) != 3 || !json_is_object(t) || !sig_b64 ||
	    !key_id) {
		snprintf(err, errlen,
			 "not a signed transcript (expected exactly transcript, signature, audit_key_id)");
		goto out;
	}
	copy_str(info->step, sizeof(info->step), json_object_get(t, "step"));
	copy_str(info->operator_name, sizeof(info->operator_name), json_object_get(t, "operator"));
	copy_str(info->time, sizeof(info->time), json_object_get(t, "time"));
	copy_str(info->audit_key_id, sizeof(info->audit_key_id), json_object_get(root, "audit_key_id"));
	info->dev = json_is_true(json_object_get(t, "dev"));

	unsigned char *sig = NULL;
	size_t siglen = 0;
	/* A signature is never empty and never near a megabyte. */
	if (!sig_b64[0] || strlen(sig_b64) > 1 << 20 || tc_base64_decode(sig_b64, &sig, &siglen) != 0) {
		snprintf(err, errlen, "signature is not valid base64");
		goto out;
	}
	char *canon = tc_transcript_canonical(t);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int good = canon && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, audit_pub) == 1 &&
		   EVP_DigestVerify(md, sig, siglen, (const unsigned char *)canon, strlen(canon)) == 1;
	EVP_MD_CTX_free(md);
	free(canon);
	free(sig);
	ERR_clear_error();
	if (!good) {
		snprintf(err, errlen, "signature does not verify with the audit key (transcript altered, or "
				      "signed by another key)");
		goto out;
	}
	/* The signature covers the transcript's content; this covers the rest
	 * of the file (layout, signature encoding, the audit_key_id label). */
	char *again = file_text(root);
	int same = again && strlen(again) == len && memcmp(again, doc, len) == 0;
	free(again);
	if (!same) {
		snprintf(err, errlen, "signature is valid but the file differs from the signed layout "
				      "(edited after signing)");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
