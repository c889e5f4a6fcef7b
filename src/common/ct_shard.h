/* The CT log's temporal shards (ct.logs) as every process sees them: which
 * shard a certificate belongs to (by its notAfter), and where each shard's
 * key, storage, files and URLs are. Without ct.logs the single log of
 * earlier releases is the one shard, unnamed, with an unbounded window and
 * its old paths (ct/log, ct/log_public_key.pem, the root of the tiles
 * directory and of the HTTP listener), so nothing changes for it.
 *
 * A named shard <n>: HSM key "<hsm.keys.ct_log>-<n>" (or its key_label),
 * store <data_dir>/ct/logs/<n>/, public key <data_dir>/ct/keys/<n>.pem
 * (and <n>.log_id.txt), tiles <ct.tiles_dir>/<n>/, URLs
 * http://<ct.http_listen>/<n>/ct/v1/... and /<n>/checkpoint, /<n>/tile/...,
 * checkpoint origin ct.<bootstrap.domain>:<port>/<n>. */
#ifndef TC_COMMON_CT_SHARD_H
#define TC_COMMON_CT_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

struct tc_ct_shard {
	char name[TC_CT_LOG_NAME_MAX]; /* "" for the single unnamed log */
	int64_t not_after_start;       /* accepts notAfter in [start, end) */
	int64_t not_after_end;
	bool frozen;
	char key_label[128];
};

/* Fills out (room for TC_CFG_MAX_CT_LOGS) from cfg; returns how many (>= 1). */
size_t tc_ct_shards(const struct tc_config *cfg, struct tc_ct_shard *out);

/* 1 when the shard's window holds not_after. */
int tc_ct_shard_holds(const struct tc_ct_shard *s, int64_t not_after);

/* The index of the shard whose window holds not_after, or -1 (none). */
int tc_ct_shard_pick(const struct tc_ct_shard *s, size_t n, int64_t not_after);

/* The index of the shard named name ("" names the single log), or -1. */
int tc_ct_shard_find(const struct tc_ct_shard *s, size_t n, const char *name);

/* notAfter of a DER certificate (or precertificate), seconds since the
 * epoch; 0, or -1 when it does not decode. */
int tc_cert_not_after(const uint8_t *der, size_t len, int64_t *out);

/* For issuance: writes the name of the shard that takes cert into name
 * (TC_CT_LOG_NAME_MAX); 0, or -1 with a reason in err (no shard's window
 * holds its notAfter, or it does not decode). */
int tc_ct_shard_for_cert(const struct tc_config *cfg, const uint8_t *der, size_t len, char *name, char *err,
			 size_t errlen);

/* The same as a name for the CT IPC request (transparency.proto
 * Request.log): a pointer into cfg (which outlives the request), or ""
 * when cfg is NULL, there are no shards or none takes cert; the log then
 * picks by notAfter itself, or refuses with the reason. */
const char *tc_ct_shard_name_for_cert(const struct tc_config *cfg, const uint8_t *der, size_t len);

enum tc_ct_shard_file {
	TC_CT_SHARD_STORE,       /* the LevelDB tree store */
	TC_CT_SHARD_SUBMISSIONS, /* the legacy submission index */
	TC_CT_SHARD_PUBLIC_KEY,  /* PEM public key (ceremony output) */
	TC_CT_SHARD_LOG_ID,      /* base64 log ID (ceremony output) */
};

/* <data_dir>/<the file's path for shard s>; 0, or -1 when too long. */
int tc_ct_shard_path(const struct tc_config *cfg, const struct tc_ct_shard *s, enum tc_ct_shard_file f, char *out,
		     size_t outlen);

/* The same path relative to the data directory ("ct/keys/<n>.pem"). */
int tc_ct_shard_rel(const struct tc_ct_shard *s, enum tc_ct_shard_file f, char *out, size_t outlen);

/* One line for people: "[2026-07-01T00:00:00Z, 2027-01-01T00:00:00Z)",
 * "-inf"/"+inf" for an open edge. */
void tc_ct_shard_window(const struct tc_ct_shard *s, char *out, size_t outlen);

#endif
