#include "common/der.h"

#include <string.h>

struct tc_der_cursor tc_der_cursor(const uint8_t *p, size_t len)
{
	struct tc_der_cursor c = {.p = p, .left = p ? len : 0};
	return c;
}

struct tc_der_cursor tc_der_inside(const struct tc_der_elem *e)
{
	return tc_der_cursor(e->val, e->val_len);
}

int tc_der_at_end(const struct tc_der_cursor *c)
{
	return c->left == 0;
}

/* Parses one TLV at c without consuming it. */
static int peek(const struct tc_der_cursor *c, struct tc_der_elem *out)
{
	if (c->left == 0)
		return TC_DER_END;
	const uint8_t *p = c->p;
	size_t left = c->left;
	uint8_t tag = p[0];
	/* High tag numbers (0x1f) are not used by anything we read. */
	if ((tag & 0x1f) == 0x1f || left < 2)
		return TC_DER_MALFORMED;
	size_t len, hdr;
	uint8_t l0 = p[1];
	if (l0 < 0x80) {
		len = l0;
		hdr = 2;
	} else {
		size_t n = l0 & 0x7f;
		/* 0x80 is BER's indefinite length; more than 4 octets is more
		 * than any 1 MiB frame can hold. */
		if (n == 0 || n > 4 || left < 2 + n || p[2] == 0)
			return TC_DER_MALFORMED;
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = (len << 8) | p[2 + i];
		if (len < 0x80) /* not the shortest form */
			return TC_DER_MALFORMED;
		hdr = 2 + n;
	}
	if (len > left - hdr)
		return TC_DER_MALFORMED;
	out->tag = tag;
	out->tlv = p;
	out->tlv_len = hdr + len;
	out->val = p + hdr;
	out->val_len = len;
	return TC_DER_OK;
}

int tc_der_next(struct tc_der_cursor *c, struct tc_der_elem *out)
{
	int rc = peek(c, out);
	if (rc == TC_DER_OK) {
		c->p += out->tlv_len;
		c->left -= out->tlv_len;
	}
	return rc;
}

int tc_der_expect(struct tc_der_cursor *c, uint8_t tag, struct tc_der_elem *out)
{
	struct tc_der_elem e;
	int rc = peek(c, &e);
	if (rc == TC_DER_END)
		return TC_DER_MALFORMED; /* something required is missing */
	if (rc != TC_DER_OK)
		return rc;
	if (e.tag != tag)
		return TC_DER_UNEXPECTED;
	*out = e;
	c->p += e.tlv_len;
	c->left -= e.tlv_len;
	return TC_DER_OK;
}

int tc_der_optional(struct tc_der_cursor *c, uint8_t tag, struct tc_der_elem *out)
{
	struct tc_der_elem e;
	int rc = peek(c, &e);
	if (rc != TC_DER_OK)
		return rc;
	if (e.tag != tag)
		return TC_DER_END;
	*out = e;
	c->p += e.tlv_len;
	c->left -= e.tlv_len;
	return TC_DER_OK;
}

int tc_der_whole(const uint8_t *p, size_t len, uint8_t tag, struct tc_der_elem *out)
{
	struct tc_der_cursor c = tc_der_cursor(p, len);
	int rc = tc_der_expect(&c, tag, out);
	if (rc != TC_DER_OK)
		return rc;
	return tc_der_at_end(&c) ? TC_DER_OK : TC_DER_MALFORMED;
}

int tc_der_oid_is(const struct tc_der_elem *e, const uint8_t *oid, size_t oid_len)
{
	return e->tag == TC_DER_OID && e->val_len == oid_len && memcmp(e->val, oid, oid_len) == 0;
}

int tc_der_oid_valid(const struct tc_der_elem *e)
{
	if (e->tag != TC_DER_OID || e->val_len == 0 || (e->val[e->val_len - 1] & 0x80))
		return 0;
	for (size_t i = 0; i < e->val_len; i++)
		if (e->val[i] == 0x80 && (i == 0 || !(e->val[i - 1] & 0x80)))
			return 0;
	return 1;
}

/* Decimal digits of a number, least significant first, as it is built
 * from 7-bit groups: arcs are not bounded by any integer type. */
