/* Fuzz target: the dig-style printer of trustchainctl (src/ctl/dns_print.c)
 * reads whatever a server sent. Each input is printed as a response as it
 * is, and the zone's answer to it (when it is a query) is printed too, so
 * well-formed responses with every record type are covered as well. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/asan_build.h"
#include "common/config.h"
#include "ctl/dns_print.h"
#include "resolver/answer.h"
#include "resolver/zone.h"

#if TC_ASAN_BUILD
#include <sanitizer/asan_interface.h>
#endif

/* tc_dns_print_message takes a buffer for the longest RDATA text, 2 * 65536
 * + 64 octets, per call: just above the largest size class of ASan's
 * allocator, so under ASan every call mmaps it, faults its pages in and,
 * once out of quarantine, munmaps it with a TLB shootdown: ~75% of this
 * target's time (~2,000 executions per CPU second). malloc and free are
 * wrapped at link time (-Wl,--wrap, tests/resolver_doq.cmake) so that a
 * request of exactly that size gets one buffer kept for the run: still a
 * heap chunk of that size between ASan's redzones, so an overflow is still
 * caught, and poisoned while "freed", so a use after free is too. Any other
 * size, or a second such buffer at the same time, is the real malloc's. */
#define PRINT_BUF_LEN (2 * 65536 + 64)

void *__real_malloc(size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void __wrap_free(void *p);

static void *print_buf;
static atomic_int print_buf_busy;

void *__wrap_malloc(size_t n)
{
	if (n == PRINT_BUF_LEN && print_buf && !atomic_exchange(&print_buf_busy, 1)) {
#if TC_ASAN_BUILD
		__asan_unpoison_memory_region(print_buf, n);
#endif
		return print_buf;
	}
	return __real_malloc(n);
}

void __wrap_free(void *p)
{
	if (p && p == print_buf) {
#if TC_ASAN_BUILD
		__asan_poison_memory_region(print_buf, PRINT_BUF_LEN);
#endif
		atomic_store(&print_buf_busy, 0);
		return;
	}
	__real_free(p);
}

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
	if (!print_buf) {
		if (!(print_buf = __real_malloc(PRINT_BUF_LEN)))
			abort();
#if TC_ASAN_BUILD
		__asan_poison_memory_region(print_buf, PRINT_BUF_LEN);
#endif
	}
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
