/* Runs trustchain-gateway for tests and benches the way the supervisor
 * does: linked to a signer harness by an inherited descriptor, a supervisor
 * channel for READY, listening where the harness config says. */
#ifndef TC_TESTS_GATEWAY_PROCESS_H
#define TC_TESTS_GATEWAY_PROCESS_H

#include <stddef.h>
#include <sys/types.h>

#include "support/signer_harness.h"

struct tc_gateway_proc {
	pid_t pid;
	int sup_fd;
};

/* A loopback TCP port nobody listens on right now (the kernel picks it). */
int tc_free_tcp_port(void);

/* Starts the gateway with h's config and a new signer link; returns 0 once
 * it said READY (its text into ready, may be NULL). */
int tc_gateway_proc_start(struct tc_gateway_proc *g, struct tc_harness *h, char *ready, size_t readylen);

/* SIGTERM and wait up to 10 s (then SIGKILL); returns the exit status. */
int tc_gateway_proc_stop(struct tc_gateway_proc *g);

#endif
