#include "fuzz_child.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs_sandbox.h"
#include "common/sandbox.h"

/* The fuzz process is not a server child: it keeps its file system and
 * system calls, so these replace the library's sandbox for this binary
 * (the linker takes a definition here before looking in tc_common). */
int tc_sandbox_apply(enum tc_sandbox_profile profile, char *err, size_t errlen)
{
	(void)profile, (void)err, (void)errlen;
	return 0;
}

int tc_fs_sandbox_apply(const char *child, const struct tc_config *cfg, const char *config_path, char *err,
			size_t errlen)
{
	(void)child, (void)cfg, (void)config_path, (void)err, (void)errlen;
	return 0;
}

struct tc_harness tc_fuzz_harness;
static struct tc_peer_proc log_proc;
static pid_t owner;

static void stop_all(void)
{
	if (getpid() != owner)
		return;
	if (log_proc.pid > 0)
		tc_peer_stop(&log_proc, SIGTERM);
	if (tc_fuzz_harness.signer_pid > 0)
		tc_harness_stop_signer(&tc_fuzz_harness);
	tc_harness_cleanup(&tc_fuzz_harness);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz harness: %s\n", what);
	abort();
}

struct tc_child *tc_fuzz_child_start(const char *name, const char *peer, const char *extra_yaml, int with_log)
{
	const char *bindir = getenv("TC_FUZZ_BINDIR");
	if (!bindir)
		bindir = TC_FUZZ_DEFAULT_BINDIR;
	owner = getpid();
	if (tc_harness_setup(&tc_fuzz_harness, bindir, extra_yaml) != 0)
		die("dev ceremony failed (are trustchainctl and SoftHSM there?)");
	atexit(stop_all);
	if (tc_harness_start_signer(&tc_fuzz_harness, NULL) != 0)
		die("the signer did not start");
	if (with_log && tc_peer_start(&tc_fuzz_harness, "transparency", &log_proc) != 0)
		die("the CT log did not start");
	int fd = tc_harness_connect(&tc_fuzz_harness, peer);
	if (fd < 0)
		die("no signer link");
	char val[16];
	snprintf(val, sizeof(val), "%d", fd);
	setenv("TC_FD_SIGNER", val, 1);
	char *argv[] = {(char *)name, "--config", tc_fuzz_harness.config, NULL};
	struct tc_child *c = tc_child_start(name, 3, argv);
	unsetenv("TC_FD_SIGNER");
	/* tc_child_start blocked these for its signal waiter: a fuzz run must
	 * still stop on ^C and on libFuzzer's own timers. */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGHUP);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	return c;
}
