/* The resolver's restart state: see zone_state.h. */
#include "resolver/zone_state.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file_read.h"
#include "common/file_replace.h"
#include "resolver/dns_wire.h"
#include "resolver/ixfr_log.h"

#define HEAD 48 /* magic, version, length (8), SHA-256 */
static const uint8_t magic[4] = {'T', 'C', 'Z', 'S'};

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static uint8_t *grow(struct buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap * 2 + n + 4096;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	uint8_t *at = b->p + b->len;
	b->len += n;
	return at;
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t *p = grow(b, 4);
	if (p)
		tc_dns_put32(p, v);
}

static void put_bytes(struct buf *b, const uint8_t *data, size_t n)
{
	uint8_t *p = grow(b, n);
	if (p && n)
		memcpy(p, data, n);
}

/* Every record of zone in the RR encoding, class IN. */
static void put_zone(struct buf *b, const struct tc_zone *zone)
{
	size_t at = b->len;
	put32(b, 0);
	/* Read only; node_at only lacks const. */
	struct tc_zone *z = (struct tc_zone *)zone;
	for (size_t i = 0;; i++) {
		const struct tc_zone_node *n = tc_zone_node_at(z, i);
		if (!n)
			break;
		for (size_t k = 0; k < n->nrr; k++) {
			const struct tc_zone_rr *rr = &n->rrs[k];
			uint8_t *p = grow(b, n->name_len + 10u + rr->rdlen);
			if (!p)
				return;
			memcpy(p, n->name, n->name_len);
			p += n->name_len;
			tc_dns_put16(p, rr->type);
			tc_dns_put16(p + 2, TC_DNS_CLASS_IN);
			tc_dns_put32(p + 4, rr->ttl);
			tc_dns_put16(p + 8, rr->rdlen);
			if (rr->rdlen)
				memcpy(p + 10, rr->rdata, rr->rdlen);
		}
	}
	if (!b->failed && b->len - at - 4 > UINT32_MAX)
		b->failed = true;
	if (!b->failed)
		tc_dns_put32(b->p + at, (uint32_t)(b->len - at - 4));
}

static int sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;
	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

int tc_zone_state_encode(const struct tc_zone_state *st, uint8_t **out, size_t *len, char *err, size_t errlen)
{
	struct buf b = {0};
	grow(&b, HEAD);
	put32(&b, st->is_signed ? 1u : 0u);
	put32(&b, st->inception);
	put32(&b, st->expiration);
	size_t sigs = tc_sig_cache_export(st->sigs, NULL, 0);
	put32(&b, (uint32_t)sigs);
	uint8_t *p = grow(&b, sigs);
	if (p && sigs && tc_sig_cache_export(st->sigs, p, sigs) != sigs)
		b.failed = true;
	put_zone(&b, st->zone);
	put32(&b, (uint32_t)st->chain_len);
	put_bytes(&b, st->chain, st->chain_len);
	if (b.failed || b.len > TC_ZONE_STATE_MAX || st->chain_len > UINT32_MAX ||
	    sha256(b.p + HEAD, b.len - HEAD, b.p + 16) != 0) {
		snprintf(err, errlen, "the state does not fit (%zu octets)", b.len);
		free(b.p);
		return -1;
	}
	memcpy(b.p, magic, 4);
	tc_dns_put32(b.p + 4, 1);
	tc_dns_put32(b.p + 8, (uint32_t)((uint64_t)(b.len - HEAD) >> 32));
	tc_dns_put32(b.p + 12, (uint32_t)(b.len - HEAD));
	*out = b.p;
	*len = b.len;
	return 0;
}

