/* TSIG (RFC 8945) on DNS messages: checking a signed request, signing the
 * answers to it (one message, or every message of a zone transfer, each
 * chained to the previous MAC, §5.3.1), the unsigned error answers of §5.3.2,
 * and signing a request of ours (NOTIFY). HMAC-SHA256/512 over OpenSSL.
 * The TSIG RR is written uncompressed; a MAC is compared in constant time. */
#ifndef TC_RESOLVER_TSIG_H
#define TC_RESOLVER_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/tsig_keys.h"

#define TC_TSIG_FUDGE 300
#define TC_TSIG_MAX_MAC 64
/* Room a TSIG RR needs at most: owner and algorithm names, fixed fields,
 * a 64-octet MAC and 6 octets of other data. */
#define TC_TSIG_RR_MAX (TC_DNS_MAX_NAME * 2 + 10 + 16 + TC_TSIG_MAX_MAC + 6)

enum tc_tsig_rcode {   /* TSIG error field values (RFC 8945 §3) */
	TC_TSIG_ERR_NONE = 0,
	TC_TSIG_ERR_BADSIG = 16,
	TC_TSIG_ERR_BADKEY = 17,
	TC_TSIG_ERR_BADTIME = 18,
	TC_TSIG_ERR_BADTRUNC = 22,
};
#define TC_DNS_RCODE_NOTAUTH 9

enum tc_tsig_status {
	TC_TSIG_UNSIGNED = 0,   /* no TSIG record */
	TC_TSIG_VALID,
	TC_TSIG_MALFORMED,      /* FORMERR: TSIG not last, twice, bad layout */
	TC_TSIG_BAD,            /* answer NOTAUTH with the TSIG error in req->error */
};

/* What a request's TSIG said, kept to answer it. */
struct tc_tsig_request {
	const struct tc_tsig_key *key;   /* the key when known (valid, BADSIG, BADTIME) */
	uint8_t key_name[TC_DNS_MAX_NAME];
	size_t key_name_len;
	uint8_t alg_name[TC_DNS_MAX_NAME];
	size_t alg_name_len;
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t mac_len;
	uint64_t time_signed;
	uint16_t original_id;
	uint16_t error;                  /* enum tc_tsig_rcode */
	size_t unsigned_len;             /* the request without its TSIG RR */
};

/* Checks msg (a complete, well-formed message) against ring at time now
 * (seconds since the epoch). */
enum tc_tsig_status tc_tsig_verify(const uint8_t *msg, size_t len,
				   const struct tc_tsig_keyring *ring, uint64_t now,
				   struct tc_tsig_request *req);

/* Appends a TSIG RR signed with key to msg (len octets, buffer cap) and
 * counts it in ARCOUNT. prior (prior_len octets) is the MAC the digest
 * starts with: the request's for the first answer, the previous message's
 * for the next ones of a transfer (timers_only set), none for a request of
 * ours. error/other go into the record (BADTIME answers carry our time).
 * The MAC made is written to mac_out (TC_TSIG_MAX_MAC). Returns the new
 * length, 0 when it does not fit. */
size_t tc_tsig_sign(uint8_t *msg, size_t len, size_t cap, const struct tc_tsig_key *key,
		    const uint8_t *prior, size_t prior_len, bool timers_only, uint64_t now,
		    uint16_t error, const uint8_t *other, size_t other_len, uint8_t *mac_out,
		    size_t *mac_len);

/* Checks the TSIG of an answer to a request of ours signed with key (a
 * client's side: zone transfer, export): prior is the request's MAC for the
 * first answer, the previous answer's MAC after it (then timers_only, RFC
 * 8945 §5.3.1); every message must be signed. The answer's MAC goes to
 * mac_out for the next one. 0 valid, -1 unsigned, malformed, other key,
 * wrong MAC, or an error in the TSIG RR. */
int tc_tsig_verify_answer(const uint8_t *msg, size_t len, const struct tc_tsig_key *key,
			  const uint8_t *prior, size_t prior_len, bool timers_only,
			  uint8_t *mac_out, size_t *mac_len);

/* Appends the unsigned TSIG RR of a BADKEY/BADSIG answer (§5.3.2): the
 * request's key and algorithm names, its time, an empty MAC, the error.
 * Returns the new length, 0 when it does not fit. */
size_t tc_tsig_append_error(uint8_t *msg, size_t len, size_t cap,
			    const struct tc_tsig_request *req);

/* The answer to a request whose TSIG failed (status TC_TSIG_BAD): msg is
 * a response (question echoed) with RCODE NOTAUTH; appends the TSIG
 * (signed for BADTIME, unsigned otherwise). Returns the new length or 0. */
size_t tc_tsig_finish_refusal(uint8_t *msg, size_t len, size_t cap,
			      const struct tc_tsig_request *req, uint64_t now);

#endif
