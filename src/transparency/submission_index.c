#include "transparency/submission_index.h"

#include <errno.h>
#include <leveldb/c.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"

#define IMPORT_BATCH 4096 /* records per synced write while importing */

void tc_submission_id(const struct tc_ct_entry *e, unsigned char id[TC_SUBMISSION_ID_LEN])
{
	unsigned char type = (unsigned char)e->type;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	/* Lengths are implied: type fixes whether a 32-byte key hash follows. */
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) || !EVP_DigestUpdate(md, &type, 1) ||
	    (e->type == TC_CT_PRECERT_ENTRY && !EVP_DigestUpdate(md, e->issuer_key_hash, TC_CT_HASH_LEN)) ||
	    !EVP_DigestUpdate(md, e->cert, e->cert_len) || !EVP_DigestFinal_ex(md, id, &n)) {
		/* Only allocation can fail here; an all-zero id never matches a
		 * real one by accident and just disables deduplication. */
		memset(id, 0, TC_SUBMISSION_ID_LEN);
	}
	EVP_MD_CTX_free(md);
}

void tc_submission_logged_record(uint64_t timestamp, unsigned char out[TC_SUBMISSION_LOGGED_LEN])
{
	out[0] = 0xff;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (unsigned char)(timestamp >> (56 - 8 * i));
}

void tc_submission_logged_at_record(uint64_t timestamp, uint64_t leaf_index,
				    unsigned char out[TC_SUBMISSION_LOGGED_AT_LEN])
{
	out[0] = 0xfe;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (unsigned char)(timestamp >> (56 - 8 * i));
	for (int i = 0; i < 5; i++)
		out[9 + i] = (unsigned char)(leaf_index >> (32 - 8 * i));
}

static uint64_t be_read(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int tc_submission_index_get(struct tc_ct_store *st, const unsigned char id[TC_SUBMISSION_ID_LEN],
			    unsigned char *sct, size_t cap, size_t *sct_len, uint64_t *timestamp)
{
	uint64_t leaf_index;
	return tc_submission_index_get_at(st, id, sct, cap, sct_len, timestamp, &leaf_index);
}

int tc_submission_index_get_at(struct tc_ct_store *st, const unsigned char id[TC_SUBMISSION_ID_LEN],
			       unsigned char *sct, size_t cap, size_t *sct_len, uint64_t *timestamp,
			       uint64_t *leaf_index)
{
	int rc = tc_ct_store_get_submission(st, id, sct, cap, sct_len);
	*leaf_index = UINT64_MAX;
	if (rc == TC_CT_STORE_OK && *sct_len == TC_SUBMISSION_LOGGED_LEN && sct[0] == 0xff) {
		*timestamp = be_read(sct + 1, 8);
		*sct_len = 0;
		return TC_SUBMISSION_LOGGED;
	}
	if (rc == TC_CT_STORE_OK && *sct_len == TC_SUBMISSION_LOGGED_AT_LEN && sct[0] == 0xfe) {
		*timestamp = be_read(sct + 1, 8);
		*leaf_index = be_read(sct + 9, 5);
		*sct_len = 0;
		return TC_SUBMISSION_LOGGED;
	}
	if (rc == TC_CT_STORE_OK)
		return TC_SUBMISSION_HAS_SCT;
	if (rc == TC_CT_STORE_ERR_NOT_FOUND)
		return TC_SUBMISSION_UNKNOWN;
	tc_err("submission index read: %s", tc_ct_store_strerror(rc));
	return -1;
}

/* Flushes the collected records into the store. */
static int import_flush(struct tc_ct_store *st, struct tc_ct_submission *subs, unsigned char (*ids)[32],
			unsigned char (*scts)[TC_CT_STORE_MAX_SCT], size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		subs[i].id = ids[i];
		subs[i].sct = scts[i];
	}
	int rc = tc_ct_store_put_submissions(st, subs, *n);
	*n = 0;
	return rc;
}

int tc_submission_index_import(struct tc_ct_store *st, const char *legacy_path, char *err, size_t errlen)
{
	struct stat sb;
	if (stat(legacy_path, &sb) != 0) {
		if (errno == ENOENT)
			return 0; /* nothing to import: the usual case */
		snprintf(err, errlen, "%s: %s", legacy_path, strerror(errno));
		return -1;
	}
	leveldb_options_t *opts = leveldb_options_create();
	leveldb_readoptions_t *ropts = leveldb_readoptions_create();
	char *lerr = NULL;
	leveldb_t *db = leveldb_open(opts, legacy_path, &lerr);
	struct tc_ct_submission *subs = malloc(IMPORT_BATCH * sizeof(*subs));
	unsigned char (*ids)[32] = malloc(IMPORT_BATCH * sizeof(*ids));
	unsigned char (*scts)[TC_CT_STORE_MAX_SCT] = malloc(IMPORT_BATCH * sizeof(*scts));
	int rc = -1;
	size_t n = 0, total = 0, skipped = 0;
	if (!db) {
		snprintf(err, errlen, "cannot open the old submission index %s: %s", legacy_path,
			 lerr ? lerr : "unknown error");
		goto out;
	}
	if (!subs || !ids || !scts) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	leveldb_iterator_t *it = leveldb_create_iterator(db, ropts);
	int st_rc = TC_CT_STORE_OK;
	for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it) && st_rc == TC_CT_STORE_OK;
	     leveldb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = leveldb_iter_key(it, &klen), *v = leveldb_iter_value(it, &vlen);
		if (klen != TC_SUBMISSION_ID_LEN || vlen == 0 || vlen > TC_CT_STORE_MAX_SCT) {
			skipped++;
			continue;
		}
		memcpy(ids[n], k, klen);
		memcpy(scts[n], v, vlen);
		subs[n].sct_len = vlen;
		n++;
		total++;
		if (n == IMPORT_BATCH)
			st_rc = import_flush(st, subs, ids, scts, &n);
	}
	if (st_rc == TC_CT_STORE_OK && n)
		st_rc = import_flush(st, subs, ids, scts, &n);
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr || st_rc != TC_CT_STORE_OK) {
		snprintf(err, errlen, "importing %s: %s", legacy_path, lerr ? lerr : tc_ct_store_strerror(st_rc));
		goto out;
	}
	leveldb_close(db);
	db = NULL;
	char done[4096];
	snprintf(done, sizeof(done), "%s.imported", legacy_path);
	if (rename(legacy_path, done) != 0) {
		snprintf(err, errlen, "renaming %s: %s", legacy_path, strerror(errno));
		goto out;
	}
	tc_info("imported %zu duplicate-index records from %s (%zu malformed skipped)", total, legacy_path, skipped);
	rc = 0;
out:
	leveldb_free(lerr);
	if (db)
		leveldb_close(db);
	leveldb_readoptions_destroy(ropts);
	leveldb_options_destroy(opts);
	free(subs);
	free(ids);
	free(scts);
	return rc;
}
