/* Standard base64 with padding (RFC 4648 section 4), strict on input: what
 * the CT log's JSON API and the ceremony transcripts both exchange. */
#ifndef TC_COMMON_BASE64_H
#define TC_COMMON_BASE64_H

#include <stddef.h>

/* A NUL-terminated encoding without line breaks; free() it. NULL when out
 * of memory or len is too large to encode. */
char *tc_base64_encode(const unsigned char *data, size_t len);

/* Decodes canonical padded base64: length a multiple of 4, only the
 * alphabet, '=' only as the last one or two characters, no whitespace. The
 * empty string decodes to zero bytes. *out is malloc'ed (free it). Returns
 * 0, or -1 when the text is not such base64. */
int tc_base64_decode(const char *text, unsigned char **out, size_t *out_len);

#endif
