/* Query -> response for the authoritative zone. The answer is first
 * planned (which RRsets go where) from the read-only zone, then written
 * with the builder; a response that does not fit the transport's limit
 * falls back to the question alone with TC (UDP) or SERVFAIL (TCP/DoQ). */
#include "resolver/answer.h"

#include <string.h>

#include "resolver/dns_build.h"
#include "resolver/dns_name.h"

#define MAX_CHAIN 8         /* CNAME links followed inside the zone */
#define MAX_TARGETS 16      /* NS/MX/SRV targets looked up for additional data */
#define OPT_RR_LEN 11       /* root owner + type, class, TTL, RDLENGTH */

struct rrset_ref {
	const uint8_t *owner;
	size_t olen;
	const struct tc_zone_rr *rrs;
	size_t count;
	const struct tc_zone_node *node;   /* where its RRSIGs are */
};

struct plan {
	struct rrset_ref answer[MAX_CHAIN + 1];
	size_t nanswer;
	struct rrset_ref authority;   /* count 0 = none */
	bool authority_is_soa;
	bool referral;
	bool aa;
	uint16_t rcode;
	bool dnssec;                  /* DO set and the zone is signed */
	uint8_t last[TC_DNS_MAX_NAME];  /* the name a negative answer is about */
	size_t last_len;
};

static void set_info(struct tc_dns_answer_info *info, uint16_t rcode, bool tc)
{
	if (info) {
		info->rcode = rcode;
		info->truncated = tc;
	}
}

static uint16_t our_udp_size(const struct tc_dns_answer_opts *o);

/* An error response (FORMERR, NOTIMP): ID, opcode, RD and CD echoed, the
 * question when the query had exactly one readable one, and our OPT when
 * the query carried one, even a malformed query: RFC 6891 §7, or the
 * client concludes we do not speak EDNS. */
static enum tc_dns_answer_status error_response(const uint8_t *query, size_t qlen,
						uint16_t base_flags, uint16_t rcode,
						const struct tc_dns_answer_opts *opts,
						uint8_t *out, size_t outcap, size_t *outlen,
						struct tc_dns_answer_info *info)
{
	struct tc_dns_salvage sv;
	tc_dns_salvage(query, qlen, &sv);
	struct tc_dns_builder b;
	tc_dns_build_init(&b, out, outcap);
	tc_dns_build_set_limit(&b, TC_DNS_UDP_MIN);
	if (tc_dns_build_header(&b, tc_dns_get16(query), (uint16_t)(base_flags | rcode)) != 0)
		return TC_DNS_ANSWER_DROP;
	/* The header fits in 512; a question too (at most 259 octets), and
	 * then the OPT (11). */
	if (sv.has_question &&
	    tc_dns_build_question(&b, sv.qname, sv.qname_len, sv.qtype, sv.qclass) != 0)
		return TC_DNS_ANSWER_DROP;
	if (sv.has_opt && tc_dns_put_opt(&b, our_udp_size(opts), (uint8_t)(rcode >> 4), 0,
					 (uint16_t)(sv.edns_flags & TC_DNS_EDNS_FLAG_DO)) != 0)
		return TC_DNS_ANSWER_DROP;
	*outlen = tc_dns_build_finish(&b);
	set_info(info, rcode, false);
	return TC_DNS_ANSWER_REPLY;
}

static size_t payload_limit_raw(const struct tc_dns_msg *m, const struct tc_dns_answer_opts *o);

static size_t payload_limit(const struct tc_dns_msg *m, const struct tc_dns_answer_opts *o)
{
	size_t limit = payload_limit_raw(m, o);
	return limit > (size_t)o->reserve + 256 ? limit - o->reserve : 256;
}

static size_t payload_limit_raw(const struct tc_dns_msg *m, const struct tc_dns_answer_opts *o)
{
	if (o->transport != TC_DNS_TRANSPORT_UDP)
		return TC_DNS_MAX_MSG;
	if (!m->has_edns)
		return TC_DNS_UDP_MIN;
	size_t ours = o->udp_max ? o->udp_max : TC_DNS_UDP_MAX;
	if (ours < TC_DNS_UDP_MIN)
		ours = TC_DNS_UDP_MIN;
	if (ours > TC_DNS_UDP_MAX)
		ours = TC_DNS_UDP_MAX;
	size_t theirs = m->edns_udp_size;
	if (theirs < TC_DNS_UDP_MIN)
		theirs = TC_DNS_UDP_MIN;
	if (theirs > TC_DNS_UDP_MAX)
		theirs = TC_DNS_UDP_MAX;
	return theirs < ours ? theirs : ours;
}

