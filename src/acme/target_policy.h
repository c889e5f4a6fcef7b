/* Which addresses the validator may connect to (or accept as an ip
 * identifier). A public CA must not be turned into a probe of its own
 * network: loopback only when acme.validation.allow_loopback (dev), private,
 * link-local, ULA, CGNAT and reserved space only when
 * acme.validation.allow_private, and multicast, broadcast and unspecified
 * addresses never. IPv4-mapped and NAT64 (64:ff9b::/96) IPv6 addresses are
 * judged by the IPv4 address they carry. */
#ifndef TC_ACME_TARGET_POLICY_H
#define TC_ACME_TARGET_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct tc_target_rules {
	int allow_loopback;
	int allow_private;
};

enum tc_target_class {
	TC_TARGET_PUBLIC = 0,
	TC_TARGET_LOOPBACK,
	TC_TARGET_PRIVATE,   /* RFC 1918, link-local, ULA, CGNAT, site-local */
	TC_TARGET_RESERVED,  /* documentation, benchmarking, 240/4, unallocated IPv6 ... */
	TC_TARGET_NEVER,     /* unspecified, multicast, broadcast */
};

/* Classifies an address: family AF_INET (4 bytes) or AF_INET6 (16 bytes). */
enum tc_target_class tc_target_classify(int family, const uint8_t *addr);

/* 0 when the rules allow the address, else -1 with why naming the address,
 * its class and the setting that would allow it. */
int tc_target_check(const struct tc_target_rules *r, int family, const uint8_t *addr, char *why, size_t whylen);
/* The same for a socket address (sockaddr_in / sockaddr_in6). */
int tc_target_check_sa(const struct tc_target_rules *r, const struct sockaddr *sa, char *why, size_t whylen);
/* The same for an address in text (an ip identifier); -1 also when it is not one. */
int tc_target_check_text(const struct tc_target_rules *r, const char *text, char *why, size_t whylen);

#endif
