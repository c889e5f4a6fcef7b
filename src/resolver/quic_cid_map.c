/* Connection ID map: see quic_cid_map.h. */
#include "resolver/quic_cid_map.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define INITIAL_CAP 1024

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static size_t slot_of(const struct tc_cid_map *m, const uint8_t *cid, size_t len)
{
	uint64_t h = m->k0 ^ len;
	for (size_t off = 0; off < len; off += 8) {
		uint64_t w = 0;
		memcpy(&w, cid + off, len - off < 8 ? len - off : 8);
		h = mix(h ^ w ^ m->k1);
	}
	return (size_t)mix(h ^ m->k1) & (m->cap - 1);
}

int tc_cid_map_init(struct tc_cid_map *m)
{
	memset(m, 0, sizeof(*m));
	uint64_t k[2];
	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k))
		return -1;
	m->k0 = k[0];
	m->k1 = k[1];
	m->e = calloc(INITIAL_CAP, sizeof(*m->e));
	if (!m->e)
		return -1;
	m->cap = INITIAL_CAP;
	return 0;
}

void tc_cid_map_free(struct tc_cid_map *m)
{
	free(m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}

static struct tc_cid_entry *find(const struct tc_cid_map *m, const uint8_t *cid, size_t len)
{
	for (size_t i = slot_of(m, cid, len);; i = (i + 1) & (m->cap - 1)) {
		struct tc_cid_entry *e = &m->e[i];
		if (!e->val)
			return NULL;
		if (e->len == len && memcmp(e->cid, cid, len) == 0)
			return e;
	}
}

static void insert_fresh(struct tc_cid_map *m, const uint8_t *cid, size_t len, void *val)
{
	size_t i = slot_of(m, cid, len);
	while (m->e[i].val)
		i = (i + 1) & (m->cap - 1);
	m->e[i].val = val;
	m->e[i].len = (uint8_t)len;
	memcpy(m->e[i].cid, cid, len);
	m->n++;
}

static int grow(struct tc_cid_map *m)
{
	struct tc_cid_map bigger = *m;
	bigger.cap = m->cap * 2;
	bigger.n = 0;
	bigger.e = calloc(bigger.cap, sizeof(*bigger.e));
	if (!bigger.e)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].val)
			insert_fresh(&bigger, m->e[i].cid, m->e[i].len, m->e[i].val);
	free(m->e);
	*m = bigger;
	return 0;
}

int tc_cid_map_put(struct tc_cid_map *m, const uint8_t *cid, size_t len, void *val)
{
	if (len == 0 || len > TC_CID_MAX || !val)
		return -1;
	struct tc_cid_entry *e = find(m, cid, len);
	if (e) {
		e->val = val;
		return 0;
	}
	/* Keep the load at most one half so probe runs stay short. */
	if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
		return -1;
	insert_fresh(m, cid, len, val);
	return 0;
}

void *tc_cid_map_get(const struct tc_cid_map *m, const uint8_t *cid, size_t len)
{
	if (len == 0 || len > TC_CID_MAX)
		return NULL;
	struct tc_cid_entry *e = find(m, cid, len);
	return e ? e->val : NULL;
}

void tc_cid_map_del(struct tc_cid_map *m, const uint8_t *cid, size_t len, const void *val)
{
	if (len == 0 || len > TC_CID_MAX)
		return;
	struct tc_cid_entry *e = find(m, cid, len);
	if (!e || e->val != val)
		return;
	/* Backward-shift: move later members of the probe run into the hole
	 * when their home slot allows, so lookups never need tombstones. */
	size_t hole = (size_t)(e - m->e);
	size_t mask = m->cap - 1;
	for (size_t i = (hole + 1) & mask; m->e[i].val; i = (i + 1) & mask) {
		size_t home = slot_of(m, m->e[i].cid, m->e[i].len);
		/* Can entry i move to hole? Only if home is not in (hole, i]. */
		int between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
		if (!between) {
			m->e[hole] = m->e[i];
			hole = i;
		}
	}
	memset(&m->e[hole], 0, sizeof(m->e[hole]));
	m->n--;
}
