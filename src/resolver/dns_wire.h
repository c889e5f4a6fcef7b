/* DNS wire format (RFC 1035 §4, RFC 6891): constants and strict,
 * bounds-checked reading of names, questions, resource records and whole
 * messages. Nothing here allocates or keeps state, so every function may be
 * called from any thread. */
#ifndef TC_RESOLVER_DNS_WIRE_H
#define TC_RESOLVER_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_DNS_HEADER_LEN 12
#define TC_DNS_MAX_NAME 255      /* octets of a wire name, root label included */
#define TC_DNS_MAX_LABEL 63
#define TC_DNS_MAX_LABELS 128    /* 127 one-octet labels + root */
/* Pointers must go strictly backwards, which alone guarantees termination;
 * the hop limit bounds the work per name. A real name has at most 127
 * labels, so a longer chain is never legitimate. */
#define TC_DNS_MAX_PTR_HOPS 127
#define TC_DNS_MAX_MSG 65535
#define TC_DNS_UDP_MIN 512       /* RFC 1035 limit without EDNS */
#define TC_DNS_UDP_MAX 1232      /* DNS flag day 2020: avoids IP fragmentation */

enum tc_dns_type {
	TC_DNS_TYPE_A = 1,
	TC_DNS_TYPE_NS = 2,
	TC_DNS_TYPE_CNAME = 5,
	TC_DNS_TYPE_SOA = 6,
	TC_DNS_TYPE_PTR = 12,
	TC_DNS_TYPE_HINFO = 13,
	TC_DNS_TYPE_MX = 15,
	TC_DNS_TYPE_TXT = 16,
	TC_DNS_TYPE_AAAA = 28,
	TC_DNS_TYPE_SRV = 33,
	TC_DNS_TYPE_OPT = 41,
	TC_DNS_TYPE_DS = 43,
	TC_DNS_TYPE_RRSIG = 46,
	TC_DNS_TYPE_NSEC = 47,
	TC_DNS_TYPE_DNSKEY = 48,
	TC_DNS_TYPE_TLSA = 52,
	TC_DNS_TYPE_TSIG = 250,
	TC_DNS_TYPE_IXFR = 251,
	TC_DNS_TYPE_AXFR = 252,
	TC_DNS_TYPE_MAILB = 253,
	TC_DNS_TYPE_MAILA = 254,
	TC_DNS_TYPE_ANY = 255,
	TC_DNS_TYPE_CAA = 257,
};

enum { TC_DNS_CLASS_IN = 1, TC_DNS_CLASS_CH = 3, TC_DNS_CLASS_ANY = 255 };

enum tc_dns_rcode {
	TC_DNS_RCODE_NOERROR = 0,
	TC_DNS_RCODE_FORMERR = 1,
	TC_DNS_RCODE_SERVFAIL = 2,
	TC_DNS_RCODE_NXDOMAIN = 3,
	TC_DNS_RCODE_NOTIMP = 4,
	TC_DNS_RCODE_REFUSED = 5,
	TC_DNS_RCODE_BADVERS = 16,   /* extended: upper 8 bits travel in the OPT TTL */
};

#define TC_DNS_OPCODE_QUERY 0

/* Bits of the 16-bit flags word (header octets 2-3). */
#define TC_DNS_FLAG_QR 0x8000u
#define TC_DNS_FLAG_AA 0x0400u
#define TC_DNS_FLAG_TC 0x0200u
#define TC_DNS_FLAG_RD 0x0100u
#define TC_DNS_FLAG_RA 0x0080u
#define TC_DNS_FLAG_AD 0x0020u
#define TC_DNS_FLAG_CD 0x0010u
#define TC_DNS_OPCODE_MASK 0x7800u
#define TC_DNS_OPCODE(flags) (((flags) >> 11) & 0xfu)
#define TC_DNS_RCODE(flags) ((flags) & 0xfu)

#define TC_DNS_EDNS_FLAG_DO 0x8000u
#define TC_DNS_EDNS_OPT_TCP_KEEPALIVE 11   /* RFC 7828; forbidden on DoQ */
#define TC_DNS_EDNS_OPT_PADDING 12         /* RFC 7830 */

enum tc_dns_section {
	TC_DNS_SEC_QUESTION = 0,
	TC_DNS_SEC_ANSWER = 1,
	TC_DNS_SEC_AUTHORITY = 2,
	TC_DNS_SEC_ADDITIONAL = 3,
};

