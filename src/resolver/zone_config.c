/* The bootstrap zone generated from trustchain.yaml.
 *
 * Choices (all overridable by a zone file SOA or extra records):
 *  - SOA: mname dns.<domain>, rname hostmaster.<domain>, serial = the UNIX
 *    time the zone was built (every reload gets a larger serial in RFC 1982
 *    arithmetic until 2106 without any state on disk), refresh 3600,
 *    retry 600, expire 1209600 (two weeks), minimum 300: negative answers
 *    are cached briefly because certificate-related names come and go.
 *    SOA TTL dns.default_ttl (3600).
 *  - NS dns.<domain>, TTL dns.default_ttl.
 *  - A / AAAA for the apex, ca., ct. and dns. from dns.addresses, TTL
 *    dns.address_ttl (300) (an entry that is neither IPv4 nor IPv6 is a
 *    configuration error).
 *  - TXT at the apex naming the CA ("TrustChain CA: <ca.organization>"),
 *    CAA 0 issue "<domain>" at the apex (only this CA issues for the zone),
 *    TTL dns.default_ttl.
 * Then the zone file (dns.zone_file) is loaded, then dns.records, each
 * entry read as one master-file line with the zone apex as origin. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/zone.h"
#include "common/errorf.h"

/* A configuration made without tc_config defaults (0) gets these. */
#define DEFAULT_TTL 3600 /* SOA, NS, apex TXT and CAA (dns.default_ttl) */
#define SOA_REFRESH 3600
#define SOA_RETRY 600
#define SOA_EXPIRE 1209600
#define SOA_MINIMUM 300
#define ADDR_TTL 300

/* "<label>.<origin>" in wire form; label NULL gives the origin itself. */
static size_t child_name(const uint8_t *origin, size_t olen, const char *label, uint8_t *out)
{
	if (!label) {
		memcpy(out, origin, olen);
		return olen;
	}
	size_t l = strlen(label);
	if (l == 0 || l > TC_DNS_MAX_LABEL || l + 1 + olen > TC_DNS_MAX_NAME)
		return 0;
	out[0] = (uint8_t)l;
	memcpy(out + 1, label, l);
	memcpy(out + 1 + l, origin, olen);
	return 1 + l + olen;
}

static int add_generated(struct tc_zone *zone, const struct tc_config *cfg, char *err,
			 size_t errlen)
{
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	uint8_t dns[TC_DNS_MAX_NAME], hostmaster[TC_DNS_MAX_NAME], name[TC_DNS_MAX_NAME];
	uint8_t rd[1024];
	size_t dlen = child_name(origin, olen, "dns", dns);
	size_t hlen = child_name(origin, olen, "hostmaster", hostmaster);
	if (!dlen || !hlen)
		return tc_errorf(err, errlen, "bootstrap.domain: too long for the generated names");

	struct tc_dns_soa soa = {.mname = dns, .mname_len = dlen, .rname = hostmaster,
				 .rname_len = hlen, .serial = (uint32_t)time(NULL),
				 .refresh = SOA_REFRESH, .retry = SOA_RETRY, .expire = SOA_EXPIRE,
				 .minimum = SOA_MINIMUM};
	uint32_t ttl = cfg->dns.default_ttl ? cfg->dns.default_ttl : DEFAULT_TTL;
	uint32_t addr_ttl = cfg->dns.address_ttl ? cfg->dns.address_ttl : ADDR_TTL;
	size_t n = tc_dns_rdata_soa(rd, sizeof(rd), &soa);
	if (tc_zone_add_rr(zone, origin, olen, TC_DNS_TYPE_SOA, ttl, rd, n, err, errlen) != 0 ||
	    tc_zone_add_rr(zone, origin, olen, TC_DNS_TYPE_NS, ttl, dns, dlen, err, errlen) != 0)
		return -1;

	static const char *const hosts[] = {NULL, "ca", "ct", "dns"};
	for (size_t i = 0; i < cfg->dns.addresses.count; i++) {
		const char *a = cfg->dns.addresses.items[i];
		uint8_t addr[16];
		uint16_t type;
		size_t alen;
		if (inet_pton(AF_INET, a, addr) == 1) {
			type = TC_DNS_TYPE_A;
			alen = 4;
		} else if (inet_pton(AF_INET6, a, addr) == 1) {
			type = TC_DNS_TYPE_AAAA;
			alen = 16;
		} else {
			return tc_errorf(err, errlen, "dns.addresses: '%s' is neither IPv4 nor IPv6", a);
		}
		for (size_t h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
			size_t nlen = child_name(origin, olen, hosts[h], name);
			if (!nlen)
				return tc_errorf(err, errlen, "bootstrap.domain: too long");
			if (tc_zone_add_rr(zone, name, nlen, type, addr_ttl, addr, alen, err, errlen) != 0)
				return -1;
		}
	}

	char text[TC_CFG_STR + 32];
	int tl = snprintf(text, sizeof(text), "TrustChain CA: %s", cfg->ca.organization);
	n = tc_dns_rdata_txt(rd, sizeof(rd), (const uint8_t *)text, (size_t)tl);
	if (!n || tc_zone_add_rr(zone, origin, olen, TC_DNS_TYPE_TXT, ttl, rd, n, err, errlen) != 0)
		return -1;

	n = tc_dns_rdata_caa(rd, sizeof(rd), 0, "issue", (const uint8_t *)cfg->bootstrap.domain,
			     strlen(cfg->bootstrap.domain));
	if (!n || tc_zone_add_rr(zone, origin, olen, TC_DNS_TYPE_CAA, ttl, rd, n, err, errlen) != 0)
		return -1;
	return 0;
}

static int add_config_records(struct tc_zone *zone, const struct tc_config *cfg, char *err,
			      size_t errlen)
{
	for (size_t i = 0; i < cfg->dns.record_count && i < TC_CFG_MAX_LIST; i++) {
		const struct tc_dns_record_cfg *r = &cfg->dns.records[i];
		char line[3 * TC_CFG_STR + 64];
		char source[32];
		if (strpbrk(r->name, "\r\n") || strpbrk(r->rdata, "\r\n") || strpbrk(r->type, "\r\n"))
			return tc_errorf(err, errlen, "dns.records[%zu]: line break inside the entry", i);
		int n = snprintf(line, sizeof(line), "%s %u IN %s %s\n", r->name, r->ttl, r->type,
				 r->rdata);
		if (n < 0 || (size_t)n >= sizeof(line))
			return tc_errorf(err, errlen, "dns.records[%zu]: entry too long", i);
		snprintf(source, sizeof(source), "dns.records[%zu]", i);
		if (tc_zone_load_text(zone, line, (size_t)n, source, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int tc_zone_from_config(const struct tc_config *cfg, struct tc_zone **out, char *err,
			size_t errlen)
{
	struct tc_zone *zone;
	char zerr[512];
	*out = NULL;
	if (tc_zone_new(cfg->bootstrap.domain, &zone, zerr, sizeof(zerr)) != 0)
		return tc_errorf(err, errlen, "bootstrap.domain: %s", zerr);
	if (add_generated(zone, cfg, err, errlen) != 0 ||
	    (cfg->dns.zone_file[0] && tc_zone_load_file(zone, cfg->dns.zone_file, err, errlen) != 0) ||
	    add_config_records(zone, cfg, err, errlen) != 0) {
		tc_zone_free(zone);
		return -1;
	}
	*out = zone;
	return 0;
}
