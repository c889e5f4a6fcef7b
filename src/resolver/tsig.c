/* TSIG verification and signing: see tsig.h. */
#include "resolver/tsig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/dns_name.h"

#define CLASS_ANY 255

/* The TSIG RR found as the last record of msg: where it starts and its
 * fields. 0 found, 1 none, -1 malformed. */
struct tsig_rr {
	size_t start;
	uint8_t owner[TC_DNS_MAX_NAME];
	size_t owner_len;
	uint8_t alg[TC_DNS_MAX_NAME];
	size_t alg_len;
	uint64_t time_signed;
	uint16_t fudge;
	const uint8_t *mac;
	size_t mac_len;
	uint16_t original_id;
	uint16_t error;
	const uint8_t *other;
	size_t other_len;
};

static int find_tsig(const uint8_t *msg, size_t len, struct tsig_rr *t)
{
	struct tc_dns_msg m;
	if (tc_dns_parse(msg, len, &m) != TC_DNS_OK)
		return -1;
	size_t pos;
	if (tc_dns_skip_questions(msg, len, &pos) != TC_DNS_OK)
		return -1;
	size_t nrr = (size_t)m.ancount + m.nscount + m.arcount;
	struct tc_dns_rr rr;
	bool found = false;
	for (size_t i = 0; i < nrr; i++) {
		size_t start = pos;
		if (tc_dns_read_rr(msg, len, &pos, &rr) != TC_DNS_OK)
			return -1;
		if (rr.type != TC_DNS_TYPE_TSIG)
			continue;
		/* Only as the very last record, once (RFC 8945 §5.1). */
		if (i != nrr - 1 || rr.rclass != CLASS_ANY || rr.ttl != 0)
			return -1;
		found = true;
		t->start = start;
		memcpy(t->owner, rr.name, rr.name_len);
		t->owner_len = rr.name_len;
		const uint8_t *p = msg + rr.rdata_off;
		size_t left = rr.rdlen;
		size_t alen = tc_dns_name_wire_len(p, left);
		if (alen == 0 || left - alen < 10)
			return -1;
		memcpy(t->alg, p, alen);
		t->alg_len = alen;
		p += alen;
		left -= alen;
		t->time_signed = ((uint64_t)tc_dns_get16(p) << 32) | tc_dns_get32(p + 2);
		t->fudge = tc_dns_get16(p + 6);
		t->mac_len = tc_dns_get16(p + 8);
		p += 10;
		left -= 10;
		if (t->mac_len > left || left - t->mac_len < 6)
			return -1;
		t->mac = p;
		p += t->mac_len;
		left -= t->mac_len;
		t->original_id = tc_dns_get16(p);
		t->error = tc_dns_get16(p + 2);
		t->other_len = tc_dns_get16(p + 4);
		p += 6;
		left -= 6;
		if (t->other_len != left)
			return -1;
		t->other = p;
	}
	return found ? 0 : 1;
}

static const EVP_MD *md_of(enum tc_tsig_alg alg)
{
	return alg == TC_TSIG_HMAC_SHA512 ? EVP_sha512() : EVP_sha256();
}

/* Writes the TSIG variables of RFC 8945 §4.3.3 (all, or timers only). */
static size_t put_variables(uint8_t *p, const struct tc_tsig_key *key, bool timers_only,
			    uint64_t time_signed, uint16_t fudge, uint16_t error,
			    const uint8_t *other, size_t other_len)
{
	size_t n = 0;
	if (!timers_only) {
		memcpy(p, key->name, key->name_len);   /* already lower case */
		n += key->name_len;
		tc_dns_put16(p + n, CLASS_ANY);
		tc_dns_put32(p + n + 2, 0);
		n += 6;
		size_t alen;
		const uint8_t *alg = tc_tsig_alg_name(key->alg, &alen);
		memcpy(p + n, alg, alen);
		n += alen;
	}
	tc_dns_put16(p + n, (uint16_t)(time_signed >> 32));
	tc_dns_put32(p + n + 2, (uint32_t)time_signed);
	tc_dns_put16(p + n + 6, fudge);
	n += 8;
	if (!timers_only) {
		tc_dns_put16(p + n, error);
		tc_dns_put16(p + n + 2, (uint16_t)other_len);
		n += 4;
		if (other_len)
			memcpy(p + n, other, other_len);
		n += other_len;
	}
	return n;
}

/* HMAC over prior MAC (length-prefixed), msg[0..len) with its ID replaced
 * by id and ARCOUNT by arcount, then the variables. 0 or -1. */
