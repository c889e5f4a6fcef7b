/* The children's syscall filter: each check runs in a forked process that
 * installs a profile and reports, through its exit status, whether the
 * calls that must fail fail and the calls the process needs still work. */
#define _GNU_SOURCE /* process_vm_readv */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/sandbox.h"
#include "unit/cunit_main.h"

/* Runs check() in a child under profile; returns its exit status (0 = all
 * expectations held, else the number of the first failed expectation). */
static int in_child(enum tc_sandbox_profile profile, int (*check)(void))
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char err[256];
		if (tc_sandbox_apply(profile, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			_exit(100);
		}
		_exit(check());
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -2;
	return WEXITSTATUS(st);
}

static int socket_works(int family, int type)
{
	int fd = socket(family, type, 0);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int peer_expectations(void)
{
	char *argv[] = {"/bin/true", NULL};
	errno = 0;
	if (execv("/bin/true", argv) != -1 || errno != EPERM)
		return 1;
	if (mount("none", "/tmp", "tmpfs", 0, NULL) != -1 || errno != EPERM)
		return 2;
	char buf[8], src[8] = "abc";
	struct iovec l = {buf, sizeof(buf)}, r = {src, sizeof(src)};
	if (process_vm_readv(getppid(), &l, 1, &r, 1, 0) != -1 || errno != EPERM)
		return 3;
	/* What a peer needs keeps working: network and local sockets, files. */
	if (!socket_works(AF_INET, SOCK_DGRAM) || !socket_works(AF_INET6, SOCK_STREAM))
		return 4;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 5;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return 6;
	char line[256];
	int mode = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode == 2 ? 0 : 7; /* 2 = filter mode */
}

static int signer_expectations(void)
{
	if (socket_works(AF_INET, SOCK_STREAM) || socket_works(AF_INET6, SOCK_DGRAM) ||
	    socket_works(AF_NETLINK, SOCK_RAW))
		return 1;
	if (!socket_works(AF_UNIX, SOCK_STREAM) || !socket_works(AF_UNIX, SOCK_SEQPACKET))
		return 2;
	char *argv[] = {"/bin/true", NULL};
	if (execv("/bin/true", argv) != -1 || errno != EPERM)
		return 3;
	return 0;
}

static void test_peer_profile(void) { CU_ASSERT_EQUAL(in_child(TC_SANDBOX_PEER, peer_expectations), 0); }
static void test_signer_profile(void) { CU_ASSERT_EQUAL(in_child(TC_SANDBOX_SIGNER, signer_expectations), 0); }

int main(void)
{
	static const struct tc_test tests[] = {
		{"peer: no exec, mount or process_vm, network still works", test_peer_profile},
		{"signer: AF_UNIX sockets only, no exec", test_signer_profile},
		{NULL, NULL},
	};
	return tc_run_suite("sandbox", tests, NULL, NULL);
}