static uint16_t our_udp_size(const struct tc_dns_answer_opts *o)
{
	uint16_t v = o->udp_max ? o->udp_max : TC_DNS_UDP_MAX;
	if (v < TC_DNS_UDP_MIN)
		v = TC_DNS_UDP_MIN;
	if (v > TC_DNS_UDP_MAX)
		v = TC_DNS_UDP_MAX;
	return v;
}

/* Follows the name through the zone and records what the response holds.
 * Returns false when the name is outside the zone (not ours). */
static bool plan_answer(const struct tc_zone *zone, const uint8_t *qname_lc, size_t qlen,
			uint16_t qtype, struct plan *p)
{
	uint8_t cur[TC_DNS_MAX_NAME];
	size_t curlen = qlen;
	const struct tc_zone_node *visited[MAX_CHAIN + 1];
	memcpy(cur, qname_lc, qlen);
	p->nanswer = 0;
	p->authority.count = 0;
	p->authority_is_soa = false;
	p->referral = false;
	p->aa = true;
	p->rcode = TC_DNS_RCODE_NOERROR;
	p->last_len = 0;

	for (unsigned hop = 0; hop <= MAX_CHAIN; hop++) {
		struct tc_zone_match mt;
		enum tc_zone_result r = tc_zone_lookup(zone, cur, curlen, qtype, &mt);
		switch (r) {
		case TC_ZONE_OUT_OF_ZONE:
			/* A CNAME leading out of the zone ends the chain; the
			 * client's resolver follows it. */
			return hop > 0;
		case TC_ZONE_NXDOMAIN:
			p->rcode = TC_DNS_RCODE_NXDOMAIN;
			/* fall through */
		case TC_ZONE_NODATA:
			p->authority_is_soa = true;
			memcpy(p->last, cur, curlen);
			p->last_len = curlen;
			return true;
		case TC_ZONE_DELEGATION:
			p->referral = true;
			p->aa = p->nanswer > 0;
			p->authority = (struct rrset_ref){mt.node->name, mt.node->name_len, mt.rrs, mt.count,
							  mt.node};
			return true;
		case TC_ZONE_ANSWER:
			p->answer[p->nanswer++] = (struct rrset_ref){mt.node->name, mt.node->name_len,
								     mt.rrs, mt.count, mt.node};
			return true;
		case TC_ZONE_CNAME:
			for (unsigned v = 0; v < hop; v++)
				if (visited[v] == mt.node)
					return true;   /* a loop: stop with what we have */
			visited[hop] = mt.node;
			p->answer[p->nanswer++] = (struct rrset_ref){mt.node->name, mt.node->name_len,
								     mt.rrs, mt.count, mt.node};
			curlen = mt.rrs[0].rdlen;
			tc_dns_name_lower(cur, mt.rrs[0].rdata, curlen);
			break;
		}
	}
	return true;
}

/* The RRSIGs covering s (RFC 4035 §3.1.1), with the TTL of the set. */
static int put_sigs(struct tc_dns_builder *b, enum tc_dns_section sec, const struct rrset_ref *s,
		    uint32_t ttl)
{
	size_t n;
	uint16_t covered = s->rrs[0].type;
	const struct tc_zone_rr *sig = tc_zone_node_rrset(s->node, TC_DNS_TYPE_RRSIG, &n);
	if (covered == TC_DNS_TYPE_RRSIG)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (sig[i].rdlen < 2 || tc_dns_get16(sig[i].rdata) != covered)
			continue;
		if (tc_dns_put_rr(b, sec, s->owner, s->olen, TC_DNS_TYPE_RRSIG, TC_DNS_CLASS_IN, ttl,
				  sig[i].rdata, sig[i].rdlen) != 0)
			return -1;
	}
	return 0;
}

static int put_set(struct tc_dns_builder *b, enum tc_dns_section sec, const struct rrset_ref *s,
		   bool override_ttl, uint32_t ttl, bool dnssec)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct tc_zone_rr *rr = &s->rrs[i];
		if (tc_dns_put_rr(b, sec, s->owner, s->olen, rr->type, TC_DNS_CLASS_IN,
				  override_ttl ? ttl : rr->ttl, rr->rdata, rr->rdlen) != 0)
			return -1;
	}
	if (dnssec && s->count > 0 && s->node)
		return put_sigs(b, sec, s, override_ttl ? ttl : s->rrs[0].ttl);
	return 0;
}

