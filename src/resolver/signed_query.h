/* Queries that carry TSIG (RFC 8945): checked against dns.tsig_keys_file,
 * answered from the zone and signed with the same key; failures answered
 * NOTAUTH with the TSIG error (BADKEY, BADSIG, BADTIME, BADTRUNC); zone
 * transfers (AXFR, IXFR) allowed on stream transports to the keys of
 * dns.secondaries, REFUSED to any other key. Names outside the zone are
 * REFUSED (a signed query is never forwarded). */
#ifndef TC_RESOLVER_SIGNED_QUERY_H
#define TC_RESOLVER_SIGNED_QUERY_H

#include <stdbool.h>

#include "resolver/dns_service.h"

/* false when query carries no TSIG (the unsigned path answers it);
 * otherwise true with *result and, for TC_DNS_SVC_REPLY, out filled. An
 * UPDATE goes to svc->update_pool when there is one and done is given:
 * TC_DNS_SVC_PENDING, and done(fwd_ctx, answer) from a pool thread. */
bool tc_dns_signed_handle(const struct tc_dns_service *svc, enum tc_dns_transport transport,
			  const uint8_t *query, size_t qlen, uint8_t *out, size_t outcap,
			  size_t *outlen, enum tc_dns_service_result *result,
			  const void *fwd_ctx, size_t fwd_ctxlen, tc_forward_done_fn done);

#endif
