/* Zone storage and lookup: an open-addressing hash table of nodes keyed by
 * the lower-case wire name. Lookups hash the query name once per label
 * only when the zone has delegations, otherwise once. */
#include "resolver/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/dnssec.h"
#include "common/errorf.h"

struct tc_zone {
	uint8_t origin[TC_DNS_MAX_NAME];
	size_t origin_len;
	unsigned origin_labels;
	struct tc_zone_node **nodes;
	size_t nnodes, nodes_cap;
	uint32_t *slots;          /* node index + 1; 0 = empty */
	size_t nslots;            /* power of two, at most half full */
	size_t nrr;
	bool has_delegation;
	/* DNSSEC (set by tc_zone_sign): the NSEC owners in canonical order. */
	const struct tc_zone_node **chain;
	size_t nchain;
};

static uint32_t name_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= name[i];
		h *= 16777619u;
	}
	return h;
}

const struct tc_zone_node *tc_zone_find(const struct tc_zone *zone, const uint8_t *name,
					size_t len)
{
	size_t mask = zone->nslots - 1;
	for (size_t i = name_hash(name, len) & mask;; i = (i + 1) & mask) {
		uint32_t slot = zone->slots[i];
		if (slot == 0)
			return NULL;
		const struct tc_zone_node *n = zone->nodes[slot - 1];
		if (n->name_len == len && memcmp(n->name, name, len) == 0)
			return n;
	}
}

static void slot_insert(uint32_t *slots, size_t nslots, const struct tc_zone_node *n, uint32_t v)
{
	size_t mask = nslots - 1;
	size_t i = name_hash(n->name, n->name_len) & mask;
	while (slots[i] != 0)
		i = (i + 1) & mask;
	slots[i] = v;
}

static int grow_table(struct tc_zone *zone)
{
	size_t nslots = zone->nslots * 2;
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < zone->nnodes; i++)
		slot_insert(slots, nslots, zone->nodes[i], (uint32_t)(i + 1));
	free(zone->slots);
	zone->slots = slots;
	zone->nslots = nslots;
	return 0;
}

/* The node for a lower-case name inside the zone, created with its missing
 * ancestors (empty non-terminals) when absent. */
static struct tc_zone_node *node_get(struct tc_zone *zone, const uint8_t *name, size_t len)
{
	const struct tc_zone_node *found = tc_zone_find(zone, name, len);
	if (found)
		return (struct tc_zone_node *)found;
	if (len > zone->origin_len && name[0] != 0) {
		size_t plen = len - (size_t)name[0] - 1;
		if (!node_get(zone, name + name[0] + 1, plen))
			return NULL;
	}
	if (zone->nnodes >= UINT32_MAX - 1)
		return NULL;
	if ((zone->nnodes + 1) * 2 > zone->nslots && grow_table(zone) != 0)
		return NULL;
	if (zone->nnodes == zone->nodes_cap) {
		size_t cap = zone->nodes_cap ? zone->nodes_cap * 2 : 16;
		struct tc_zone_node **nodes = realloc(zone->nodes, cap * sizeof(*nodes));
		if (!nodes)
			return NULL;
		zone->nodes = nodes;
		zone->nodes_cap = cap;
	}
	struct tc_zone_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	memcpy(n->name, name, len);
	n->name_len = (uint8_t)len;
	zone->nodes[zone->nnodes++] = n;
	slot_insert(zone->slots, zone->nslots, n, (uint32_t)zone->nnodes);
	return n;
}

int tc_zone_new(const char *origin, struct tc_zone **out, char *err, size_t errlen)
{
	uint8_t wire[TC_DNS_MAX_NAME];
	size_t wlen;
	const char *why;
	static const uint8_t root = 0;
	*out = NULL;
	if (tc_dns_name_from_text(origin, strlen(origin), &root, 1, wire, &wlen, &why) != 0) {
		return tc_errorf(err, errlen, "zone origin: %s", why);
	}
	struct tc_zone *zone = calloc(1, sizeof(*zone));
	if (!zone)
		return tc_errorf(err, errlen, "out of memory");
	tc_dns_name_lower(zone->origin, wire, wlen);
	zone->origin_len = wlen;
	zone->origin_labels = tc_dns_name_labels(wire, wlen);
	zone->nslots = 64;
	zone->slots = calloc(zone->nslots, sizeof(*zone->slots));
	if (!zone->slots || !node_get(zone, zone->origin, zone->origin_len)) {
		tc_zone_free(zone);
		return tc_errorf(err, errlen, "out of memory");
	}
	*out = zone;
	return 0;
}

