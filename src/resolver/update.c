/* RFC 2136 UPDATE: see update.h. */
#include "resolver/update.h"

#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "resolver/dns_name.h"
#include "resolver/tsig.h"

#define CLASS_NONE 254

/* Names inside RDATA that may be compressed on the wire (RFC 3597 §4):
 * where the name starts, or -1 for RDATA copied as it is. */
static int name_offset(uint16_t type)
{
	switch (type) {
	case TC_DNS_TYPE_NS:
	case TC_DNS_TYPE_CNAME:
	case TC_DNS_TYPE_PTR:
		return 0;
	case TC_DNS_TYPE_MX:
		return 2;
	default:
		return -1;
	}
}

/* Reads one record into rr, its RDATA decompressed into u->data. */
static int read_record(const uint8_t *msg, size_t len, size_t *pos, struct tc_update *u,
		       struct tc_update_rr *rr)
{
	struct tc_dns_rr w;
	if (tc_dns_read_rr(msg, len, pos, &w) != TC_DNS_OK)
		return -1;
	tc_dns_name_lower(rr->name, w.name, w.name_len);
	rr->name_len = w.name_len;
	rr->type = w.type;
	rr->rclass = w.rclass;
	rr->ttl = w.ttl;
	uint8_t *out = u->data + u->data_len;
	size_t room = sizeof(u->data) - u->data_len;
	int noff = name_offset(w.type);
	if (noff >= 0 && w.rdlen == 0) {
		/* An added record of a type that holds a name needs one (a
		 * CNAME without a target would break every transfer of the
		 * zone); deletions (classes ANY, NONE) carry no RDATA. */
		if (w.rclass == TC_DNS_CLASS_IN)
			return -1;
		noff = -1;
	}
	size_t n;
	if (noff < 0) {
		if (w.rdlen > room)
			return -1;
		memcpy(out, msg + w.rdata_off, w.rdlen);
		n = w.rdlen;
	} else {
		size_t at = w.rdata_off + (size_t)noff, nlen;
		uint8_t name[TC_DNS_MAX_NAME];
		if (w.rdlen < (size_t)noff + 1 ||
		    tc_dns_read_name(msg, len, &at, name, &nlen) != TC_DNS_OK ||
		    at != w.rdata_off + w.rdlen || (size_t)noff + nlen > room)
			return -1;
		memcpy(out, msg + w.rdata_off, (size_t)noff);
		memcpy(out + noff, name, nlen);
		n = (size_t)noff + nlen;
	}
	if (n > 0xffff)
		return -1;
	rr->rdata = out;
	rr->rdlen = (uint16_t)n;
	u->data_len += n;
	return 0;
}

uint16_t tc_update_parse(const uint8_t *msg, size_t len, const uint8_t *origin, size_t olen,
			 struct tc_update *u)
{
	struct tc_dns_msg m;
	u->nprereq = u->nupdate = u->data_len = 0;
	if (tc_dns_parse(msg, len, &m) != TC_DNS_OK || TC_DNS_OPCODE(m.flags) != TC_DNS_OPCODE_UPDATE)
		return TC_DNS_RCODE_FORMERR;
	/* §3.1.1: one zone, type SOA. */
	if (m.qdcount != 1 || m.qtype != TC_DNS_TYPE_SOA)
		return TC_DNS_RCODE_FORMERR;
	tc_dns_name_lower(u->zone, m.qname, m.qname_len);
	u->zone_len = m.qname_len;
	if (m.qclass != TC_DNS_CLASS_IN || !tc_dns_name_equal(u->zone, u->zone_len, origin, olen))
		return TC_DNS_RCODE_NOTAUTH;
	if (m.ancount > TC_UPDATE_MAX_RRS || m.nscount > TC_UPDATE_MAX_RRS)
		return TC_DNS_RCODE_FORMERR;
	size_t pos = TC_DNS_HEADER_LEN;
	if (tc_dns_read_name(msg, len, &pos, NULL, NULL) != TC_DNS_OK)
		return TC_DNS_RCODE_FORMERR;
	pos += 4;
	for (unsigned i = 0; i < m.ancount; i++) {
		struct tc_update_rr *rr = &u->prereq[u->nprereq++];
		if (read_record(msg, len, &pos, u, rr) != 0)
			return TC_DNS_RCODE_FORMERR;
		if (!tc_dns_name_is_subdomain(rr->name, rr->name_len, origin, olen))
			return TC_DNS_RCODE_NOTZONE;
		if (rr->ttl != 0)
			return TC_DNS_RCODE_FORMERR;
		bool ok = (rr->rclass == TC_DNS_CLASS_ANY || rr->rclass == CLASS_NONE)
				  ? rr->rdlen == 0 && (rr->type == TC_DNS_TYPE_ANY || !tc_dns_type_is_meta(rr->type))
				  : rr->rclass == TC_DNS_CLASS_IN && !tc_dns_type_is_meta(rr->type);
		if (!ok)
			return TC_DNS_RCODE_FORMERR;
	}
	/* §3.4.1.3 prescan of the update section. */
	for (unsigned i = 0; i < m.nscount; i++) {
		struct tc_update_rr *rr = &u->update[u->nupdate++];
		if (read_record(msg, len, &pos, u, rr) != 0)
			return TC_DNS_RCODE_FORMERR;
		if (!tc_dns_name_is_subdomain(rr->name, rr->name_len, origin, olen))
			return TC_DNS_RCODE_NOTZONE;
		bool ok;
		if (rr->rclass == TC_DNS_CLASS_IN)
			ok = !tc_dns_type_is_meta(rr->type) && rr->ttl <= 0x7fffffffu;
		else if (rr->rclass == TC_DNS_CLASS_ANY)
			ok = rr->ttl == 0 && rr->rdlen == 0 &&
			     (rr->type == TC_DNS_TYPE_ANY || !tc_dns_type_is_meta(rr->type));
		else if (rr->rclass == CLASS_NONE)
			ok = rr->ttl == 0 && !tc_dns_type_is_meta(rr->type);
		else
			ok = false;
		if (!ok)
			return TC_DNS_RCODE_FORMERR;
	}
	return 0;
}

