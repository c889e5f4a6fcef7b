/* Connection ID -> connection, for routing each datagram of the DoQ
 * listener to its connection. Open addressing with linear probing and
 * backward-shift deletion, grown by doubling; the hash is keyed with a
 * random seed because clients choose their first Destination Connection
 * ID and must not be able to aim at one bucket. */
#ifndef TC_RESOLVER_QUIC_CID_MAP_H
#define TC_RESOLVER_QUIC_CID_MAP_H

#include <stddef.h>
#include <stdint.h>

#define TC_CID_MAX 20

struct tc_cid_entry {
	void *val;               /* NULL: empty slot */
	uint8_t len;
	uint8_t cid[TC_CID_MAX];
};

struct tc_cid_map {
	struct tc_cid_entry *e;
	size_t cap;              /* power of two */
	size_t n;
	uint64_t k0, k1;         /* hash key */
};

/* Returns 0 or -1 (out of memory / no randomness). */
int tc_cid_map_init(struct tc_cid_map *m);
void tc_cid_map_free(struct tc_cid_map *m);

/* Inserts or replaces; -1 on bad length or out of memory. */
int tc_cid_map_put(struct tc_cid_map *m, const uint8_t *cid, size_t len, void *val);
void *tc_cid_map_get(const struct tc_cid_map *m, const uint8_t *cid, size_t len);
/* Removes cid if it maps to val (a stale removal of a reused CID is a no-op). */
void tc_cid_map_del(struct tc_cid_map *m, const uint8_t *cid, size_t len, const void *val);

#endif
