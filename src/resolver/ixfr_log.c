/* IXFR deltas and their log: see ixfr_log.h. */
#include "resolver/ixfr_log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/dns_name.h"

#define MAX_DELTAS 4096

int tc_ixfr_read_rr(const uint8_t *buf, size_t len, size_t *pos, struct tc_ixfr_rr *rr)
{
	if (*pos > len)
		return -1;
	size_t nlen = tc_dns_name_wire_len(buf + *pos, len - *pos);
	if (nlen == 0 || len - *pos - nlen < 10)
		return -1;
	const uint8_t *p = buf + *pos + nlen;
	rr->owner = buf + *pos;
	rr->owner_len = nlen;
	rr->type = tc_dns_get16(p);
	rr->rclass = tc_dns_get16(p + 2);
	rr->ttl = tc_dns_get32(p + 4);
	rr->rdlen = tc_dns_get16(p + 8);
	if (len - *pos - nlen - 10 < rr->rdlen)
		return -1;
	rr->rdata = p + 10;
	*pos += nlen + 10 + rr->rdlen;
	return 0;
}

/* The serial of SOA RDATA: its first counter, 20 octets from the end. */
static int soa_serial(const struct tc_ixfr_rr *rr, uint32_t *serial)
{
	/* Two names of at least one octet each, then five counters. */
	if (rr->type != TC_DNS_TYPE_SOA || rr->rdlen < 22)
		return -1;
	*serial = tc_dns_get32(rr->rdata + rr->rdlen - 20);
	return 0;
}

int tc_ixfr_check(const uint8_t *buf, size_t len, uint32_t *from, uint32_t *to,
		  size_t *ndeltas)
{
	size_t pos = 0, n = 0;
	uint32_t last = 0;
	/* 0: expect the old SOA; 1: deletions or the new SOA; 2: additions or the next delta. */
	int state = 0;
	while (pos < len) {
		struct tc_ixfr_rr rr;
		/* A meta type (OPT, TSIG, ...) is never zone data: an UPDATE
		 * cannot add one, and an IXFR answer carrying it would not parse. */
		if (tc_ixfr_read_rr(buf, len, &pos, &rr) != 0 || tc_dns_type_is_meta(rr.type))
			return -1;
		bool soa = rr.type == TC_DNS_TYPE_SOA;
		uint32_t serial = 0;
		if (soa && soa_serial(&rr, &serial) != 0)
			return -1;
		if (state == 2 && soa && rr.rclass == TC_IXFR_CLASS_NONE)
			state = 0;   /* the next delta */
		if (state == 0) {
			if (!soa || rr.rclass != TC_IXFR_CLASS_NONE || (n && serial != last))
				return -1;
			if (n == 0)
				*from = serial;
			state = 1;
		} else if (state == 1) {
			if (rr.rclass == TC_IXFR_CLASS_NONE && !soa)
				continue;
			if (!soa || rr.rclass != TC_DNS_CLASS_IN)
				return -1;
			last = serial;
			n++;
			state = 2;
		} else if (soa || rr.rclass != TC_DNS_CLASS_IN) {
			return -1;
		}
	}
	if (state != 2)
		return -1;
	*to = last;
	*ndeltas = n;
	return 0;
}