static bool name_in_use(const struct tc_zone_node *n)
{
	return n && n->nrr > 0;
}

uint16_t tc_update_check_prereqs(const struct tc_zone *zone, const struct tc_update *u)
{
	for (size_t i = 0; i < u->nprereq; i++) {
		const struct tc_update_rr *rr = &u->prereq[i];
		const struct tc_zone_node *n = tc_zone_find(zone, rr->name, rr->name_len);
		size_t count = 0;
		const struct tc_zone_rr *set = n && rr->type != TC_DNS_TYPE_ANY
						       ? tc_zone_node_rrset(n, rr->type, &count)
						       : NULL;
		if (rr->rclass == TC_DNS_CLASS_ANY) {
			if (rr->type == TC_DNS_TYPE_ANY ? !name_in_use(n) : count == 0)
				return rr->type == TC_DNS_TYPE_ANY ? TC_DNS_RCODE_NXDOMAIN
								   : TC_DNS_RCODE_NXRRSET;
		} else if (rr->rclass == CLASS_NONE) {
			if (rr->type == TC_DNS_TYPE_ANY ? name_in_use(n) : count > 0)
				return rr->type == TC_DNS_TYPE_ANY ? TC_DNS_RCODE_YXDOMAIN
								   : TC_DNS_RCODE_YXRRSET;
		} else {
			/* Value-dependent (§3.2.3): the RRset equals the records given
			 * for this name and type, no more, no fewer. */
			size_t given = 0;
			for (size_t j = 0; j < u->nprereq; j++) {
				const struct tc_update_rr *o = &u->prereq[j];
				if (o->rclass != TC_DNS_CLASS_IN || o->type != rr->type ||
				    !tc_dns_name_equal(o->name, o->name_len, rr->name, rr->name_len))
					continue;
				bool dup = false;
				for (size_t k = 0; k < j && !dup; k++)
					dup = u->prereq[k].rclass == TC_DNS_CLASS_IN &&
					      u->prereq[k].type == o->type && u->prereq[k].rdlen == o->rdlen &&
					      tc_dns_name_equal(u->prereq[k].name, u->prereq[k].name_len,
								o->name, o->name_len) &&
					      memcmp(u->prereq[k].rdata, o->rdata, o->rdlen) == 0;
				given += !dup;
			}
			bool found = false;
			for (size_t k = 0; k < count && !found; k++)
				found = set[k].rdlen == rr->rdlen &&
					memcmp(set[k].rdata, rr->rdata, rr->rdlen) == 0;
			if (!found || given != count)
				return TC_DNS_RCODE_NXRRSET;
		}
	}
	return 0;
}

/* ---- policy ---- */

static uint16_t type_number(const char *s)
{
	static const struct {
		const char *name;
		uint16_t type;
	} map[] = {{"A", 1},	  {"AAAA", 28}, {"TXT", 16},  {"CNAME", 5},  {"MX", 15},  {"SRV", 33},
		   {"CAA", 257}, {"TLSA", 52}, {"PTR", 12},  {"HINFO", 13}, {"ANY", 255}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(s, map[i].name) == 0)
			return map[i].type;
	return 0;
}