/* One RRset of a node by type, with its RRSIGs; 0 when absent. */
static int put_node_set(struct tc_dns_builder *b, enum tc_dns_section sec,
			const struct tc_zone_node *n, uint16_t type)
{
	struct rrset_ref ref = {n->name, n->name_len, NULL, 0, n};
	ref.rrs = tc_zone_node_rrset(n, type, &ref.count);
	return ref.count ? put_set(b, sec, &ref, false, 0, true) : 0;
}

/* Authenticated denial (RFC 4035 §3.1.3): the NSEC matching or covering
 * name and, for NXDOMAIN, the one covering the wildcard at the closest
 * encloser, which proves no wildcard could have answered. */
static int put_denial(struct tc_dns_builder *b, const struct tc_zone *zone, const uint8_t *name,
		      size_t len, bool nxdomain)
{
	const struct tc_zone_node *cover = tc_zone_nsec_covering(zone, name, len);
	if (!cover || put_node_set(b, TC_DNS_SEC_AUTHORITY, cover, TC_DNS_TYPE_NSEC) != 0)
		return -1;
	if (!nxdomain)
		return 0;
	size_t olen;
	tc_zone_origin(zone, &olen);
	const uint8_t *ce = name;
	size_t celen = len;
	while (celen > olen) {
		celen -= (size_t)ce[0] + 1;
		ce += ce[0] + 1;
		if (tc_zone_find(zone, ce, celen))
			break;
	}
	uint8_t wild[TC_DNS_MAX_NAME];
	if (celen + 2 > TC_DNS_MAX_NAME)
		return 0;   /* no room for "*.": no wildcard can exist there */
	wild[0] = 1;
	wild[1] = '*';
	memcpy(wild + 2, ce, celen);
	const struct tc_zone_node *wcover = tc_zone_nsec_covering(zone, wild, celen + 2);
	if (!wcover)
		return -1;
	return wcover == cover ? 0 : put_node_set(b, TC_DNS_SEC_AUTHORITY, wcover, TC_DNS_TYPE_NSEC);
}

/* The target name inside NS/MX/SRV RDATA, or NULL. */
static const uint8_t *rdata_target(const struct tc_zone_rr *rr, size_t *len)
{
	size_t skip;
	switch (rr->type) {
	case TC_DNS_TYPE_NS: skip = 0; break;
	case TC_DNS_TYPE_MX: skip = 2; break;
	case TC_DNS_TYPE_SRV: skip = 6; break;
	default: return NULL;
	}
	if (rr->rdlen <= skip)
		return NULL;
	*len = rr->rdlen - skip;
	return rr->rdata + skip;
}

/* A/AAAA of in-zone targets of the given sets. With required set (referral
 * glue) a record that does not fit fails the whole response; otherwise it
 * is left out. */
static int put_additional(struct tc_dns_builder *b, const struct tc_zone *zone,
			  const struct rrset_ref *sets, size_t nsets, bool required, bool dnssec)
{
	const struct tc_zone_node *seen[MAX_TARGETS];
	size_t nseen = 0;
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	for (size_t s = 0; s < nsets; s++) {
		for (size_t i = 0; i < sets[s].count && nseen < MAX_TARGETS; i++) {
			size_t tlen;
			const uint8_t *t = rdata_target(&sets[s].rrs[i], &tlen);
			uint8_t lc[TC_DNS_MAX_NAME];
			if (!t || !tc_dns_name_is_subdomain(t, tlen, origin, olen))
				continue;
			tc_dns_name_lower(lc, t, tlen);
			const struct tc_zone_node *n = tc_zone_find(zone, lc, tlen);
			bool dup = false;
			for (size_t k = 0; k < nseen; k++)
				dup |= seen[k] == n;
			if (!n || dup)
				continue;
			seen[nseen++] = n;
			static const uint16_t types[] = {TC_DNS_TYPE_A, TC_DNS_TYPE_AAAA};
			for (size_t k = 0; k < 2; k++) {
				struct rrset_ref ref = {n->name, n->name_len, NULL, 0, n};
				ref.rrs = tc_zone_node_rrset(n, types[k], &ref.count);
				struct tc_dns_mark m;
				tc_dns_build_mark(b, &m);
				if (ref.count &&
				    put_set(b, TC_DNS_SEC_ADDITIONAL, &ref, false, 0, dnssec) != 0) {
					tc_dns_build_rollback(b, &m);
					if (required)
						return -1;
				}
			}
		}
	}
	return 0;
}

