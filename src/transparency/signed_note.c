#include "transparency/signed_note.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

static const char EM_DASH_SPACE[] = "\xe2\x80\x94 "; /* U+2014, U+0020 */

/* Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) without any control character except '\n'. */
static int utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\n') || c == 0x7f)
				return -1;
			i++;
			continue;
		}
		size_t n;
		unsigned cp, min;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return -1;
		}
		if (len - i <= n)
			return -1;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return -1; /* C1 controls are control characters too */
		i += n + 1;
	}
	return 0;
}

int tc_note_text_ok(const char *text, size_t len)
{
	if (len == 0 || text[len - 1] != '\n' || (len >= 2 && text[len - 2] == '\n'))
		return -1;
	return utf8_ok((const unsigned char *)text, len);
}

static int name_ok(const char *name, size_t len)
{
	if (len == 0 || len > TC_NOTE_MAX_NAME)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (name[i] == ' ' || name[i] == '+')
			return -1;
	/* the line was checked as UTF-8 without controls already; a Unicode
	 * space other than U+0020 in a name only fails to match a known key */
	return 0;
}

/* One "— name base64\n" line, line[0..len) without its newline. */
static int parse_sig_line(const char *line, size_t len, struct tc_note_sig *sig)
{
	size_t dash = sizeof(EM_DASH_SPACE) - 1;
	if (len < dash || memcmp(line, EM_DASH_SPACE, dash) != 0)
		return -1;
	const char *name = line + dash, *end = line + len;
	const char *sp = memchr(name, ' ', (size_t)(end - name));
	if (!sp || name_ok(name, (size_t)(sp - name)) != 0)
		return -1;
	memcpy(sig->name, name, (size_t)(sp - name));
	sig->name[sp - name] = 0;
	size_t b64_len = (size_t)(end - sp - 1);
	char *b64 = malloc(b64_len + 1);
	if (!b64)
		return -1;
	memcpy(b64, sp + 1, b64_len);
	b64[b64_len] = 0;
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	int rc = tc_base64_decode(b64, &raw, &raw_len);
	free(b64);
	if (rc != 0 || raw_len < 4) {
		free(raw);
		return -1;
	}
	sig->key_id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
	sig->sig_len = raw_len - 4;
	memmove(raw, raw + 4, sig->sig_len);
	sig->sig = raw;
	return 0;
}

int tc_note_parse(const char *buf, size_t len, struct tc_note *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 2 || len > TC_NOTE_MAX_LEN || buf[len - 1] != '\n' ||
	    utf8_ok((const unsigned char *)buf, len) != 0)
		return -1;
	/* The text ends at the LAST blank line: the text may hold blank lines,
	 * a signature line never is one. */
	size_t sep = 0;
	int found = 0;
	for (size_t i = len - 1; i-- > 0;)
		if (buf[i] == '\n' && buf[i + 1] == '\n') {
			sep = i;
			found = 1;
			break;
		}
	if (!found || sep == 0)
		return -1;
	out->text = buf;
	out->text_len = sep + 1;
	const char *p = buf + sep + 2, *end = buf + len;
	if (p >= end)
		return -1; /* no signature */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (out->n_sigs == TC_NOTE_MAX_SIGS || parse_sig_line(p, (size_t)(nl - p), &out->sigs[out->n_sigs]) != 0)
			return -1;
		out->n_sigs++;
		p = nl + 1;
	}
	return 0;
}

void tc_note_free(struct tc_note *n)
{
	for (size_t i = 0; i < TC_NOTE_MAX_SIGS; i++) {
		free(n->sigs[i].sig);
		n->sigs[i].sig = NULL;
	}
	n->n_sigs = 0;
}

uint32_t tc_note_key_id(const char *name, unsigned char type, const unsigned char *key, size_t key_len)
{
	size_t name_len = strlen(name), n = name_len + 2 + key_len;
	unsigned char *buf = malloc(n), h[SHA256_DIGEST_LENGTH];
	if (!buf)
		return 0; /* matches no key whose ID anyone would check */
	memcpy(buf, name, name_len);
	buf[name_len] = '\n';
	buf[name_len + 1] = type;
	memcpy(buf + name_len + 2, key, key_len);
	SHA256(buf, n, h);
	free(buf);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

char *tc_note_sig_line(const char *name, uint32_t key_id, const unsigned char *sig, size_t sig_len)
{
	if (name_ok(name, strlen(name)) != 0 || utf8_ok((const unsigned char *)name, strlen(name)) != 0 ||
	    strchr(name, '\n'))
		return NULL;
	unsigned char *raw = malloc(4 + sig_len);
	if (!raw)
		return NULL;
	raw[0] = (unsigned char)(key_id >> 24);
	raw[1] = (unsigned char)(key_id >> 16);
	raw[2] = (unsigned char)(key_id >> 8);
	raw[3] = (unsigned char)key_id;
	memcpy(raw + 4, sig, sig_len);
	char *b64 = tc_base64_encode(raw, 4 + sig_len);
	free(raw);
	if (!b64)
		return NULL;
	size_t n = strlen(EM_DASH_SPACE) + strlen(name) + 1 + strlen(b64) + 2;
	char *line = malloc(n);
	if (line)
		snprintf(line, n, "%s%s %s\n", EM_DASH_SPACE, name, b64);
	free(b64);
	return line;
}
