/* Block-length padding of responses: see edns_padding.h. */
#include "resolver/edns_padding.h"

#include <string.h>

#include "resolver/dns_wire.h"

#define OPTION_HEAD 4   /* option code + option length */

/* Finds the OPT record: the offset of its RDLENGTH field and of the end of
 * its RDATA. 0 when found, -1 when absent or the message is unreadable. */
static int find_opt(const uint8_t *msg, size_t len, size_t *rdlen_at, size_t *rdata_end)
{
	struct tc_dns_msg m;
	if (tc_dns_parse(msg, len, &m) != TC_DNS_OK || !m.has_edns || m.edns_padding)
		return -1;
	size_t pos;
	if (tc_dns_skip_questions(msg, len, &pos) != TC_DNS_OK)
		return -1;
	size_t nrr = (size_t)m.ancount + m.nscount + m.arcount;
	struct tc_dns_rr rr;
	for (size_t i = 0; i < nrr; i++) {
		if (tc_dns_read_rr(msg, len, &pos, &rr) != TC_DNS_OK)
			return -1;
		if (rr.type == TC_DNS_TYPE_OPT) {
			*rdlen_at = rr.rdata_off - 2;
			*rdata_end = rr.rdata_off + rr.rdlen;
			return 0;
		}
	}
	return -1;
}

size_t tc_dns_pad_response(uint8_t *msg, size_t len, size_t cap, size_t block)
{
	size_t rdlen_at, rdata_end;
	if (block == 0 || find_opt(msg, len, &rdlen_at, &rdata_end) != 0)
		return len;
	size_t bare = len + OPTION_HEAD;
	size_t pad = (block - bare % block) % block;
	size_t padded = bare + pad;
	if (padded > cap || padded > TC_DNS_MAX_MSG)
		return len;
	/* The OPT is usually last, but a record may follow it: move it up. */
	memmove(msg + rdata_end + OPTION_HEAD + pad, msg + rdata_end, len - rdata_end);
	tc_dns_put16(msg + rdata_end, TC_DNS_EDNS_OPT_PADDING);
	tc_dns_put16(msg + rdata_end + 2, (uint16_t)pad);
	memset(msg + rdata_end + OPTION_HEAD, 0, pad);
	tc_dns_put16(msg + rdlen_at, (uint16_t)(tc_dns_get16(msg + rdlen_at) + OPTION_HEAD + pad));
	return padded;
}
