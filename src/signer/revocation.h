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

/* tc_revocations_add recording which intermediate issued serial (its key
 * label): that intermediate's CRL alone lists it (a CA key rollover has
 * several, signer/issuers.h). "" (and tc_revocations_add) when unknown:
 * such records, and those written before the issuer was recorded, count
 * as the configured intermediate's. A repeat keeps the first record. */
int tc_revocations_add_by(struct tc_revocations *r, const unsigned char *serial, size_t len, int reason,
			  const char *issuer, time_t *when, char *err, size_t errlen);

/* The configured intermediate's key label (hsm.keys.intermediate), whose CRL
 * lists the records without an issuer. Unset, every CRL lists them. */
void tc_revocations_set_configured_issuer(struct tc_revocations *r, const char *label);

/* The key label of the intermediate that signed serial, from its signing
 * record in the audit journal at path ("serial HEX", result ok): 0 with
 * label set, -1 when there is none. Reads the whole journal: for a
 * revocation, not for issuance. */
int tc_revocations_issuer_from_journal(const char *path, const unsigned char *serial, size_t len, char *label,
				       size_t cap);

/* Returns the current DER CRL signed by issuer (cached; re-signed when the
 * list changed or half its lifetime passed): the serials issuer signed.
 * Caller frees *der with free(). */
int tc_revocations_crl(struct tc_revocations *r, const struct tc_hsm_key *issuer,
		       unsigned char **der, size_t *der_len, uint64_t *crl_number, char *err,
		       size_t errlen);

#endif