static int compute_mac(const struct tc_tsig_key *key, const uint8_t *prior, size_t prior_len,
		       const uint8_t *msg, size_t len, uint16_t id, uint16_t arcount,
		       bool timers_only, uint64_t time_signed, uint16_t fudge, uint16_t error,
		       const uint8_t *other, size_t other_len, uint8_t *mac, size_t *mac_len)
{
	size_t cap = 2 + prior_len + len + TC_DNS_MAX_NAME * 2 + 32 + other_len;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return -1;
	size_t n = 0;
	if (prior) {
		tc_dns_put16(buf, (uint16_t)prior_len);
		memcpy(buf + 2, prior, prior_len);
		n = 2 + prior_len;
	}
	memcpy(buf + n, msg, len);
	tc_dns_put16(buf + n, id);
	tc_dns_put16(buf + n + 10, arcount);
	n += len;
	n += put_variables(buf + n, key, timers_only, time_signed, fudge, error, other, other_len);
	unsigned int out = 0;
	int ok = HMAC(md_of(key->alg), key->secret, (int)key->secret_len, buf, n, mac, &out) != NULL;
	free(buf);
	*mac_len = out;
	return ok ? 0 : -1;
}

enum tc_tsig_status tc_tsig_verify(const uint8_t *msg, size_t len,
				   const struct tc_tsig_keyring *ring, uint64_t now,
				   struct tc_tsig_request *req)
{
	memset(req, 0, sizeof(*req));
	struct tsig_rr t;
	int f = find_tsig(msg, len, &t);
	if (f == 1)
		return TC_TSIG_UNSIGNED;
	if (f < 0)
		return TC_TSIG_MALFORMED;
	tc_dns_name_lower(req->key_name, t.owner, t.owner_len);
	req->key_name_len = t.owner_len;
	tc_dns_name_lower(req->alg_name, t.alg, t.alg_len);
	req->alg_name_len = t.alg_len;
	req->time_signed = t.time_signed;
	req->original_id = t.original_id;
	req->unsigned_len = t.start;

	const struct tc_tsig_key *key = ring ? tc_tsig_key_find(ring, t.owner, t.owner_len) : NULL;
	size_t alen;
	const uint8_t *alg = key ? tc_tsig_alg_name(key->alg, &alen) : NULL;
	if (!key || !tc_dns_name_equal(alg, alen, t.alg, t.alg_len)) {
		req->error = TC_TSIG_ERR_BADKEY;
		return TC_TSIG_BAD;
	}
	req->key = key;
	size_t full = tc_tsig_alg_mac_len(key->alg);
	if (t.mac_len > full)
		return TC_TSIG_MALFORMED;
	if (t.mac_len < full) {
		/* A truncated MAC (RFC 8945 §5.2.2.1) is below our policy. */
		req->error = t.mac_len < 10 || t.mac_len < full / 2 ? TC_TSIG_ERR_BADSIG
								    : TC_TSIG_ERR_BADTRUNC;
		return TC_TSIG_BAD;
	}
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t mac_len;
	uint16_t arcount = (uint16_t)(tc_dns_get16(msg + 10) - 1);
	if (compute_mac(key, NULL, 0, msg, t.start, t.original_id, arcount, false, t.time_signed,
			t.fudge, t.error, t.other, t.other_len, mac, &mac_len) != 0 ||
	    mac_len != t.mac_len || CRYPTO_memcmp(mac, t.mac, mac_len) != 0) {
		req->error = TC_TSIG_ERR_BADSIG;
		return TC_TSIG_BAD;
	}
	memcpy(req->mac, t.mac, t.mac_len);
	req->mac_len = t.mac_len;
	/* Time is checked only after the MAC (§5.2.3), so a BADTIME answer is
	 * signed for a request that really came from the key holder. */
	uint64_t skew = now > t.time_signed ? now - t.time_signed : t.time_signed - now;
	if (skew > t.fudge) {
		req->error = TC_TSIG_ERR_BADTIME;
		return TC_TSIG_BAD;
	}
	return TC_TSIG_VALID;
}

int tc_tsig_verify_answer(const uint8_t *msg, size_t len, const struct tc_tsig_key *key,
			  const uint8_t *prior, size_t prior_len, bool timers_only,
			  uint8_t *mac_out, size_t *mac_len)
{
	struct tsig_rr t;
	if (find_tsig(msg, len, &t) != 0 || t.error != TC_TSIG_ERR_NONE ||
	    !tc_dns_name_equal(t.owner, t.owner_len, key->name, key->name_len))
		return -1;
	size_t alen;
	const uint8_t *alg = tc_tsig_alg_name(key->alg, &alen);
	if (!tc_dns_name_equal(alg, alen, t.alg, t.alg_len) ||
	    t.mac_len != tc_tsig_alg_mac_len(key->alg))
		return -1;
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t n;
	uint16_t arcount = (uint16_t)(tc_dns_get16(msg + 10) - 1);
	if (compute_mac(key, prior, prior_len, msg, t.start, t.original_id, arcount, timers_only,
			t.time_signed, t.fudge, t.error, t.other, t.other_len, mac, &n) != 0 ||
	    n != t.mac_len || CRYPTO_memcmp(mac, t.mac, n) != 0)
		return -1;
	memcpy(mac_out, t.mac, n);
	*mac_len = n;
	return 0;
}