/* Why a message was rejected. All but TC_DNS_ERR_SHORT_HEADER are answered
 * with FORMERR when the header is readable (see tc_dns_err_is_drop). */
enum tc_dns_err {
	TC_DNS_OK = 0,
	TC_DNS_ERR_SHORT_HEADER,   /* fewer than 12 octets: nothing to echo, drop */
	TC_DNS_ERR_TRUNCATED,      /* a name, question or record runs past the end */
	TC_DNS_ERR_LABEL_TYPE,     /* label length > 63: reserved 0x40/0x80 label types */
	TC_DNS_ERR_NAME_TOO_LONG,  /* more than 255 octets */
	TC_DNS_ERR_POINTER,        /* compression pointer not strictly backwards, or into the header */
	TC_DNS_ERR_POINTER_LOOP,   /* more than TC_DNS_MAX_PTR_HOPS pointers in one name */
	TC_DNS_ERR_COUNTS,         /* section counts the message cannot possibly hold */
	TC_DNS_ERR_TRAILING,       /* octets after the last record */
	TC_DNS_ERR_OPT,            /* OPT outside additional, twice, non-root owner, bad options */
};

const char *tc_dns_err_str(enum tc_dns_err err);
/* True when no response at all must be sent for this error. */
bool tc_dns_err_is_drop(enum tc_dns_err err);

/* A type that never appears in zone data (RFC 6895 3.1: 0, OPT, and the
 * meta and query types 128-255 such as TSIG, IXFR, AXFR, ANY). */
static inline bool tc_dns_type_is_meta(uint16_t t)
{
	return t == 0 || t == TC_DNS_TYPE_OPT || (t >= 128 && t <= 255);
}

static inline uint16_t tc_dns_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t tc_dns_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void tc_dns_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tc_dns_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Reads the (possibly compressed) name at *off into name (uncompressed wire
 * form, original case; may be NULL to only validate) and advances *off past
 * it in the message. */
enum tc_dns_err tc_dns_read_name(const uint8_t *msg, size_t len, size_t *off,
				 uint8_t name[TC_DNS_MAX_NAME], size_t *name_len);

struct tc_dns_rr {
	uint8_t name[TC_DNS_MAX_NAME];
	size_t name_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdata_off;            /* offset of the RDATA in the message */
};

/* Reads one resource record at *off (RDATA is not interpreted). */
enum tc_dns_err tc_dns_read_rr(const uint8_t *msg, size_t len, size_t *off, struct tc_dns_rr *rr);

/* Moves *off past the question section (the header's QDCOUNT questions)
 * to the first resource record. */
enum tc_dns_err tc_dns_skip_questions(const uint8_t *msg, size_t len, size_t *off);

/* A validated message: the header, the first question and the EDNS state. */
struct tc_dns_msg {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount, ancount, nscount, arcount;
	uint8_t qname[TC_DNS_MAX_NAME];  /* first question, original case */
	size_t qname_len;                /* 0 when qdcount is 0 */
	uint16_t qtype, qclass;
	bool has_edns;
	uint16_t edns_udp_size;
	uint8_t edns_ext_rcode;
	uint8_t edns_version;
	uint16_t edns_flags;             /* DO and Z */
	bool edns_tcp_keepalive;         /* the query carried edns-tcp-keepalive */
	bool edns_padding;               /* the query carried the Padding option */
};

/* Validates the whole message: header, every question and record, OPT
 * placement and layout, and that nothing follows the last record. */
enum tc_dns_err tc_dns_parse(const uint8_t *msg, size_t len, struct tc_dns_msg *out);

/* What can be read of a message that may be malformed, for error answers:
 * the first question when the message has exactly one and it is readable,
 * and whether an OPT record appears among the records read before the first
 * error (so a FORMERR can still carry our OPT, RFC 6891 §7). */
struct tc_dns_salvage {
	bool has_question;
	uint8_t qname[TC_DNS_MAX_NAME];
	size_t qname_len;
	uint16_t qtype, qclass;
	bool has_opt;
	uint16_t edns_flags;             /* of the first OPT seen */
	bool edns_padding;               /* that OPT holds a Padding option */
};
void tc_dns_salvage(const uint8_t *msg, size_t len, struct tc_dns_salvage *out);

#endif
