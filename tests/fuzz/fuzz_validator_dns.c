/* Fuzz target: DNS answers as the validator's stub reads them
 * (validator_dns.c), and the acme.validation.resolver setting. The input
 * is an answer to its own first question (id and question taken from it,
 * so the deep paths run: CNAME chains, TXT joining, A/AAAA sizes), then to
 * fixed questions of each type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/validator_dns.h"
#include "resolver/dns_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct tc_vdns_answer *ans, size_t next_len)
{
	if (ans->n < 0 || ans->n > TC_VDNS_MAX_RRS || next_len > TC_DNS_MAX_NAME)
		abort();
	for (int i = 0; i < ans->n; i++)
		if (ans->rr[i].len > sizeof(ans->rr[i].data))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_vdns_answer ans;
	uint8_t next[TC_DNS_MAX_NAME];
	size_t next_len;
	int rcode;
	char why[160];
	struct tc_dns_msg m;
	if (tc_dns_parse(data, size, &m) == TC_DNS_OK && m.qdcount >= 1) {
		if (tc_vdns_read_response(data, size, m.id, m.qname, m.qname_len, m.qtype, &ans, next, &next_len, &rcode,
					  why, sizeof(why)) == 0)
			check(&ans, next_len);
	}
	static const uint8_t qname[] = "\x0f_acme-challenge\x07" "example\x03org";
	static const uint16_t types[] = {TC_DNS_TYPE_A, TC_DNS_TYPE_AAAA, TC_DNS_TYPE_TXT};
	uint16_t id = size >= 2 ? tc_dns_get16(data) : 0;
	for (size_t t = 0; t < 3; t++)
		if (tc_vdns_read_response(data, size, id, qname, sizeof(qname), types[t], &ans, next, &next_len, &rcode, why,
					  sizeof(why)) == 0)
			check(&ans, next_len);
	/* The same bytes as a resolver setting (bounded text). */
	char text[160];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = 0;
	if (strcmp(text, "system") != 0 && text[0]) {
		struct tc_vdns_servers s;
		if (tc_vdns_servers_init(text, "/nonexistent", &s, why, sizeof(why)) == 0 && s.n != 1)
			abort();
	}
	return 0;
}