struct out_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void put_rr(struct out_buf *o, const uint8_t *owner, size_t olen, uint16_t type,
		   uint16_t rclass, const struct tc_zone_rr *rr)
{
	size_t need = olen + 10 + rr->rdlen;
	if (o->failed)
		return;
	if (o->cap - o->len < need) {
		size_t cap = (o->cap ? o->cap * 2 : 4096) + need;
		uint8_t *p = realloc(o->p, cap);
		if (!p) {
			o->failed = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	uint8_t *w = o->p + o->len;
	memcpy(w, owner, olen);
	w += olen;
	tc_dns_put16(w, type);
	tc_dns_put16(w + 2, rclass);
	tc_dns_put32(w + 4, rr->ttl);
	tc_dns_put16(w + 8, rr->rdlen);
	if (rr->rdlen)
		memcpy(w + 10, rr->rdata, rr->rdlen);
	o->len += need;
}

static bool has_rr(const struct tc_zone *zone, const struct tc_zone_node *n,
		   const struct tc_zone_rr *rr)
{
	const struct tc_zone_node *m = tc_zone_find(zone, n->name, n->name_len);
	size_t count = 0;
	const struct tc_zone_rr *set = m ? tc_zone_node_rrset(m, rr->type, &count) : NULL;
	for (size_t i = 0; i < count; i++)
		if (set[i].ttl == rr->ttl && set[i].rdlen == rr->rdlen &&
		    (rr->rdlen == 0 || memcmp(set[i].rdata, rr->rdata, rr->rdlen) == 0))
			return true;
	return false;
}

/* Every record of a (SOA aside) that b lacks, with rclass. */
static void missing_from(const struct tc_zone *a, const struct tc_zone *b, uint16_t rclass,
			 struct out_buf *o)
{
	/* Published zones are read-only; node_at only lacks const. */
	struct tc_zone *za = (struct tc_zone *)a;
	for (size_t i = 0;; i++) {
		const struct tc_zone_node *n = tc_zone_node_at(za, i);
		if (!n)
			break;
		for (size_t k = 0; k < n->nrr; k++) {
			if (i == 0 && n->rrs[k].type == TC_DNS_TYPE_SOA)
				continue;
			if (!has_rr(b, n, &n->rrs[k]))
				put_rr(o, n->name, n->name_len, n->rrs[k].type, rclass, &n->rrs[k]);
		}
	}
}

int tc_ixfr_diff(const struct tc_zone *old, const struct tc_zone *next, uint8_t **out,
		 size_t *len)
{
	*out = NULL;
	*len = 0;
	const struct tc_zone_rr *old_soa = tc_zone_soa(old), *new_soa = tc_zone_soa(next);
	size_t olen;
	const uint8_t *origin = tc_zone_origin(next, &olen);
	if (!old_soa || !new_soa)
		return -1;
	struct out_buf o = {0};
	put_rr(&o, origin, olen, TC_DNS_TYPE_SOA, TC_IXFR_CLASS_NONE, old_soa);
	missing_from(old, next, TC_IXFR_CLASS_NONE, &o);
	put_rr(&o, origin, olen, TC_DNS_TYPE_SOA, TC_DNS_CLASS_IN, new_soa);
	missing_from(next, old, TC_DNS_CLASS_IN, &o);
	if (o.failed) {
		free(o.p);
		return -1;
	}
	*out = o.p;
	*len = o.len;
	return 0;
}

struct delta {
	uint32_t from, to;
	uint8_t *bytes;
	size_t len;
};

struct tc_ixfr_log {
	pthread_mutex_t lock;
	size_t max_bytes, bytes;
	size_t n;                 /* deltas[0] is the oldest */
	struct delta deltas[MAX_DELTAS];
};

struct tc_ixfr_log *tc_ixfr_log_new(size_t max_bytes)
{
	struct tc_ixfr_log *log = calloc(1, sizeof(*log));
	if (!log)
		return NULL;
	pthread_mutex_init(&log->lock, NULL);
	log->max_bytes = max_bytes;
	return log;
}

static void drop_oldest(struct tc_ixfr_log *log)
{
	free(log->deltas[0].bytes);
	log->bytes -= log->deltas[0].len;
	memmove(log->deltas, log->deltas + 1, (log->n - 1) * sizeof(log->deltas[0]));
	log->n--;
}

static void reset_locked(struct tc_ixfr_log *log)
{
	while (log->n)
		drop_oldest(log);
}

void tc_ixfr_log_reset(struct tc_ixfr_log *log)
{
	pthread_mutex_lock(&log->lock);
	reset_locked(log);
	pthread_mutex_unlock(&log->lock);
}

void tc_ixfr_log_free(struct tc_ixfr_log *log)
{
	if (!log)
		return;
	reset_locked(log);
	pthread_mutex_destroy(&log->lock);
	free(log);
}

int tc_ixfr_log_append(struct tc_ixfr_log *log, const uint8_t *delta, size_t len)
{
	uint32_t from, to;
	size_t nd;
	if (tc_ixfr_check(delta, len, &from, &to, &nd) != 0 || nd != 1)
		return -1;
	uint8_t *copy = len <= log->max_bytes ? malloc(len) : NULL;
	if (copy)
		memcpy(copy, delta, len);
	pthread_mutex_lock(&log->lock);
	if (!copy || (log->n && log->deltas[log->n - 1].to != from))
		reset_locked(log);
	while (copy && log->n && (log->n == MAX_DELTAS || log->bytes + len > log->max_bytes))
		drop_oldest(log);
	if (copy) {
		log->deltas[log->n++] = (struct delta){.from = from, .to = to, .bytes = copy, .len = len};
		log->bytes += len;
	}
	pthread_mutex_unlock(&log->lock);
	return copy ? 0 : -1;
}

int tc_ixfr_log_chain(struct tc_ixfr_log *log, uint32_t from, uint32_t to, uint8_t **out,
		      size_t *len)
{
	*out = NULL;
	*len = 0;
	int rc = -1;
	pthread_mutex_lock(&log->lock);
	size_t first = log->n, last = log->n;
	for (size_t i = 0; i < log->n; i++) {
		if (first == log->n && log->deltas[i].from == from)
			first = i;
		if (first != log->n && log->deltas[i].to == to) {
			last = i;
			break;
		}
	}
	if (first < log->n && last < log->n && from != to) {
		size_t total = 0;
		for (size_t i = first; i <= last; i++)
			total += log->deltas[i].len;
		uint8_t *p = malloc(total);
		if (p) {
			size_t off = 0;
			for (size_t i = first; i <= last; i++) {
				memcpy(p + off, log->deltas[i].bytes, log->deltas[i].len);
				off += log->deltas[i].len;
			}
			*out = p;
			*len = total;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&log->lock);
	return rc;
}

int tc_ixfr_log_all(struct tc_ixfr_log *log, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	pthread_mutex_lock(&log->lock);
	int rc = 0;
	if (log->n) {
		uint8_t *p = malloc(log->bytes);
		if (!p) {
			rc = -1;
		} else {
			size_t off = 0;
			for (size_t i = 0; i < log->n; i++) {
				memcpy(p + off, log->deltas[i].bytes, log->deltas[i].len);
				off += log->deltas[i].len;
			}
			*out = p;
			*len = off;
		}
	}
	pthread_mutex_unlock(&log->lock);
	return rc;
}

int tc_ixfr_log_load(struct tc_ixfr_log *log, const uint8_t *buf, size_t len)
{
	uint32_t from, to;
	size_t nd;
	if (len == 0)
		return 0;
	if (tc_ixfr_check(buf, len, &from, &to, &nd) != 0)
		return -1;
	/* Checked: a delta starts at each old SOA (class NONE). */
	size_t start = 0, pos = 0;
	while (pos < len) {
		size_t at = pos;
		struct tc_ixfr_rr rr;
		if (tc_ixfr_read_rr(buf, len, &pos, &rr) != 0)
			break;
		bool boundary = at > start && rr.type == TC_DNS_TYPE_SOA && rr.rclass == TC_IXFR_CLASS_NONE;
		if (boundary) {
			if (tc_ixfr_log_append(log, buf + start, at - start) != 0)
				goto bad;
			start = at;
		}
	}
	if (tc_ixfr_log_append(log, buf + start, len - start) == 0)
		return 0;
bad:
	tc_ixfr_log_reset(log);
	return -1;
}
