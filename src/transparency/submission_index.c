#include "transparency/submission_index.h"

#include <leveldb/c.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct tc_submission_index {
	leveldb_t *db;
	leveldb_options_t *opts;
	leveldb_readoptions_t *ropts;
	leveldb_writeoptions_t *wopts;
};

int tc_submission_index_open(const char *path, struct tc_submission_index **out, char *err, size_t errlen)
{
	struct tc_submission_index *ix = calloc(1, sizeof(*ix));
	if (!ix) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *lerr = NULL;
	ix->opts = leveldb_options_create();
	leveldb_options_set_create_if_missing(ix->opts, 1);
	ix->ropts = leveldb_readoptions_create();
	ix->wopts = leveldb_writeoptions_create();
	ix->db = leveldb_open(ix->opts, path, &lerr);
	if (!ix->db) {
		snprintf(err, errlen, "cannot open %s: %s", path, lerr ? lerr : "unknown error");
		leveldb_free(lerr);
		tc_submission_index_close(ix);
		return -1;
	}
	*out = ix;
	return 0;
}

void tc_submission_index_close(struct tc_submission_index *ix)
{
	if (!ix)
		return;
	if (ix->db)
		leveldb_close(ix->db);
	leveldb_writeoptions_destroy(ix->wopts);
	leveldb_readoptions_destroy(ix->ropts);
	leveldb_options_destroy(ix->opts);
	free(ix);
}

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

int tc_submission_index_get(struct tc_submission_index *ix, const unsigned char id[TC_SUBMISSION_ID_LEN],
			    unsigned char *sct, size_t cap, size_t *sct_len)
{
	char *lerr = NULL;
	size_t vlen = 0;
	char *v = leveldb_get(ix->db, ix->ropts, (const char *)id, TC_SUBMISSION_ID_LEN, &vlen, &lerr);
	if (lerr) {
		tc_err("submission index read: %s", lerr);
		leveldb_free(lerr);
		return -1;
	}
	if (!v)
		return 0;
	int rc = 1;
	if (vlen > cap) {
		tc_err("submission index: oversized record");
		rc = -1;
	} else {
		memcpy(sct, v, vlen);
		*sct_len = vlen;
	}
	leveldb_free(v);
	return rc;
}

int tc_submission_index_put(struct tc_submission_index *ix, const unsigned char id[TC_SUBMISSION_ID_LEN],
			    const unsigned char *sct, size_t sct_len)
{
	char *lerr = NULL;
	leveldb_put(ix->db, ix->wopts, (const char *)id, TC_SUBMISSION_ID_LEN, (const char *)sct, sct_len, &lerr);
	if (lerr) {
		tc_err("submission index write: %s", lerr);
		leveldb_free(lerr);
		return -1;
	}
	return 0;
}
