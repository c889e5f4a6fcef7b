/* Revocations: an append-only file synced before a revocation is
 * acknowledged, and the CRL signed by the issuing intermediate, re-signed on
 * every change and before it gets stale. */
#ifndef TC_SIGNER_REVOCATION_H
#define TC_SIGNER_REVOCATION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "signer/hsm.h"

struct tc_revocations;

struct tc_revocations *tc_revocations_open(const char *path, char *err, size_t errlen);
void tc_revocations_close(struct tc_revocations *r);

/* Records serial as revoked. Returns 0 (with the revocation time, the
 * original one for a repeat) or -1. */
int tc_revocations_add(struct tc_revocations *r, const unsigned char *serial, size_t len,
		       int reason, time_t *when, char *err, size_t errlen);

/* Returns the current DER CRL signed by issuer (cached; re-signed when the
 * list changed or half its lifetime passed). Caller frees *der with free(). */
int tc_revocations_crl(struct tc_revocations *r, const struct tc_hsm_key *issuer,
		       unsigned char **der, size_t *der_len, uint64_t *crl_number, char *err,
		       size_t errlen);

#endif
