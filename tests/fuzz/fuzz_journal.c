/* Fuzz target: the audit journal reader (common/journal_verify.c), which
 * `trustchainctl journal verify`, the journal export and the signer's own
 * start-up run over a file an attacker with disk access may have edited.
 *
 * Byte 0 picks the mode:
 *   even: the rest is the journal file as is (reaches the hash check);
 *   odd:  the rest is lines of JSON whose "\t<hash>" the harness appends
 *         (correct hashes, and "prev" fixed up to chain when byte 0 & 2),
 *         so mutations reach the JSON, prev and sequence checks behind it.
 * Invariants: no crash or leak; a success counts exactly the complete
 * lines and accepts no NUL byte; valid_bytes never exceeds the input; a
 * failure names a line. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/journal_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Appends each line's hash; with chain, replaces a "prev":"..." value of 64
 * characters by the previous line's hash first. */
static char *with_hashes(const uint8_t *in, size_t len, int chain, size_t *out_len)
{
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += in[i] == '\n';
	char *out = calloc(1, len + lines * 66 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	unsigned char prev[SHA256_DIGEST_LENGTH] = {0};
	size_t start = 0;
	while (start < len) {
		const uint8_t *nl = memchr(in + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - in) : len;
		char *line = out + o;
		memcpy(line, in + start, end - start);
		size_t ll = end - start;
		if (chain) {
			char *p = memmem(line, ll, "\"prev\":\"", 8);
			if (p && (size_t)(p - line) + 8 + 64 <= ll) {
				char h[65];
				hex(prev, sizeof(prev), h);
				memcpy(p + 8, h, 64);
			}
		}
		SHA256((const unsigned char *)line, ll, prev);
		o += ll;
		if (nl) {
			out[o++] = '\t';
			hex(prev, sizeof(prev), out + o);
			o += 64;
			out[o++] = '\n';
		}
		start = end + 1;
	}
	*out_len = o;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t mode = data[0];
	char *buf;
	size_t len;
	if (mode & 1) {
		buf = with_hashes(data + 1, size - 1, mode & 2, &len);
	} else {
		len = size - 1;
		buf = calloc(1, len ? len : 1);
		if (buf)
			memcpy(buf, data + 1, len);
	}
	if (!buf)
		return 0;
	FILE *f = fmemopen(buf, len ? len : 1, "r");
	if (!f)
		abort();
	if (len == 0)
		fgetc(f); /* fmemopen cannot open an empty buffer: read its one byte past */
	struct tc_journal_verify_result res;
	int rc = tc_journal_verify(f, &res);
	fclose(f);
	size_t complete = 0;
	for (size_t i = 0; i < len; i++)
		complete += buf[i] == '\n';
	if (res.valid_bytes > len)
		abort();
	/* Every byte of an accepted record is covered by its hash: a NUL would
	 * end the text the verifier hashes and leave what follows unchecked. */
	if (rc == 0 && (res.bad_line != 0 || res.records != complete || memchr(buf, 0, res.valid_bytes)))
		abort();
	if (rc != 0 && (res.bad_line == 0 || !res.problem[0]))
		abort();
	free(buf);
	return 0;
}
