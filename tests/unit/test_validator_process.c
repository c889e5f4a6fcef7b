/* trustchain-validator as a process, started the way the supervisor does
 * (its link to trustchain-acme as TC_FD_PEER_ACME, a sealed-in config),
 * with the runtime's Landlock and seccomp rules and its own filter: checks
 * through tc_vclient against loopback responders are valid; when
 * trustchain-acme closes the link and no new one comes, it exits (0) to be
 * re-linked; a protocol violation on the link makes it exit 1 at once. */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acme/validator_client.h"
#include "common/ipc_frame.h"
#include "unit/cunit_main.h"
#include "unit/test_validator_responders.h"

static const char *binary;
static char dir[PATH_MAX], config[PATH_MAX + 32];

static int setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	uint16_t hp = tv_http_start(), dp = tv_dns_start();
	snprintf(dir, sizeof(dir), "/tmp/tc_validator_process.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(config, sizeof(config), "%s/trustchain.yaml", dir);
	FILE *f = fopen(config, "w");
	if (!f)
		return 1;
	fprintf(f,
		"server:\n  dev: true\n  data_dir: %s/data\n"
		"acme:\n  listen: 127.0.0.1:14000\n  validation:\n    resolver: 127.0.0.1:%u\n"
		"    http_port: %u\n    allow_loopback: true\n    timeout_ms: 2000\n    concurrency: 4\n",
		dir, dp, hp);
	fclose(f);
	tv_http_set_mode(TV_HTTP_OK);
	return 0;
}

static int teardown(void)
{
	tv_http_stop();
	tv_dns_stop();
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}

/* Starts the validator with one end of a socketpair; returns the other. */
static int start(pid_t *pid)
{
	int sp[2];
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	/* The environment is set before the fork: the responder threads run,
	 * and a child of a threaded process must not allocate before exec
	 * (setenv could block for good on a lock a thread held at the fork). */
	char fd[16];
	snprintf(fd, sizeof(fd), "%d", sp[1]);
	CU_ASSERT_FATAL(setenv("TC_FD_PEER_ACME", fd, 1) == 0);
	unsetenv("TC_FD_SUPERVISOR");
	*pid = fork();
	CU_ASSERT_FATAL(*pid >= 0);
	if (*pid == 0) {
		close(sp[0]);
		execl(binary, binary, "--config", config, (char *)NULL);
		_exit(127);
	}
	unsetenv("TC_FD_PEER_ACME");
	close(sp[1]);
	return sp[0];
}

/* Exit status within ms, or -1 (then killed). */
static int wait_exit(pid_t pid, int ms)
{
	for (int waited = 0; waited < ms; waited += 20) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done, valid;
} R = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void on_done(void *arg, const struct tc_vresult *r)
{
	pthread_mutex_lock(&R.lock);
	R.done++;
	R.valid += r->valid;
	if (!r->valid)
		fprintf(stderr, "check failed: %s %s\n", r->problem_type, r->detail);
	pthread_cond_broadcast(&R.cond);
	pthread_mutex_unlock(&R.lock);
}

static void test_checks_and_exit(void)
{
	pid_t pid;
	struct tc_vclient *v = tc_vclient_new();
	tc_vclient_set_link(v, start(&pid));
	static const char *const types[] = {"http-01", "dns-01"};
	for (int i = 0; i < 2; i++) {
		struct tc_vcheck c = {.type = types[i], .identifier = "ok.test", .identifier_len = 7, .token = TV_TOKEN,
				      .key_authorization = TV_KEYAUTH};
		CU_ASSERT(tc_vclient_submit(v, &c, 2000, on_done, NULL) == 0);
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30; /* the ASan build starts slowly on a loaded machine */
	pthread_mutex_lock(&R.lock);
	while (R.done < 2 && pthread_cond_timedwait(&R.cond, &R.lock, &until) == 0) {
	}
	CU_ASSERT(R.done == 2 && R.valid == 2);
	pthread_mutex_unlock(&R.lock);
	/* trustchain-acme goes away: no new link comes, the validator exits. */
	tc_vclient_free(v);
	CU_ASSERT(wait_exit(pid, 10000) == 0);
}

static void test_violation_is_fatal(void)
{
	pid_t pid;
	int fd = start(&pid);
	/* A request with challenge type 9. */
	CU_ASSERT(tc_frame_write(fd, (const uint8_t *)"\x08\x01\x10\x09", 4) == 0);
	CU_ASSERT(wait_exit(pid, 20000) == 1);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s path/to/trustchain-validator\n", argv[0]);
		return 2;
	}
	binary = argv[1];
	static const struct tc_test tests[] = {
		{"checks through the process; exits without a link", test_checks_and_exit},
		{"a protocol violation ends the process", test_violation_is_fatal},
		{NULL, NULL},
	};
	return tc_run_suite("validator_process", tests, setup, teardown);
}