static void lower_text(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = (char)tc_dns_fold((uint8_t)src[i]);
	dst[i] = '\0';
}

int tc_update_policy_from_config(const struct tc_config *cfg, const struct tc_tsig_keyring *ring,
				 struct tc_update_policy *p, char *err, size_t errlen)
{
	char origin[TC_CFG_STR + 2];
	lower_text(origin, sizeof(origin), cfg->bootstrap.domain);
	size_t ol = strlen(origin);
	if (ol && origin[ol - 1] == '.')
		origin[--ol] = '\0';
	p->ngrants = 0;
	for (size_t i = 0; i < cfg->dns.update_rule_count && i < 16; i++) {
		const struct tc_dns_update_rule_cfg *r = &cfg->dns.update_policy[i];
		struct tc_update_grant *g = &p->grants[p->ngrants++];
		memset(g, 0, sizeof(*g));
		g->key = tc_tsig_key_find_text(ring, r->key);
		if (!g->key) {
			snprintf(err, errlen, "dns.update_policy: key '%s' is not in dns.tsig_keys_file",
				 r->key);
			return -1;
		}
		for (size_t k = 0; k < r->names.count && k < 16; k++) {
			char *pat = g->names[g->nnames++];
			lower_text(pat, 256, r->names.items[k]);
			size_t pl = strlen(pat);
			if (pl && pat[pl - 1] == '.') {
				/* Absolute: must lie in the zone; made relative. */
				pat[--pl] = '\0';
				if (pl == ol && strcmp(pat, origin) == 0)
					pat[0] = '\0';
				else if (pl > ol && pat[pl - ol - 1] == '.' && strcmp(pat + pl - ol, origin) == 0)
					pat[pl - ol - 1] = '\0';
				else
					g->absolute_outside[g->nnames - 1] = true;
			}
		}
		for (size_t k = 0; k < r->type_count && k < 16; k++)
			g->types[g->ntypes++] = type_number(r->types[k]);
	}
	return 0;
}

/* rel: the owner relative to the zone, lower case ("" = apex). */
static bool pattern_match(const char *pat, const char *rel)
{
	size_t pl = strlen(pat), rl = strlen(rel);
	if (strcmp(pat, "*") == 0)
		return true;
	if (strncmp(pat, "*.", 2) == 0)   /* strictly below the suffix */
		return rl > pl - 1 && strcmp(rel + rl - (pl - 1), pat + 1) == 0;
	if (pl >= 2 && strcmp(pat + pl - 2, ".*") == 0)   /* the prefix, then anything */
		return strncmp(rel, pat, pl - 2) == 0 && (rel[pl - 2] == '\0' || rel[pl - 2] == '.');
	return strcmp(pat, rel) == 0;
}

static bool grant_covers(const struct tc_update_grant *g, const char *rel, uint16_t type)
{
	bool type_ok = false;
	for (size_t i = 0; i < g->ntypes; i++)
		type_ok |= g->types[i] == type || g->types[i] == TC_DNS_TYPE_ANY;
	if (!type_ok)
		return false;
	for (size_t i = 0; i < g->nnames; i++)
		if (!g->absolute_outside[i] && pattern_match(g->names[i], rel))
			return true;
	return false;
}

bool tc_update_allowed(const struct tc_update_policy *p, const struct tc_tsig_key *key,
		       const uint8_t *origin, size_t olen, const struct tc_update *u)
{
	if (!key)
		return false;
	for (size_t i = 0; i < u->nupdate; i++) {
		const struct tc_update_rr *rr = &u->update[i];
		/* Ours alone, whatever a grant says: the signer keeps them. */
		switch (rr->type) {
		case TC_DNS_TYPE_SOA: case TC_DNS_TYPE_NS: case TC_DNS_TYPE_DS:
		case TC_DNS_TYPE_RRSIG: case TC_DNS_TYPE_NSEC: case TC_DNS_TYPE_DNSKEY:
		case 50: case 51:   /* NSEC3, NSEC3PARAM */
			return false;
		default:
			break;
		}
		/* The labels above the origin as text: "a.b", or "" at the apex. */
		uint8_t rel[TC_DNS_MAX_NAME];
		size_t rlen = rr->name_len - olen;   /* parse checked it is below origin */
		memcpy(rel, rr->name, rlen);
		rel[rlen] = 0;
		char text[1024];
		tc_dns_name_to_text(rel, rlen + 1, text, sizeof(text));
		size_t tl = strlen(text);
		if (tl && text[tl - 1] == '.')
			text[--tl] = '\0';
		(void)origin;
		bool ok = false;
		for (size_t g = 0; g < p->ngrants && !ok; g++)
			ok = p->grants[g].key == key && grant_covers(&p->grants[g], text, rr->type);
		if (!ok)
			return false;
	}
	return true;
}

