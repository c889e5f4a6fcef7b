/* Replay nonces (RFC 8555 6.5): unpredictable, single use, bounded memory.
 *
 * A nonce is base64url(counter || HMAC-SHA256(key, counter)[0..16)) with a
 * random key drawn at start: nobody can forge one, and the counter tells
 * where it stands in a sliding window of the last TC_NONCE_WINDOW issued,
 * one bit each ("issued, not yet used"). Redeeming clears the bit; a
 * nonce older than the window, from another key (before a restart) or
 * already used is refused, and the client retries with the fresh nonce
 * that comes with the badNonce answer. Memory: TC_NONCE_WINDOW / 8 bytes. */
#ifndef TC_ACME_NONCE_H
#define TC_ACME_NONCE_H

#include <stddef.h>
#include <stdint.h>

#define TC_NONCE_WINDOW (1u << 20) /* ~1 M outstanding nonces, 128 KiB */
#define TC_NONCE_TEXT 33           /* 24 bytes -> 32 base64url characters + NUL */

struct tc_nonces;

/* window 0 means TC_NONCE_WINDOW; it is rounded up to a multiple of 64. */
struct tc_nonces *tc_nonces_new(uint32_t window);
void tc_nonces_free(struct tc_nonces *n);

/* A fresh nonce into out. 0, or -1 when randomness failed. */
int tc_nonce_issue(struct tc_nonces *n, char out[TC_NONCE_TEXT]);

/* 1 when text (len bytes) is a nonce of ours, inside the window, unused:
 * it is used up now. 0 otherwise. */
int tc_nonce_redeem(struct tc_nonces *n, const char *text, size_t len);

#endif
