#include "common/journal_format.h"

#include "common/hex.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

static int bad(struct tc_journal_verify_result *res, uint64_t line, const char *what)
{
	res->bad_line = line;
	snprintf(res->problem, sizeof(res->problem), "line %llu: %s", (unsigned long long)line, what);
	return -1;
}

int tc_journal_verify(FILE *f, struct tc_journal_verify_result *res)
{
	memset(res, 0, sizeof(*res));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n') {
			res->truncated_tail = 1; /* a write cut short; never acknowledged */
			break;
		}
		line[--n] = '\0';
		/* A NUL would end the text hashed and checked below and leave
		 * whatever follows it on the line unchecked. */
		if (strlen(line) != (size_t)n) {
			rc = bad(res, lineno, "malformed record (NUL byte)");
			break;
		}
		char *tab = strrchr(line, '\t');
		unsigned char want[TC_JOURNAL_HASH_LEN], got[TC_JOURNAL_HASH_LEN];
		if (!tab || tc_hex_decode(tab + 1, want, sizeof(want)) != 0) {
			rc = bad(res, lineno, "malformed record (no hash)");
			break;
		}
		SHA256((const unsigned char *)line, (size_t)(tab - line), got);
		if (memcmp(got, want, sizeof(got)) != 0) {
			rc = bad(res, lineno, "record hash does not match its content");
			break;
		}
		*tab = '\0';
		json_error_t jerr;
		json_t *rec = json_loads(line, 0, &jerr);
		const char *prev = rec ? json_string_value(json_object_get(rec, "prev")) : NULL;
		json_int_t seq = rec ? json_integer_value(json_object_get(rec, "seq")) : 0;
		unsigned char prevb[TC_JOURNAL_HASH_LEN];
		if (!prev || tc_hex_decode(prev, prevb, sizeof(prevb)) != 0) {
			json_decref(rec);
			rc = bad(res, lineno, "malformed record (no prev)");
			break;
		}
		if (memcmp(prevb, res->head, sizeof(prevb)) != 0) {
			json_decref(rec);
			rc = bad(res, lineno, "chain broken: prev is not the hash of the record before");
			break;
		}
		if ((uint64_t)seq != res->records + 1) {
			json_decref(rec);
			rc = bad(res, lineno, "sequence number out of order");
			break;
		}
		json_decref(rec);
		memcpy(res->head, want, sizeof(want));
		res->records++;
		res->valid_bytes += (size_t)n + 1;
	}
	free(line);
	return rc;
}
