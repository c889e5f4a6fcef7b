/* Strict UTF-8 (RFC 3629): the one check every parser of names and notes
 * shares, so a certificate name the signer accepts is the one the CT log
 * and a note reader accept. */
#ifndef TC_COMMON_UTF8_H
#define TC_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..n) is well-formed UTF-8: no overlong forms, no surrogates,
 * no code point past U+10FFFF, no truncated sequence; else 0. Says nothing
 * about control characters (callers that refuse them check separately). */
int tc_utf8_valid(const uint8_t *s, size_t n);

#endif
