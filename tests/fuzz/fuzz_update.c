/* RFC 2136 UPDATE and zone journal parsing on arbitrary input: the UPDATE
 * reader (zone section, prerequisites, prescan, RDATA decompression), the
 * policy check and prerequisites against a small zone, the encoding of
 * the changes and their application to a zone being built; and the zone
 * journal's record scanner, whose payloads are applied too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "resolver/update.h"
#include "resolver/zone.h"
#include "resolver/zone_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tc_zone *fresh_zone(void)
{
	static struct tc_config cfg;
	static int ready;
	if (!ready) {
		tc_config_defaults(&cfg, true);
		ready = 1;
	}
	struct tc_zone *z = NULL;
	char err[256];
	if (tc_zone_from_config(&cfg, &z, err, sizeof(err)) != 0)
		__builtin_trap();
	static const char extra[] = "_acme-challenge.www 60 TXT \"a\"\nalias 60 CNAME ca\n";
	if (tc_zone_load_text(z, extra, sizeof(extra) - 1, "fuzz", err, sizeof(err)) != 0)
		__builtin_trap();
	return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_update u;
	static struct tc_update_policy policy;
	static struct tc_tsig_key key;
	static uint8_t ops[1 << 17];
	char err[256];
	struct tc_zone *zone = fresh_zone();
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);

	uint16_t rcode = tc_update_parse(data, size, origin, olen, &u);
	if (rcode == 0) {
		tc_update_check_prereqs(zone, &u);
		policy.ngrants = 1;
		policy.grants[0] = (struct tc_update_grant){.key = &key, .nnames = 2, .ntypes = 2,
							   .types = {16, 5}};
		strcpy(policy.grants[0].names[0], "_acme-challenge.*");
		strcpy(policy.grants[0].names[1], "*.www");
		tc_update_allowed(&policy, &key, origin, olen, &u);
		size_t n = tc_update_encode(&u, ops, sizeof(ops));
		if (n && tc_update_apply(zone, ops, n, err, sizeof(err)) != 0)
			__builtin_trap();   /* our own encoding must always apply */
	}
	/* The journal reader: whatever prefix checks is applied. */
	size_t plen = 0, records = 0;
	uint8_t *payloads = malloc(size ? size : 1);
	if (!payloads)
		return 0;
	size_t good = tc_zone_journal_scan(data, size, payloads, size, &plen, &records);
	if (good > size || plen > size)
		__builtin_trap();
	tc_update_apply(zone, payloads, plen, err, sizeof(err));
	struct tc_zone *copy = NULL;
	if (tc_update_copy_records(zone, &copy, err, sizeof(err)) == 0)
		tc_zone_free(copy);
	free(payloads);
	tc_zone_free(zone);
	return 0;
}