/* ---- encoding and applying ---- */

size_t tc_update_encode(const struct tc_update *u, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < u->nupdate; i++) {
		const struct tc_update_rr *rr = &u->update[i];
		size_t need = rr->name_len + 10 + rr->rdlen;
		if (n + need > cap)
			return 0;
		memcpy(out + n, rr->name, rr->name_len);
		n += rr->name_len;
		tc_dns_put16(out + n, rr->type);
		tc_dns_put16(out + n + 2, rr->rclass);
		tc_dns_put32(out + n + 4, rr->ttl);
		tc_dns_put16(out + n + 8, rr->rdlen);
		n += 10;
		memcpy(out + n, rr->rdata, rr->rdlen);
		n += rr->rdlen;
	}
	return n;
}

static bool protected_type(uint16_t t)
{
	return t == TC_DNS_TYPE_SOA || t == TC_DNS_TYPE_NS || t == TC_DNS_TYPE_DS ||
	       t == TC_DNS_TYPE_RRSIG || t == TC_DNS_TYPE_NSEC || t == TC_DNS_TYPE_DNSKEY;
}

bool tc_update_type_protected(uint16_t type)
{
	return protected_type(type);
}

int tc_update_apply(struct tc_zone *zone, const uint8_t *ops, size_t len, char *err,
		    size_t errlen)
{
	size_t pos = 0;
	while (pos < len) {
		size_t nlen = tc_dns_name_wire_len(ops + pos, len - pos);
		if (nlen == 0 || len - pos - nlen < 10) {
			snprintf(err, errlen, "change at offset %zu: bad layout", pos);
			return -1;
		}
		const uint8_t *name = ops + pos;
		const uint8_t *f = ops + pos + nlen;
		uint16_t type = tc_dns_get16(f), rclass = tc_dns_get16(f + 2);
		uint32_t ttl = tc_dns_get32(f + 4);
		uint16_t rdlen = tc_dns_get16(f + 8);
		if (len - pos - nlen - 10 < rdlen) {
			snprintf(err, errlen, "change at offset %zu: RDATA runs past the end", pos);
			return -1;
		}
		const uint8_t *rdata = f + 10;
		pos += nlen + 10 + rdlen;
		uint8_t lc[TC_DNS_MAX_NAME];
		tc_dns_name_lower(lc, name, nlen);
		struct tc_zone_node *n = (struct tc_zone_node *)tc_zone_find(zone, lc, nlen);
		char why[256];
		if (rclass == TC_DNS_CLASS_IN) {
			if (!protected_type(type))
				(void)tc_zone_add_rr(zone, lc, nlen, type, ttl, rdata, rdlen, why, sizeof(why));
		} else if (!n || protected_type(type)) {
			continue;
		} else if (rclass == TC_DNS_CLASS_ANY && type == TC_DNS_TYPE_ANY) {
			for (size_t i = n->nrr; i-- > 0;)
				if (i < n->nrr && !protected_type(n->rrs[i].type))
					tc_zone_remove_rrset(zone, n, n->rrs[i].type);
		} else if (rclass == TC_DNS_CLASS_ANY) {
			tc_zone_remove_rrset(zone, n, type);
		} else if (rclass == CLASS_NONE) {
			tc_zone_remove_rr(zone, n, type, rdata, rdlen);
		} else {
			snprintf(err, errlen, "change at offset %zu: class %u", pos, rclass);
			return -1;
		}
	}
	return 0;
}

int tc_update_copy_records(const struct tc_zone *zone, struct tc_zone **out, char *err,
			   size_t errlen)
{
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	char text[1024];
	tc_dns_name_to_text(origin, olen, text, sizeof(text));
	struct tc_zone *copy;
	if (tc_zone_new(text, &copy, err, errlen) != 0)
		return -1;
	/* Read-only walk; node_at only lacks const. */
	struct tc_zone *z = (struct tc_zone *)zone;
	for (size_t i = 0;; i++) {
		const struct tc_zone_node *n = tc_zone_node_at(z, i);
		if (!n)
			break;
		for (size_t k = 0; k < n->nrr; k++) {
			const struct tc_zone_rr *rr = &n->rrs[k];
			if (tc_zone_add_rr(copy, n->name, n->name_len, rr->type, rr->ttl, rr->rdata,
					   rr->rdlen, err, errlen) != 0) {
				tc_zone_free(copy);
				return -1;
			}
		}
	}
	*out = copy;
	return 0;
}
