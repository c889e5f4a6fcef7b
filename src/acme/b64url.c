#include "acme/b64url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

char *tc_b64url_encode(const unsigned char *data, size_t len)
{
	char *s = tc_base64_encode(data, len);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	while (n && s[n - 1] == '=')
		s[--n] = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			s[i] = '-';
		else if (s[i] == '/')
			s[i] = '_';
	}
	return s;
}

static const char *const URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int tc_b64url_decode(const char *text, size_t len, unsigned char **out, size_t *out_len)
{
	/* One character left over cannot encode a byte. */
	if (len % 4 == 1 || len > (size_t)INT32_MAX / 2)
		return -1;
	char *std = malloc(len + 4);
	if (!std)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == 0 || !strchr(URL_ALPHABET, c)) {
			free(std);
			return -1;
		}
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	size_t n = len;
	while (n % 4)
		std[n++] = '=';
	std[n] = 0;
	/* Canonical: the bits past the last whole byte must be zero. */
	if (len % 4) {
		const char *pos = strchr(URL_ALPHABET, text[len - 1]);
		unsigned v = (unsigned)(pos - URL_ALPHABET);
		unsigned mask = len % 4 == 2 ? 0x0f : 0x03;
		if (v & mask) {
			free(std);
			return -1;
		}
	}
	unsigned char *buf = NULL;
	size_t got = 0;
	int rc = tc_base64_decode(std, &buf, &got);
	free(std);
	if (rc != 0)
		return -1;
	unsigned char *grown = realloc(buf, got + 1);
	if (!grown) {
		free(buf);
		return -1;
	}
	grown[got] = 0;
	*out = grown;
	*out_len = got;
	return 0;
}
