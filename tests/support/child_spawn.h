/* Starting a TrustChain process from a test the way the supervisor does:
 * inherited descriptors named by TC_FD_* variables.
 *
 * Why not setenv() in the forked child: a test process has threads (gRPC,
 * responders, load workers), and a child forked from it may only call
 * async-signal-safe functions before exec. setenv allocates, and an
 * allocator lock held by another thread at the fork stays held in the child
 * forever (test_validator_sandbox hung that way under ASan). Everything
 * that allocates happens here in the parent; the child only clears
 * FD_CLOEXEC and calls execve. */
#ifndef TC_TESTS_CHILD_SPAWN_H
#define TC_TESTS_CHILD_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* One descriptor the child inherits, announced as env=<fd number>. */
struct tc_spawn_fd {
	const char *env; /* e.g. "TC_FD_SIGNER" */
	int fd;
};

/* Forks and execs path with argv (NULL-terminated) and the caller's
 * environment, where each fds[i].env is set to its descriptor's number
 * (that descriptor left open across exec in the child only) and each
 * "NAME=value" of extra_env (NULL-terminated, may be NULL) replaces or adds
 * that variable. Returns the child's pid, or -1 (nothing started). */
pid_t tc_spawn_with_fds(const char *path, char *const argv[], const struct tc_spawn_fd *fds, size_t nfds,
			const char *const *extra_env);

#endif
