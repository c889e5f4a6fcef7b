/* Lower-case hex encoding used in journals, transcripts and logs. */
#ifndef TC_COMMON_HEX_H
#define TC_COMMON_HEX_H

#include <stddef.h>

/* Writes 2*len hex digits and a NUL into out. */
void tc_hex_encode(const unsigned char *in, size_t len, char *out);
/* Decodes exactly outlen bytes from a 2*outlen-digit string; -1 otherwise. */
int tc_hex_decode(const char *hex, unsigned char *out, size_t outlen);

#endif