struct decimal {
	uint8_t d[256];
	size_t n;
};

static void decimal_mul_add(struct decimal *x, unsigned mul, unsigned add)
{
	unsigned carry = add;
	for (size_t i = 0; i < x->n; i++) {
		unsigned v = x->d[i] * mul + carry;
		x->d[i] = (uint8_t)(v % 10);
		carry = v / 10;
	}
	while (carry && x->n < sizeof(x->d)) {
		x->d[x->n++] = (uint8_t)(carry % 10);
		carry /= 10;
	}
}

/* x -= v for a small v <= x. */
static void decimal_sub(struct decimal *x, unsigned v)
{
	for (size_t i = 0; i < x->n && v; i++) {
		unsigned digit = v % 10;
		v /= 10;
		if (x->d[i] < digit) {
			x->d[i] = (uint8_t)(x->d[i] + 10 - digit);
			v++;
		} else {
			x->d[i] = (uint8_t)(x->d[i] - digit);
		}
	}
	while (x->n > 1 && x->d[x->n - 1] == 0)
		x->n--;
}

/* 1 when x < v for a small v. */
static int decimal_below(const struct decimal *x, unsigned v)
{
	if (x->n > 3)
		return 0;
	unsigned value = 0;
	for (size_t i = x->n; i-- > 0;)
		value = value * 10 + x->d[i];
	return value < v;
}

static void put_char(char *out, size_t outlen, size_t *pos, char c)
{
	if (*pos + 1 < outlen)
		out[(*pos)++] = c;
}

static void put_decimal(char *out, size_t outlen, size_t *pos, const struct decimal *x)
{
	if (x->n == 0)
		put_char(out, outlen, pos, '0');
	for (size_t i = x->n; i-- > 0;)
		put_char(out, outlen, pos, (char)('0' + x->d[i]));
}

void tc_der_oid_text(const struct tc_der_elem *e, char *out, size_t outlen)
{
	size_t pos = 0;
	if (outlen == 0)
		return;
	struct decimal arc = {.n = 0};
	int first = 1;
	for (size_t i = 0; i < e->val_len; i++) {
		decimal_mul_add(&arc, 128, e->val[i] & 0x7f);
		if (e->val[i] & 0x80)
			continue;
		if (first) {
			/* The first subidentifier holds two arcs: 40 * X + Y. */
			unsigned top = decimal_below(&arc, 40) ? 0 : decimal_below(&arc, 80) ? 1 : 2;
			decimal_sub(&arc, 40 * top);
			put_char(out, outlen, &pos, (char)('0' + top));
			first = 0;
		}
		put_char(out, outlen, &pos, '.');
		put_decimal(out, outlen, &pos, &arc);
		arc.n = 0;
	}
	out[pos] = '\0';
}

int tc_der_integer_valid(const struct tc_der_elem *e)
{
	if (e->tag != TC_DER_INTEGER || e->val_len == 0)
		return 0;
	if (e->val_len > 1 && ((e->val[0] == 0x00 && !(e->val[1] & 0x80)) || (e->val[0] == 0xff && (e->val[1] & 0x80))))
		return 0;
	return 1;
}

int tc_der_bit_string_bytes(const struct tc_der_elem *e, const uint8_t **bytes, size_t *len)
{
	if (e->tag != TC_DER_BIT_STRING || e->val_len < 1 || e->val[0] != 0)
		return TC_DER_MALFORMED;
	*bytes = e->val + 1;
	*len = e->val_len - 1;
	return TC_DER_OK;
}

size_t tc_der_put_len(size_t n, uint8_t *out)
{
	if (n < 0x80) {
		out[0] = (uint8_t)n;
		return 1;
	}
	size_t octets = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffff ? 3 : 4;
	out[0] = (uint8_t)(0x80 | octets);
	for (size_t i = 0; i < octets; i++)
		out[1 + i] = (uint8_t)(n >> (8 * (octets - 1 - i)));
	return 1 + octets;
}

size_t tc_der_tlv_size(size_t n)
{
	uint8_t tmp[5];
	return 1 + tc_der_put_len(n, tmp) + n;
}
