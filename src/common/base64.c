#include "common/base64.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

char *tc_base64_encode(const unsigned char *data, size_t len)
{
	if (len > (size_t)INT32_MAX / 2)
		return NULL;
	char *text = malloc(4 * ((len + 2) / 3) + 1);
	if (text)
		EVP_EncodeBlock((unsigned char *)text, data, (int)len);
	return text;
}

static int in_alphabet(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

int tc_base64_decode(const char *text, unsigned char **out, size_t *out_len)
{
	size_t n = strlen(text);
	if (n % 4 != 0 || n > (size_t)INT32_MAX)
		return -1;
	size_t pad = 0;
	if (n >= 1 && text[n - 1] == '=')
		pad++;
	if (n >= 2 && text[n - 2] == '=')
		pad++;
	/* EVP_DecodeBlock would skip whitespace and accept '=' anywhere: check
	 * the text ourselves first. */
	for (size_t i = 0; i < n - pad; i++)
		if (!in_alphabet(text[i]))
			return -1;
	/* Canonical: the bits the padding leaves over in the last character
	 * are zero (RFC 4648 3.5), so a byte string has exactly one encoding. */
	if (pad) {
		const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		size_t v = (size_t)(strchr(b64, text[n - pad - 1]) - b64);
		if (v & (pad == 1 ? 0x03u : 0x0fu))
			return -1;
	}
	unsigned char *buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -1;
	int got = n ? EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n) : 0;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (got < 0 || (size_t)got < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = (size_t)got - pad;
	return 0;
}
