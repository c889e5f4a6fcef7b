/* The validator's DNS stub: questions (A, AAAA, TXT) to the resolver named
 * by acme.validation.resolver over UDP (TCP when the answer is truncated),
 * CNAME chains followed, every step bounded by the check's deadline. The
 * messages are built and read with the resolver's wire code
 * (resolver/dns_wire.h, dns_build.h, dns_name.h: pure code, no sockets). */
#ifndef TC_ACME_VALIDATOR_DNS_H
#define TC_ACME_VALIDATOR_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TC_VDNS_MAX_SERVERS 3
#define TC_VDNS_MAX_RRS 16       /* answers kept per question; more are ignored */
#define TC_VDNS_MAX_CNAMES 8     /* CNAME hops followed */

struct tc_vdns_servers {
	struct sockaddr_storage addr[TC_VDNS_MAX_SERVERS];
	socklen_t addr_len[TC_VDNS_MAX_SERVERS];
	int n;
};

/* resolver "system": the nameservers of resolv_conf (normally
 * /etc/resolv.conf; port 53, the first three); else "host:port" or
 * "[v6]:port" with a numeric host. Read once at start, so the sandboxed
 * process needs no file for lookups. 0, or -1 with why. */
int tc_vdns_servers_init(const char *resolver, const char *resolv_conf, struct tc_vdns_servers *out, char *why,
			 size_t whylen);

enum tc_vdns_status {
	TC_VDNS_OK = 0,       /* ans holds >= 1 record of the type */
	TC_VDNS_NODATA,       /* the name exists without records of the type */
	TC_VDNS_NXDOMAIN,
	TC_VDNS_SERVFAIL,     /* SERVFAIL, REFUSED, other rcodes, malformed answers */
	TC_VDNS_TIMEOUT,      /* no usable answer before the deadline */
};

struct tc_vdns_answer {
	int n;
	struct {
		uint8_t data[512];   /* A: 4 bytes, AAAA: 16, TXT: the character-strings joined */
		size_t len;
	} rr[TC_VDNS_MAX_RRS];
};

/* Looks up name (presentation text, no trailing dot needed) with qtype,
 * following CNAMEs, until deadline_ms (CLOCK_MONOTONIC milliseconds).
 * why describes any status other than TC_VDNS_OK. */
enum tc_vdns_status tc_vdns_lookup(const struct tc_vdns_servers *s, const char *name, uint16_t qtype,
				   int64_t deadline_ms, struct tc_vdns_answer *ans, char *why, size_t whylen);

/* Reads a response to the question (id, qname wire form, qtype): the
 * records of qtype owned by qname or by the CNAME chain from it inside the
 * answer section. When the chain leaves the answer without data, *next gets
 * the last target (next_len > 0) so the caller asks again. Returns 0 with
 * *rcode set, or -1 when the message is malformed or not an answer to that
 * question (why). Exposed for the fuzz target. */
int tc_vdns_read_response(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *qname, size_t qname_len,
			  uint16_t qtype, struct tc_vdns_answer *ans, uint8_t next[255], size_t *next_len,
			  int *rcode, char *why, size_t whylen);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t tc_vnow_ms(void);

#endif
