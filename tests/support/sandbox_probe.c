/* sandbox_probe: plays a child of trustchain-server that has been taken
 * over. It confines itself exactly as that child does (its user when
 * --as-user and run as root, its Landlock rules, its seccomp filter), then
 * attempts what an attacker would, one line per attempt:
 *
 *   ALLOWED <attempt>            the attempt worked
 *   denied  <attempt>: <errno>   it did not
 *
 * Attempts: read:PATH  write:PATH  ptrace:PID  mem:PID (open /proc/PID/mem)
 * inet (open an AF_INET socket)  exec:PATH.
 *
 * usage: sandbox_probe CHILD CONFIG [--as-user] ATTEMPT...
 * Exit 0 when it could confine itself (whatever the attempts gave), 1 if not. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fs_sandbox.h"
#include "common/sandbox.h"
#include "server/privdrop.h"

static void report(const char *attempt, int rc)
{
	if (rc >= 0)
		printf("ALLOWED %s\n", attempt);
	else
		printf("denied  %s: %s\n", attempt, strerror(errno));
}

static int attempt(const char *a)
{
	if (strncmp(a, "read:", 5) == 0)
		return open(a + 5, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (strncmp(a, "write:", 6) == 0)
		return open(a + 6, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);
	if (strncmp(a, "ptrace:", 7) == 0) {
		long rc = ptrace(PTRACE_SEIZE, (pid_t)atoi(a + 7), NULL, NULL);
		return rc == 0 ? 0 : -1;
	}
	if (strncmp(a, "mem:", 4) == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", atoi(a + 4));
		return open(path, O_RDONLY | O_CLOEXEC);
	}
	if (strcmp(a, "inet") == 0)
		return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (strncmp(a, "exec:", 5) == 0) {
		char *argv[] = {(char *)(a + 5), NULL};
		execv(a + 5, argv);
		return -1;
	}
	errno = EINVAL;
	return -1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sandbox_probe CHILD CONFIG [--as-user] ATTEMPT...\n");
		return 2;
	}
	const char *child = argv[1], *config = argv[2];
	int first = 3, as_user = argc > 3 && strcmp(argv[3], "--as-user") == 0;
	first += as_user;
	struct tc_config cfg;
	char err[512];
	if (tc_config_load(&cfg, config, err, sizeof(err)) != 0) {
		fprintf(stderr, "sandbox_probe: %s\n", err);
		return 1;
	}
	struct tc_run_as ra = {0};
	if (as_user && (tc_run_as_resolve(cfg.server.user, child, &ra, err, sizeof(err)) != 0 ||
			tc_run_as_enter(&ra, err, sizeof(err)) != 0)) {
		fprintf(stderr, "sandbox_probe: %s\n", err);
		return 1;
	}
	enum tc_sandbox_profile profile = strcmp(child, "signer") == 0 ? TC_SANDBOX_SIGNER : TC_SANDBOX_PEER;
	int landlock = tc_fs_sandbox_apply(child, &cfg, config, err, sizeof(err));
	if (landlock < 0 || tc_sandbox_apply(profile, err, sizeof(err)) != 0) {
		fprintf(stderr, "sandbox_probe: %s\n", err);
		return 1;
	}
	printf("as uid %u, %s sandbox, landlock %s\n", (unsigned)getuid(), child, landlock ? "on" : "off");
	for (int i = first; i < argc; i++) {
		int rc = attempt(argv[i]);
		report(argv[i], rc);
		if (rc > 0 && strncmp(argv[i], "ptrace:", 7) != 0)
			close(rc);
	}
	return 0;
}
