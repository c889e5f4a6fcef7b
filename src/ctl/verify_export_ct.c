/* verify-export of a CT bundle, offline, with only the log's public key:
 * the tree head signature, every consistency proof (and the signature of
 * the older head it starts from), and that entries A..B, in this order and
 * unaltered, are leaves A..B of the signed tree (range proof: the audit
 * paths of A and B plus the entries rebuild the signed root). Stops at the
 * first failure with what failed. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/base64.h"
#include "ctl/export.h"
#include "transparency/ct_encode.h"
#include "transparency/merkle.h"

typedef unsigned char hash_t[TC_MERKLE_HASH_LEN];

struct signed_head {
	uint64_t size, timestamp;
	hash_t root;
};

static int failed(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failed(const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("bundle %s: FAILED: %s\n", path, msg);
	return TC_CTL_FAIL;
}

/* base64 of exactly want bytes (want 0: any length, malloc'd into *out). */
static int b64_exact(const json_t *v, unsigned char *fixed, size_t want)
{
	const char *text = json_string_value(v);
	unsigned char *raw = NULL;
	size_t len = 0;
	if (!text || tc_base64_decode(text, &raw, &len) != 0 || len != want) {
		free(raw);
		return -1;
	}
	memcpy(fixed, raw, want);
	free(raw);
	return 0;
}

/* A get-sth shaped object whose signature verifies with the log key. */
static int check_head(const json_t *sth, EVP_PKEY *key, struct signed_head *h, char *why, size_t whylen)
{
	json_t *ts = json_object_get(sth, "tree_size"), *tm = json_object_get(sth, "timestamp");
	const char *sig_text = json_string_value(json_object_get(sth, "tree_head_signature"));
	if (!json_is_integer(ts) || json_integer_value(ts) < 0 || !json_is_integer(tm) ||
	    json_integer_value(tm) < 0 || !sig_text) {
		snprintf(why, whylen, "not a tree head (tree_size, timestamp, sha256_root_hash, tree_head_signature)");
		return -1;
	}
	h->size = (uint64_t)json_integer_value(ts);
	h->timestamp = (uint64_t)json_integer_value(tm);
	if (b64_exact(json_object_get(sth, "sha256_root_hash"), h->root, sizeof(h->root)) != 0) {
		snprintf(why, whylen, "sha256_root_hash is not a base64 SHA-256 hash");
		return -1;
	}
	unsigned char *ds = NULL;
	size_t ds_len = 0;
	if (tc_base64_decode(sig_text, &ds, &ds_len) != 0 || ds_len < 4 || ds[0] != TC_CT_HASH_SHA256 ||
	    ds[1] != TC_CT_SIG_ECDSA || (size_t)((ds[2] << 8) | ds[3]) != ds_len - 4) {
		free(ds);
		snprintf(why, whylen, "tree_head_signature is not a DigitallySigned(sha256, ecdsa) structure");
		return -1;
	}
	unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN];
	tc_ct_encode_sth_signature_input(h->timestamp, h->size, h->root, input);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestVerify(md, ds + 4, ds_len - 4, input, sizeof(input)) == 1;
	EVP_MD_CTX_free(md);
	free(ds);
	if (!ok) {
		snprintf(why, whylen, "signature does not verify with the log key (tree head altered, or another log)");
		return -1;
	}
	return 0;
}

/* A JSON array of base64 hashes into proof[]. */
static int proof_of(const json_t *arr, hash_t *proof, size_t *len)
{
	if (!json_is_array(arr) || json_array_size(arr) > TC_MERKLE_MAX_PROOF)
		return -1;
	*len = json_array_size(arr);
	for (size_t i = 0; i < *len; i++)
		if (b64_exact(json_array_get(arr, i), proof[i], TC_MERKLE_HASH_LEN) != 0)
			return -1;
	return 0;
}