/* Answer, authority and additional sections per plan; -1 when the
 * required part does not fit. */
static int write_plan(struct tc_dns_builder *b, const struct tc_zone *zone, const struct plan *p)
{
	bool sec = p->dnssec;
	for (size_t i = 0; i < p->nanswer; i++)
		if (put_set(b, TC_DNS_SEC_ANSWER, &p->answer[i], false, 0, sec) != 0)
			return -1;
	if (p->authority_is_soa) {
		size_t olen;
		const uint8_t *origin = tc_zone_origin(zone, &olen);
		struct rrset_ref soa = {origin, olen, tc_zone_soa(zone), 1, NULL};
		if (sec)
			soa.node = tc_zone_find(zone, origin, olen);
		if (soa.rrs &&
		    put_set(b, TC_DNS_SEC_AUTHORITY, &soa, true, tc_zone_negative_ttl(zone), sec) != 0)
			return -1;
		if (sec && put_denial(b, zone, p->last, p->last_len,
				      p->rcode == TC_DNS_RCODE_NXDOMAIN) != 0)
			return -1;
	} else if (p->referral) {
		if (put_set(b, TC_DNS_SEC_AUTHORITY, &p->authority, false, 0, false) != 0)
			return -1;
		/* A signed referral proves whether the child is signed: its DS,
		 * or the NSEC showing there is none (RFC 4035 §3.1.4). */
		if (sec) {
			size_t nds;
			const struct tc_zone_node *cut = p->authority.node;
			bool has_ds = tc_zone_node_rrset(cut, TC_DNS_TYPE_DS, &nds) != NULL;
			if (put_node_set(b, TC_DNS_SEC_AUTHORITY, cut,
					 has_ds ? TC_DNS_TYPE_DS : TC_DNS_TYPE_NSEC) != 0)
				return -1;
		}
		if (put_additional(b, zone, &p->authority, 1, true, false) != 0)
			return -1;
		return 0;
	}
	return put_additional(b, zone, p->answer, p->nanswer, false, sec);
}

enum tc_dns_answer_status tc_dns_answer(const struct tc_zone *zone, const uint8_t *query,
					size_t qlen, const struct tc_dns_answer_opts *opts,
					uint8_t *out, size_t outcap, size_t *outlen,
					struct tc_dns_answer_info *info)
{
	struct tc_dns_msg m;
	*outlen = 0;
	if (info) {
		info->parse_error = TC_DNS_OK;
		info->rcode = 0;
		info->qtype = 0;
		info->truncated = false;
	}
	if (qlen < TC_DNS_HEADER_LEN) {
		if (info)
			info->parse_error = TC_DNS_ERR_SHORT_HEADER;
		return TC_DNS_ANSWER_DROP;
	}
	uint16_t qflags = tc_dns_get16(query + 2);
	if ((qflags & TC_DNS_FLAG_QR) || outcap < TC_DNS_UDP_MIN)
		return TC_DNS_ANSWER_DROP;
	if (opts->transport == TC_DNS_TRANSPORT_DOQ && tc_dns_get16(query) != 0)
		return TC_DNS_ANSWER_DOQ_PROTOCOL_ERROR;
	uint16_t base = (uint16_t)(TC_DNS_FLAG_QR |
				   (qflags & (TC_DNS_OPCODE_MASK | TC_DNS_FLAG_RD | TC_DNS_FLAG_CD)));
	if (opts->flags & TC_DNS_ANSWER_F_RA)
		base |= TC_DNS_FLAG_RA;
	if (TC_DNS_OPCODE(qflags) != TC_DNS_OPCODE_QUERY)
		return error_response(query, qlen, base, TC_DNS_RCODE_NOTIMP, opts, out, outcap,
				      outlen, info);

