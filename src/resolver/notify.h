/* NOTIFY (RFC 1996) to the secondaries of dns.secondaries: each time the
 * zone keeper publishes a new serial, every secondary is sent a NOTIFY
 * for the apex SOA over UDP, TSIG-signed with its key, and sent it again
 * (after 1, 2, 4, 8, 16 s) until it answers with a NOTIFY response of the
 * same ID. A newer serial replaces an older one still being retried. The
 * secondary then asks for the SOA and transfers (IXFR/AXFR over TCP). One
 * thread, one connected UDP socket per secondary. */
#ifndef TC_RESOLVER_NOTIFY_H
#define TC_RESOLVER_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "resolver/tsig_keys.h"

struct tc_config;
struct tc_notifier;

/* ring must hold every secondary's key and outlive the notifier. */
int tc_notifier_start(const struct tc_config *cfg, const struct tc_tsig_keyring *ring,
		      struct tc_notifier **out, char *err, size_t errlen);
/* tc_zone_change_fn: queue a NOTIFY of serial to every secondary. */
void tc_notifier_zone_changed(void *arg, uint32_t serial);
/* Counters: NOTIFYs sent, answered, given up. */
void tc_notifier_stats(struct tc_notifier *n, uint64_t *sent, uint64_t *answered,
		       uint64_t *given_up);
void tc_notifier_stop(struct tc_notifier *n);

#endif
