#include "support/signer_harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/sup_channel.h"
#include "support/child_spawn.h"

int tc_harness_setup(struct tc_harness *h, const char *bindir, const char *extra_yaml)
{
	memset(h, 0, sizeof(*h));
	h->sup_fd = -1;
	snprintf(h->bindir, sizeof(h->bindir), "%s", bindir);
	snprintf(h->dir, sizeof(h->dir), "/tmp/tc-harness-XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(h->config, sizeof(h->config), "%s/trustchain.yaml", h->dir);
	FILE *f = fopen(h->config, "w");
	if (!f)
		return -1;
	fprintf(f, "server:\n  dev: true\n  data_dir: %s/data\n  log_level: warn\n%s", h->dir,
		extra_yaml ? extra_yaml : "");
	fclose(f);
	return tc_harness_ctl(h, "ceremony dev >/dev/null") == 0 ? 0 : -1;
}

int tc_harness_ctl(struct tc_harness *h, const char *args)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "'%s/trustchainctl' --config '%s' %s", h->bindir, h->config, args);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tc_harness_start_signer(struct tc_harness *h, const char *extra_args)
{
	int chan[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) != 0)
		return -1;
	char path[600], extra[128];
	snprintf(path, sizeof(path), "%s/trustchain-signer", h->bindir);
	char *argv[8] = {path, "--config", h->config, NULL};
	if (extra_args) {
		snprintf(extra, sizeof(extra), "%s", extra_args);
		int i = 3;
		char *save = NULL;
		for (char *tok = strtok_r(extra, " ", &save); tok && i < 7; tok = strtok_r(NULL, " ", &save))
			argv[i++] = tok;
		argv[i] = NULL;
	}
	struct tc_spawn_fd fds[] = {{"TC_FD_SUPERVISOR", chan[1]}};
	pid_t pid = tc_spawn_with_fds(path, argv, fds, 1, NULL);
	close(chan[1]);
	if (pid < 0) {
		close(chan[0]);
		return -1;
	}
	h->sup_fd = chan[0];
	h->signer_pid = pid;
	struct tc_sup_msg msg;
	int fd;
	/* The signer says READY on its channel once the token is open. */
	if (tc_sup_recv(h->sup_fd, &msg, &fd) != 1 || msg.type != TC_SUP_READY)
		return -1;
	return 0;
}

int tc_harness_connect(struct tc_harness *h, const char *peer)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if (tc_sup_send(h->sup_fd, TC_SUP_PEER_FD, peer, sv[1]) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	return sv[0];
}

int tc_harness_stop_signer(struct tc_harness *h)
{
	if (h->signer_pid <= 0)
		return -1;
	kill(h->signer_pid, SIGTERM);
	int st;
	while (waitpid(h->signer_pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	h->signer_pid = 0;
	if (h->sup_fd >= 0)
		close(h->sup_fd);
	h->sup_fd = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void tc_harness_cleanup(struct tc_harness *h)
{
	if (h->signer_pid > 0) {
		kill(h->signer_pid, SIGKILL);
		waitpid(h->signer_pid, NULL, 0);
	}
	if (h->dir[0] && !getenv("TC_KEEP_TEST_DIR")) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", h->dir);
	}
}

const char *tc_harness_path(struct tc_harness *h, const char *rel)
{
	static char buf[4][600];
	static int next;
	char *out = buf[next++ % 4];
	snprintf(out, 600, "%s/data/%s", h->dir, rel);
	return out;
}
