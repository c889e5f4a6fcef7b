/* Backup and restore of a data directory (trustchainctl backup / restore).
 *
 * A bundle is one file:
 *   "TRUSTCHAIN-BACKUP 1\n"
 *   "<N>\n"                  length of the manifest document
 *   manifest document        N bytes: a transcript signed by the audit key
 *                            (ctl/transcript.h), step "backup", listing every
 *                            member with its size and SHA-256, and the CT
 *                            tree head the bundle holds
 *   member bytes             each member's bytes, in the manifest's order,
 *                            nothing after the last
 * so restore checks the signature first, then every byte against the
 * signed hashes while it reads. Members are paths under the data directory
 * (journal/audit.jsonl, ca/revocations.log, dns/zone.journal, public
 * certificates and keys, ceremony transcripts), "config/trustchain.yaml"
 * and "ct.export": the CT log as a `trustchainctl export ct` bundle
 * (docs/AUDIT_EXPORT.md), read through the log's public RFC 6962 API.
 * With ct.logs, each shard's export is "ct/shards/<name>.export" and its
 * public key and log ID "ct/keys/<name>.pem", "ct/keys/<name>.log_id.txt"
 * (ct.export is then the retired single log, still served at the root). */
#ifndef TC_CTL_BACKUP_H
#define TC_CTL_BACKUP_H

#include <jansson.h>
#include <stdio.h>

#include "ctl/ctl.h"

#define TC_BACKUP_MAGIC "TRUSTCHAIN-BACKUP 1\n"
#define TC_BACKUP_CT_MEMBER "ct.export"
#define TC_BACKUP_CONFIG_MEMBER "config/trustchain.yaml"
#define TC_BACKUP_MAX_MANIFEST (4u << 20)
#define TC_BACKUP_CT_SHARD_PREFIX "ct/shards/"

/* 0 when member is "ct/keys/<shard>.pem" or "ct/keys/<shard>.log_id.txt"
 * (a shard name as ct.logs allows), else -1; the shard name into shard
 * (may be NULL). */
int tc_backup_shard_key_member(const char *member, char *shard, size_t shardlen);

/* 0 when member is "ct/shards/<shard>.export", else -1; as above. */
int tc_backup_shard_export_member(const char *member, char *shard, size_t shardlen);

int tc_ctl_cmd_backup(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_restore(struct tc_ctl *ctl, int argc, char **argv);

/* Restore's CT half (backup_ct.c): ct_export is the verified member (a
 * file), log_key the log's public key PEM from the bundle. Verifies the
 * export (tree head signature, every entry against the signed root),
 * rebuilds the log's store from it beside store_dir and checks its root,
 * then refuses (prints why, returns -1) when the bundle's tree is behind,
 * or not consistent with, any tree head the log is known to have published:
 * each file of published (a get-sth answer or an export bundle), the
 * checkpoint in tiles_dir (may be NULL) and the store already at store_dir.
 * Otherwise moves an existing store aside (<store_dir>.pre-restore-<time>)
 * and puts the rebuilt one in its place. */
int tc_backup_ct_restore(const char *ct_export, const char *log_key, char *const *published, int npublished,
			 const char *tiles_dir, const char *store_dir);

#endif
