#include "signer/journal_record.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

/* Length of the UTF-8 sequence at s and its code point, or 0 when it is
 * not valid UTF-8 (overlong, surrogate, beyond U+10FFFF, cut short): the
 * rules of jansson's utf8_check_first / utf8_check_full. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	unsigned char u = s[0];
	size_t n;
	uint32_t v;
	if (u < 0x80) {
		*cp = u;
		return 1;
	}
	if (u >= 0xc2 && u <= 0xdf) {
		n = 2;
		v = u & 0x1f;
	} else if (u >= 0xe0 && u <= 0xef) {
		n = 3;
		v = u & 0x0f;
	} else if (u >= 0xf0 && u <= 0xf4) {
		n = 4;
		v = u & 0x07;
	} else {
		return 0; /* continuation byte, C0/C1, F5..FF */
	}
	for (size_t i = 1; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf) /* also stops at the NUL */
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	*cp = v;
	return n;
}

long tc_json_quote_ascii(const char *s, char *out)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	char *o = out;
	*o++ = '"';
	while (*p) {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);
		if (n == 0)
			return -1;
		p += n;
		if (cp >= 0x20 && cp <= 0x7f && cp != '"' && cp != '\\') {
			*o++ = (char)cp;
			continue;
		}
		*o++ = '\\';
		switch (cp) {
		case '"': *o++ = '"'; continue;
		case '\\': *o++ = '\\'; continue;
		case '\b': *o++ = 'b'; continue;
		case '\f': *o++ = 'f'; continue;
		case '\n': *o++ = 'n'; continue;
		case '\r': *o++ = 'r'; continue;
		case '\t': *o++ = 't'; continue;
		default: break;
		}
		/* \uXXXX in upper-case hex; beyond the BMP a UTF-16 surrogate pair. */
		uint32_t units[2] = {cp, 0};
		int count = 1;
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000;
			units[0] = 0xd800 | (v >> 10);
			units[1] = 0xdc00 | (v & 0x3ff);
			count = 2;
		}
		for (int i = 0; i < count; i++) {
			if (i)
				*o++ = '\\';
			*o++ = 'u';
			for (int sh = 12; sh >= 0; sh -= 4)
				*o++ = hexd[(units[i] >> sh) & 0xf];
		}
	}
	*o++ = '"';
	*o = '\0';
	return (long)(o - out);
}

/* Appends "name": and the quoted value; -1 on invalid UTF-8. */
static int put_field(char **o, const char *name, const char *value, int comma)
{
	if (!value)
		return -1; /* jansson's "s" refused NULL as well */
	if (comma)
		*(*o)++ = ',';
	long n = tc_json_quote_ascii(name, *o);
	if (n < 0)
		return -1;
	*o += n;
	*(*o)++ = ':';
	n = tc_json_quote_ascii(value, *o);
	if (n < 0)
		return -1;
	*o += n;
	return 0;
}

char *tc_journal_record_body(const struct tc_journal_entry *e, size_t *len)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char digest_hex[2 * SHA256_DIGEST_LENGTH + 1];
	SHA256(e->data ? e->data : (const unsigned char *)"", e->data_len, digest);
	tc_hex_encode(digest, sizeof(digest), digest_hex);
	const char *key = e->key ? e->key : "", *detail = e->detail ? e->detail : "";
	const char *names[] = {"peer", "op", "key", "digest", "result", "detail"};
	const char *values[] = {e->peer, e->op, key, digest_hex, e->result, detail};
	size_t cap = 1;
	for (size_t i = 0; i < 6; i++)
		cap += 1 + (6 * strlen(names[i]) + 2) + 1 + (values[i] ? 6 * strlen(values[i]) + 2 : 0);
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	char *o = buf;
	for (size_t i = 0; i < 6; i++)
		if (put_field(&o, names[i], values[i], i > 0) != 0) {
			free(buf);
			return NULL;
		}
	*o = '\0';
	*len = (size_t)(o - buf);
	return buf;
}

size_t tc_journal_record_size(size_t body_len)
{
	/* {"seq":<20 digits>,"time":"<up to 63>",<body>,"prev":"<64 hex>"} */
	return sizeof("{\"seq\":,\"time\":\"\",,\"prev\":\"\"}") + 20 + 63 + body_len + 2 * TC_JOURNAL_HASH_LEN;
}

size_t tc_journal_record_write(char *out, uint64_t seq, const char *when, const char *body, size_t body_len,
			       const unsigned char prev[TC_JOURNAL_HASH_LEN])
{
	int n = sprintf(out, "{\"seq\":%llu,\"time\":\"%.63s\",", (unsigned long long)seq, when);
	char *o = out + n;
	memcpy(o, body, body_len);
	o += body_len;
	memcpy(o, ",\"prev\":\"", 9);
	o += 9;
	tc_hex_encode(prev, TC_JOURNAL_HASH_LEN, o);
	o += 2 * TC_JOURNAL_HASH_LEN;
	*o++ = '"';
	*o++ = '}';
	*o = '\0';
	return (size_t)(o - out);
}
