/* TSIG-signed queries and zone transfers: see signed_query.h. */
#include "resolver/signed_query.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver/dns_name.h"
#include "resolver/tsig.h"
#include "resolver/zone_live.h"

static bool may_transfer(const struct tc_dns_auth *auth, const struct tc_tsig_key *key)
{
	for (size_t i = 0; auth && i < auth->nxfr; i++)
		if (auth->xfr_keys[i] == key)
			return true;
	return false;
}

/* The request without its TSIG RR (ARCOUNT one less), in a copy. */
static uint8_t *strip_tsig(const uint8_t *query, const struct tc_tsig_request *req)
{
	uint8_t *q = malloc(req->unsigned_len);
	if (!q)
		return NULL;
	memcpy(q, query, req->unsigned_len);
	tc_dns_put16(q + 10, (uint16_t)(tc_dns_get16(q + 10) - 1));
	return q;
}

static const struct tc_zone *enter(const struct tc_dns_service *svc, unsigned *token)
{
	return svc->live ? tc_zone_live_enter(svc->live, token) : svc->zone;
}

static void leave(const struct tc_dns_service *svc, unsigned token)
{
	if (svc->live)
		tc_zone_live_leave(svc->live, token);
}

/* A transfer of our zone: QTYPE AXFR/IXFR, class IN, QNAME the apex. */
static bool is_transfer_of(const struct tc_zone *zone, const struct tc_dns_msg *m)
{
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	return (m->qtype == TC_DNS_TYPE_AXFR || m->qtype == TC_DNS_TYPE_IXFR) &&
	       m->qclass == TC_DNS_CLASS_IN && m->qdcount == 1 &&
	       tc_dns_name_equal(m->qname, m->qname_len, origin, olen);
}

/* A signed UPDATE (RFC 2136 §3): parsed and prescanned, every change
 * granted to the key by dns.update_policy (REFUSED otherwise), then the
 * prerequisites and the change itself by the zone keeper. */
static uint16_t update(const struct tc_dns_service *svc, const uint8_t *q, size_t ql,
		       const uint8_t *origin, size_t olen, const struct tc_tsig_key *key)
{
	if (!svc->update || !svc->policy)
		return TC_DNS_RCODE_REFUSED;
	struct tc_update *u = malloc(sizeof(*u));
	if (!u)
		return TC_DNS_RCODE_SERVFAIL;
	uint16_t rcode = tc_update_parse(q, ql, origin, olen, u);
	if (rcode == 0 && !tc_update_allowed(svc->policy, key, origin, olen, u))
		rcode = TC_DNS_RCODE_REFUSED;
	if (rcode == 0)
		rcode = svc->update(svc->update_ctx, u);
	free(u);
	return rcode;
}

/* An UPDATE answered from a pool thread (update_pool.h). */
struct update_job {
	const struct tc_dns_service *svc;
	struct tc_tsig_request req;
	struct tc_dns_answer_opts opts;
	uint8_t *q;                     /* the request without its TSIG */
	size_t ql;
	uint8_t origin[TC_DNS_MAX_NAME];
	size_t olen;
	tc_forward_done_fn done;
	size_t ctxlen;
	uint8_t ctx[TC_FWD_CTX_MAX];
};

static void run_update_job(void *arg)
{
	struct update_job *j = arg;
	uint8_t *out = malloc(TC_DNS_MAX_MSG);
	size_t outlen = 0;
	uint16_t rcode = update(j->svc, j->q, j->ql, j->origin, j->olen, j->req.key);
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t mac_len;
	if (out &&
	    (tc_dns_answer_error(j->q, j->ql, rcode, &j->opts, out, TC_DNS_MAX_MSG, &outlen) !=
		     TC_DNS_ANSWER_REPLY ||
	     (outlen = tc_tsig_sign(out, outlen, TC_DNS_MAX_MSG, j->req.key, j->req.mac,
				    j->req.mac_len, false, (uint64_t)time(NULL), 0, NULL, 0, mac,
				    &mac_len)) == 0))
		outlen = 0;
	/* done() takes an answer, never nothing: the bare header at worst. */
	uint8_t bare[TC_DNS_HEADER_LEN];
	if (outlen == 0) {
		memcpy(bare, j->q, TC_DNS_HEADER_LEN);
		bare[2] |= 0x80;
		bare[3] = (uint8_t)((bare[3] & 0xf0) | TC_DNS_RCODE_SERVFAIL);
		memset(bare + 4, 0, 8);
	}
	j->done(j->ctx, outlen ? out : bare, outlen ? outlen : sizeof(bare));
	free(out);
	free(j->q);
	free(j);
}

/* Hands the UPDATE to the pool; false when it cannot (run it here). */
static bool submit_update(const struct tc_dns_service *svc, const struct tc_tsig_request *req,
			  const struct tc_dns_answer_opts *opts, uint8_t *q, size_t ql,
			  const uint8_t *origin, size_t olen, const void *fwd_ctx,
			  size_t fwd_ctxlen, tc_forward_done_fn done)
{
	if (!svc->update_pool || !done || fwd_ctxlen > TC_FWD_CTX_MAX)
		return false;
	struct update_job *j = malloc(sizeof(*j));
	if (!j)
		return false;
	*j = (struct update_job){.svc = svc, .req = *req, .opts = *opts, .q = q, .ql = ql,
				 .olen = olen, .done = done, .ctxlen = fwd_ctxlen};
	memcpy(j->origin, origin, olen);
	memcpy(j->ctx, fwd_ctx, fwd_ctxlen);
	if (!tc_update_pool_submit(svc->update_pool, run_update_job, j)) {
		free(j);
		return false;
	}
	return true;
}