static int check_consistency(const json_t *list, const struct signed_head *head, EVP_PKEY *key, const char *path)
{
	if (!json_is_array(list))
		return failed(path, "header: \"consistency\" is not a list");
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *c = json_array_get(list, i);
		struct signed_head old;
		char why[256];
		if (check_head(json_object_get(c, "sth"), key, &old, why, sizeof(why)) != 0)
			return failed(path, "consistency proof %zu: its older tree head: %s", i + 1, why);
		hash_t proof[TC_MERKLE_MAX_PROOF];
		size_t len = 0;
		if (proof_of(json_object_get(c, "proof"), proof, &len) != 0)
			return failed(path, "consistency proof %zu: not a list of base64 hashes", i + 1);
		if (old.size > head->size)
			return failed(path, "consistency proof %zu: the older tree (%" PRIu64 ") is larger than the new one "
					    "(%" PRIu64 ")", i + 1, old.size, head->size);
		if (tc_merkle_verify_consistency(old.size, head->size, old.root, head->root, (const hash_t *)proof,
						 len) != TC_MERKLE_OK)
			return failed(path, "consistency proof %zu: the tree of %" PRIu64 " is NOT a prefix of the "
					    "signed tree of %" PRIu64 " (proof does not verify)",
				      i + 1, old.size, head->size);
	}
	return TC_CTL_OK;
}

/* One entry line: its index, decodable fields, a MerkleTreeLeaf no newer
 * than the tree head; its leaf hash into *hash. */
static int check_entry(const char *line, size_t len, uint64_t want, const struct signed_head *head, hash_t hash,
		       const char *path)
{
	json_error_t jerr;
	json_t *e = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *ix = json_object_get(e, "index");
	int rc = TC_CTL_FAIL;
	unsigned char *leaf = NULL, *extra = NULL;
	size_t leaf_len = 0, extra_len = 0;
	struct tc_ct_entry parsed;
	if (!e) {
		failed(path, "entry %" PRIu64 ": not JSON (%s)", want, jerr.text);
	} else if (!json_is_integer(ix) || (uint64_t)json_integer_value(ix) != want) {
		failed(path, "expected entry %" PRIu64 " but found %s%" JSON_INTEGER_FORMAT
			     " (entries dropped, duplicated or reordered)",
		       want, json_is_integer(ix) ? "entry " : "no index ", json_integer_value(ix));
	} else if (!json_string_value(json_object_get(e, "leaf_input")) ||
		   tc_base64_decode(json_string_value(json_object_get(e, "leaf_input")), &leaf, &leaf_len) != 0) {
		failed(path, "entry %" PRIu64 ": leaf_input is not valid base64", want);
	} else if (!json_string_value(json_object_get(e, "extra_data")) ||
		   tc_base64_decode(json_string_value(json_object_get(e, "extra_data")), &extra, &extra_len) != 0) {
		failed(path, "entry %" PRIu64 ": extra_data is not valid base64", want);
	} else if (tc_ct_parse_leaf(leaf, leaf_len, &parsed) != TC_CT_OK) {
		failed(path, "entry %" PRIu64 ": leaf_input is not an RFC 6962 MerkleTreeLeaf", want);
	} else if (parsed.timestamp > head->timestamp) {
		failed(path, "entry %" PRIu64 ": timestamped %" PRIu64 ", after the tree head (%" PRIu64 ")", want,
		       parsed.timestamp, head->timestamp);
	} else if (tc_merkle_leaf_hash(leaf, leaf_len, hash) != 0) {
		failed(path, "out of memory");
	} else {
		rc = TC_CTL_OK;
	}
	free(leaf);
	free(extra);
	json_decref(e);
	return rc;
}

