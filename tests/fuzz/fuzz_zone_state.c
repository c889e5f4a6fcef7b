/* The resolver's restart state (src/resolver/zone_state.c) on arbitrary
 * bytes: the input as a whole file, and the input as a payload under a
 * valid header (the SHA-256 matches, so the layout, the zone records, the
 * signatures and the IXFR chain are what is tried). Anything accepted must
 * have a SOA, load its chain into a log whole or not at all, and survive a
 * save and a second parse with the same serial and record count. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/dns_wire.h"
#include "resolver/ixfr_log.h"
#include "resolver/zone_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "trust.hypermesh.online"

/* Encoded and parsed again in memory: what tc_zone_state_save writes
 * (a file per input ran at ~290 inputs/s, fsync bound). */
static void round_trip(const struct tc_zone_state *st)
{
	uint8_t *bytes;
	size_t len;
	char err[256];
	if (tc_zone_state_encode(st, &bytes, &len, err, sizeof(err)) != 0)
		return; /* too large is a refusal, not a defect */
	struct tc_zone_state again;
	if (tc_zone_state_parse(bytes, len, ORIGIN, &again, err, sizeof(err)) != 0 ||
	    tc_zone_serial(again.zone) != tc_zone_serial(st->zone) ||
	    tc_zone_rr_count(again.zone) != tc_zone_rr_count(st->zone) || again.chain_len != st->chain_len)
		__builtin_trap();
	tc_zone_state_clear(&again);
	free(bytes);
}

static void try_parse(const uint8_t *buf, size_t len)
{
	struct tc_zone_state st;
	char err[256];
	if (tc_zone_state_parse(buf, len, ORIGIN, &st, err, sizeof(err)) != 0)
		return;
	if (!tc_zone_soa(st.zone))
		__builtin_trap();
	struct tc_ixfr_log *log = tc_ixfr_log_new(1u << 20);
	if (log && tc_ixfr_log_load(log, st.chain, st.chain_len) != 0) {
		uint8_t *all = NULL;
		size_t n = 0;
		if (tc_ixfr_log_all(log, &all, &n) != 0 || n != 0)
			__builtin_trap(); /* a refused chain leaves the log empty */
		free(all);
	}
	tc_ixfr_log_free(log);
	round_trip(&st);
	tc_zone_state_clear(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	try_parse(data, size);
	uint8_t *file = malloc(48 + size);
	if (!file)
		return 0;
	memcpy(file, "TCZS", 4);
	tc_dns_put32(file + 4, 1);
	tc_dns_put32(file + 8, (uint32_t)((uint64_t)size >> 32));
	tc_dns_put32(file + 12, (uint32_t)size);
	unsigned int n = 0;
	if (size)
		memcpy(file + 48, data, size);
	if (EVP_Digest(file + 48, size, file + 16, &n, EVP_sha256(), NULL) == 1)
		try_parse(file, 48 + size);
	free(file);
	return 0;
}
