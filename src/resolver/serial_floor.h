/* The zone serial's floor across unclean stops. A clean stop saves the zone
 * it served (zone_state.h); after kill -9 or a power cut the next start
 * knows only the journal, which holds no serials, and a wall-clock serial
 * may then be at or below one already served (serials run ahead of the
 * clock when several builds fall in one second). A secondary holding that
 * serial would keep a stale zone (it sees nothing newer) or apply deltas
 * taken from a different zone under the same serial. So the keeper reserves
 * serials ahead in a small file, <data_dir>/dns/zone.serial (synced, renamed
 * into place), once per TC_SERIAL_RESERVE serials, and a start without a
 * saved state continues above the reservation. */
#ifndef TC_RESOLVER_SERIAL_FLOOR_H
#define TC_RESOLVER_SERIAL_FLOOR_H

#include <stddef.h>
#include <stdint.h>

/* Serials reserved by one write: at most this jump after a crash. */
#define TC_SERIAL_RESERVE 1024u

/* The reserved serial in path: 0 with *out = 0 when there is no file, 0
 * with the value, or -1 with err when the file is unreadable or malformed
 * (the caller then starts from the wall clock, as before reservations). */
int tc_serial_floor_read(const char *path, uint32_t *out, char *err, size_t errlen);

/* Records value durably (temporary file, fdatasync, rename, directory
 * sync). 0, or -1 with err. */
int tc_serial_floor_write(const char *path, uint32_t value, char *err, size_t errlen);

#endif
