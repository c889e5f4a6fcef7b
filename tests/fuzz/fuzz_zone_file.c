/* Fuzz target: bytes as a master file for trust.hypermesh.online. Loading
 * either succeeds or fails with a "source:line: " error, never crashes; a
 * loaded zone answers lookups of its own names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_zone *zone = NULL;
	char err[512];
	if (tc_zone_new("trust.hypermesh.online", &zone, err, sizeof(err)) != 0)
		abort();
	err[0] = '\0';
	int rc = tc_zone_load_text(zone, (const char *)data, size, "fuzz", err, sizeof(err));
	if (rc != 0 && strncmp(err, "fuzz:", 5) != 0)
		abort();
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	struct tc_zone_match m;
	if (tc_zone_lookup(zone, origin, olen, 1, &m) == TC_ZONE_OUT_OF_ZONE)
		abort();
	(void)tc_zone_negative_ttl(zone);
	tc_zone_free(zone);
	return 0;
}
