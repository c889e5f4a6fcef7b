/* Wire-form name helpers and the presentation-format name parser. */
#include "resolver/dns_name.h"

#include <stdio.h>
#include <string.h>

bool tc_dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (tc_dns_fold(a[i]) != tc_dns_fold(b[i]))
			return false;
	return true;
}

void tc_dns_name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = tc_dns_fold(src[i]);
}

unsigned tc_dns_name_labels(const uint8_t *name, size_t len)
{
	unsigned n = 0;
	size_t i = 0;
	while (i < len && name[i] != 0) {
		i += (size_t)name[i] + 1;
		n++;
	}
	return n;
}

bool tc_dns_name_is_subdomain(const uint8_t *name, size_t len, const uint8_t *parent, size_t plen)
{
	if (plen > len)
		return false;
	/* Compare only at label boundaries so "xexample." is not under "example.". */
	size_t i = 0;
	while (i < len) {
		if (len - i == plen)
			return tc_dns_name_equal(name + i, plen, parent, plen);
		if (name[i] == 0)
			break;
		i += (size_t)name[i] + 1;
	}
	return false;
}

size_t tc_dns_name_wire_len(const uint8_t *p, size_t max)
{
	size_t i = 0;
	for (;;) {
		if (i >= max || i >= TC_DNS_MAX_NAME)
			return 0;
		uint8_t c = p[i];
		if (c > TC_DNS_MAX_LABEL)
			return 0;
		i += (size_t)c + 1;
		if (i > TC_DNS_MAX_NAME || i > max)
			return 0;
		if (c == 0)
			return i;
	}
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int tc_dns_name_from_text(const char *s, size_t len, const uint8_t *origin, size_t olen,
			  uint8_t out[TC_DNS_MAX_NAME], size_t *outlen, const char **why)
{
	*why = NULL;
	if (len == 0) {
		*why = "empty name";
		return -1;
	}
	if (len == 1 && s[0] == '@') {
		if (!origin) {
			*why = "'@' without an origin";
			return -1;
		}
		memcpy(out, origin, olen);
		*outlen = olen;
		return 0;
	}
	if (len == 1 && s[0] == '.') {
		out[0] = 0;
		*outlen = 1;
		return 0;
	}
	size_t o = 0;          /* write position */
	size_t label_at = 0;   /* position of the current label's length octet */
	size_t label_len = 0;
	bool absolute = false;
	out[0] = 0;
	o = 1;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '.') {
			if (label_len == 0) {
				*why = "empty label";
				return -1;
			}
			out[label_at] = (uint8_t)label_len;
			if (i == len - 1) {
				absolute = true;
				break;
			}
			if (o >= TC_DNS_MAX_NAME) {
				*why = "name longer than 255 octets";
				return -1;
			}
			label_at = o;
			out[o++] = 0;
			label_len = 0;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= len) {
				*why = "dangling backslash";
				return -1;
			}
			if (is_digit(s[i + 1])) {
				if (i + 3 >= len || !is_digit(s[i + 2]) || !is_digit(s[i + 3])) {
					*why = "bad \\DDD escape";
					return -1;
				}
				unsigned v = (unsigned)(s[i + 1] - '0') * 100 + (unsigned)(s[i + 2] - '0') * 10 +
					     (unsigned)(s[i + 3] - '0');
				if (v > 255) {
					*why = "\\DDD escape over 255";
					return -1;
				}
				c = (uint8_t)v;
				i += 3;
			} else {
				c = (uint8_t)s[++i];
			}
		}
		if (++label_len > TC_DNS_MAX_LABEL) {
			*why = "label longer than 63 octets";
			return -1;
		}
		if (o >= TC_DNS_MAX_NAME) {
			*why = "name longer than 255 octets";
			return -1;
		}
		out[o++] = c;
	}
	if (!absolute) {
		if (label_len == 0) {
			*why = "empty label";
			return -1;
		}
		out[label_at] = (uint8_t)label_len;
		if (!origin) {
			*why = "relative name without an origin";
			return -1;
		}
		if (o + olen > TC_DNS_MAX_NAME) {
			*why = "name longer than 255 octets";
			return -1;
		}
		memcpy(out + o, origin, olen);
		o += olen;
	} else {
		if (o >= TC_DNS_MAX_NAME) {
			*why = "name longer than 255 octets";
			return -1;
		}
		out[o++] = 0;
	}
	*outlen = o;
	return 0;
}

void tc_dns_name_to_text(const uint8_t *name, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return;
#define EMIT(ch) do { if (o + 1 < cap) out[o++] = (ch); } while (0)
	size_t i = 0;
	if (len == 0 || name[0] == 0) {
		EMIT('.');
		out[o] = '\0';
		return;
	}
	while (i < len && name[i] != 0) {
		size_t l = name[i];
		for (size_t k = 1; k <= l && i + k < len; k++) {
			uint8_t c = name[i + k];
			if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' ||
			    c == '$') {
				EMIT('\\');
				EMIT((char)c);
			} else if (c <= 0x20 || c >= 0x7f) {
				char esc[5];
				snprintf(esc, sizeof(esc), "\\%03u", c);
				for (int e = 0; e < 4; e++)
					EMIT(esc[e]);
			} else {
				EMIT((char)c);
			}
		}
		EMIT('.');
		i += l + 1;
	}
#undef EMIT
	out[o] = '\0';
}
