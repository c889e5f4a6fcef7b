/* EDNS(0) Padding (RFC 7830) of responses on encrypted transports.
 * RFC 9250 §5.4 makes padding a MUST for DoQ and RFC 8467 §4.1 says how:
 * a response to a query that carried the Padding option is padded to a
 * multiple of 468 octets; a query without it gets no padding. */
#ifndef TC_RESOLVER_EDNS_PADDING_H
#define TC_RESOLVER_EDNS_PADDING_H

#include <stddef.h>
#include <stdint.h>

#define TC_DNS_PAD_BLOCK_RESPONSE 468   /* RFC 8467 §4.1 */

/* Adds a Padding option to the OPT record of the response msg (len octets,
 * buffer of cap) so the message becomes a multiple of block octets. The
 * message is left as it is when it has no OPT (nothing to pad), already
 * holds a Padding option, or the padded size would pass cap or 65535.
 * Returns the new length. */
size_t tc_dns_pad_response(uint8_t *msg, size_t len, size_t cap, size_t block);

#endif
