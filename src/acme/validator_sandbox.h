/* A second syscall filter for trustchain-validator, stacked on the
 * children's common deny list (common/sandbox.h, installed by the runtime):
 * the validator only ever connects out, so it may not bind, listen or
 * accept, and it may open only IPv4, IPv6 and Unix sockets (the last for
 * syslog). A validator taken over through a malicious HTTP, TLS or DNS
 * answer can then not offer a service or sniff packets. */
#ifndef TC_ACME_VALIDATOR_SANDBOX_H
#define TC_ACME_VALIDATOR_SANDBOX_H

#include <stddef.h>

/* For the whole process (all threads). 0, or -1 with why. */
int tc_validator_sandbox_apply(char *why, size_t whylen);

#endif
