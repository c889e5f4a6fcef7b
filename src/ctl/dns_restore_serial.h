/* The zone serial after `trustchainctl restore`.
 *
 * A restored zone is the backup's zone plus nothing: the server that made
 * the backup may have gone on publishing serials up to its reservation
 * (data/dns/zone.serial, resolver/serial_floor.h) and beyond, and
 * secondaries hold them. If the restored server reused one of those
 * serials, a secondary would keep the zone it has (it sees nothing newer)
 * or apply IXFR deltas taken from another zone under the same serial. So a
 * restore records a reservation a quarter of the serial space above the
 * latest of: the backup's reservation, one already in the data directory,
 * and the clock. By RFC 1982 every serial from 2^30 below to 2^30 above
 * that base is older than the restored zone's, so secondaries anywhere in
 * that range take it (IXFR from a serial the restored server never made
 * falls back to AXFR). */
#ifndef TC_CTL_DNS_RESTORE_SERIAL_H
#define TC_CTL_DNS_RESTORE_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

#define TC_SERIAL_RESTORE_JUMP (1u << 30)

/* bundled: the verified dns/zone.serial member (NULL when the bundle has
 * none, as bundles from before it). Writes the new reservation durably
 * into the data directory, moves a saved zone state there aside, and
 * returns 0 with *floor_out, or -1 with err. */
int tc_ctl_dns_restore_serial(const struct tc_config *cfg, const char *bundled, uint32_t *floor_out, char *err,
			      size_t errlen);

#endif
