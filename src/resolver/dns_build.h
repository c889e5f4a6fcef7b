/* DNS message builder: writes into a caller-provided buffer (no allocation)
 * with name compression (RFC 1035 §4.1.4) through a small table of offsets
 * of names already written. Every write either fits completely under the
 * current limit or leaves the message unchanged and returns -1, so callers
 * can stop, roll back to a mark, and truncate. */
#ifndef TC_RESOLVER_DNS_BUILD_H
#define TC_RESOLVER_DNS_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/dns_wire.h"

#define TC_DNS_COMPRESS_MAX 64

struct tc_dns_builder {
	uint8_t *buf;
	size_t bufcap;          /* size of buf */
	size_t limit;           /* writes may not go past this (<= bufcap, <= 65535) */
	size_t len;
	int section;            /* sections are written in order */
	uint16_t counts[4];     /* QD, AN, NS, AR */
	unsigned nptrs;
	uint16_t ptrs[TC_DNS_COMPRESS_MAX];  /* offsets of labels usable as pointer targets */
};

struct tc_dns_mark {
	size_t len;
	int section;
	uint16_t counts[4];
	unsigned nptrs;
};

void tc_dns_build_init(struct tc_dns_builder *b, uint8_t *buf, size_t bufcap);
/* Lowers (or restores, up to bufcap) the size the message may grow to. */
void tc_dns_build_set_limit(struct tc_dns_builder *b, size_t limit);
void tc_dns_build_mark(const struct tc_dns_builder *b, struct tc_dns_mark *m);
void tc_dns_build_rollback(struct tc_dns_builder *b, const struct tc_dns_mark *m);

int tc_dns_build_header(struct tc_dns_builder *b, uint16_t id, uint16_t flags);
void tc_dns_build_set_flags(struct tc_dns_builder *b, uint16_t flags);
uint16_t tc_dns_build_get_flags(const struct tc_dns_builder *b);
/* Writes the four section counts into the header; returns the length. */
size_t tc_dns_build_finish(struct tc_dns_builder *b);

/* A name, compressed against the names already in the message. */
int tc_dns_build_name(struct tc_dns_builder *b, const uint8_t *name, size_t len);
int tc_dns_build_question(struct tc_dns_builder *b, const uint8_t *name, size_t len,
			  uint16_t qtype, uint16_t qclass);

/* A record from uncompressed wire RDATA. Names inside the RDATA of NS, CNAME,
 * PTR, MX and SOA are compressed (RFC 3597 §4 lists the types where this is
 * allowed); the RDATA of every other type is copied verbatim. */
int tc_dns_put_rr(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		  size_t olen, uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
		  size_t rdlen);

/* Typed writers (class IN). Names are uncompressed wire form. */
int tc_dns_put_a(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		 size_t olen, uint32_t ttl, const uint8_t addr[4]);
int tc_dns_put_aaaa(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		    size_t olen, uint32_t ttl, const uint8_t addr[16]);
int tc_dns_put_ns(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		  size_t olen, uint32_t ttl, const uint8_t *target, size_t tlen);
int tc_dns_put_cname(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		     size_t olen, uint32_t ttl, const uint8_t *target, size_t tlen);
int tc_dns_put_ptr(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, const uint8_t *target, size_t tlen);
int tc_dns_put_mx(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		  size_t olen, uint32_t ttl, uint16_t preference, const uint8_t *exchange,
		  size_t elen);
int tc_dns_put_srv(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, uint16_t priority, uint16_t weight, uint16_t port,
		   const uint8_t *target, size_t tlen);

struct tc_dns_soa {
	const uint8_t *mname;
	size_t mname_len;
	const uint8_t *rname;
	size_t rname_len;
	uint32_t serial, refresh, retry, expire, minimum;
};
int tc_dns_put_soa(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, const struct tc_dns_soa *soa);
/* TXT from one text: split into character-strings of at most 255 octets. */
int tc_dns_put_txt(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, const uint8_t *text, size_t len);
int tc_dns_put_caa(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		   size_t olen, uint32_t ttl, uint8_t flags, const char *tag, const uint8_t *value,
		   size_t vlen);
int tc_dns_put_tlsa(struct tc_dns_builder *b, enum tc_dns_section sec, const uint8_t *owner,
		    size_t olen, uint32_t ttl, uint8_t usage, uint8_t selector, uint8_t mtype,
		    const uint8_t *data, size_t dlen);
/* OPT pseudo-record (RFC 6891 §6.1.2) without options. ext_rcode is the
 * upper 8 bits of the 12-bit RCODE. */
int tc_dns_put_opt(struct tc_dns_builder *b, uint16_t udp_size, uint8_t ext_rcode,
		   uint8_t version, uint16_t edns_flags);

/* Encoders shared with the zone code (RDATA only, uncompressed). Each
 * returns the RDATA length, or 0 when it does not fit in cap. */
size_t tc_dns_rdata_soa(uint8_t *out, size_t cap, const struct tc_dns_soa *soa);
size_t tc_dns_rdata_txt(uint8_t *out, size_t cap, const uint8_t *text, size_t len);
size_t tc_dns_rdata_caa(uint8_t *out, size_t cap, uint8_t flags, const char *tag,
			const uint8_t *value, size_t vlen);
size_t tc_dns_rdata_tlsa(uint8_t *out, size_t cap, uint8_t usage, uint8_t selector, uint8_t mtype,
			 const uint8_t *data, size_t dlen);

#endif
