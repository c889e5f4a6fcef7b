/* The IXFR delta reader (resolver/ixfr_log.c tc_ixfr_check), the gate for
 * deltas replayed from the zone journal and served to secondaries: a delta
 * of the right shape is accepted; one carrying a meta type (OPT, TSIG,
 * type 0) is refused. fuzz_ixfr found an OPT record accepted and then
 * sent in an IXFR answer that did not parse (its seed crash-opt-in-delta). */
#include <stdint.h>
#include <string.h>

#include "resolver/dns_wire.h"
#include "resolver/ixfr_log.h"
#include "unit/cunit_main.h"

/* One RR owned by "test." with ttl 300. */
static size_t put_rr(uint8_t *p, uint16_t type, uint16_t rclass, const uint8_t *rdata, uint16_t rdlen)
{
	static const uint8_t owner[] = {4, 't', 'e', 's', 't', 0};
	memcpy(p, owner, sizeof(owner));
	p += sizeof(owner);
	tc_dns_put16(p, type);
	tc_dns_put16(p + 2, rclass);
	tc_dns_put32(p + 4, 300);
	tc_dns_put16(p + 8, rdlen);
	memcpy(p + 10, rdata, rdlen);
	return sizeof(owner) + 10 + rdlen;
}

/* SOA RDATA: root MNAME and RNAME, then serial and four counters. */
static size_t put_soa(uint8_t *p, uint16_t rclass, uint32_t serial)
{
	uint8_t rd[22] = {0};
	tc_dns_put32(rd + 2, serial);
	return put_rr(p, TC_DNS_TYPE_SOA, rclass, rd, sizeof(rd));
}

/* Old SOA (class NONE), new SOA, then one added record of type. */
static size_t delta_adding(uint8_t *buf, uint16_t type)
{
	static const uint8_t txt[] = {3, 'a', 'b', 'c'};
	size_t n = put_soa(buf, TC_IXFR_CLASS_NONE, 1);
	n += put_soa(buf + n, TC_DNS_CLASS_IN, 2);
	n += put_rr(buf + n, type, TC_DNS_CLASS_IN, txt, sizeof(txt));
	return n;
}

static void test_delta_accepted(void)
{
	uint8_t buf[256];
	size_t n = delta_adding(buf, TC_DNS_TYPE_TXT), nd = 0;
	uint32_t from = 0, to = 0;
	CU_ASSERT_EQUAL(tc_ixfr_check(buf, n, &from, &to, &nd), 0);
	CU_ASSERT_EQUAL(from, 1);
	CU_ASSERT_EQUAL(to, 2);
	CU_ASSERT_EQUAL(nd, 1);
}

static void test_meta_types_refused(void)
{
	static const uint16_t meta[] = {0, TC_DNS_TYPE_OPT, 128, 249 /* TKEY */, 250 /* TSIG */, 251, 252, 255};
	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		uint8_t buf[256];
		size_t n = delta_adding(buf, meta[i]), nd = 0;
		uint32_t from = 0, to = 0;
		CU_ASSERT_EQUAL(tc_ixfr_check(buf, n, &from, &to, &nd), -1);
	}
	CU_ASSERT(!tc_dns_type_is_meta(TC_DNS_TYPE_TXT));
	CU_ASSERT(!tc_dns_type_is_meta(127));
	CU_ASSERT(!tc_dns_type_is_meta(256)); /* URI */
}

int main(void)
{
	static const struct tc_test tests[] = {
	    {"a delta is accepted", test_delta_accepted},
	    {"meta types refused", test_meta_types_refused},
	    {NULL, NULL},
	};
	return tc_run_suite("ixfr_check", tests, NULL, NULL);
}