	enum tc_dns_err perr = tc_dns_parse(query, qlen, &m);
	if (info)
		info->parse_error = perr;
	if (perr != TC_DNS_OK)
		return error_response(query, qlen, base, TC_DNS_RCODE_FORMERR, opts, out, outcap,
				      outlen, info);
	if (info)
		info->qtype = m.qtype;
	if (m.qdcount != 1 || m.qtype == TC_DNS_TYPE_OPT)
		return error_response(query, qlen, base, TC_DNS_RCODE_FORMERR, opts, out, outcap,
				      outlen, info);
	if (opts->transport == TC_DNS_TRANSPORT_DOQ && m.edns_tcp_keepalive)
		return TC_DNS_ANSWER_DOQ_PROTOCOL_ERROR;

	size_t limit = payload_limit(&m, opts);
	struct tc_dns_builder b;
	tc_dns_build_init(&b, out, outcap);
	tc_dns_build_set_limit(&b, limit);
	if (tc_dns_build_header(&b, m.id, base) != 0 ||
	    tc_dns_build_question(&b, m.qname, m.qname_len, m.qtype, m.qclass) != 0)
		return TC_DNS_ANSWER_DROP;
	struct tc_dns_mark after_question;
	tc_dns_build_mark(&b, &after_question);
	size_t body_limit = b.limit - (m.has_edns ? OPT_RR_LEN : 0);
	tc_dns_build_set_limit(&b, body_limit);

	enum tc_dns_answer_status status = TC_DNS_ANSWER_REPLY;
	uint16_t rcode = TC_DNS_RCODE_NOERROR;
	uint16_t flags = base;
	bool tc = false;
	uint8_t lc[TC_DNS_MAX_NAME];
	struct plan p;

	if (m.has_edns && m.edns_version > 0) {
		rcode = TC_DNS_RCODE_BADVERS;
	} else if (m.qclass != TC_DNS_CLASS_IN) {
		rcode = TC_DNS_RCODE_REFUSED;
	} else {
		tc_dns_name_lower(lc, m.qname, m.qname_len);
		bool planned = plan_answer(zone, lc, m.qname_len, m.qtype, &p);
		p.dnssec = m.has_edns && (m.edns_flags & TC_DNS_EDNS_FLAG_DO) && tc_zone_is_signed(zone);
		if (!planned) {
			rcode = TC_DNS_RCODE_REFUSED;
			status = TC_DNS_ANSWER_NOT_OURS;
		} else if (m.qtype == TC_DNS_TYPE_AXFR || m.qtype == TC_DNS_TYPE_IXFR) {
			rcode = TC_DNS_RCODE_REFUSED;
		} else {
			rcode = p.rcode;
			if (p.aa)
				flags |= TC_DNS_FLAG_AA;
			if (write_plan(&b, zone, &p) != 0) {
				tc_dns_build_rollback(&b, &after_question);
				if (opts->transport == TC_DNS_TRANSPORT_UDP) {
					tc = true;
					flags |= TC_DNS_FLAG_TC;
				} else {
					rcode = TC_DNS_RCODE_SERVFAIL;
					flags &= (uint16_t)~TC_DNS_FLAG_AA;
				}
			}
		}
	}

	tc_dns_build_set_limit(&b, limit);
	if (m.has_edns &&
	    tc_dns_put_opt(&b, our_udp_size(opts), (uint8_t)(rcode >> 4), 0,
			   (uint16_t)(m.edns_flags & TC_DNS_EDNS_FLAG_DO)) != 0)
		return TC_DNS_ANSWER_DROP;
	tc_dns_build_set_flags(&b, (uint16_t)(flags | (rcode & 0xf)));
	*outlen = tc_dns_build_finish(&b);
	set_info(info, rcode, tc);
	return status;
}

enum tc_dns_answer_status tc_dns_answer_error(const uint8_t *query, size_t qlen, uint16_t rcode,
					      const struct tc_dns_answer_opts *opts, uint8_t *out,
					      size_t outcap, size_t *outlen)
{
	*outlen = 0;
	if (qlen < TC_DNS_HEADER_LEN || outcap < TC_DNS_UDP_MIN)
		return TC_DNS_ANSWER_DROP;
	uint16_t qflags = tc_dns_get16(query + 2);
	uint16_t base = (uint16_t)(TC_DNS_FLAG_QR |
				   (qflags & (TC_DNS_OPCODE_MASK | TC_DNS_FLAG_RD | TC_DNS_FLAG_CD)));
	return error_response(query, qlen, base, rcode, opts, out, outcap, outlen, NULL);
}
