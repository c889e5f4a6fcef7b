/* Writes DER into a growing buffer: primitive elements from bytes, and
 * constructed ones opened and closed around their contents (the length is
 * filled in at close). For the hot paths that emit a fixed structure
 * (the gateway's leaf template) without building OpenSSL objects first. */
#ifndef TC_COMMON_DER_WRITER_H
#define TC_COMMON_DER_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/der.h"

#define TC_DER_WRITER_DEPTH 8

struct tc_der_writer {
	uint8_t *buf; /* malloc'ed; take it with tc_der_writer_take */
	size_t len, cap;
	int failed;   /* out of memory or unbalanced: every later call is a no-op */
	size_t open[TC_DER_WRITER_DEPTH];
	int depth;
};

void tc_der_writer_init(struct tc_der_writer *w);
void tc_der_writer_free(struct tc_der_writer *w);

/* Raw bytes (an already encoded element). */
void tc_der_put(struct tc_der_writer *w, const void *p, size_t n);
/* One primitive element: tag, length, contents. */
void tc_der_put_tlv(struct tc_der_writer *w, uint8_t tag, const void *val, size_t n);
/* An unsigned big-endian number (leading zero octets allowed) as a DER
 * INTEGER: the fewest octets, a 0x00 first when the top bit is set. Zero
 * (or len 0) is the INTEGER 0. */
void tc_der_put_unsigned(struct tc_der_writer *w, const uint8_t *be, size_t len);

/* A Time (RFC 5280 4.1.2.5), as ASN1_TIME_set writes it: UTCTime for
 * 1950..2049, GeneralizedTime otherwise. 0, or -1 (and the writer fails)
 * for a time outside years 0..9999. */
int tc_der_put_time(struct tc_der_writer *w, time_t t);

/* A constructed element around everything written until its close. */
void tc_der_open(struct tc_der_writer *w, uint8_t tag);
void tc_der_close(struct tc_der_writer *w);

/* The encoding (malloc'ed, the caller frees it) when every element was
 * closed and nothing failed; NULL otherwise. The writer is then empty. */
uint8_t *tc_der_writer_take(struct tc_der_writer *w, size_t *len);

#endif
