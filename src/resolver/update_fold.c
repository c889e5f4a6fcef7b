/* Journal compaction: the net changes between two zones (update.h). */
#include <stdlib.h>
#include <string.h>

#include "resolver/update.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static void put(struct buf *b, const uint8_t *name, size_t nlen, uint16_t type, uint16_t rclass, uint32_t ttl,
		const uint8_t *rdata, uint16_t rdlen)
{
	size_t need = nlen + 10 + rdlen;
	if (b->failed)
		return;
	if (b->len + need > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + need)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	uint8_t *o = b->p + b->len;
	memcpy(o, name, nlen);
	o += nlen;
	o[0] = (uint8_t)(type >> 8), o[1] = (uint8_t)type;
	o[2] = (uint8_t)(rclass >> 8), o[3] = (uint8_t)rclass;
	o[4] = (uint8_t)(ttl >> 24), o[5] = (uint8_t)(ttl >> 16), o[6] = (uint8_t)(ttl >> 8), o[7] = (uint8_t)ttl;
	o[8] = (uint8_t)(rdlen >> 8), o[9] = (uint8_t)rdlen;
	if (rdlen)
		memcpy(o + 10, rdata, rdlen);
	b->len += need;
}

/* Whether every record of a (TTL and RDATA) is in b and the counts match:
 * RRsets are sets (the zone drops exact duplicates). */
static int same_rrset(const struct tc_zone_rr *a, size_t na, const struct tc_zone_rr *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++) {
		int found = 0;
		for (size_t j = 0; j < nb && !found; j++)
			found = a[i].ttl == b[j].ttl && a[i].rdlen == b[j].rdlen &&
				memcmp(a[i].rdata, b[j].rdata, a[i].rdlen) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

/* The RRsets of zone x that differ from y (or are absent there): with adds,
 * each of their records as an add; else one delete-RRset (x = from). */
static void walk(const struct tc_zone *x, const struct tc_zone *y, int adds, struct buf *b)
{
	struct tc_zone *z = (struct tc_zone *)x;   /* read-only walk; node_at only lacks const */
	for (size_t i = 0;; i++) {
		const struct tc_zone_node *n = tc_zone_node_at(z, i);
		if (!n)
			break;
		const struct tc_zone_node *other = tc_zone_find(y, n->name, n->name_len);
		for (size_t k = 0; k < n->nrr;) {
			uint16_t type = n->rrs[k].type;
			size_t count;
			const struct tc_zone_rr *set = tc_zone_node_rrset(n, type, &count);
			k += count ? count : 1;
			if (tc_update_type_protected(type))
				continue;
			size_t ocount = 0;
			const struct tc_zone_rr *oset = other ? tc_zone_node_rrset(other, type, &ocount) : NULL;
			if (same_rrset(set, count, oset, ocount))
				continue;
			if (!adds)
				put(b, n->name, n->name_len, type, TC_DNS_CLASS_ANY, 0, NULL, 0);
			else
				for (size_t r = 0; r < count; r++)
					put(b, n->name, n->name_len, type, TC_DNS_CLASS_IN, set[r].ttl, set[r].rdata,
					    set[r].rdlen);
		}
	}
}

int tc_update_fold(const struct tc_zone *from, const struct tc_zone *to, uint8_t **out, size_t *len)
{
	struct buf b = {0};
	/* Deletes first: an RRset that differs is replaced whole, one that is
	 * gone is deleted; then the adds (a CNAME added where other data was
	 * deleted must come after the delete). */
	walk(from, to, 0, &b);
	walk(to, from, 1, &b);
	if (b.failed) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
