#include "common/der_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tc_der_writer_init(struct tc_der_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void tc_der_writer_free(struct tc_der_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

/* Room for n more bytes. */
static int reserve(struct tc_der_writer *w, size_t n)
{
	if (w->failed)
		return -1;
	if (n <= w->cap - w->len)
		return 0;
	size_t cap = w->cap ? w->cap : 512;
	while (cap - w->len < n) {
		if (cap > SIZE_MAX / 2) {
			w->failed = 1;
			return -1;
		}
		cap *= 2;
	}
	uint8_t *p = realloc(w->buf, cap);
	if (!p) {
		w->failed = 1;
		return -1;
	}
	w->buf = p;
	w->cap = cap;
	return 0;
}

void tc_der_put(struct tc_der_writer *w, const void *p, size_t n)
{
	if (reserve(w, n) != 0)
		return;
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void tc_der_put_tlv(struct tc_der_writer *w, uint8_t tag, const void *val, size_t n)
{
	uint8_t hdr[6];
	hdr[0] = tag;
	size_t h = 1 + tc_der_put_len(n, hdr + 1);
	tc_der_put(w, hdr, h);
	tc_der_put(w, val, n);
}

void tc_der_open(struct tc_der_writer *w, uint8_t tag)
{
	if (w->depth == TC_DER_WRITER_DEPTH) {
		w->failed = 1;
		return;
	}
	/* Tag and a one-octet length; close() widens it when needed. */
	uint8_t hdr[2] = {tag, 0};
	size_t at = w->len;
	tc_der_put(w, hdr, 2);
	w->open[w->depth++] = at;
}

void tc_der_close(struct tc_der_writer *w)
{
	if (w->failed)
		return;
	if (w->depth == 0) {
		w->failed = 1;
		return;
	}
	size_t at = w->open[--w->depth];
	size_t content = w->len - at - 2;
	uint8_t len[5];
	size_t n = tc_der_put_len(content, len);
	if (n > 1) {
		if (reserve(w, n - 1) != 0)
			return;
		memmove(w->buf + at + 1 + n, w->buf + at + 2, content);
		w->len += n - 1;
	}
	memcpy(w->buf + at + 1, len, n);
}

uint8_t *tc_der_writer_take(struct tc_der_writer *w, size_t *len)
{
	uint8_t *out = NULL;
	*len = 0;
	if (!w->failed && w->depth == 0 && w->len) {
		out = w->buf;
		*len = w->len;
		w->buf = NULL;
	}
	tc_der_writer_free(w);
	return out;
}

void tc_der_put_unsigned(struct tc_der_writer *w, const uint8_t *be, size_t len)
{
	while (len > 1 && be[0] == 0) {
		be++;
		len--;
	}
	static const uint8_t zero = 0;
	tc_der_open(w, TC_DER_INTEGER);
	if (len == 0 || (be[0] & 0x80)) /* zero is one octet; a set top bit would read negative */
		tc_der_put(w, &zero, 1);
	tc_der_put(w, be, len);
	tc_der_close(w);
}

int tc_der_put_time(struct tc_der_writer *w, time_t t)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_year < 0 - 1900 || tm.tm_year > 9999 - 1900) {
		w->failed = 1;
		return -1;
	}
	int year = tm.tm_year + 1900, utc = year >= 1950 && year < 2050;
	char text[20];
	int n = utc ? snprintf(text, sizeof(text), "%02d%02d%02d%02d%02d%02dZ", year % 100, tm.tm_mon + 1, tm.tm_mday,
			       tm.tm_hour, tm.tm_min, tm.tm_sec)
		    : snprintf(text, sizeof(text), "%04d%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1, tm.tm_mday,
			       tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n <= 0 || (size_t)n >= sizeof(text)) {
		w->failed = 1;
		return -1;
	}
	tc_der_put_tlv(w, utc ? TC_DER_UTCTIME : TC_DER_GENERALIZEDTIME, text, (size_t)n);
	return w->failed ? -1 : 0;
}
