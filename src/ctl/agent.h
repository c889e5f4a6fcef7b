/* trustchainctl agent: keeps a certificate fresh. Pure parts (when to renew,
 * how to publish files) apart from the loop, so they can be tested. */
#ifndef TC_CTL_AGENT_H
#define TC_CTL_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* When a certificate valid [not_before, not_after] is renewed: at 2/3 of
 * its life, minus a jitter of up to 1/15 of it (jitter_unit in [0,1)), so
 * a fleet issued at once does not come back at once. */
int64_t tc_agent_renew_at(int64_t not_before, int64_t not_after, double jitter_unit);


/* The validity window of the first certificate of a PEM file; -1 when
 * there is none. */
int tc_agent_cert_window(const char *path, int64_t *not_before, int64_t *not_after);

#endif
