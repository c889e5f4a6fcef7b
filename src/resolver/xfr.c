/* AXFR/IXFR answers: see xfr.h. */
#include "resolver/xfr.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/dns_build.h"

struct xfr_out {
	uint8_t *buf;               /* TC_DNS_MAX_MSG octets */
	struct tc_dns_builder b;
	const uint8_t *query;
	size_t qlen;
	struct tc_dns_msg q;
	const struct tc_tsig_request *req;
	uint64_t now;
	uint8_t prior[TC_TSIG_MAX_MAC];
	size_t prior_len;
	unsigned sent;              /* messages emitted */
	tc_xfr_emit_fn emit;
	void *arg;
};

static int start_message(struct xfr_out *o)
{
	tc_dns_build_init(&o->b, o->buf, TC_DNS_MAX_MSG);
	tc_dns_build_set_limit(&o->b, TC_XFR_MSG_MAX - TC_TSIG_RR_MAX);
	if (tc_dns_build_header(&o->b, o->q.id, TC_DNS_FLAG_QR | TC_DNS_FLAG_AA) != 0)
		return -1;
	/* The question goes in the first message only (RFC 5936 §2.2). */
	if (o->sent == 0)
		return tc_dns_build_question(&o->b, o->q.qname, o->q.qname_len, o->q.qtype, o->q.qclass);
	return 0;
}

/* Signs and emits the message being built. */
static int flush_message(struct xfr_out *o)
{
	size_t len = tc_dns_build_finish(&o->b);
	if (o->req && o->req->key) {
		uint8_t mac[TC_TSIG_MAX_MAC];
		size_t mac_len;
		bool first = o->sent == 0;
		len = tc_tsig_sign(o->buf, len, TC_DNS_MAX_MSG, o->req->key,
				   first ? o->req->mac : o->prior, first ? o->req->mac_len : o->prior_len,
				   !first, o->now, 0, NULL, 0, mac, &mac_len);
		if (len == 0)
			return -1;
		memcpy(o->prior, mac, mac_len);
		o->prior_len = mac_len;
	}
	o->sent++;
	return o->emit(o->arg, o->buf, len);
}

static int put(struct xfr_out *o, const uint8_t *owner, size_t olen, const struct tc_zone_rr *rr)
{
	if (tc_dns_put_rr(&o->b, TC_DNS_SEC_ANSWER, owner, olen, rr->type, TC_DNS_CLASS_IN, rr->ttl,
			  rr->rdata, rr->rdlen) == 0)
		return 0;
	/* Full: send what we have and start the next message with this record. */
	if (o->b.counts[TC_DNS_SEC_ANSWER] == 0 || flush_message(o) != 0 || start_message(o) != 0)
		return -1;
	return tc_dns_put_rr(&o->b, TC_DNS_SEC_ANSWER, owner, olen, rr->type, TC_DNS_CLASS_IN,
			     rr->ttl, rr->rdata, rr->rdlen);
}

int tc_xfr_ixfr_serial(const uint8_t *query, size_t qlen, uint32_t *serial)
{
	struct tc_dns_msg m;
	if (tc_dns_parse(query, qlen, &m) != TC_DNS_OK)
		return -1;
	size_t pos;
	if (tc_dns_skip_questions(query, qlen, &pos) != TC_DNS_OK)
		return -1;
	struct tc_dns_rr rr;
	for (unsigned i = 0; i < (unsigned)m.ancount + m.nscount; i++) {
		if (tc_dns_read_rr(query, qlen, &pos, &rr) != TC_DNS_OK)
			return -1;
		if (i >= m.ancount && rr.type == TC_DNS_TYPE_SOA && rr.rdlen >= 22) {
			*serial = tc_dns_get32(query + rr.rdata_off + rr.rdlen - 20);
			return 0;
		}
	}
	return -1;
}

/* RFC 1982: a is at or ahead of b. */
static bool serial_at_or_after(uint32_t a, uint32_t b)
{
	return a == b || (int32_t)(a - b) > 0;
}

/* The difference sequences of deltas (checked when logged), each record
 * as it was; the class in the log only tells deletion from addition. */
static int put_deltas(struct xfr_out *o, const uint8_t *deltas, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		struct tc_ixfr_rr rr;
		if (tc_ixfr_read_rr(deltas, len, &pos, &rr) != 0)
			return -1;
		struct tc_zone_rr zr = {.type = rr.type, .rdlen = rr.rdlen, .ttl = rr.ttl,
					.rdata = (uint8_t *)rr.rdata};
		if (put(o, rr.owner, rr.owner_len, &zr) != 0)
			return -1;
	}
	return 0;
}

int tc_xfr_answer(const struct tc_zone *zone, const uint8_t *query, size_t qlen,
		  const struct tc_tsig_request *req, uint64_t now, tc_xfr_emit_fn emit, void *arg)
{
	return tc_xfr_answer_from(zone, NULL, query, qlen, req, now, emit, arg);
}

int tc_xfr_answer_from(const struct tc_zone *zone, struct tc_ixfr_log *log, const uint8_t *query,
		       size_t qlen, const struct tc_tsig_request *req, uint64_t now,
		       tc_xfr_emit_fn emit, void *arg)
{
	struct xfr_out o = {.query = query, .qlen = qlen, .req = req, .now = now, .emit = emit,
			    .arg = arg};
	const struct tc_zone_rr *soa = tc_zone_soa(zone);
	if (!soa || tc_dns_parse(query, qlen, &o.q) != TC_DNS_OK)
		return -1;
	o.buf = malloc(TC_DNS_MAX_MSG);
	if (!o.buf)
		return -1;
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	int rc = -1;
	if (start_message(&o) != 0 || put(&o, origin, olen, soa) != 0)
		goto out;
	uint32_t theirs;
	if (o.q.qtype == TC_DNS_TYPE_IXFR && tc_xfr_ixfr_serial(query, qlen, &theirs) == 0 &&
	    serial_at_or_after(theirs, tc_zone_serial(zone))) {
		rc = flush_message(&o);
		goto out;
	}
	uint8_t *deltas = NULL;
	size_t dlen = 0;
	if (o.q.qtype == TC_DNS_TYPE_IXFR && log && tc_xfr_ixfr_serial(query, qlen, &theirs) == 0 &&
	    tc_ixfr_log_chain(log, theirs, tc_zone_serial(zone), &deltas, &dlen) == 0) {
		if (put_deltas(&o, deltas, dlen) == 0 && put(&o, origin, olen, soa) == 0)
			rc = flush_message(&o);
		free(deltas);
		goto out;
	}
	/* The zone is read-only once published; node_at only lacks const. */
	struct tc_zone *z = (struct tc_zone *)zone;
	for (size_t i = 0;; i++) {
		const struct tc_zone_node *n = tc_zone_node_at(z, i);
		if (!n)
			break;
		for (size_t k = 0; k < n->nrr; k++) {
			if (i == 0 && n->rrs[k].type == TC_DNS_TYPE_SOA)
				continue;
			if (put(&o, n->name, n->name_len, &n->rrs[k]) != 0)
				goto out;
		}
	}
	if (put(&o, origin, olen, soa) != 0)
		goto out;
	rc = flush_message(&o);
out:
	free(o.buf);
	return rc;
}
