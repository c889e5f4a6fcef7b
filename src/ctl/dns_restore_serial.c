/* The zone serial after `trustchainctl restore` (see dns_restore_serial.h). */
#define _GNU_SOURCE
#include "ctl/dns_restore_serial.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resolver/serial_floor.h"

/* RFC 1982: a later than b. */
static int serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) > 0;
}

int tc_ctl_dns_restore_serial(const struct tc_config *cfg, const char *bundled, uint32_t *floor_out, char *err,
			      size_t errlen)
{
	char path[PATH_MAX], state[PATH_MAX], aside[PATH_MAX + 32];
	if (tc_config_data_path(cfg, "dns/zone.serial", path, sizeof(path)) != 0 ||
	    tc_config_data_path(cfg, "dns/zone.state", state, sizeof(state)) != 0) {
		snprintf(err, errlen, "data directory path too long");
		return -1;
	}
	uint32_t in_bundle = 0, here = 0;
	if (bundled && tc_serial_floor_read(bundled, &in_bundle, err, errlen) != 0)
		return -1;
	/* A reservation already in this data directory (a restore over an old
	 * server's directory) counts too; a malformed one is no floor. */
	char ignored[256];
	if (tc_serial_floor_read(path, &here, ignored, sizeof(ignored)) != 0)
		here = 0;
	/* The base: the latest of the backup's reservation, the one here and
	 * the clock (the live server went on with clock serials after the
	 * backup). */
	uint32_t base = (uint32_t)time(NULL);
	if (serial_gt(in_bundle, base))
		base = in_bundle;
	if (serial_gt(here, base))
		base = here;
	uint32_t floor = base + TC_SERIAL_RESTORE_JUMP;
	if (floor == 0)
		floor = 1; /* 0 means "no reservation" to the keeper */
	/* A saved zone (zone.state) here is not the backup's zone: the keeper
	 * would serve it and continue from its serial. Kept aside, not lost. */
	snprintf(aside, sizeof(aside), "%s.pre-restore-%ld", state, (long)time(NULL));
	if (rename(state, aside) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", state, strerror(errno));
		return -1;
	}
	if (tc_serial_floor_write(path, floor, err, errlen) != 0)
		return -1;
	*floor_out = floor;
	return 0;
}
