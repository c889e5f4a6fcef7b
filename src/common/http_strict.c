#include "common/http_strict.h"

#include <string.h>

static int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

int tc_http_target_check(const char *target, size_t len)
{
	if (!target || len == 0)
		return -1;
	const unsigned char *t = (const unsigned char *)target;
	for (size_t i = 0; i < len; i++) {
		if (t[i] < 0x21 || t[i] > 0x7e)
			return -1;
		if (t[i] != '%')
			continue;
		/* Routing and argument parsing see the decoded bytes: "%00" would
		 * end a C string there just like a raw NUL. */
		int hi = i + 2 < len ? hex_digit(t[i + 1]) : -1, lo = i + 2 < len ? hex_digit(t[i + 2]) : -1;
		if (hi < 0 || lo < 0 || is_control((unsigned char)(hi << 4 | lo)))
			return -1;
		i += 2;
	}
	return 0;
}

int tc_http_host_check(const char *value, size_t len)
{
	/* RFC 3986 host (reg-name, IPv4, IP-literal) and port characters. */
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				      "-._~!$&'()*+,;=:[]%";
	if (!value && len)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (value[i] == '\0' || !strchr(allowed, value[i]))
			return -1;
	return 0;
}

enum tc_http_length tc_http_content_length_parse(const char *value, size_t len, uint64_t *out)
{
	if (!value || len == 0)
		return TC_HTTP_LENGTH_INVALID;
	uint64_t v = 0;
	int overflow = 0;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return TC_HTTP_LENGTH_INVALID;
		unsigned d = (unsigned)(value[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			overflow = 1; /* keep scanning: a later non-digit is still invalid */
		else
			v = v * 10 + d;
	}
	if (overflow)
		return TC_HTTP_LENGTH_OVERFLOW;
	*out = v;
	return TC_HTTP_LENGTH_OK;
}

struct tc_http_verdict tc_http_head_check(const struct tc_http_head *head, uint64_t max_body)
{
	struct tc_http_verdict bad = {400, NULL};
	if (head->http_1_1 && head->host_count == 0)
		bad.reason = "HTTP/1.1 request without Host";
	else if (head->host_count > 1)
		bad.reason = "more than one Host";
	else if (head->host_count == 1 && tc_http_host_check(head->host, head->host_len) != 0)
		bad.reason = "invalid Host";
	else if (head->length_count > 1)
		bad.reason = "more than one Content-Length";
	else if (head->length_count && head->transfer_encodings)
		bad.reason = "both Content-Length and Transfer-Encoding"; /* request smuggling */
	if (bad.reason)
		return bad;
	if (head->length_count) {
		uint64_t announced = 0;
		switch (tc_http_content_length_parse(head->length, head->length_len, &announced)) {
		case TC_HTTP_LENGTH_INVALID:
			return (struct tc_http_verdict){400, "invalid Content-Length"};
		case TC_HTTP_LENGTH_OVERFLOW:
			return (struct tc_http_verdict){413, "request body too large"};
		case TC_HTTP_LENGTH_OK:
			if (announced > max_body)
				return (struct tc_http_verdict){413, "request body too large"};
			break;
		}
	}
	return (struct tc_http_verdict){0, NULL};
}
