/* The children's syscall filter (DESIGN.md section 1: "a syscall filter where
 * practical").
 *
 * It is a deny list, not an allow list. The children run large libraries
 * (gRPC, OpenSSL, GnuTLS, LevelDB, the PKCS#11 module of whoever deploys us)
 * whose exact syscall sets change between versions; an allow list that
 * misses one turns a library upgrade into an outage of the CA. What is
 * denied is what none of our processes ever needs and what code running
 * after an exploit wants first: starting programs, reading or writing other
 * processes, loading kernel code, changing mounts, namespaces, clocks or
 * keyrings. The signer additionally may open no network socket at all: it
 * only talks over the socketpairs the supervisor gave it. */
#ifndef TC_COMMON_SANDBOX_H
#define TC_COMMON_SANDBOX_H

#include <stddef.h>

enum tc_sandbox_profile {
	TC_SANDBOX_PEER,    /* gateway, transparency, resolver: network allowed */
	TC_SANDBOX_SIGNER,  /* additionally only AF_UNIX sockets */
	/* The ACME validator, stacked on PEER: it only ever connects out, so no
	 * bind, listen or accept, and only IPv4, IPv6 and Unix (syslog)
	 * sockets. A validator taken over through a hostile HTTP, TLS or DNS
	 * answer can then neither offer a service nor sniff packets. */
	TC_SANDBOX_CONNECT_ONLY,
};

/* Installs the filter for this process and every thread it creates later
 * (call it before starting threads). Denied calls fail with EPERM rather
 * than killing the process, so a library probing for a feature degrades
 * cleanly. Returns 0, or -1 with a reason in err. */
int tc_sandbox_apply(enum tc_sandbox_profile profile, char *err, size_t errlen);

#endif
