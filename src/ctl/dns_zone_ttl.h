/* The largest TTL of the zone as the resolver would serve it now, for
 * `dns-roll start`: a rollover removes a key once every signature it made
 * has left the caches, which takes as long as the longest TTL in the zone
 * (RFC 7583 §3.3, "max TTL"); a dns.rollover.max_ttl below it would remove
 * the key while caches still hold RRsets signed by it, and validators
 * would see them bogus. */
#ifndef TC_CTL_DNS_ZONE_TTL_H
#define TC_CTL_DNS_ZONE_TTL_H

#include <stddef.h>
#include <stdint.h>

struct tc_config;

/* The zone of cfg (generated records at dns.default_ttl/dns.address_ttl,
 * dns.zone_file, dns.records, the TLSA records of the certificates in the
 * data dir, the journaled dynamic updates in <data_dir>/dns/zone.journal,
 * read without changing it) and the DNSKEY RRset at dns.dnskey_ttl: the
 * largest TTL into *max and what carries it ("www.example. TXT", or
 * "DNSKEY (dns.dnskey_ttl)") into what. 0, or -1 with err when the zone
 * cannot be built or the journal read. */
int tc_ctl_zone_max_ttl(const struct tc_config *cfg, uint32_t *max, char *what, size_t wl, char *err,
			size_t errlen);

#endif
