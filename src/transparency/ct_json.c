#include "transparency/ct_json.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

json_t *tc_b64_json(const unsigned char *data, size_t len)
{
	if (len > (size_t)INT32_MAX / 2)
		return NULL;
	char *text = malloc(4 * ((len + 2) / 3) + 1);
	if (!text)
		return NULL;
	EVP_EncodeBlock((unsigned char *)text, data, (int)len);
	json_t *s = json_string(text);
	free(text);
	return s;
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

int tc_b64_decode(const char *text, unsigned char **out, size_t *out_len)
{
	size_t n = strlen(text);
	if (n % 4 != 0 || n > (size_t)INT32_MAX)
		return -1;
	size_t pad = 0;
	if (n >= 1 && text[n - 1] == '=')
		pad++;
	if (n >= 2 && text[n - 2] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char(text[i]))
			return -1;
	unsigned char *buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -1;
	int got = n ? EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n) : 0;
	if (got < 0 || (size_t)got < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = (size_t)got - pad;
	return 0;
}

int tc_parse_u64(const char *text, uint64_t *out)
{
	if (!text || !*text || (text[0] == '0' && text[1]) || strlen(text) > 20)
		return -1;
	uint64_t v = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

char *tc_json_take(json_t *obj)
{
	if (!obj)
		return NULL;
	char *s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return s;
}

char *tc_json_error(const char *msg)
{
	return tc_json_take(json_pack("{s:s, s:b}", "error_message", msg, "success", 0));
}