static int check_entries(FILE *f, const json_t *spec, const struct signed_head *head, const char *path)
{
	json_t *jf = json_object_get(spec, "first"), *jc = json_object_get(spec, "count");
	if (!json_is_integer(jf) || !json_is_integer(jc) || json_integer_value(jf) < 0 || json_integer_value(jc) < 0)
		return failed(path, "header: \"entries\" needs first and count");
	uint64_t first = (uint64_t)json_integer_value(jf), count = (uint64_t)json_integer_value(jc);
	if (count && (first >= head->size || count > head->size - first))
		return failed(path, "header: entries %" PRIu64 "..%" PRIu64 " are outside the signed tree of %" PRIu64,
			      first, first + count - 1, head->size);
	if (count > (SIZE_MAX / sizeof(hash_t)) / 2)
		return failed(path, "header: entry count %" PRIu64 " too large", count);
	hash_t *hashes = count ? malloc((size_t)count * sizeof(hash_t)) : NULL;
	if (count && !hashes)
		return failed(path, "out of memory for %" PRIu64 " leaf hashes", count);
	char *line = NULL;
	size_t cap = 0, len = 0;
	int rc = TC_CTL_OK;
	uint64_t seen = 0;
	for (; rc == TC_CTL_OK && seen < count; seen++) {
		int r = tc_export_read_line(f, &line, &cap, &len);
		if (r == 0)
			rc = failed(path, "bundle ends after %" PRIu64 " of %" PRIu64 " entries (truncated)", seen, count);
		else if (r < 0)
			rc = failed(path, "entry %" PRIu64 ": line too long or cut off (truncated bundle)", first + seen);
		else
			rc = check_entry(line, len, first + seen, head, hashes[seen], path);
	}
	if (rc == TC_CTL_OK && tc_export_read_line(f, &line, &cap, &len) != 0)
		rc = failed(path, "data after the last of the %" PRIu64 " entries the header announces", count);
	free(line);
	if (rc == TC_CTL_OK && count) {
		hash_t p1[TC_MERKLE_MAX_PROOF], p2[TC_MERKLE_MAX_PROOF];
		size_t l1 = 0, l2 = 0;
		uint64_t last = first + count - 1;
		if (proof_of(json_object_get(spec, "first_audit_path"), p1, &l1) != 0 ||
		    proof_of(json_object_get(spec, "last_audit_path"), p2, &l2) != 0)
			rc = failed(path, "header: first_audit_path / last_audit_path are not lists of base64 hashes");
		else if (tc_merkle_verify_inclusion(hashes[0], first, head->size, (const hash_t *)p1, l1, head->root) != 0)
			rc = failed(path, "entry %" PRIu64 " is not in the signed tree (entry altered, or its audit path)",
				    first);
		else if (tc_merkle_verify_inclusion(hashes[count - 1], last, head->size, (const hash_t *)p2, l2,
						    head->root) != 0)
			rc = failed(path, "entry %" PRIu64 " is not in the signed tree (entry altered, or its audit path)",
				    last);
		else if (tc_merkle_verify_range((const hash_t *)hashes, first, count, head->size, (const hash_t *)p1, l1,
						(const hash_t *)p2, l2, head->root) != 0)
			rc = failed(path, "entries %" PRIu64 "..%" PRIu64 " do not rebuild the signed root: an entry between "
					  "them was altered, replaced or moved", first, last);
	}
	free(hashes);
	return rc;
}

int tc_ctl_verify_ct_bundle(FILE *f, const json_t *header, EVP_PKEY *log_key, const char *path)
{
	struct signed_head head;
	char why[256];
	if (check_head(json_object_get(header, "sth"), log_key, &head, why, sizeof(why)) != 0)
		return failed(path, "tree head: %s", why);
	int rc = check_consistency(json_object_get(header, "consistency"), &head, log_key, path);
	if (rc == TC_CTL_OK)
		rc = check_entries(f, json_object_get(header, "entries"), &head, path);
	if (rc != TC_CTL_OK)
		return rc;
	json_int_t first = json_integer_value(json_object_get(json_object_get(header, "entries"), "first"));
	json_int_t count = json_integer_value(json_object_get(json_object_get(header, "entries"), "count"));
	printf("bundle %s: OK: tree head of %" PRIu64 " entries (timestamp %" PRIu64 ") signed by the log key; "
	       "%zu consistency proof%s verified; ",
	       path, head.size, head.timestamp, json_array_size(json_object_get(header, "consistency")),
	       json_array_size(json_object_get(header, "consistency")) == 1 ? "" : "s");
	if (count)
		printf("entries %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT
		       ") are in the signed tree\n", first, first + count - 1, count);
	else
		printf("no entries\n");
	return TC_CTL_OK;
}
