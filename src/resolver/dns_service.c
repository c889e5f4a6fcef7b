/* The per-query path shared by every listener: see dns_service.h. */
#include "resolver/dns_service.h"

#include <string.h>

#include "common/metrics_proc.h"
#include "resolver/dns_wire.h"
#include "resolver/signed_query.h"

size_t tc_dns_client_udp_limit(const uint8_t *query, size_t qlen)
{
	struct tc_dns_msg m;
	if (tc_dns_parse(query, qlen, &m) != TC_DNS_OK || !m.has_edns)
		return TC_DNS_UDP_MIN;
	return m.edns_udp_size < TC_DNS_UDP_MIN ? TC_DNS_UDP_MIN : m.edns_udp_size;
}

size_t tc_dns_truncate_response(uint8_t *resp, size_t len)
{
	size_t off = TC_DNS_HEADER_LEN;
	if (len < TC_DNS_HEADER_LEN || tc_dns_get16(resp + 4) != 1 ||
	    tc_dns_read_name(resp, len, &off, NULL, NULL) != TC_DNS_OK || off + 4 > len)
		return 0;
	tc_dns_put16(resp + 2, (uint16_t)(tc_dns_get16(resp + 2) | TC_DNS_FLAG_TC));
	memset(resp + 6, 0, 6);
	return off + 4;
}

static void set_rcode(uint8_t *msg, unsigned rcode)
{
	msg[3] = (uint8_t)((msg[3] & 0xf0) | (rcode & 0x0f));
}

static enum tc_dns_service_result handle(const struct tc_dns_service *svc, enum tc_dns_transport transport,
					 const uint8_t *query, size_t qlen, uint8_t *out, size_t outcap,
					 size_t *outlen, const void *fwd_ctx, size_t fwd_ctxlen,
					 tc_forward_done_fn done)
{
	struct tc_dns_answer_opts opts = {
	    .transport = transport,
	    .udp_max = svc->udp_max,
	    .flags = svc->fwd ? TC_DNS_ANSWER_F_RA : 0,
	};
	if (qlen >= TC_DNS_HEADER_LEN && tc_dns_get16(query + 10) > 0) {
		enum tc_dns_service_result r;
		if (tc_dns_signed_handle(svc, transport, query, qlen, out, outcap, outlen, &r, fwd_ctx,
					 fwd_ctxlen, done))
			return r;
	}
	/* An unsigned UPDATE: no policy grants anything without a key. */
	if (qlen >= TC_DNS_HEADER_LEN && !(tc_dns_get16(query + 2) & TC_DNS_FLAG_QR) &&
	    TC_DNS_OPCODE(tc_dns_get16(query + 2)) == TC_DNS_OPCODE_UPDATE) {
		if (transport == TC_DNS_TRANSPORT_DOQ && tc_dns_get16(query) != 0)
			return TC_DNS_SVC_PROTOCOL_ERROR;
		return tc_dns_answer_error(query, qlen, TC_DNS_RCODE_REFUSED, &opts, out, outcap,
					   outlen) == TC_DNS_ANSWER_REPLY
			       ? TC_DNS_SVC_REPLY
			       : TC_DNS_SVC_DROP;
	}
	const struct tc_zone *zone = svc->zone;
	unsigned token = 0;
	if (svc->live)
		zone = tc_zone_live_enter(svc->live, &token);
	enum tc_dns_answer_status st = zone ? tc_dns_answer(zone, query, qlen, &opts, out, outcap,
							     outlen, NULL)
					    : TC_DNS_ANSWER_DROP;
	if (svc->live)
		tc_zone_live_leave(svc->live, token);
	switch (st) {
	case TC_DNS_ANSWER_REPLY:
		return TC_DNS_SVC_REPLY;
	case TC_DNS_ANSWER_DROP:
		return TC_DNS_SVC_DROP;
	case TC_DNS_ANSWER_DOQ_PROTOCOL_ERROR:
		return TC_DNS_SVC_PROTOCOL_ERROR;
	case TC_DNS_ANSWER_NOT_OURS:
		break;
	}
	/* Not ours: out holds REFUSED, which is the answer without fallback. */
	if (!svc->fwd)
		return TC_DNS_SVC_REPLY;
	uint8_t cached[TC_FWD_CACHE_ENTRY_MAX];
	size_t n = tc_forwarder_cached(svc->fwd, query, qlen, cached, sizeof(cached));
	if (n > 0) {
		if (transport == TC_DNS_TRANSPORT_UDP && n > tc_dns_client_udp_limit(query, qlen))
			n = tc_dns_truncate_response(cached, n);
		if (n > 0 && n <= outcap) {
			memcpy(out, cached, n);
			*outlen = n;
			return TC_DNS_SVC_REPLY;
		}
	}
	if (tc_forwarder_submit(svc->fwd, query, qlen, fwd_ctx, fwd_ctxlen, done) == 0)
		return TC_DNS_SVC_PENDING;
	/* Overloaded or unforwardable: a server failure, not a policy refusal. */
	set_rcode(out, TC_DNS_RCODE_SERVFAIL);
	return TC_DNS_SVC_REPLY;
}

/* Counted here, once for every transport: queries by transport, answers by
 * RCODE (a forwarded query's answer is counted as "forwarded"). */
enum tc_dns_service_result tc_dns_service_handle(const struct tc_dns_service *svc,
						 enum tc_dns_transport transport,
						 const uint8_t *query, size_t qlen, uint8_t *out,
						 size_t outcap, size_t *outlen,
						 const void *fwd_ctx, size_t fwd_ctxlen,
						 tc_forward_done_fn done)
{
	static const char *const transports[] = {"udp", "tcp", "doq"};
	static const char *const rcodes[16] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
					       "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
	enum tc_dns_service_result r =
	    handle(svc, transport, query, qlen, out, outcap, outlen, fwd_ctx, fwd_ctxlen, done);
	tc_metric_add(tc_pm_counter("trustchain_dns_queries_total", "DNS queries received, by transport.", "transport"),
		      (unsigned)transport < 3 ? transports[transport] : "other", 1);
	const char *what = "dropped";
	if (r == TC_DNS_SVC_REPLY && *outlen >= TC_DNS_HEADER_LEN)
		what = rcodes[out[3] & 0x0f] ? rcodes[out[3] & 0x0f] : "other";
	else if (r == TC_DNS_SVC_PENDING)
		what = "forwarded";
	else if (r == TC_DNS_SVC_PROTOCOL_ERROR)
		what = "protocol_error";
	tc_metric_add(tc_pm_counter("trustchain_dns_responses_total", "DNS queries answered, by RCODE.", "rcode"), what,
		      1);
	return r;
}
