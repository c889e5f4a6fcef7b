/* DNS over QUIC stream framing (RFC 9250 §4.2): each bidirectional stream
 * carries exactly one query and one response, each preceded by a 2-octet
 * big-endian length, and the DNS Message ID must be 0. */
#ifndef TC_RESOLVER_DOQ_H
#define TC_RESOLVER_DOQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Application error codes for QUIC CONNECTION_CLOSE / RESET_STREAM (§4.3). */
#define TC_DOQ_NO_ERROR 0x0
#define TC_DOQ_INTERNAL_ERROR 0x1
#define TC_DOQ_PROTOCOL_ERROR 0x2
#define TC_DOQ_REQUEST_CANCELLED 0x3
#define TC_DOQ_EXCESSIVE_LOAD 0x4
#define TC_DOQ_UNSPECIFIED_ERROR 0x5

enum tc_doq_result {
	TC_DOQ_FRAME_OK = 0,           /* *msg / *msglen hold the DNS message */
	TC_DOQ_FRAME_INCOMPLETE,       /* more stream data needed (only when !fin) */
	TC_DOQ_FRAME_PROTOCOL_ERROR,   /* close with DOQ_PROTOCOL_ERROR */
};

/* Parses the data received on one stream so far; fin tells whether the
 * peer has finished the stream. The length prefix must match the stream data
 * exactly (nothing after the message), the message must have a header and its
 * ID must be 0. Once the message is complete it may be answered before FIN. */
enum tc_doq_result tc_doq_frame_parse(const uint8_t *stream, size_t len, bool fin,
				      const uint8_t **msg, size_t *msglen);

/* Writes the 2-octet length and msg into out (msg may already sit at
 * out + 2: the copy is overlap-safe). Returns 0, or -1 when msglen is 0 or
 * over 65535 or out is too small. */
int tc_doq_frame_response(const uint8_t *msg, size_t msglen, uint8_t *out, size_t outcap,
			  size_t *outlen);

#endif
