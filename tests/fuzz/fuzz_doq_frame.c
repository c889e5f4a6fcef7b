/* Fuzz target: bytes of one DoQ stream -> frame parser -> answer -> framed
 * response. The parser must only accept an exact, ID-0 frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "resolver/answer.h"
#include "resolver/doq.h"
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
	static uint8_t out[65537];
	for (int fin = 0; fin < 2; fin++) {
		const uint8_t *msg;
		size_t mlen;
		enum tc_doq_result r = tc_doq_frame_parse(data, size, fin, &msg, &mlen);
		if (r != TC_DOQ_FRAME_OK) {
			if (r == TC_DOQ_FRAME_INCOMPLETE && fin)
				abort();
			continue;
		}
		if (mlen + 2 != size || msg != data + 2 || mlen < 12 || msg[0] || msg[1])
			abort();
		struct tc_dns_answer_opts o = {TC_DNS_TRANSPORT_DOQ, 0, 0, 0};
		size_t olen = 0, flen;
		if (tc_dns_answer(fuzz_zone(), msg, mlen, &o, out + 2, sizeof(out) - 2, &olen, NULL) !=
		    TC_DNS_ANSWER_REPLY)
			continue;
		if (tc_doq_frame_response(out + 2, olen, out, sizeof(out), &flen) != 0)
			abort();
		const uint8_t *back;
		size_t blen;
		if (tc_doq_frame_parse(out, flen, true, &back, &blen) != TC_DOQ_FRAME_OK || blen != olen)
			abort();
	}
	return 0;
}
