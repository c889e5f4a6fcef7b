/* Fuzz target: the dig-style printer of trustchainctl (src/ctl/dns_print.c)
 * reads whatever a server sent. Each input is printed as a response as it
 * is, and the zone's answer to it (when it is a query) is printed too, so
 * well-formed responses with every record type are covered as well. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config.h"
#include "ctl/dns_print.h"
#include "resolver/answer.h"
#include "resolver/zone.h"

static struct tc_zone *fuzz_zone(void)
{
	static struct tc_zone *zone;
	struct tc_config cfg;
	char err[256];
	if (zone)
		return zone;
	tc_config_defaults(&cfg, true);
	if (tc_zone_from_config(&cfg, &zone, err, sizeof(err)) != 0)
		abort();
	return zone;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	static uint8_t out[65535];
	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	tc_dns_print_message(sink, data, size);
	struct tc_dns_answer_opts opts = {.transport = TC_DNS_TRANSPORT_TCP};
	size_t outlen = 0;
	enum tc_dns_answer_status st =
		tc_dns_answer(fuzz_zone(), data, size, &opts, out, sizeof(out), &outlen, NULL);
	if (st == TC_DNS_ANSWER_REPLY || st == TC_DNS_ANSWER_NOT_OURS) {
		if (tc_dns_print_message(sink, out, outlen) != 0)
			abort();   /* our own answers must always print */
	}
	return 0;
}