int tc_zone_state_save(const char *path, const struct tc_zone_state *st, char *err, size_t errlen)
{
	uint8_t *data;
	size_t len;
	char why[200];
	if (tc_zone_state_encode(st, &data, &len, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	int rc = tc_file_replace(path, data, len, 0600, err, errlen);
	free(data);
	return rc;
}

struct reader {
	const uint8_t *p;
	size_t len, pos;
};

static int get32(struct reader *r, uint32_t *v)
{
	if (r->len - r->pos < 4)
		return -1;
	*v = tc_dns_get32(r->p + r->pos);
	r->pos += 4;
	return 0;
}

/* A length-prefixed part: *at and *n, advanced past it. */
static int get_part(struct reader *r, const uint8_t **at, size_t *n)
{
	uint32_t len;
	if (get32(r, &len) != 0 || r->len - r->pos < len)
		return -1;
	*at = r->p + r->pos;
	*n = len;
	r->pos += len;
	return 0;
}

static int load_zone(const uint8_t *p, size_t n, const char *origin, struct tc_zone **out, char *err,
		     size_t errlen)
{
	if (tc_zone_new(origin, out, err, errlen) != 0)
		return -1;
	size_t pos = 0;
	while (pos < n) {
		struct tc_ixfr_rr rr;
		if (tc_ixfr_read_rr(p, n, &pos, &rr) != 0 || rr.rclass != TC_DNS_CLASS_IN) {
			snprintf(err, errlen, "a damaged record");
			return -1;
		}
		if (tc_zone_add_rr(*out, rr.owner, rr.owner_len, rr.type, rr.ttl, rr.rdata, rr.rdlen, err,
				   errlen) != 0)
			return -1;
	}
	if (!tc_zone_soa(*out)) {
		snprintf(err, errlen, "no SOA");
		return -1;
	}
	return 0;
}

int tc_zone_state_parse(const uint8_t *buf, size_t len, const char *origin, struct tc_zone_state *st,
			char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	uint8_t digest[32];
	uint64_t plen = len >= HEAD ? ((uint64_t)tc_dns_get32(buf + 8) << 32) | tc_dns_get32(buf + 12) : 0;
	if (len < HEAD || memcmp(buf, magic, 4) != 0 || tc_dns_get32(buf + 4) != 1 || plen != len - HEAD ||
	    sha256(buf + HEAD, len - HEAD, digest) != 0 || memcmp(digest, buf + 16, 32) != 0) {
		snprintf(err, errlen, "not a whole, checked state file");
		return -1;
	}
	struct reader r = {.p = buf + HEAD, .len = len - HEAD};
	uint32_t flags;
	const uint8_t *sigs, *zone, *chain;
	size_t nsigs, nzone, nchain;
	if (get32(&r, &flags) != 0 || get32(&r, &st->inception) != 0 || get32(&r, &st->expiration) != 0 ||
	    get_part(&r, &sigs, &nsigs) != 0 || nsigs % TC_SIG_CACHE_ENTRY_LEN != 0 ||
	    get_part(&r, &zone, &nzone) != 0 || get_part(&r, &chain, &nchain) != 0 || r.pos != r.len) {
		snprintf(err, errlen, "a damaged layout");
		return -1;
	}
	st->is_signed = flags & 1u;
	if (load_zone(zone, nzone, origin, &st->zone, err, errlen) != 0) {
		tc_zone_state_clear(st);
		return -1;
	}
	if (st->is_signed && !(st->sigs = tc_sig_cache_new()))
		goto oom;
	for (size_t off = 0; st->sigs && off < nsigs; off += TC_SIG_CACHE_ENTRY_LEN)
		if (tc_sig_cache_put(st->sigs, sigs + off, sigs + off + 32) != 0)
			goto oom;
	if (nchain && !(st->chain = malloc(nchain)))
		goto oom;
	if (nchain)
		memcpy(st->chain, chain, nchain);
	st->chain_len = nchain;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	tc_zone_state_clear(st);
	return -1;
}

int tc_zone_state_take(const char *path, const char *origin, struct tc_zone_state *st, char *err,
		       size_t errlen)
{
	memset(st, 0, sizeof(*st));
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	char *data = NULL;
	size_t len = 0;
	int rc = tc_read_file(path, TC_ZONE_STATE_MAX, &data, &len, err, errlen);
	/* Read once: a later crash must not bring this stop's zone back. */
	if (unlink(path) != 0 && rc == 0) {
		snprintf(err, errlen, "%s: cannot remove it: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && tc_zone_state_parse((const uint8_t *)data, len, origin, st, err, errlen) != 0)
		rc = -1;
	free(data);
	return rc == 0 ? 1 : -1;
}

void tc_zone_state_clear(struct tc_zone_state *st)
{
	tc_zone_free(st->zone);
	tc_sig_cache_free(st->sigs);
	free(st->chain);
	memset(st, 0, sizeof(*st));
}
