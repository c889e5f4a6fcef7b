/* A strict DER reader: just enough ASN.1 to find the parts of a
 * certificate, CSR or key without OpenSSL's decoders, which on OpenSSL 3.0
 * cost ~100 us per public key (the provider decoder chain is rebuilt for
 * every key) and take global locks. Elements are views into the caller's
 * buffer; nothing is copied or allocated.
 *
 * Strict means what DER allows and nothing else: low tag numbers only
 * (every tag X.509 uses), definite lengths in the fewest octets, no
 * element longer than what contains it. Anything else is "malformed". */
#ifndef TC_COMMON_DER_H
#define TC_COMMON_DER_H

#include <stddef.h>
#include <stdint.h>

/* Tags as they appear in the identifier octet. */
#define TC_DER_BOOLEAN 0x01
#define TC_DER_INTEGER 0x02
#define TC_DER_BIT_STRING 0x03
#define TC_DER_OCTET_STRING 0x04
#define TC_DER_NULL 0x05
#define TC_DER_OID 0x06
#define TC_DER_UTF8STRING 0x0c
#define TC_DER_PRINTABLESTRING 0x13
#define TC_DER_IA5STRING 0x16
#define TC_DER_UTCTIME 0x17
#define TC_DER_GENERALIZEDTIME 0x18
#define TC_DER_SEQUENCE 0x30
#define TC_DER_SET 0x31
#define TC_DER_CONTEXT(n) (0xa0 | (n))      /* [n] constructed (EXPLICIT or IMPLICIT SEQUENCE) */
#define TC_DER_CONTEXT_PRIM(n) (0x80 | (n)) /* [n] IMPLICIT primitive */

/* One element: tag, the whole encoding (tlv) and its contents (val). */
struct tc_der_elem {
	uint8_t tag;
	const uint8_t *tlv;
	size_t tlv_len;
	const uint8_t *val;
	size_t val_len;
};

/* A read position over a run of elements (a whole input, or the contents
 * of one constructed element). */
struct tc_der_cursor {
	const uint8_t *p;
	size_t left;
};

enum {
	TC_DER_OK = 0,
	TC_DER_END = 1,        /* no element left */
	TC_DER_MALFORMED = -1, /* not DER */
	TC_DER_UNEXPECTED = -2 /* DER, but another tag than the one asked for */
};

struct tc_der_cursor tc_der_cursor(const uint8_t *p, size_t len);
/* The contents of a constructed element as a cursor. */
struct tc_der_cursor tc_der_inside(const struct tc_der_elem *e);

/* Reads the next element. */
int tc_der_next(struct tc_der_cursor *c, struct tc_der_elem *out);
/* Reads the next element, which must carry tag. */
int tc_der_expect(struct tc_der_cursor *c, uint8_t tag, struct tc_der_elem *out);
/* Reads the next element only when it carries tag (for OPTIONAL and
 * DEFAULT fields): TC_DER_OK and out filled, TC_DER_END when the next
 * element has another tag or there is none (c unchanged), or
 * TC_DER_MALFORMED. */
int tc_der_optional(struct tc_der_cursor *c, uint8_t tag, struct tc_der_elem *out);
/* 1 when nothing is left. */
int tc_der_at_end(const struct tc_der_cursor *c);

/* Exactly one element of tag spanning the whole of [p, p+len). */
int tc_der_whole(const uint8_t *p, size_t len, uint8_t tag, struct tc_der_elem *out);

/* 1 when e is an OBJECT IDENTIFIER whose contents equal oid (the contents
 * octets, e.g. {0x2a,0x86,0x48,0xce,0x3d,0x02,0x01} for id-ecPublicKey). */
int tc_der_oid_is(const struct tc_der_elem *e, const uint8_t *oid, size_t oid_len);
#define TC_DER_OID_IS(e, arr) tc_der_oid_is((e), (arr), sizeof(arr))

/* 1 when e is an OBJECT IDENTIFIER with well-formed contents: not empty,
 * no subidentifier starting with 0x80, the last octet ending one (what
 * OpenSSL's decoder demands of an OID). */
int tc_der_oid_valid(const struct tc_der_elem *e);
/* Dotted text of a valid OID ("2.5.29.17"), cut to outlen - 1 characters
 * as OBJ_obj2txt(..., 1) does; arcs of any size. */
void tc_der_oid_text(const struct tc_der_elem *e, char *out, size_t outlen);
/* 1 when e is an INTEGER in the fewest octets (at least one). */
int tc_der_integer_valid(const struct tc_der_elem *e);

/* A BIT STRING's bytes when it has no unused bits (keys, signatures). */
int tc_der_bit_string_bytes(const struct tc_der_elem *e, const uint8_t **bytes, size_t *len);

/* Length octets of n at out (room for 5); returns how many. */
size_t tc_der_put_len(size_t n, uint8_t *out);
/* Bytes an element of contents length n takes with a one-octet tag. */
size_t tc_der_tlv_size(size_t n);

#endif
