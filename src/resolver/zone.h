/* In-memory authoritative zone.
 *
 * A zone is built single-threaded (tc_zone_new, tc_zone_add_*, the zone
 * file and config loaders) and is then read-only: lookups do not allocate
 * or modify it, so any number of threads may answer from one zone. To
 * change the data at run time (new TLSA records, a reloaded file), build a
 * new zone and swap the pointer; free the old one once no thread uses it.
 *
 * Names are stored lower-cased in uncompressed wire form in a hash table.
 * Adding a name also adds its ancestors up to the apex as empty nodes, so an
 * empty non-terminal answers NODATA rather than NXDOMAIN (RFC 8020).
 * Wildcards and DNAME are not supported: "*" is an ordinary label. */
#ifndef TC_RESOLVER_ZONE_H
#define TC_RESOLVER_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/dns_wire.h"

struct tc_config;

struct tc_zone_rr {
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
	uint8_t *rdata;     /* uncompressed wire RDATA */
};

struct tc_zone_node {
	uint8_t name[TC_DNS_MAX_NAME];   /* lower-case wire form */
	uint8_t name_len;
	bool has_ns;                     /* non-apex: a delegation point */
	bool has_cname;
	size_t nrr, cap;
	struct tc_zone_rr *rrs;          /* sorted by type, insertion order within a type */
};

struct tc_zone;

/* Creates an empty zone for origin (presentation form, e.g.
 * "trust.hypermesh.online", trailing dot optional). */
int tc_zone_new(const char *origin, struct tc_zone **out, char *err, size_t errlen);
void tc_zone_free(struct tc_zone *zone);

const uint8_t *tc_zone_origin(const struct tc_zone *zone, size_t *len);
size_t tc_zone_node_count(const struct tc_zone *zone);
size_t tc_zone_rr_count(const struct tc_zone *zone);

/* Adds one record (class IN). owner is wire form (any case) inside the zone.
 * Enforced: RDATA layout for the known types, no meta types, TTL <= 2^31-1,
 * CNAME alone at its name, SOA only at the apex. A second SOA replaces the
 * first (so a zone file's SOA overrides the generated one); an exact
 * duplicate record is ignored (an RRset is a set). Returns 0 or -1 + err. */
int tc_zone_add_rr(struct tc_zone *zone, const uint8_t *owner, size_t olen, uint16_t type,
		   uint32_t ttl, const uint8_t *rdata, size_t rdlen, char *err, size_t errlen);

/* Adds a TLSA record (RFC 6698) at name, which is relative to the zone
 * ("_853._udp.dns") or absolute with a trailing dot. TTL 300; the _ttl
 * form takes it (the service TLSA records: dns.address_ttl). */
int tc_zone_add_tlsa(struct tc_zone *zone, const char *name, uint8_t usage, uint8_t selector,
		     uint8_t mtype, const uint8_t *data, size_t len, char *err, size_t errlen);
int tc_zone_add_tlsa_ttl(struct tc_zone *zone, const char *name, uint32_t ttl, uint8_t usage, uint8_t selector,
			 uint8_t mtype, const uint8_t *data, size_t len, char *err, size_t errlen);

/* Exact lookup of a lower-case wire name; NULL when absent. */
const struct tc_zone_node *tc_zone_find(const struct tc_zone *zone, const uint8_t *name,
					size_t len);
/* The records of one type at a node (contiguous); NULL and *count 0 if none. */
const struct tc_zone_rr *tc_zone_node_rrset(const struct tc_zone_node *node, uint16_t type,
					    size_t *count);
/* The apex SOA record, or NULL for a zone without one. */
const struct tc_zone_rr *tc_zone_soa(const struct tc_zone *zone);
/* The SOA serial (0 without a SOA); set it before signing (-1: no SOA). */
uint32_t tc_zone_serial(const struct tc_zone *zone);
int tc_zone_set_serial(struct tc_zone *zone, uint32_t serial);
/* TTL of negative answers (RFC 2308 §5): min(SOA TTL, SOA MINIMUM). */
uint32_t tc_zone_negative_ttl(const struct tc_zone *zone);

enum tc_zone_result {
	TC_ZONE_OUT_OF_ZONE,   /* not at or below the apex: not ours */
	TC_ZONE_NXDOMAIN,      /* no such name */
	TC_ZONE_NODATA,        /* the name exists (maybe as an empty non-terminal), not this type */
	TC_ZONE_ANSWER,        /* rrs/count hold the RRset */
	TC_ZONE_CNAME,         /* rrs holds the CNAME record; the caller follows it */
	TC_ZONE_DELEGATION,    /* node is a zone cut at or above the name; rrs = its NS RRset */
};

struct tc_zone_match {
	const struct tc_zone_node *node;
	const struct tc_zone_rr *rrs;
	size_t count;
};

/* Looks up (name, qtype), name in lower-case wire form. For qtype ANY the
 * answer is minimal (RFC 8482): the node's first RRset in type order. */
enum tc_zone_result tc_zone_lookup(const struct tc_zone *zone, const uint8_t *name, size_t len,
				   uint16_t qtype, struct tc_zone_match *m);

/* Master file (RFC 1035 §5) loading: see zone_file.c for the syntax
 * accepted. Errors read "<source>:<line>: <problem>". */
int tc_zone_load_text(struct tc_zone *zone, const char *text, size_t len, const char *source,
		      char *err, size_t errlen);
int tc_zone_load_file(struct tc_zone *zone, const char *path, char *err, size_t errlen);

/* Building and signing (single-threaded, before the zone is shared). */
/* Node i in insertion order (0 is the apex); NULL past the end. */
struct tc_zone_node *tc_zone_node_at(struct tc_zone *zone, size_t i);
/* True when a delegation lies strictly above the node: its data is glue or
 * occluded, not authoritative. */
bool tc_zone_below_cut(const struct tc_zone *zone, const struct tc_zone_node *n);
void tc_zone_remove_rrset(struct tc_zone *zone, struct tc_zone_node *n, uint16_t type);
/* Removes the one record of that type and RDATA (exact octets); false when
 * absent. */
bool tc_zone_remove_rr(struct tc_zone *zone, struct tc_zone_node *n, uint16_t type,
		       const uint8_t *rdata, size_t rdlen);
/* Records the NSEC owners in canonical order (apex first); the zone then
 * counts as signed. 0 or -1 (out of memory). */
int tc_zone_set_nsec_chain(struct tc_zone *zone, const struct tc_zone_node **chain, size_t n);

/* DNSSEC lookups (see dnssec.h). */
bool tc_zone_is_signed(const struct tc_zone *zone);
/* The NSEC owner that matches or covers name (RFC 4035 §3.1.3): the last
 * in canonical order at or before it. NULL when the zone is unsigned. */
const struct tc_zone_node *tc_zone_nsec_covering(const struct tc_zone *zone, const uint8_t *name,
						 size_t len);

/* The zone for cfg->bootstrap.domain: generated SOA, NS, A/AAAA, TXT, CAA
 * (see zone_config.c), then cfg->dns.zone_file, then cfg->dns.records. */
int tc_zone_from_config(const struct tc_config *cfg, struct tc_zone **out, char *err,
			size_t errlen);

#endif
