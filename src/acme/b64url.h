/* base64url without padding (RFC 4648 section 5, RFC 7515 section 2), the
 * encoding of every binary field in JOSE and ACME. A thin layer over
 * common/base64 (alphabet swap), strict on input: only the URL alphabet, no
 * padding, no whitespace, and canonical (the unused low bits of the last
 * character zero), so one value has one spelling. */
#ifndef TC_ACME_B64URL_H
#define TC_ACME_B64URL_H

#include <stddef.h>

/* NUL-terminated encoding; free() it. NULL when out of memory. */
char *tc_b64url_encode(const unsigned char *data, size_t len);

/* Decodes text[0..len) (len bytes, no NUL inside). *out is malloc'ed (one
 * spare NUL byte after the data, so text payloads can be read as strings).
 * 0, or -1 when the text is not canonical unpadded base64url. */
int tc_b64url_decode(const char *text, size_t len, unsigned char **out, size_t *out_len);

#endif
