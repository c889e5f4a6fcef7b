/* Audit exports: bundles an auditor verifies offline with nothing but a
 * public key. Format: docs/AUDIT_EXPORT.md. Both kinds are JSON Lines files
 * (one compact JSON object per line): a header line naming the kind, then
 * the records, so exporting and verifying stream and never hold the whole
 * bundle in memory. */
#ifndef TC_CTL_EXPORT_H
#define TC_CTL_EXPORT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>

#include "ctl/ctl.h"

#define TC_EXPORT_CT_KIND "trustchain-ct-export"
#define TC_EXPORT_JOURNAL_KIND "trustchain-journal-export"
#define TC_EXPORT_VERSION 1
#define TC_EXPORT_MAX_LINE (16u << 20) /* a header with transcripts, or one entry */

/* export ct / export journal (argv starts at the kind). */
int tc_ctl_export_ct(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_export_journal(struct tc_ctl *ctl, int argc, char **argv);

/* Verifiers: f is positioned after the header line. Print what they checked
 * on success; on the first failure print "FAILED: <why>" and return
 * TC_CTL_FAIL. */
int tc_ctl_verify_ct_bundle(FILE *f, const json_t *header, EVP_PKEY *log_key, const char *path);
int tc_ctl_verify_journal_bundle(FILE *f, const json_t *header, EVP_PKEY *audit_key, const char *path);

/* Reads one line (without its '\n') into *line (grown as needed): 1, 0 at
 * the end, -1 when a line is longer than TC_EXPORT_MAX_LINE or lacks its
 * final newline (a truncated bundle). */
int tc_export_read_line(FILE *f, char **line, size_t *cap, size_t *len);

/* Hex SHA-256 of key's DER SubjectPublicKeyInfo (65 bytes with NUL). */
int tc_export_key_fingerprint(EVP_PKEY *key, char out[65]);

/* Current UTC time as 2026-01-02T03:04:05Z. */
void tc_export_now(char out[32]);

/* Writes path atomically from a temporary file filled by fn. */
int tc_export_write_atomic(const char *path, int (*fn)(FILE *f, void *ctx), void *ctx);

#endif
