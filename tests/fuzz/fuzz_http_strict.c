/* Fuzz target: the strict HTTP checks (common/http_strict.h) on arbitrary
 * bytes, as a target, a Host value and a Content-Length, each checked
 * against a plain restatement of its rule, so a check that lets through
 * what it must refuse (or the reverse) aborts, not only a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_strict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int hexval(uint8_t c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

/* The target rule restated byte by byte, without shortcuts. */
static int target_expected(const uint8_t *t, size_t len)
{
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			return -1;
		if (t[i] == '%') {
			if (len - i < 3 || !hex(t[i + 1]) || !hex(t[i + 2]))
				return -1;
			int b = hexval(t[i + 1]) * 16 + hexval(t[i + 2]);
			if (b < 0x20 || b == 0x7f)
				return -1;
			i += 2;
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	if (tc_http_target_check(text, size) != target_expected(data, size))
		abort();

	int host = tc_http_host_check(text, size);
	for (size_t i = 0; host == 0 && i < size; i++)
		if (data[i] <= 0x20 || data[i] >= 0x7f || strchr("@/?#\\\"<>{}|^`", data[i]))
			abort(); /* accepted a byte no authority has */

	uint64_t v = 0;
	enum tc_http_length r = tc_http_content_length_parse(text, size, &v);
	int digits = size > 0;
	for (size_t i = 0; i < size; i++)
		digits &= data[i] >= '0' && data[i] <= '9';
	if ((r == TC_HTTP_LENGTH_INVALID) != !digits)
		abort();
	if (r == TC_HTTP_LENGTH_OK) {
		/* Re-derive the value from the digits, ignoring leading zeros. */
		size_t i = 0;
		while (i + 1 < size && data[i] == '0')
			i++;
		if (size - i > 20)
			abort();
		char buf[21];
		memcpy(buf, data + i, size - i);
		buf[size - i] = 0;
		if (strtoull(buf, NULL, 10) != v)
			abort();
	} else if (r == TC_HTTP_LENGTH_OVERFLOW) {
		size_t i = 0;
		while (i < size && data[i] == '0')
			i++;
		if (size - i < 20) /* fewer than 20 significant digits always fit */
			abort();
	}
	return 0;
}
