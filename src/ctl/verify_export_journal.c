/* verify-export of a journal bundle, offline, with only the audit public
 * key: the bundle was made for this key, the journal's hash chain is intact
 * from the first record and holds exactly the records and head the header
 * announces, and every ceremony record is backed by a transcript signed by
 * the audit key whose canonical bytes are what the record hashed (and every
 * transcript by a record). Stops at the first failure with what failed. */
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/journal_format.h"
#include "ctl/export.h"
#include "ctl/transcript.h"

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

struct ceremony_record {
	uint64_t seq;
	char op[96];
	char digest[65];
	int matched;
};

/* The ceremony records of the (already chain-verified) journal lines. */
static int collect_ceremonies(FILE *f, struct ceremony_record **out, size_t *n)
{
	char *line = NULL;
	size_t cap = 0, len = 0, alloc = 0;
	int r;
	*out = NULL;
	*n = 0;
	while ((r = tc_export_read_line(f, &line, &cap, &len)) == 1) {
		char *tab = strrchr(line, '\t');
		if (tab)
			*tab = 0;
		json_t *rec = json_loads(line, 0, NULL);
		const char *op = json_string_value(json_object_get(rec, "op"));
		const char *digest = json_string_value(json_object_get(rec, "digest"));
		if (op && digest && strncmp(op, "ceremony:", 9) == 0 && strlen(op) < 96 && strlen(digest) == 64) {
			if (*n == alloc) {
				alloc = alloc ? alloc * 2 : 16;
				struct ceremony_record *grown = realloc(*out, alloc * sizeof(**out));
				if (!grown) {
					json_decref(rec);
					r = -1;
					break;
				}
				*out = grown;
			}
			struct ceremony_record *c = &(*out)[(*n)++];
			c->seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
			snprintf(c->op, sizeof(c->op), "%s", op);
			snprintf(c->digest, sizeof(c->digest), "%s", digest);
			c->matched = 0;
		}
		json_decref(rec);
	}
	free(line);
	return r < 0 ? -1 : 0;
}

static int check_transcripts(const json_t *list, struct ceremony_record *recs, size_t nrecs, EVP_PKEY *key,
			     const char *path)
{
	if (!json_is_array(list))
		return failed(path, "header: \"transcripts\" is not a list");
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *t = json_array_get(list, i);
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *content = json_string_value(json_object_get(t, "content"));
		if (!name || !content)
			return failed(path, "transcript %zu: needs name and content", i + 1);
		struct tc_transcript_info info;
		char err[512];
		size_t len = json_string_length(json_object_get(t, "content"));
		if (tc_transcript_verify(content, len, key, &info, err, sizeof(err)) != 0)
			return failed(path, "transcript %s: %s", name, err);
		/* What the journal record hashed: the canonical transcript. */
		json_t *doc = json_loadb(content, len, 0, NULL);
		char *canon = doc ? tc_transcript_canonical(json_object_get(doc, "transcript")) : NULL;
		json_decref(doc);
		if (!canon)
			return failed(path, "transcript %s: cannot canonicalise", name);
		unsigned char digest[SHA256_DIGEST_LENGTH];
		char hex[65], op[96];
		SHA256((const unsigned char *)canon, strlen(canon), digest);
		free(canon);
		tc_hex_encode(digest, sizeof(digest), hex);
		snprintf(op, sizeof(op), "ceremony:%s", info.step);
		int found = 0;
		for (size_t r = 0; r < nrecs && !found; r++)
			if (!recs[r].matched && strcmp(recs[r].op, op) == 0 && strcmp(recs[r].digest, hex) == 0)
				found = recs[r].matched = 1;
		if (!found)
			return failed(path, "transcript %s (%s): no journal record of it (record removed, or the "
					    "transcript is not from this journal)", name, info.step);
	}
	for (size_t r = 0; r < nrecs; r++)
		/* init-token runs before the audit key exists: no transcript. */
		if (!recs[r].matched && strcmp(recs[r].op, "ceremony:init-token") != 0)
			return failed(path, "journal record %" PRIu64 " (%s): its signed transcript is missing", recs[r].seq,
				      recs[r].op);
	return TC_CTL_OK;
}

int tc_ctl_verify_journal_bundle(FILE *f, const json_t *header, EVP_PKEY *audit_key, const char *path)
{
	char fp[65];
	const char *want_fp = json_string_value(json_object_get(header, "audit_key_sha256"));
	if (tc_export_key_fingerprint(audit_key, fp) != 0)
		return failed(path, "cannot encode the audit key");
	if (!want_fp || strcmp(want_fp, fp) != 0)
		return failed(path, "exported for audit key %s, but the key given is %s", want_fp ? want_fp : "(none)",
			      fp);
	json_t *jr = json_object_get(header, "records");
	const char *want_head = json_string_value(json_object_get(header, "head"));
	if (!json_is_integer(jr) || json_integer_value(jr) < 0 || !want_head)
		return failed(path, "header: needs records and head");
	long start = ftell(f);
	struct tc_journal_verify_result vr;
	if (tc_journal_verify(f, &vr) != 0)
		/* problem reads "line N: ...": N counts journal records. */
		return failed(path, "journal record %s (bundle line %" PRIu64 ")", vr.problem, vr.bad_line + 1);
	if (vr.truncated_tail)
		return failed(path, "the last journal line is cut off after record %" PRIu64 " (truncated bundle)",
			      vr.records);
	if (vr.records != (uint64_t)json_integer_value(jr))
		return failed(path, "bundle holds %" PRIu64 " journal records, its header announces %" JSON_INTEGER_FORMAT
				    " (records dropped from the end, or added)", vr.records, json_integer_value(jr));
	char head[2 * TC_JOURNAL_HASH_LEN + 1];
	tc_hex_encode(vr.head, sizeof(vr.head), head);
	if (strcmp(head, want_head) != 0)
		return failed(path, "journal head %s differs from the header's %s", head, want_head);
	struct ceremony_record *recs = NULL;
	size_t nrecs = 0;
	if (start < 0 || fseek(f, start, SEEK_SET) != 0 || collect_ceremonies(f, &recs, &nrecs) != 0) {
		free(recs);
		return failed(path, "cannot re-read the journal records");
	}
	int rc = check_transcripts(json_object_get(header, "transcripts"), recs, nrecs, audit_key, path);
	free(recs);
	if (rc != TC_CTL_OK)
		return rc;
	printf("bundle %s: OK: %" PRIu64 " journal records, hash chain intact, head %s; %zu ceremony transcript%s "
	       "signed by the audit key match their journal records\n",
	       path, vr.records, head, json_array_size(json_object_get(header, "transcripts")),
	       json_array_size(json_object_get(header, "transcripts")) == 1 ? "" : "s");
	return TC_CTL_OK;
}
