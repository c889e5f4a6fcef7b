/* Signatures the signer's CT log keys made lately, remembered so that the
 * check of a final certificate's embedded SCT (embedded_scts.h) does not
 * verify with the log's public key a signature this process produced a
 * moment earlier over the very same bytes: an SCT whose signature equals
 * the one our log key gave over this digest verifies, by construction
 * (an ECDSA verification costs ~15% of the signer's CPU per certificate).
 * Anything not found here is verified as before; nothing is ever accepted
 * here that was not signed by that key over that digest in this process.
 *
 * Direct-mapped and bounded: a newer signature evicts an older one in the
 * same slot (its check then takes the verification path). Thread-safe. */
#ifndef TC_SIGNER_SIG_MEMO_H
#define TC_SIGNER_SIG_MEMO_H

#include <stddef.h>
#include <stdint.h>

struct tc_sig_memo;

/* NULL when out of memory (callers then verify everything). */
struct tc_sig_memo *tc_sig_memo_new(void);
void tc_sig_memo_free(struct tc_sig_memo *m);

/* Remembers that key (an identity: the signer's tc_hsm_key) signed the
 * SHA-256 digest md giving sig. Signatures over 128 bytes are not kept. */
void tc_sig_memo_put(struct tc_sig_memo *m, const void *key, const unsigned char md[32], const uint8_t *sig,
		     size_t sig_len);

/* 1 when key gave exactly sig over md (as remembered), else 0. m may be
 * NULL (0). */
int tc_sig_memo_has(struct tc_sig_memo *m, const void *key, const unsigned char md[32], const uint8_t *sig,
		    size_t sig_len);

#endif