void tc_zone_free(struct tc_zone *zone)
{
	if (!zone)
		return;
	for (size_t i = 0; i < zone->nnodes; i++) {
		struct tc_zone_node *n = zone->nodes[i];
		for (size_t k = 0; k < n->nrr; k++)
			free(n->rrs[k].rdata);
		free(n->rrs);
		free(n);
	}
	free(zone->nodes);
	free(zone->slots);
	free(zone->chain);
	free(zone);
}

const uint8_t *tc_zone_origin(const struct tc_zone *zone, size_t *len)
{
	*len = zone->origin_len;
	return zone->origin;
}

size_t tc_zone_node_count(const struct tc_zone *zone)
{
	return zone->nnodes;
}

size_t tc_zone_rr_count(const struct tc_zone *zone)
{
	return zone->nrr;
}

static bool valid_caa_tag(const uint8_t *t, size_t n)
{
	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* NULL when the RDATA is laid out as its type requires, else the problem. */
static const char *check_rdata(uint16_t type, const uint8_t *rd, size_t len)
{
	size_t n1, n2;
	switch (type) {
	case TC_DNS_TYPE_A:
		return len == 4 ? NULL : "A RDATA must be 4 octets";
	case TC_DNS_TYPE_AAAA:
		return len == 16 ? NULL : "AAAA RDATA must be 16 octets";
	case TC_DNS_TYPE_NS:
	case TC_DNS_TYPE_CNAME:
	case TC_DNS_TYPE_PTR:
		return tc_dns_name_wire_len(rd, len) == len ? NULL : "RDATA is not one domain name";
	case TC_DNS_TYPE_MX:
		return len >= 3 && tc_dns_name_wire_len(rd + 2, len - 2) == len - 2 ? NULL
										: "bad MX RDATA";
	case TC_DNS_TYPE_SRV:
		return len >= 7 && tc_dns_name_wire_len(rd + 6, len - 6) == len - 6 ? NULL
										: "bad SRV RDATA";
	case TC_DNS_TYPE_SOA:
		n1 = tc_dns_name_wire_len(rd, len);
		n2 = n1 ? tc_dns_name_wire_len(rd + n1, len - n1) : 0;
		return n1 && n2 && n1 + n2 + 20 == len ? NULL : "bad SOA RDATA";
	case TC_DNS_TYPE_TXT:
		if (len == 0)
			return "TXT needs at least one string";
		for (size_t i = 0; i < len; i += (size_t)rd[i] + 1)
			if ((size_t)rd[i] + 1 > len - i)
				return "bad TXT RDATA";
		return NULL;
	case TC_DNS_TYPE_CAA:
		if (len < 2 || rd[1] == 0 || (size_t)rd[1] + 2 > len || !valid_caa_tag(rd + 2, rd[1]))
			return "bad CAA RDATA (tag must be 1-15 letters or digits)";
		return NULL;
	case TC_DNS_TYPE_TLSA:
		return len >= 3 ? NULL : "bad TLSA RDATA";
	default:
		return NULL;
	}
}

static bool meta_type(uint16_t type)
{
	return type == 0 || type == TC_DNS_TYPE_OPT || (type >= 128 && type <= 255);
}

static bool may_coexist_with_cname(uint16_t type)
{
	return type == TC_DNS_TYPE_RRSIG || type == TC_DNS_TYPE_NSEC;
}

void tc_zone_remove_rrset(struct tc_zone *zone, struct tc_zone_node *n, uint16_t type)
{
	size_t o = 0;
	for (size_t i = 0; i < n->nrr; i++) {
		if (n->rrs[i].type == type) {
			free(n->rrs[i].rdata);
			zone->nrr--;
			continue;
		}
		n->rrs[o++] = n->rrs[i];
	}
	n->nrr = o;
	/* The flags say what lookups find: keep them true to the records. */
	if (type == TC_DNS_TYPE_CNAME)
		n->has_cname = false;
	if (type == TC_DNS_TYPE_NS)
		n->has_ns = false;
}

bool tc_zone_remove_rr(struct tc_zone *zone, struct tc_zone_node *n, uint16_t type,
		       const uint8_t *rdata, size_t rdlen)
{
	for (size_t i = 0; i < n->nrr; i++) {
		struct tc_zone_rr *rr = &n->rrs[i];
		if (rr->type != type || rr->rdlen != rdlen || memcmp(rr->rdata, rdata, rdlen) != 0)
			continue;
		free(rr->rdata);
		memmove(rr, rr + 1, (n->nrr - i - 1) * sizeof(*rr));
		n->nrr--;
		zone->nrr--;
		if (type == TC_DNS_TYPE_CNAME)
			n->has_cname = false;
		return true;
	}
	return false;
}

int tc_zone_add_rr(struct tc_zone *zone, const uint8_t *owner, size_t olen, uint16_t type,
		   uint32_t ttl, const uint8_t *rdata, size_t rdlen, char *err, size_t errlen)
{
	uint8_t name[TC_DNS_MAX_NAME];
	char text[1024];
	if (olen == 0 || olen > TC_DNS_MAX_NAME || tc_dns_name_wire_len(owner, olen) != olen)
		return tc_errorf(err, errlen, "invalid owner name");
	tc_dns_name_lower(name, owner, olen);
	tc_dns_name_to_text(name, olen, text, sizeof(text));
	if (!tc_dns_name_is_subdomain(name, olen, zone->origin, zone->origin_len))
		return tc_errorf(err, errlen, "%s is outside the zone", text);
	if (meta_type(type))
		return tc_errorf(err, errlen, "%s: meta type cannot be stored in a zone", text);
	if (ttl > 0x7fffffffu)
		return tc_errorf(err, errlen, "%s: TTL over 2147483647", text);
	if (rdlen > 0xffff)
		return tc_errorf(err, errlen, "%s: RDATA over 65535 octets", text);
	const char *why = check_rdata(type, rdata, rdlen);
	if (why) {
		return tc_errorf(err, errlen, "%s: %s", text, why);
	}
	bool apex = olen == zone->origin_len;
	if (type == TC_DNS_TYPE_SOA && !apex)
		return tc_errorf(err, errlen, "%s: SOA only at the zone apex", text);
	if (type == TC_DNS_TYPE_CNAME && apex)
		return tc_errorf(err, errlen, "%s: CNAME at the zone apex", text);

	struct tc_zone_node *n = node_get(zone, name, olen);
	if (!n)
		return tc_errorf(err, errlen, "out of memory");
	if (type == TC_DNS_TYPE_CNAME) {
		if (n->has_cname)
			return tc_errorf(err, errlen, "%s: more than one CNAME", text);
		for (size_t i = 0; i < n->nrr; i++)
			if (!may_coexist_with_cname(n->rrs[i].type))
				return tc_errorf(err, errlen, "%s: CNAME and other data", text);
	} else if (n->has_cname && !may_coexist_with_cname(type)) {
		return tc_errorf(err, errlen, "%s: CNAME and other data", text);
	}
	if (type == TC_DNS_TYPE_SOA)
		tc_zone_remove_rrset(zone, n, TC_DNS_TYPE_SOA);

	/* Insert after the last record of the same or a lower type. */
	size_t pos = 0;
	while (pos < n->nrr && n->rrs[pos].type <= type) {
		const struct tc_zone_rr *r = &n->rrs[pos];
		if (r->type == type && r->rdlen == rdlen && memcmp(r->rdata, rdata, rdlen) == 0)
			return 0;
		pos++;
	}
	if (n->nrr == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 4;
		struct tc_zone_rr *rrs = realloc(n->rrs, cap * sizeof(*rrs));
		if (!rrs)
			return tc_errorf(err, errlen, "out of memory");
		n->rrs = rrs;
		n->cap = cap;
	}
	uint8_t *copy = malloc(rdlen ? rdlen : 1);
	if (!copy)
		return tc_errorf(err, errlen, "out of memory");
	if (rdlen)
		memcpy(copy, rdata, rdlen);
	memmove(n->rrs + pos + 1, n->rrs + pos, (n->nrr - pos) * sizeof(*n->rrs));
	n->rrs[pos] = (struct tc_zone_rr){.type = type, .rdlen = (uint16_t)rdlen, .ttl = ttl, .rdata = copy};
	n->nrr++;
	zone->nrr++;
	if (type == TC_DNS_TYPE_CNAME)
		n->has_cname = true;
	if (type == TC_DNS_TYPE_NS && !apex) {
		n->has_ns = true;
		zone->has_delegation = true;
	}
	return 0;
}

int tc_zone_add_tlsa(struct tc_zone *zone, const char *name, uint8_t usage, uint8_t selector,
		     uint8_t mtype, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	return tc_zone_add_tlsa_ttl(zone, name, 300, usage, selector, mtype, data, len, err, errlen);
}

int tc_zone_add_tlsa_ttl(struct tc_zone *zone, const char *name, uint32_t ttl, uint8_t usage, uint8_t selector,
			 uint8_t mtype, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	uint8_t owner[TC_DNS_MAX_NAME];
	size_t olen;
	const char *why;
	if (tc_dns_name_from_text(name, strlen(name), zone->origin, zone->origin_len, owner, &olen,
				  &why) != 0)
		return tc_errorf(err, errlen, "TLSA owner: %s", why);
	if (len > 0xffff - 3)
		return tc_errorf(err, errlen, "TLSA data too long");
	uint8_t *rd = malloc(3 + len);
	if (!rd)
		return tc_errorf(err, errlen, "out of memory");
	size_t rdlen = tc_dns_rdata_tlsa(rd, 3 + len, usage, selector, mtype, data, len);
	int rc = tc_zone_add_rr(zone, owner, olen, TC_DNS_TYPE_TLSA, ttl, rd, rdlen, err, errlen);
	free(rd);
	return rc;
}

const struct tc_zone_rr *tc_zone_node_rrset(const struct tc_zone_node *node, uint16_t type,
					    size_t *count)
{
	*count = 0;
	for (size_t i = 0; i < node->nrr; i++) {
		if (node->rrs[i].type < type)
			continue;
		if (node->rrs[i].type > type)
			break;
		size_t k = i;
		while (k < node->nrr && node->rrs[k].type == type)
			k++;
		*count = k - i;
		return &node->rrs[i];
	}
	return NULL;
}

const struct tc_zone_rr *tc_zone_soa(const struct tc_zone *zone)
{
	size_t n;
	const struct tc_zone_rr *soa = tc_zone_node_rrset(zone->nodes[0], TC_DNS_TYPE_SOA, &n);
	return soa;
}

/* SERIAL sits 20 octets before the end of SOA RDATA (serial, refresh,
 * retry, expire, minimum: five 32-bit fields). */
uint32_t tc_zone_serial(const struct tc_zone *zone)
{
	const struct tc_zone_rr *soa = tc_zone_soa(zone);
	return soa && soa->rdlen >= 22 ? tc_dns_get32(soa->rdata + soa->rdlen - 20) : 0;
}

int tc_zone_set_serial(struct tc_zone *zone, uint32_t serial)
{
	size_t n;
	struct tc_zone_rr *soa = (struct tc_zone_rr *)tc_zone_node_rrset(zone->nodes[0],
									 TC_DNS_TYPE_SOA, &n);
	if (!soa || soa->rdlen < 22)
		return -1;
	tc_dns_put32(soa->rdata + soa->rdlen - 20, serial);
	return 0;
}

uint32_t tc_zone_negative_ttl(const struct tc_zone *zone)
{
	const struct tc_zone_rr *soa = tc_zone_soa(zone);
	if (!soa)
		return 0;
	uint32_t minimum = tc_dns_get32(soa->rdata + soa->rdlen - 4);
	return soa->ttl < minimum ? soa->ttl : minimum;
}

/* A zone cut strictly above name (or at it, except for DS, which belongs to
 * the parent side). Ancestors always exist as nodes when name exists, so a
 * missing ancestor also proves the name does not exist. */
static enum tc_zone_result find_cut(const struct tc_zone *zone, const uint8_t *name, size_t len,
				    uint16_t qtype, struct tc_zone_match *m)
{
	size_t starts[TC_DNS_MAX_LABELS];
	unsigned nlabels = 0;
	for (size_t i = 0; i < len && name[i] != 0; i += (size_t)name[i] + 1)
		starts[nlabels++] = i;
	for (unsigned depth = zone->origin_labels + 1; depth <= nlabels; depth++) {
		size_t at = starts[nlabels - depth];
		const struct tc_zone_node *n = tc_zone_find(zone, name + at, len - at);
		if (!n)
			return TC_ZONE_NXDOMAIN;
		if (n->has_ns && !(depth == nlabels && qtype == TC_DNS_TYPE_DS)) {
			m->node = n;
			m->rrs = tc_zone_node_rrset(n, TC_DNS_TYPE_NS, &m->count);
			return TC_ZONE_DELEGATION;
		}
	}
	return TC_ZONE_ANSWER;   /* no cut: carry on */
}

enum tc_zone_result tc_zone_lookup(const struct tc_zone *zone, const uint8_t *name, size_t len,
				   uint16_t qtype, struct tc_zone_match *m)
{
	m->node = NULL;
	m->rrs = NULL;
	m->count = 0;
	if (!tc_dns_name_is_subdomain(name, len, zone->origin, zone->origin_len))
		return TC_ZONE_OUT_OF_ZONE;
	if (zone->has_delegation) {
		enum tc_zone_result r = find_cut(zone, name, len, qtype, m);
		if (r != TC_ZONE_ANSWER)
			return r;
	}
	const struct tc_zone_node *n = tc_zone_find(zone, name, len);
	if (!n)
		return TC_ZONE_NXDOMAIN;
	m->node = n;
	if (n->nrr == 0)
		return TC_ZONE_NODATA;
	if (qtype == TC_DNS_TYPE_ANY) {
		m->rrs = tc_zone_node_rrset(n, n->rrs[0].type, &m->count);
		return TC_ZONE_ANSWER;
	}
	if (n->has_cname && qtype != TC_DNS_TYPE_CNAME) {
		m->rrs = tc_zone_node_rrset(n, TC_DNS_TYPE_CNAME, &m->count);
		return TC_ZONE_CNAME;
	}
	m->rrs = tc_zone_node_rrset(n, qtype, &m->count);
	return m->rrs ? TC_ZONE_ANSWER : TC_ZONE_NODATA;
}

struct tc_zone_node *tc_zone_node_at(struct tc_zone *zone, size_t i)
{
	return i < zone->nnodes ? zone->nodes[i] : NULL;
}

bool tc_zone_below_cut(const struct tc_zone *zone, const struct tc_zone_node *n)
{
	if (!zone->has_delegation)
		return false;
	const uint8_t *name = n->name;
	size_t len = n->name_len;
	while (len > zone->origin_len) {
		len -= (size_t)name[0] + 1;
		name += name[0] + 1;
		const struct tc_zone_node *up = tc_zone_find(zone, name, len);
		if (up && up->has_ns && len > zone->origin_len)
			return true;
	}
	return false;
}

int tc_zone_set_nsec_chain(struct tc_zone *zone, const struct tc_zone_node **chain, size_t n)
{
	const struct tc_zone_node **copy = malloc((n ? n : 1) * sizeof(*copy));
	if (!copy)
		return -1;
	memcpy(copy, chain, n * sizeof(*copy));
	free(zone->chain);
	zone->chain = copy;
	zone->nchain = n;
	return 0;
}

bool tc_zone_is_signed(const struct tc_zone *zone)
{
	return zone->nchain > 0;
}

const struct tc_zone_node *tc_zone_nsec_covering(const struct tc_zone *zone, const uint8_t *name,
						 size_t len)
{
	if (zone->nchain == 0)
		return NULL;
	/* The last owner that sorts at or before name; the apex sorts before
	 * every name in the zone, so there always is one. */
	size_t lo = 0, hi = zone->nchain;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tc_zone_node *n = zone->chain[mid];
		if (tc_dnssec_name_cmp(n->name, n->name_len, name, len) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	return zone->chain[lo];
}
