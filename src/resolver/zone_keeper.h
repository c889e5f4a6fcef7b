/* Keeps the served zone current: builds it from the configuration plus the
 * TLSA records of our certificates, signs it with the HSM zone key
 * (through the signer), and replaces it (zone_live) when
 *  - the signatures pass half their validity (inception now - 1 h,
 *    expiration now + 7 days, so a re-sign every ~3.5 days),
 *  - ca/intermediate.pem or dns/doq_cert.pem changes (checked every 2 s),
 *  - signing failed and is retried (every 10 s; every 60 s while the zone
 *    key is not provisioned).
 * The first zone is built and signed before start returns, so the first
 * answer is already signed. When signing fails at start the zone is served
 * unsigned (and retried); a later failure keeps the last signed zone. */
#ifndef TC_RESOLVER_ZONE_KEEPER_H
#define TC_RESOLVER_ZONE_KEEPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/zone_live.h"

struct tc_child;
struct tc_config;
struct tc_zone_keeper;

/* -1 with err only when the configured zone cannot be built at all. */
int tc_zone_keeper_start(struct tc_child *child, const struct tc_config *cfg,
			 struct tc_zone_keeper **out, char *err, size_t errlen);
struct tc_zone_live *tc_zone_keeper_live(struct tc_zone_keeper *k);
/* One line about the current zone ("signed, key tag 12345, 27 RRSIGs"). */
void tc_zone_keeper_describe(struct tc_zone_keeper *k, char *out, size_t outlen);
/* True while the served zone is signed. */
bool tc_zone_keeper_signed(struct tc_zone_keeper *k);
/* Called (on the keeper's thread, or at once from here with the serial
 * served now) with the new SOA serial each time a new zone is published,
 * e.g. to NOTIFY the secondaries. Serials only grow: each zone gets
 * max(now, previous + 1). */
typedef void (*tc_zone_change_fn)(void *arg, uint32_t serial);
void tc_zone_keeper_on_change(struct tc_zone_keeper *k, tc_zone_change_fn fn, void *arg);
struct tc_update;
/* Applies a dynamic update (RFC 2136) whose TSIG and policy were checked:
 * its prerequisites against the zone served now, then (the update section
 * not empty) the changes appended to the zone journal and synced, and the
 * zone rebuilt, serial bumped and signed before this returns. Updates are
 * serialised. Returns the RCODE (0, YXDOMAIN, NXRRSET, ..., SERVFAIL when
 * the journal cannot be written). */
uint16_t tc_zone_keeper_update(struct tc_zone_keeper *k, const struct tc_update *u);
/* The deltas between the zones published since start (ixfr_log.h), for
 * IXFR answers. */
struct tc_ixfr_log *tc_zone_keeper_ixfr(struct tc_zone_keeper *k);
/* SIGHUP: rebuilds, signs and serves the zone from fresh (a newly read
 * configuration: dns.records, dns.zone_file, everything the zone is built
 * from; server.data_dir stays), at once, with the journaled updates applied
 * over it as at start. The listeners and their connections are untouched.
 * -1 with err when the new configuration does not build a zone: the
 * previous configuration and zone stay. */
int tc_zone_keeper_reload(struct tc_zone_keeper *k, const struct tc_config *fresh, char *err,
			  size_t errlen);
/* Asks for a rebuild at the next check. */
void tc_zone_keeper_poke(struct tc_zone_keeper *k);
/* Stops the thread and frees the zones: call after the listeners stopped. */
void tc_zone_keeper_stop(struct tc_zone_keeper *k);

#endif
