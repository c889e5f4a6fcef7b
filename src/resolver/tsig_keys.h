/* TSIG keys (RFC 8945) from dns.tsig_keys_file: BIND `key` clauses, the
 * format tsig-keygen and `trustchainctl dns tsig new` print and nsupdate -k,
 * knot and nsd read:
 *
 *   key "NAME" {
 *       algorithm hmac-sha256;      # or hmac-sha512
 *       secret "BASE64";
 *   };
 *
 * Comments (#, //, / * * /) and any whitespace are allowed between
 * tokens. Anything else (an unknown statement or algorithm, a secret that
 * is not canonical base64, a key named twice, a NUL byte) is an error naming
 * the line. Names are kept as lower-case wire names, compared exactly. */
#ifndef TC_RESOLVER_TSIG_KEYS_H
#define TC_RESOLVER_TSIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "resolver/dns_wire.h"

#define TC_TSIG_MAX_KEYS 64
#define TC_TSIG_MAX_SECRET 128

enum tc_tsig_alg {
	TC_TSIG_HMAC_SHA256 = 0,
	TC_TSIG_HMAC_SHA512,
};

struct tc_tsig_key {
	uint8_t name[TC_DNS_MAX_NAME];   /* lower-case wire form */
	size_t name_len;
	enum tc_tsig_alg alg;
	uint8_t secret[TC_TSIG_MAX_SECRET];
	size_t secret_len;
};

struct tc_tsig_keyring {
	size_t count;
	struct tc_tsig_key keys[TC_TSIG_MAX_KEYS];
};

/* Parses text (len octets, not NUL-terminated) into ring. 0, or -1 with
 * "line N: problem" in err. */
int tc_tsig_keys_parse(const char *text, size_t len, struct tc_tsig_keyring *ring, char *err,
		       size_t errlen);
/* Reads and parses path; errors start with the path. */
int tc_tsig_keys_load(const char *path, struct tc_tsig_keyring *ring, char *err, size_t errlen);

/* The key of that name (any case, wire form), or NULL. */
const struct tc_tsig_key *tc_tsig_key_find(const struct tc_tsig_keyring *ring,
					   const uint8_t *name, size_t len);
/* Key name from text ("xfr-knot" or "xfr-knot."), then find. */
const struct tc_tsig_key *tc_tsig_key_find_text(const struct tc_tsig_keyring *ring,
						const char *name);

/* The algorithm's wire name ("hmac-sha256." as a DNS name) and MAC size. */
const uint8_t *tc_tsig_alg_name(enum tc_tsig_alg alg, size_t *len);
size_t tc_tsig_alg_mac_len(enum tc_tsig_alg alg);
/* From the text of a BIND algorithm statement; -1 when unsupported. */
int tc_tsig_alg_from_text(const char *s, enum tc_tsig_alg *alg);

#endif
