/* CPU accounting of a running TrustChain's processes for bench_acme, from
 * /proc/<pid>/stat (utime + stime of every thread): the server is found
 * from the process listening on the ACME directory's port (its parent is
 * trustchain-server) or given by pid, and each of its descendants is
 * counted under its role, so the bench can say where an order's CPU goes
 * and what rate the box could reach if one process cost nothing. Linux
 * only; root (or the same user) to read other processes' fds. */
#ifndef TC_BENCH_ACME_CPU_H
#define TC_BENCH_ACME_CPU_H

#include <stddef.h>
#include <sys/types.h>

enum { BR_ACME, BR_VALIDATOR, BR_GATEWAY, BR_SIGNER, BR_CT, BR_OTHER, BR_N };
extern const char *const BENCH_ROLE_NAMES[BR_N];

#define BENCH_MAX_PROCS 64

struct bench_procs {
	size_t n;
	pid_t pid[BENCH_MAX_PROCS];
	int role[BENCH_MAX_PROCS];
	pid_t server;
};

/* Finds the server (server_pid, or 0: the parent of the process listening
 * on port) and its descendants. 0, or -1 with why. */
int bench_procs_find(unsigned port, pid_t server_pid, struct bench_procs *p, char *why, size_t whylen);

/* CPU seconds used so far by each role (a process gone since counts 0). */
void bench_procs_cpu(const struct bench_procs *p, double out[BR_N]);

/* CPU seconds the whole machine spent busy so far (all processes, from
 * /proc/stat: everything but idle and iowait), to tell a run that had the
 * cores to itself from one that shared them. -1 when unreadable. */
double bench_machine_busy_s(void);

#endif
