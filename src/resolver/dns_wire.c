/* Strict DNS message reader. Every length read from the wire is checked
 * against the bytes actually present before it is used; compression
 * pointers must point strictly before the start of the name segment being
 * read, so a pointer can never revisit bytes of the same name (no loops). */
#include "resolver/dns_wire.h"

#include <string.h>

const char *tc_dns_err_str(enum tc_dns_err err)
{
	switch (err) {
	case TC_DNS_OK: return "ok";
	case TC_DNS_ERR_SHORT_HEADER: return "message shorter than the DNS header";
	case TC_DNS_ERR_TRUNCATED: return "name, question or record runs past the end of the message";
	case TC_DNS_ERR_LABEL_TYPE: return "label length over 63 (reserved label type)";
	case TC_DNS_ERR_NAME_TOO_LONG: return "name longer than 255 octets";
	case TC_DNS_ERR_POINTER: return "compression pointer not pointing backwards";
	case TC_DNS_ERR_POINTER_LOOP: return "too many compression pointers in one name";
	case TC_DNS_ERR_COUNTS: return "section counts larger than the message can hold";
	case TC_DNS_ERR_TRAILING: return "data after the last record";
	case TC_DNS_ERR_OPT: return "malformed or misplaced OPT record";
	}
	return "unknown error";
}

bool tc_dns_err_is_drop(enum tc_dns_err err)
{
	return err == TC_DNS_ERR_SHORT_HEADER;
}

enum tc_dns_err tc_dns_read_name(const uint8_t *msg, size_t len, size_t *off,
				 uint8_t name[TC_DNS_MAX_NAME], size_t *name_len)
{
	size_t pos = *off;
	size_t segment_start = pos;   /* a pointer must land before this */
	size_t resume = 0;            /* where the message continues after a pointer */
	size_t out = 0;
	unsigned hops = 0;

	for (;;) {
		if (pos >= len)
			return TC_DNS_ERR_TRUNCATED;
		uint8_t c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return TC_DNS_ERR_TRUNCATED;
			size_t target = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];
			if (target >= segment_start || target < TC_DNS_HEADER_LEN)
				return TC_DNS_ERR_POINTER;
			if (++hops > TC_DNS_MAX_PTR_HOPS)
				return TC_DNS_ERR_POINTER_LOOP;
			if (hops == 1)
				resume = pos + 2;
			pos = target;
			segment_start = target;
			continue;
		}
		if (c & 0xc0)
			return TC_DNS_ERR_LABEL_TYPE;
		if (out + c + 1 > TC_DNS_MAX_NAME)
			return TC_DNS_ERR_NAME_TOO_LONG;
		if ((size_t)c + 1 > len - pos)
			return TC_DNS_ERR_TRUNCATED;
		if (name)
			memcpy(name + out, msg + pos, (size_t)c + 1);
		out += (size_t)c + 1;
		pos += (size_t)c + 1;
		if (c == 0)
			break;
	}
	*off = hops ? resume : pos;
	if (name_len)
		*name_len = out;
	return TC_DNS_OK;
}

enum tc_dns_err tc_dns_read_rr(const uint8_t *msg, size_t len, size_t *off, struct tc_dns_rr *rr)
{
	size_t pos = *off;
	enum tc_dns_err err = tc_dns_read_name(msg, len, &pos, rr->name, &rr->name_len);
	if (err)
		return err;
	if (len - pos < 10)
		return TC_DNS_ERR_TRUNCATED;
	rr->type = tc_dns_get16(msg + pos);
	rr->rclass = tc_dns_get16(msg + pos + 2);
	rr->ttl = tc_dns_get32(msg + pos + 4);
	rr->rdlen = tc_dns_get16(msg + pos + 8);
	pos += 10;
	if (rr->rdlen > len - pos)
		return TC_DNS_ERR_TRUNCATED;
	rr->rdata_off = pos;
	*off = pos + rr->rdlen;
	return TC_DNS_OK;
}

/* OPT RDATA is a sequence of {code, length, data}; it must fill RDATA exactly. */
static enum tc_dns_err check_opt(const uint8_t *msg, const struct tc_dns_rr *rr, struct tc_dns_msg *out)
{
	if (out->has_edns || rr->name_len != 1)
		return TC_DNS_ERR_OPT;
	const uint8_t *p = msg + rr->rdata_off;
	size_t left = rr->rdlen;
	while (left) {
		if (left < 4)
			return TC_DNS_ERR_OPT;
		uint16_t code = tc_dns_get16(p);
		uint16_t olen = tc_dns_get16(p + 2);
		if (olen > left - 4)
			return TC_DNS_ERR_OPT;
		if (code == TC_DNS_EDNS_OPT_TCP_KEEPALIVE)
			out->edns_tcp_keepalive = true;
		if (code == TC_DNS_EDNS_OPT_PADDING)
			out->edns_padding = true;
		p += 4 + olen;
		left -= 4 + (size_t)olen;
	}
	out->has_edns = true;
	out->edns_udp_size = rr->rclass;
	out->edns_ext_rcode = (uint8_t)(rr->ttl >> 24);
	out->edns_version = (uint8_t)(rr->ttl >> 16);
	out->edns_flags = (uint16_t)rr->ttl;
	return TC_DNS_OK;
}

