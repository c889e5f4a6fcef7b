/* The signer's audit journal format, shared by the signer (writer) and
 * trustchainctl (offline verifier). One record per line:
 *
 *   <compact JSON object>\t<hex SHA-256 of the JSON bytes>\n
 *
 * The JSON holds seq (1, 2, ...), time, peer, op, key, digest (hex SHA-256
 * of what was signed), result, detail and prev (the previous record's hash,
 * 64 zeros for the first). Changing, removing or reordering any record breaks
 * the chain at that point. */
#ifndef TC_COMMON_JOURNAL_FORMAT_H
#define TC_COMMON_JOURNAL_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TC_JOURNAL_HASH_LEN 32

struct tc_journal_verify_result {
	uint64_t records;
	unsigned char head[TC_JOURNAL_HASH_LEN];
	uint64_t bad_line;       /* 1-based line of the first problem, 0 if none */
	char problem[256];
	size_t valid_bytes;      /* length of the valid prefix */
	int truncated_tail;      /* last line had no newline (interrupted write) */
};

/* Verifies the chain in f from the start. Returns 0 if every complete line
 * is valid (a torn last line without '\n' is reported in truncated_tail, not
 * as tampering), -1 otherwise with bad_line/problem set. */
int tc_journal_verify(FILE *f, struct tc_journal_verify_result *res);


#endif
