/* Dynamic updates (RFC 2136) as data: reading an UPDATE message into its
 * zone, prerequisites and changes (§2-3), checking the prerequisites
 * against a zone (§3.2), the policy of dns.update_policy, and the changes
 * as a compact byte string (the zone journal's payload) applied to a zone
 * under construction. No I/O, no locks: update_apply.c's caller serialises.
 *
 * Encoded changes: a sequence of
 *   owner (uncompressed wire, lower case) | type (2) | class (2) | ttl (4) |
 *   rdlen (2) | rdata
 * with class IN = add the record, ANY = delete the RRset (type ANY: every
 * RRset of the name but SOA/NS/DNSSEC), NONE = delete the record. */
#ifndef TC_RESOLVER_UPDATE_H
#define TC_RESOLVER_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/tsig_keys.h"
#include "resolver/zone.h"

#define TC_DNS_OPCODE_UPDATE 5
enum {
	TC_DNS_RCODE_YXDOMAIN = 6,
	TC_DNS_RCODE_YXRRSET = 7,
	TC_DNS_RCODE_NXRRSET = 8,
	TC_DNS_RCODE_NOTZONE = 10,
};
#define TC_UPDATE_MAX_RRS 256

struct tc_update_rr {
	uint8_t name[TC_DNS_MAX_NAME];   /* lower case */
	size_t name_len;
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;                  /* uncompressed; points into tc_update.data */
};

struct tc_update {
	uint8_t zone[TC_DNS_MAX_NAME];
	size_t zone_len;
	size_t nprereq, nupdate;
	struct tc_update_rr prereq[TC_UPDATE_MAX_RRS];
	struct tc_update_rr update[TC_UPDATE_MAX_RRS];
	uint8_t data[65536];             /* the RDATA, decompressed */
	size_t data_len;
};

/* Reads msg (an UPDATE request without its TSIG). Returns 0, or an RCODE:
 * FORMERR (layout, §3.1.1 zone section, §3.4.1 prescan: classes, TTLs,
 * meta types), NOTAUTH when the zone is not origin, NOTZONE for a name
 * outside it. */
uint16_t tc_update_parse(const uint8_t *msg, size_t len, const uint8_t *origin, size_t olen,
			 struct tc_update *u);

/* §3.2 against zone: 0 or YXDOMAIN/YXRRSET/NXDOMAIN/NXRRSET. */
uint16_t tc_update_check_prereqs(const struct tc_zone *zone, const struct tc_update *u);

/* dns.update_policy in wire form. */
struct tc_update_grant {
	const struct tc_tsig_key *key;
	size_t nnames;
	char names[16][256];     /* lower-case patterns relative to the zone ("" = apex) */
	bool absolute_outside[16];
	size_t ntypes;
	uint16_t types[16];
};
struct tc_update_policy {
	size_t ngrants;
	struct tc_update_grant grants[16];
};

struct tc_config;
/* From cfg; -1 with err when a key is missing from ring. */
int tc_update_policy_from_config(const struct tc_config *cfg, const struct tc_tsig_keyring *ring,
				 struct tc_update_policy *p, char *err, size_t errlen);
/* True when every change of u is granted to key. */
bool tc_update_allowed(const struct tc_update_policy *p, const struct tc_tsig_key *key,
		       const uint8_t *origin, size_t olen, const struct tc_update *u);

/* The changes of u encoded (see above) into out; returns the length, 0 if
 * cap is too small. */
size_t tc_update_encode(const struct tc_update *u, uint8_t *out, size_t cap);
/* Applies encoded changes to zone (being built). 0, or -1 with err for
 * bytes that are not encoded changes. Changes that cannot apply (adding a
 * record the zone refuses, deleting what is absent) are skipped, as
 * RFC 2136 §3.4.2 ignores them. */
int tc_update_apply(struct tc_zone *zone, const uint8_t *ops, size_t len, char *err,
		    size_t errlen);

/* Types no update changes (SOA, NS, DS and the DNSSEC records). */
bool tc_update_type_protected(uint16_t type);

/* Journal compaction: the changes that turn zone from into zone to, for
 * every RRset of a type updates may change (the others must be equal):
 * first a delete-RRset for each RRset that differs or is gone, then an add
 * for each record of each RRset that differs or is new. Applied to from
 * (tc_update_apply) they give to. Into a malloc'ed *out (NULL and 0 when
 * nothing differs). 0 or -1 (out of memory). */
int tc_update_fold(const struct tc_zone *from, const struct tc_zone *to, uint8_t **out, size_t *len);

/* A new zone with the same origin and every record of zone (nodes left
 * without records are not carried over). 0 or -1 with err. */
int tc_update_copy_records(const struct tc_zone *zone, struct tc_zone **out, char *err,
			   size_t errlen);

#endif