/* Appends a TSIG RR (owner, algorithm, fields, MAC) and bumps ARCOUNT. */
static size_t append_rr(uint8_t *msg, size_t len, size_t cap, const uint8_t *owner, size_t olen,
			const uint8_t *alg, size_t alen, uint64_t time_signed, uint16_t fudge,
			const uint8_t *mac, size_t mac_len, uint16_t original_id, uint16_t error,
			const uint8_t *other, size_t other_len)
{
	size_t rdlen = alen + 10 + mac_len + 6 + other_len;
	size_t need = olen + 10 + rdlen;
	if (len + need > cap || len + need > TC_DNS_MAX_MSG || tc_dns_get16(msg + 10) == 0xffff)
		return 0;
	uint8_t *p = msg + len;
	memcpy(p, owner, olen);
	p += olen;
	tc_dns_put16(p, TC_DNS_TYPE_TSIG);
	tc_dns_put16(p + 2, CLASS_ANY);
	tc_dns_put32(p + 4, 0);
	tc_dns_put16(p + 8, (uint16_t)rdlen);
	p += 10;
	memcpy(p, alg, alen);
	p += alen;
	tc_dns_put16(p, (uint16_t)(time_signed >> 32));
	tc_dns_put32(p + 2, (uint32_t)time_signed);
	tc_dns_put16(p + 6, fudge);
	tc_dns_put16(p + 8, (uint16_t)mac_len);
	p += 10;
	if (mac_len)
		memcpy(p, mac, mac_len);
	p += mac_len;
	tc_dns_put16(p, original_id);
	tc_dns_put16(p + 2, error);
	tc_dns_put16(p + 4, (uint16_t)other_len);
	if (other_len)
		memcpy(p + 6, other, other_len);
	tc_dns_put16(msg + 10, (uint16_t)(tc_dns_get16(msg + 10) + 1));
	return len + need;
}

size_t tc_tsig_sign(uint8_t *msg, size_t len, size_t cap, const struct tc_tsig_key *key,
		    const uint8_t *prior, size_t prior_len, bool timers_only, uint64_t now,
		    uint16_t error, const uint8_t *other, size_t other_len, uint8_t *mac_out,
		    size_t *mac_len)
{
	if (len < TC_DNS_HEADER_LEN)
		return 0;
	uint16_t id = tc_dns_get16(msg);
	if (compute_mac(key, prior, prior_len, msg, len, id, tc_dns_get16(msg + 10), timers_only,
			now, TC_TSIG_FUDGE, error, other, other_len, mac_out, mac_len) != 0)
		return 0;
	size_t alen;
	const uint8_t *alg = tc_tsig_alg_name(key->alg, &alen);
	return append_rr(msg, len, cap, key->name, key->name_len, alg, alen, now, TC_TSIG_FUDGE,
			 mac_out, *mac_len, id, error, other, other_len);
}

size_t tc_tsig_append_error(uint8_t *msg, size_t len, size_t cap,
			    const struct tc_tsig_request *req)
{
	if (len < TC_DNS_HEADER_LEN)
		return 0;
	return append_rr(msg, len, cap, req->key_name, req->key_name_len, req->alg_name,
			 req->alg_name_len, req->time_signed, TC_TSIG_FUDGE, NULL, 0,
			 tc_dns_get16(msg), req->error, NULL, 0);
}

size_t tc_tsig_finish_refusal(uint8_t *msg, size_t len, size_t cap,
			      const struct tc_tsig_request *req, uint64_t now)
{
	if (len < TC_DNS_HEADER_LEN)
		return 0;
	msg[3] = (uint8_t)((msg[3] & 0xf0) | TC_DNS_RCODE_NOTAUTH);
	if (req->error == TC_TSIG_ERR_BADTIME && req->key) {
		/* Signed, with our clock in other data so the client can tell. */
		uint8_t other[6], mac[TC_TSIG_MAX_MAC];
		size_t mac_len;
		tc_dns_put16(other, (uint16_t)(now >> 32));
		tc_dns_put32(other + 2, (uint32_t)now);
		return tc_tsig_sign(msg, len, cap, req->key, req->mac, req->mac_len, false,
				    req->time_signed, TC_TSIG_ERR_BADTIME, other, sizeof(other), mac,
				    &mac_len);
	}
	return tc_tsig_append_error(msg, len, cap, req);
}