bool tc_dns_signed_handle(const struct tc_dns_service *svc, enum tc_dns_transport transport,
			  const uint8_t *query, size_t qlen, uint8_t *out, size_t outcap,
			  size_t *outlen, enum tc_dns_service_result *result,
			  const void *fwd_ctx, size_t fwd_ctxlen, tc_forward_done_fn done)
{
	struct tc_tsig_request req;
	uint64_t now = (uint64_t)time(NULL);
	enum tc_tsig_status st = tc_tsig_verify(query, qlen, svc->auth ? &svc->auth->ring : NULL,
						now, &req);
	if (st == TC_TSIG_UNSIGNED)
		return false;
	if (qlen < TC_DNS_HEADER_LEN || (tc_dns_get16(query + 2) & TC_DNS_FLAG_QR)) {
		*result = TC_DNS_SVC_DROP;
		return true;
	}
	if (transport == TC_DNS_TRANSPORT_DOQ && tc_dns_get16(query) != 0) {
		*result = TC_DNS_SVC_PROTOCOL_ERROR;
		return true;
	}
	struct tc_dns_answer_opts opts = {.transport = transport, .udp_max = svc->udp_max,
					  .reserve = TC_TSIG_RR_MAX};
	*result = TC_DNS_SVC_REPLY;
	if (st == TC_TSIG_MALFORMED) {
		if (tc_dns_answer_error(query, qlen, TC_DNS_RCODE_FORMERR, &opts, out, outcap,
					outlen) != TC_DNS_ANSWER_REPLY)
			*result = TC_DNS_SVC_DROP;
		return true;
	}
	if (st == TC_TSIG_BAD) {
		if (tc_dns_answer_error(query, req.unsigned_len, TC_DNS_RCODE_NOTAUTH, &opts, out,
					outcap, outlen) != TC_DNS_ANSWER_REPLY ||
		    (*outlen = tc_tsig_finish_refusal(out, *outlen, outcap, &req, now)) == 0)
			*result = TC_DNS_SVC_DROP;
		return true;
	}

	uint8_t *q = strip_tsig(query, &req);
	if (!q) {
		*result = TC_DNS_SVC_DROP;
		return true;
	}
	size_t ql = req.unsigned_len;
	struct tc_dns_msg m;
	unsigned token = 0;
	const struct tc_zone *zone = enter(svc, &token);
	enum tc_dns_answer_status ast = TC_DNS_ANSWER_DROP;
	if (zone && TC_DNS_OPCODE(tc_dns_get16(q + 2)) == TC_DNS_OPCODE_UPDATE) {
		size_t olen;
		const uint8_t *origin = tc_zone_origin(zone, &olen);
		uint8_t o[TC_DNS_MAX_NAME];
		memcpy(o, origin, olen);
		leave(svc, token);   /* the keeper takes the zone under its own lock */
		if (submit_update(svc, &req, &opts, q, ql, o, olen, fwd_ctx, fwd_ctxlen, done)) {
			*result = TC_DNS_SVC_PENDING;
			return true;
		}
		uint16_t rcode = update(svc, q, ql, o, olen, req.key);
		ast = tc_dns_answer_error(q, ql, rcode, &opts, out, outcap, outlen);
		free(q);
		goto sign;
	}
	bool transfer = zone && tc_dns_parse(q, ql, &m) == TC_DNS_OK &&
			TC_DNS_OPCODE(m.flags) == TC_DNS_OPCODE_QUERY && is_transfer_of(zone, &m);
	/* Over TCP, and DoQ (RFC 9250 §4.2); never over UDP. */
	if (transfer && (transport == TC_DNS_TRANSPORT_TCP || transport == TC_DNS_TRANSPORT_DOQ) &&
	    may_transfer(svc->auth, req.key)) {
		leave(svc, token);
		free(q);
		*result = TC_DNS_SVC_TRANSFER;
		return true;
	}
	if (transfer) {
		/* Not one of our secondaries' keys, or over UDP. */
		ast = tc_dns_answer_error(q, ql, TC_DNS_RCODE_REFUSED, &opts, out, outcap, outlen);
	} else if (zone) {
		ast = tc_dns_answer(zone, q, ql, &opts, out, outcap, outlen, NULL);
		if (ast == TC_DNS_ANSWER_NOT_OURS)
			ast = TC_DNS_ANSWER_REPLY;   /* out holds REFUSED: never forwarded */
	}
	leave(svc, token);
	free(q);
sign:
	if (ast == TC_DNS_ANSWER_DOQ_PROTOCOL_ERROR) {
		*result = TC_DNS_SVC_PROTOCOL_ERROR;
		return true;
	}
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t mac_len;
	if (ast != TC_DNS_ANSWER_REPLY ||
	    (*outlen = tc_tsig_sign(out, *outlen, outcap, req.key, req.mac, req.mac_len, false, now,
				    0, NULL, 0, mac, &mac_len)) == 0)
		*result = TC_DNS_SVC_DROP;
	return true;
}

int tc_dns_service_transfer(const struct tc_dns_service *svc, const uint8_t *query, size_t qlen,
			    tc_xfr_emit_fn emit, void *arg)
{
	struct tc_tsig_request req;
	uint64_t now = (uint64_t)time(NULL);
	if (!svc->auth ||
	    tc_tsig_verify(query, qlen, &svc->auth->ring, now, &req) != TC_TSIG_VALID ||
	    !may_transfer(svc->auth, req.key))
		return -1;
	uint8_t *q = strip_tsig(query, &req);
	if (!q)
		return -1;
	unsigned token = 0;
	const struct tc_zone *zone = enter(svc, &token);
	int rc = zone ? tc_xfr_answer_from(zone, svc->ixfr, q, req.unsigned_len, &req, now, emit, arg) : -1;
	leave(svc, token);
	free(q);
	return rc;
}
