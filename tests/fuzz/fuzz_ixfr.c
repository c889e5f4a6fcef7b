/* The IXFR delta log (src/resolver/ixfr_log.c) on arbitrary bytes:
 *  - the delta reader (tc_ixfr_check): anything it accepts goes into a log,
 *    comes back byte for byte as the chain between its serials, and is
 *    sent as an IXFR answer whose every message parses;
 *  - the differ: the input applied as update changes to a zone, the delta
 *    between the two zones is always accepted by the reader (our own
 *    encoding must always check). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "resolver/dns_build.h"
#include "resolver/ixfr_log.h"
#include "resolver/update.h"
#include "resolver/xfr.h"
#include "resolver/zone.h"

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
	return z;
}

static int check_message(void *arg, const uint8_t *msg, size_t len)
{
	struct tc_dns_msg m;
	(*(unsigned *)arg)++;
	if (len > TC_XFR_MSG_MAX || tc_dns_parse(msg, len, &m) != TC_DNS_OK)
		__builtin_trap();
	return 0;
}

static void answer_ixfr(struct tc_zone *zone, struct tc_ixfr_log *log, uint32_t from, uint32_t to)
{
	uint8_t q[512];
	struct tc_dns_builder b;
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	const struct tc_zone_rr *soa = tc_zone_soa(zone);
	tc_dns_build_init(&b, q, sizeof(q));
	if (tc_zone_set_serial(zone, from) != 0 || tc_dns_build_header(&b, 1, 0) != 0 ||
	    tc_dns_build_question(&b, origin, olen, TC_DNS_TYPE_IXFR, TC_DNS_CLASS_IN) != 0 ||
	    tc_dns_put_rr(&b, TC_DNS_SEC_AUTHORITY, origin, olen, TC_DNS_TYPE_SOA, TC_DNS_CLASS_IN,
			  soa->ttl, soa->rdata, soa->rdlen) != 0)
		__builtin_trap();
	size_t qlen = tc_dns_build_finish(&b);
	unsigned sent = 0;
	if (tc_zone_set_serial(zone, to) != 0 ||
	    tc_xfr_answer_from(zone, log, q, qlen, NULL, 0, check_message, &sent) != 0 || sent == 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	uint32_t from, to;
	size_t nd;
	if (tc_ixfr_check(data, size, &from, &to, &nd) == 0) {
		struct tc_ixfr_log *log = tc_ixfr_log_new(1 << 20);
		uint8_t *chain = NULL;
		size_t clen = 0;
		/* One delta at a time, as the keeper appends them. */
		if (!log)
			return 0;
		if (nd == 1 && size <= (1 << 20)) {
			if (tc_ixfr_log_append(log, data, size) != 0)
				__builtin_trap();
			if (from != to) {
				if (tc_ixfr_log_chain(log, from, to, &chain, &clen) != 0 || clen != size ||
				    memcmp(chain, data, size) != 0)
					__builtin_trap();
				struct tc_zone *zone = fresh_zone();
				answer_ixfr(zone, log, from, to);
				tc_zone_free(zone);
			}
			free(chain);
		}
		tc_ixfr_log_free(log);
	}
	/* The differ against the input applied as changes. */
	struct tc_zone *a = fresh_zone(), *b = fresh_zone();
	tc_update_apply(b, data, size, err, sizeof(err));
	tc_zone_set_serial(b, tc_zone_serial(a) + 1);
	uint8_t *delta = NULL;
	size_t dlen = 0;
	if (tc_ixfr_diff(a, b, &delta, &dlen) == 0 &&
	    (tc_ixfr_check(delta, dlen, &from, &to, &nd) != 0 || nd != 1 ||
	     to != tc_zone_serial(b)))
		__builtin_trap();
	free(delta);
	tc_zone_free(a);
	tc_zone_free(b);
	return 0;
}
