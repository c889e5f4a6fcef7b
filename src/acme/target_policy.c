#include "acme/target_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* addr[0..bits) equals prefix[0..bits). */
static int in_prefix(const uint8_t *addr, const uint8_t *prefix, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(addr, prefix, bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (addr[bytes] & mask) == (prefix[bytes] & mask);
}

struct range {
	uint8_t prefix[16];
	unsigned bits;
	enum tc_target_class cls;
};

/* IANA IPv4 Special-Purpose Address Registry, the parts that matter for an
 * outbound connection. Checked in order; the first match wins. */
static const struct range v4_ranges[] = {
	{{0, 0, 0, 0}, 32, TC_TARGET_NEVER},             /* unspecified */
	{{255, 255, 255, 255}, 32, TC_TARGET_NEVER},     /* limited broadcast */
	{{224}, 4, TC_TARGET_NEVER},                     /* multicast */
	{{127}, 8, TC_TARGET_LOOPBACK},
	{{10}, 8, TC_TARGET_PRIVATE},
	{{172, 16}, 12, TC_TARGET_PRIVATE},
	{{192, 168}, 16, TC_TARGET_PRIVATE},
	{{169, 254}, 16, TC_TARGET_PRIVATE},             /* link-local */
	{{100, 64}, 10, TC_TARGET_PRIVATE},              /* CGNAT, RFC 6598 */
	{{0}, 8, TC_TARGET_RESERVED},                    /* "this network" */
	{{192, 0, 0}, 24, TC_TARGET_RESERVED},           /* IETF protocol assignments */
	{{192, 0, 2}, 24, TC_TARGET_RESERVED},           /* TEST-NET-1 */
	{{198, 51, 100}, 24, TC_TARGET_RESERVED},        /* TEST-NET-2 */
	{{203, 0, 113}, 24, TC_TARGET_RESERVED},         /* TEST-NET-3 */
	{{198, 18}, 15, TC_TARGET_RESERVED},             /* benchmarking */
	{{192, 88, 99}, 24, TC_TARGET_RESERVED},         /* 6to4 relay anycast (deprecated) */
	{{240}, 4, TC_TARGET_RESERVED},                  /* future use */
};

static const struct range v6_ranges[] = {
	{{0}, 128, TC_TARGET_NEVER},                                  /* :: */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, TC_TARGET_LOOPBACK},
	{{0xff}, 8, TC_TARGET_NEVER},                                 /* multicast */
	{{0xfc}, 7, TC_TARGET_PRIVATE},                               /* ULA */
	{{0xfe, 0x80}, 10, TC_TARGET_PRIVATE},                        /* link-local */
	{{0xfe, 0xc0}, 10, TC_TARGET_PRIVATE},                        /* site-local (deprecated) */
	{{0, 0x64, 0xff, 0x9b, 0, 1}, 48, TC_TARGET_PRIVATE},         /* local-use NAT64, RFC 8215 */
	{{0x20, 0x01, 0x0d, 0xb8}, 32, TC_TARGET_RESERVED},           /* documentation */
	{{0x3f, 0xff}, 20, TC_TARGET_RESERVED},                       /* documentation, RFC 9637 */
	{{0x20, 0x01}, 23, TC_TARGET_RESERVED},                       /* IETF protocol assignments, Teredo */
	{{0x20, 0x02}, 16, TC_TARGET_RESERVED},                       /* 6to4 */
	{{0x01}, 64, TC_TARGET_RESERVED},                             /* discard-only 100::/64 */
};

static enum tc_target_class match(const struct range *r, size_t n, const uint8_t *addr, enum tc_target_class dflt)
{
	for (size_t i = 0; i < n; i++)
		if (in_prefix(addr, r[i].prefix, r[i].bits))
			return r[i].cls;
	return dflt;
}

enum tc_target_class tc_target_classify(int family, const uint8_t *addr)
{
	if (family == AF_INET)
		return match(v4_ranges, sizeof(v4_ranges) / sizeof(v4_ranges[0]), addr, TC_TARGET_PUBLIC);
	if (family != AF_INET6)
		return TC_TARGET_NEVER;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	/* The packet goes to the IPv4 address these carry: judge that one. */
	if (memcmp(addr, mapped, 12) == 0 || memcmp(addr, nat64, 12) == 0)
		return tc_target_classify(AF_INET, addr + 12);
	enum tc_target_class c = match(v6_ranges, sizeof(v6_ranges) / sizeof(v6_ranges[0]), addr, TC_TARGET_PUBLIC);
	/* Only 2000::/3 is allocated as global unicast; the rest (including the
	 * deprecated IPv4-compatible ::/96) is nobody's public web server. */
	if (c == TC_TARGET_PUBLIC && (addr[0] & 0xe0) != 0x20)
		c = TC_TARGET_RESERVED;
	return c;
}

int tc_target_check(const struct tc_target_rules *r, int family, const uint8_t *addr, char *why, size_t whylen)
{
	char text[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, text, sizeof(text));
	switch (tc_target_classify(family, addr)) {
	case TC_TARGET_PUBLIC:
		return 0;
	case TC_TARGET_LOOPBACK:
		if (r->allow_loopback)
			return 0;
		snprintf(why, whylen, "%s is a loopback address (acme.validation.allow_loopback is off)", text);
		return -1;
	case TC_TARGET_PRIVATE:
		if (r->allow_private)
			return 0;
		snprintf(why, whylen, "%s is a private or link-local address (acme.validation.allow_private is off)",
			 text);
		return -1;
	case TC_TARGET_RESERVED:
		if (r->allow_private)
			return 0;
		snprintf(why, whylen, "%s is a reserved address (acme.validation.allow_private is off)", text);
		return -1;
	case TC_TARGET_NEVER:
		break;
	}
	snprintf(why, whylen, "%s is an unspecified, multicast or broadcast address", text);
	return -1;
}

int tc_target_check_sa(const struct tc_target_rules *r, const struct sockaddr *sa, char *why, size_t whylen)
{
	if (sa->sa_family == AF_INET)
		return tc_target_check(r, AF_INET, (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr, why,
				       whylen);
	if (sa->sa_family == AF_INET6)
		return tc_target_check(r, AF_INET6, (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr,
				       why, whylen);
	snprintf(why, whylen, "not an IP address");
	return -1;
}

int tc_target_check_text(const struct tc_target_rules *r, const char *text, char *why, size_t whylen)
{
	uint8_t addr[16];
	if (inet_pton(AF_INET, text, addr) == 1)
		return tc_target_check(r, AF_INET, addr, why, whylen);
	if (inet_pton(AF_INET6, text, addr) == 1)
		return tc_target_check(r, AF_INET6, addr, why, whylen);
	snprintf(why, whylen, "%.64s is not an IP address", text);
	return -1;
}
