/* How the supervisor hands descriptors to the children it execs: each one is
 * named in an environment variable TC_FD_<NAME>=<fd> ("SIGNER", "DNS_UDP",
 * "DNS_TCP", "DOQ", "CT_HTTP"). A child run by hand (tests, debugging) has
 * none and opens what it needs itself. */
#ifndef TC_COMMON_PROC_ENV_H
#define TC_COMMON_PROC_ENV_H

/* Returns the inherited fd for name, or -1 when there is none. */
int tc_inherited_fd(const char *name);

#endif
