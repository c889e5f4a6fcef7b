/* A CRL's TBSCertList (RFC 5280 5.1.2) written as DER by hand, for a list
 * that only grows: each revokedCertificates entry is encoded once, when it
 * joins the list, and a new CRL copies the encoded entries behind a fresh
 * header. Building the whole CRL through OpenSSL objects instead cost about
 * 7 us per entry on every re-signing (200 ms for 30,000 revocations, held
 * under the revocations' lock), and a CA re-signs on every revocation. */
#ifndef TC_SIGNER_CRL_DER_H
#define TC_SIGNER_CRL_DER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/der_writer.h"
#include "signer/cert_sign.h"

/* serial (an unsigned big-endian number, leading zeros allowed) as its
 * number: *serial and *len are moved past the leading zero octets. 0 when
 * it is an RFC 5280 serial number (4.1.2.2): not zero, and at most 20
 * octets as a positive INTEGER; -1 when not. */
int tc_crl_serial_number(const unsigned char **serial, size_t *len);

/* Appends the entry { serial, revocationDate when, reasonCode reason } to
 * entries (a writer with nothing open). serial is the unsigned big-endian
 * number as recorded; the entry carries it as a positive INTEGER. Reason 0
 * (unspecified) gets no reasonCode extension (RFC 5280 5.3.1: it SHOULD
 * be absent). 0 appended; 1 left out because serial is no RFC 5280 serial
 * number (tc_crl_serial_number: no certificate of a conforming CA has it) or
 * when is outside years 0..9999 (a damaged record: one bad record must not
 * stop every later CRL); -1 when the writer failed (out of memory). */
int tc_crl_entry_append(struct tc_der_writer *entries, const unsigned char *serial, size_t len, time_t when,
			int reason);

/* The TBSCertList of is (version 2, is->alg, is->name, thisUpdate,
 * nextUpdate, the entries when there is any, crlNumber number and is's
 * authorityKeyIdentifier) into *tbs (malloc'ed). 0, or -1 out of memory. */
int tc_crl_tbs(const struct tc_issuer *is, time_t this_update, time_t next_update, uint64_t number,
	       const uint8_t *entries, size_t entries_len, uint8_t **tbs, size_t *tbs_len);

#endif
