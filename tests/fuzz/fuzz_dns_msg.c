/* Fuzz target: any bytes as a DNS query -> the answer function, over every
 * transport. A reply must itself be a well-formed message within the size
 * the transport allows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "resolver/answer.h"
#include "resolver/zone.h"

static struct tc_zone *fuzz_zone(void)
{
	static struct tc_zone *zone;
	if (zone)
		return zone;
	struct tc_config cfg;
	char err[256];
	tc_config_defaults(&cfg, true);
	if (tc_zone_from_config(&cfg, &zone, err, sizeof(err)) != 0)
		abort();
	static const char extra[] =
		"www 300 CNAME ca\nmail 300 MX 10 mx1\nmx1 300 A 192.0.2.25\n"
		"_dns._udp 300 SRV 0 5 853 dns\nsub 300 NS ns1.sub\nns1.sub 300 A 192.0.2.53\n"
		"a.b.c 300 TXT \"deep\"\nloop 300 CNAME loop\n";
	if (tc_zone_load_text(zone, extra, sizeof(extra) - 1, "fuzz", err, sizeof(err)) != 0)
		abort();
	return zone;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65535];
	const struct tc_zone *zone = fuzz_zone();
	static const enum tc_dns_transport transports[] = {TC_DNS_TRANSPORT_UDP, TC_DNS_TRANSPORT_TCP,
							   TC_DNS_TRANSPORT_DOQ};
	for (size_t t = 0; t < 3; t++) {
		struct tc_dns_answer_opts o = {transports[t], 0, 0, 0};
		size_t len = 0;
		struct tc_dns_answer_info info;
		enum tc_dns_answer_status st = tc_dns_answer(zone, data, size, &o, out, sizeof(out), &len, &info);
		if (st == TC_DNS_ANSWER_DROP || st == TC_DNS_ANSWER_DOQ_PROTOCOL_ERROR) {
			if (len != 0)
				abort();
			continue;
		}
		struct tc_dns_msg m;
		if (len < 12 || tc_dns_parse(out, len, &m) != TC_DNS_OK || !(m.flags & TC_DNS_FLAG_QR))
			abort();
		if (transports[t] == TC_DNS_TRANSPORT_UDP && len > TC_DNS_UDP_MAX)
			abort();
		if (transports[t] != TC_DNS_TRANSPORT_UDP && (m.flags & TC_DNS_FLAG_TC))
			abort();
		if (m.id != tc_dns_get16(data))
			abort();
	}
	return 0;
}