enum tc_dns_err tc_dns_parse(const uint8_t *msg, size_t len, struct tc_dns_msg *out)
{
	if (len < TC_DNS_HEADER_LEN)
		return TC_DNS_ERR_SHORT_HEADER;
	out->id = tc_dns_get16(msg);
	out->flags = tc_dns_get16(msg + 2);
	out->qdcount = tc_dns_get16(msg + 4);
	out->ancount = tc_dns_get16(msg + 6);
	out->nscount = tc_dns_get16(msg + 8);
	out->arcount = tc_dns_get16(msg + 10);
	out->qname_len = 0;
	out->qtype = out->qclass = 0;
	out->has_edns = false;
	out->edns_udp_size = 0;
	out->edns_ext_rcode = out->edns_version = 0;
	out->edns_flags = 0;
	out->edns_tcp_keepalive = false;
	out->edns_padding = false;

	/* Cheap rejection of absurd counts before walking anything: a question
	 * takes at least 5 octets (root + type + class), a record at least 11. */
	size_t nrr = (size_t)out->ancount + out->nscount + out->arcount;
	if ((size_t)out->qdcount * 5 + nrr * 11 > len - TC_DNS_HEADER_LEN)
		return TC_DNS_ERR_COUNTS;

	size_t pos = TC_DNS_HEADER_LEN;
	for (unsigned i = 0; i < out->qdcount; i++) {
		uint8_t name[TC_DNS_MAX_NAME];
		size_t name_len;
		enum tc_dns_err err = tc_dns_read_name(msg, len, &pos, name, &name_len);
		if (err)
			return err;
		if (len - pos < 4)
			return TC_DNS_ERR_TRUNCATED;
		if (i == 0) {
			memcpy(out->qname, name, name_len);
			out->qname_len = name_len;
			out->qtype = tc_dns_get16(msg + pos);
			out->qclass = tc_dns_get16(msg + pos + 2);
		}
		pos += 4;
	}

	struct tc_dns_rr rr;
	for (size_t i = 0; i < nrr; i++) {
		enum tc_dns_err err = tc_dns_read_rr(msg, len, &pos, &rr);
		if (err)
			return err;
		if (rr.type == TC_DNS_TYPE_OPT) {
			bool additional = i >= (size_t)out->ancount + out->nscount;
			if (!additional)
				return TC_DNS_ERR_OPT;
			err = check_opt(msg, &rr, out);
			if (err)
				return err;
		}
	}
	if (pos != len)
		return TC_DNS_ERR_TRAILING;
	return TC_DNS_OK;
}

/* True when the OPT RDATA at p holds a Padding option (stops at the first
 * option that runs past the RDATA). */
static bool opt_has_padding(const uint8_t *p, size_t left)
{
	while (left >= 4) {
		uint16_t code = tc_dns_get16(p);
		uint16_t olen = tc_dns_get16(p + 2);
		if (olen > left - 4)
			return false;
		if (code == TC_DNS_EDNS_OPT_PADDING)
			return true;
		p += 4 + olen;
		left -= 4 + (size_t)olen;
	}
	return false;
}

void tc_dns_salvage(const uint8_t *msg, size_t len, struct tc_dns_salvage *out)
{
	memset(out, 0, sizeof(*out));
	if (len < TC_DNS_HEADER_LEN)
		return;
	unsigned qd = tc_dns_get16(msg + 4);
	size_t nrr = (size_t)tc_dns_get16(msg + 6) + tc_dns_get16(msg + 8) + tc_dns_get16(msg + 10);
	size_t pos = TC_DNS_HEADER_LEN;
	for (unsigned i = 0; i < qd; i++) {
		uint8_t name[TC_DNS_MAX_NAME];
		size_t name_len;
		if (tc_dns_read_name(msg, len, &pos, name, &name_len) != TC_DNS_OK || len - pos < 4)
			return;
		if (qd == 1) {
			out->has_question = true;
			memcpy(out->qname, name, name_len);
			out->qname_len = name_len;
			out->qtype = tc_dns_get16(msg + pos);
			out->qclass = tc_dns_get16(msg + pos + 2);
		}
		pos += 4;
	}
	struct tc_dns_rr rr;
	for (size_t i = 0; i < nrr; i++) {
		if (tc_dns_read_rr(msg, len, &pos, &rr) != TC_DNS_OK)
			return;
		if (rr.type == TC_DNS_TYPE_OPT && !out->has_opt) {
			out->has_opt = true;
			out->edns_flags = (uint16_t)rr.ttl;
			out->edns_padding = opt_has_padding(msg + rr.rdata_off, rr.rdlen);
		}
	}
}

enum tc_dns_err tc_dns_skip_questions(const uint8_t *msg, size_t len, size_t *off)
{
	if (len < TC_DNS_HEADER_LEN)
		return TC_DNS_ERR_SHORT_HEADER;
	size_t pos = TC_DNS_HEADER_LEN;
	for (uint16_t i = 0, qd = tc_dns_get16(msg + 4); i < qd; i++) {
		enum tc_dns_err err = tc_dns_read_name(msg, len, &pos, NULL, NULL);
		if (err)
			return err;
		if (pos + 4 > len)
			return TC_DNS_ERR_TRUNCATED;
		pos += 4;
	}
	*off = pos;
	return TC_DNS_OK;
}
