/* DNS messages in dig's presentation format, for `trustchainctl dig`:
 * header and flags, EDNS pseudo-section, question, answer, authority and
 * additional sections, RDATA of the common types in their RFC text form and
 * every other type in the RFC 3597 generic form. Every read is bounds-checked
 * (the input is whatever a server sent). */
#ifndef TC_CTL_DNS_PRINT_H
#define TC_CTL_DNS_PRINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "resolver/dns_wire.h"

/* Type mnemonic ("AAAA") or "TYPE<n>"; buf holds at least 16 octets. */
const char *tc_dns_type_text(uint16_t type, char buf[16]);
const char *tc_dns_rcode_text(unsigned rcode, char buf[16]);

/* RDATA of rr (inside msg) as presentation text; -1 when the RDATA does not
 * fit its type (then the caller prints the generic form). */
int tc_dns_rdata_text(const uint8_t *msg, size_t len, const struct tc_dns_rr *rr, char *out,
		      size_t cap);

/* The whole message; -1 (after printing what was readable) when it is
 * malformed. */
int tc_dns_print_message(FILE *out, const uint8_t *msg, size_t len);

#endif
