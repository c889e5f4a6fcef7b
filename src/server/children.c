#define _GNU_SOURCE
#include "server/children.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/config_acme.h"
#include "common/file_read.h"
#include "common/log.h"

#define BACKOFF_START_MS 100
/* A child that ran this long before dying is restarted promptly again. */
#define STABLE_RUN_MS 10000
#define MAX_PASSED_FDS 8

uint64_t tc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void tc_children_init(struct tc_supervisor *s)
{
	static const char *const names[TC_CHILD_COUNT] = {"signer",    "transparency", "resolver", "gateway",
							  "validator", "acme",         "metrics"};
	for (int i = 0; i < TC_CHILD_COUNT; i++) {
		memset(&s->child[i], 0, sizeof(s->child[i]));
		s->child[i].name = names[i];
		s->child[i].enabled = 1;
		s->child[i].sup_fd = -1;
		s->program_fd[i] = -1;
	}
	s->ctl_fd = s->data_fd = s->config_fd = -1;
}

void tc_children_configure(struct tc_supervisor *s)
{
	int acme = tc_config_acme_enabled(&s->cfg);
	uint64_t now = tc_now_ms();
	for (int k = TC_CHILD_VALIDATOR; k <= TC_CHILD_ACME; k++) {
		struct tc_child_proc *c = &s->child[k];
		if (acme && !c->enabled && c->pid == 0)
			c->restart_at_ms = now;
		if (!acme)
			c->restart_at_ms = 0;
		c->enabled = acme;
	}
	struct tc_child_proc *m = &s->child[TC_CHILD_METRICS];
	int metrics = tc_metrics_enabled(&s->cfg);
	if (metrics && !m->enabled && m->pid == 0)
		m->restart_at_ms = now;
	if (!metrics)
		m->restart_at_ms = 0;
	m->enabled = metrics;
}

struct passed_fd {
	const char *env;  /* TC_FD_<env> */
	int fd;
};

/* In the forked child: make exactly the passed descriptors survive exec,
 * name them in the environment, drop privileges and run the program opened
 * at start. Never returns. */
static void exec_child(struct tc_supervisor *s, int program_fd, const struct tc_run_as *ra, char *const argv[],
		       const struct passed_fd *fds, int nfds)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	/* Anything we did not mean to pass, including descriptors inherited
	 * from whoever started the supervisor, is closed at exec. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* Only a child handed the data directory may know where it is
	 * (trustchainctl, run as the invoking user, uses the path itself). */
	if (program_fd != s->ctl_fd)
		unsetenv("TC_DATA_DIR");
	for (int i = 0; i < nfds; i++) {
		char var[48], val[16];
		if (fcntl(fds[i].fd, F_SETFD, 0) != 0)
			_exit(127);
		snprintf(var, sizeof(var), "TC_FD_%s", fds[i].env);
		snprintf(val, sizeof(val), "%d", fds[i].fd);
		setenv(var, val, 1);
		if (strcmp(fds[i].env, "DATA_DIR") == 0) {
			char view[32];
			snprintf(view, sizeof(view), "/proc/self/fd/%d", fds[i].fd);
			setenv("TC_DATA_DIR", view, 1);
		}
	}
	/* What a child creates is its own and its group's at most: the public
	 * files it publishes (certificates) are for the other children. */
	umask(027);
	char err[256];
	if (tc_run_as_enter(ra, err, sizeof(err)) != 0) {
		fprintf(stderr, "trustchain-server: %s: %s\n", argv[0], err);
		_exit(127);
	}
	extern char **environ;
	fexecve(program_fd, argv, environ);
	fprintf(stderr, "trustchain-server: cannot run %s/%s as %s: %s\n", s->bindir, argv[0],
		ra->drop ? ra->user : "the invoking user", strerror(errno));
	_exit(127);
}

static int open_program(const struct tc_supervisor *s, const char *name, char *err, size_t errlen)
{
	char path[sizeof(s->bindir) + 64];
	snprintf(path, sizeof(path), "%s/%s", s->bindir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
	return fd;
}

int tc_children_snapshot_config(struct tc_supervisor *s, char *err, size_t errlen)
{
	if (!s->config_path)
		return 0;
	char *text = NULL;
	size_t len = 0;
	if (tc_read_file(s->config_path, 1 << 20, &text, &len, err, errlen) != 0)
		return -1;
	int fd = memfd_create("trustchain.yaml", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int ok = fd >= 0 && write(fd, text, len) == (ssize_t)len &&
		 fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0;
	free(text);
	if (!ok) {
		snprintf(err, errlen, "cannot copy %s for the children: %s", s->config_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (s->config_fd >= 0)
		close(s->config_fd);
	s->config_fd = fd;
	return 0;
}

int tc_children_open_files(struct tc_supervisor *s, char *err, size_t errlen)
{
	for (int k = 0; k < TC_CHILD_COUNT; k++) {
		char prog[64];
		snprintf(prog, sizeof(prog), "trustchain-%s", s->child[k].name);
		/* A child not enabled now may be by SIGHUP: opened if there. */
		if ((s->program_fd[k] = open_program(s, prog, err, errlen)) < 0 && s->child[k].enabled) {
			/* A build or package without it still runs the CA. */
			if (k == TC_CHILD_METRICS) {
				tc_warn("not serving /metrics: %s", err);
				s->child[k].enabled = 0;
				continue;
			}
			return -1;
		}
	}
	if ((s->ctl_fd = open_program(s, "trustchainctl", err, errlen)) < 0)
		return -1;
	s->data_fd = open(s->cfg.server.data_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->data_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", s->cfg.server.data_dir, strerror(errno));
		return -1;
	}
	return tc_children_snapshot_config(s, err, errlen);
}

static void schedule_restart(struct tc_supervisor *s, struct tc_child_proc *c, uint64_t now)
{
	if (s->stopping || !c->enabled)
		return;
	if (c->started_ms && now - c->started_ms >= STABLE_RUN_MS)
		c->backoff_ms = BACKOFF_START_MS;
	else if (c->backoff_ms == 0)
		c->backoff_ms = BACKOFF_START_MS;
	else if (c->backoff_ms < s->cfg.server.restart_backoff_max_ms)
		c->backoff_ms *= 2;
	if (c->backoff_ms > s->cfg.server.restart_backoff_max_ms)
		c->backoff_ms = s->cfg.server.restart_backoff_max_ms;
	c->restart_at_ms = now + c->backoff_ms;
}

/* A fresh socketpair between a running child `to` and peer: *peer_end
 * for the peer, the other end is sent to `to` on its supervisor channel
 * tagged with the peer's name (the signer grants capabilities by it). */
static int make_link_to(struct tc_supervisor *s, enum tc_child_kind to, enum tc_child_kind peer, int *peer_end)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if (tc_sup_send(s->child[to].sup_fd, TC_SUP_PEER_FD, s->child[peer].name, sv[1]) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	*peer_end = sv[0];
	return 0;
}

static int make_link(struct tc_supervisor *s, enum tc_child_kind peer, int *peer_end)
{
	return make_link_to(s, TC_CHILD_SIGNER, peer, peer_end);
}

/* Children that talk to the signer (acme and the validator never do: acme
 * reaches the CA through the gateway like any client). */
static int signer_peer(enum tc_child_kind kind)
{
	return kind == TC_CHILD_TRANSPARENCY || kind == TC_CHILD_RESOLVER || kind == TC_CHILD_GATEWAY;
}

/* acme and validator are each other's only peer. */
static enum tc_child_kind acme_partner(enum tc_child_kind kind)
{
	return kind == TC_CHILD_ACME ? TC_CHILD_VALIDATOR : TC_CHILD_ACME;
}

/* argv of a program run by the supervisor: the configuration is the
 * sealed copy, read through the descriptor passed as CONFIG. */
static void child_args(const struct tc_supervisor *s, const char *prog, char *prog_buf, size_t prog_len,
		       char *config_buf, size_t config_len, char *argv[4])
{
	snprintf(prog_buf, prog_len, "%s", prog);
	argv[0] = prog_buf;
	argv[1] = NULL;
	if (s->config_fd >= 0) {
		snprintf(config_buf, config_len, "/proc/self/fd/%d", s->config_fd);
		argv[1] = "--config";
		argv[2] = config_buf;
		argv[3] = NULL;
	}
}

int tc_children_spawn(struct tc_supervisor *s, enum tc_child_kind kind)
{
	struct tc_child_proc *c = &s->child[kind];
	struct tc_child_proc *signer = &s->child[TC_CHILD_SIGNER];
	struct passed_fd fds[MAX_PASSED_FDS];
	int nfds = 0, link_fd = -1, token_fd = -1;
	int chan[2];
	c->restart_at_ms = 0;
	if (kind == TC_CHILD_METRICS && (s->listeners.fd[TC_LISTEN_METRICS_HTTP] < 0 || s->program_fd[kind] < 0))
		c->enabled = 0; /* its port was not to be had (listeners.c), or it is not installed */
	if (!c->enabled)
		return 0;
	if (s->program_fd[kind] < 0) {
		tc_err("%s: trustchain-%s is not installed in %s", c->name, c->name, s->bindir);
		schedule_restart(s, c, tc_now_ms());
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) != 0) {
		tc_err("%s: socketpair: %s", c->name, strerror(errno));
		schedule_restart(s, c, tc_now_ms());
		return -1;
	}
	fds[nfds++] = (struct passed_fd){"SUPERVISOR", chan[1]};
	if (signer_peer(kind) && signer->pid > 0) {
		if (make_link(s, kind, &link_fd) == 0)
			fds[nfds++] = (struct passed_fd){"SIGNER", link_fd};
		else
			tc_warn("%s: cannot link to the signer now: %s", c->name, strerror(errno));
	}
	if (kind == TC_CHILD_ACME || kind == TC_CHILD_VALIDATOR) {
		enum tc_child_kind partner = acme_partner(kind);
		if (s->child[partner].pid > 0 && s->child[partner].sup_fd >= 0) {
			if (make_link_to(s, partner, kind, &link_fd) == 0)
				fds[nfds++] = (struct passed_fd){
					kind == TC_CHILD_ACME ? "PEER_VALIDATOR" : "PEER_ACME", link_fd};
			else
				tc_warn("%s: cannot link to %s now: %s", c->name, s->child[partner].name,
					strerror(errno));
		}
	}
	if (kind == TC_CHILD_ACME || (kind == TC_CHILD_GATEWAY && s->child[TC_CHILD_ACME].enabled)) {
		token_fd = tc_acme_token_fd(s, kind == TC_CHILD_ACME);
		if (token_fd >= 0)
			fds[nfds++] = (struct passed_fd){kind == TC_CHILD_ACME ? "GATEWAY_TOKEN" : "ACME_TOKEN",
							 token_fd};
		else
			tc_warn("%s: cannot pass the acme credential: %s", c->name, strerror(errno));
	}
	if (kind == TC_CHILD_RESOLVER) {
		fds[nfds++] = (struct passed_fd){"DNS_UDP", s->listeners.fd[TC_LISTEN_DNS_UDP]};
		fds[nfds++] = (struct passed_fd){"DNS_TCP", s->listeners.fd[TC_LISTEN_DNS_TCP]};
		fds[nfds++] = (struct passed_fd){"DOQ", s->listeners.fd[TC_LISTEN_DOQ]};
	} else if (kind == TC_CHILD_TRANSPARENCY) {
		fds[nfds++] = (struct passed_fd){"CT_HTTP", s->listeners.fd[TC_LISTEN_CT_HTTP]};
		fds[nfds++] = (struct passed_fd){"CT_IPC", s->listeners.fd[TC_LISTEN_CT_IPC]};
	} else if (kind == TC_CHILD_ACME && s->listeners.fd[TC_LISTEN_ACME_HTTPS] >= 0) {
		/* Without it (acme turned on by SIGHUP) acme binds for itself. */
		fds[nfds++] = (struct passed_fd){"ACME_HTTPS", s->listeners.fd[TC_LISTEN_ACME_HTTPS]};
	} else if (kind == TC_CHILD_METRICS) {
		fds[nfds++] = (struct passed_fd){"METRICS_HTTP", s->listeners.fd[TC_LISTEN_METRICS_HTTP]};
	}
	/* The validator and metrics reach nothing of ours: no data directory. */
	if (kind != TC_CHILD_VALIDATOR && kind != TC_CHILD_METRICS)
		fds[nfds++] = (struct passed_fd){"DATA_DIR", s->data_fd};
	if (s->config_fd >= 0)
		fds[nfds++] = (struct passed_fd){"CONFIG", s->config_fd};
	char prog[64], config_arg[32], name[64], *argv[4];
	snprintf(name, sizeof(name), "trustchain-%s", c->name);
	child_args(s, name, prog, sizeof(prog), config_arg, sizeof(config_arg), argv);
	pid_t pid = fork();
	if (pid == 0)
		exec_child(s, s->program_fd[kind], &s->run_as[kind], argv, fds, nfds);
	close(chan[1]);
	if (link_fd >= 0)
		close(link_fd);
	if (token_fd >= 0)
		close(token_fd);
	if (pid < 0) {
		tc_err("%s: fork: %s", c->name, strerror(errno));
		close(chan[0]);
		schedule_restart(s, c, tc_now_ms());
		return -1;
	}
	c->pid = pid;
	c->sup_fd = chan[0];
	c->started_ms = tc_now_ms();
	c->ready = 0;
	c->ready_what[0] = '\0';
	tc_info("started %s (pid %d)", c->name, (int)pid);
	if (kind == TC_CHILD_SIGNER) {
		/* Every running peer lost its signer with the previous one. */
		for (int k = 0; k < TC_CHILD_COUNT; k++) {
			if (!signer_peer((enum tc_child_kind)k) || s->child[k].pid <= 0)
				continue;
			int peer_end;
			if (make_link(s, (enum tc_child_kind)k, &peer_end) != 0) {
				tc_warn("cannot link %s to the new signer", s->child[k].name);
				continue;
			}
			if (tc_sup_send(s->child[k].sup_fd, TC_SUP_SIGNER_FD, "signer", peer_end) != 0)
				tc_warn("cannot hand %s its new signer link", s->child[k].name);
			close(peer_end);
		}
	}
	tc_children_write_status(s);
	return 0;
}

int tc_children_reaped(struct tc_supervisor *s, pid_t pid, int status)
{
	for (int k = 0; k < TC_CHILD_COUNT; k++) {
		struct tc_child_proc *c = &s->child[k];
		if (c->pid != pid)
			continue;
		uint64_t now = tc_now_ms();
		c->pid = 0;
		c->ready = 0;
		if (c->sup_fd >= 0)
			close(c->sup_fd);
		c->sup_fd = -1;
		char how[64];
		if (WIFSIGNALED(status))
			snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
		else
			snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
		tc_metrics_relay(s, (enum tc_child_kind)k, -1);
		if (s->stopping) {
			tc_info("%s (pid %d) %s", c->name, (int)pid, how);
		} else {
			schedule_restart(s, c, now);
			c->restarts++;
			tc_metrics_count_restart(c->name);
			tc_log_event(TC_LOG_WARN, "child_restart", TC_KV("child", c->name, "how", how),
				     "%s (pid %d) %s; restarting in %u ms", c->name, (int)pid, how, c->backoff_ms);
		}
		tc_children_write_status(s);
		return k;
	}
	return -1;
}

void tc_children_run_due(struct tc_supervisor *s)
{
	uint64_t now = tc_now_ms();
	/* The signer first, so peers started in the same round get a link. */
	for (int k = 0; k < TC_CHILD_COUNT; k++) {
		struct tc_child_proc *c = &s->child[k];
		if (!s->stopping && c->pid == 0 && c->restart_at_ms && c->restart_at_ms <= now)
			tc_children_spawn(s, (enum tc_child_kind)k);
	}
}

int tc_children_next_timeout(const struct tc_supervisor *s)
{
	uint64_t now = tc_now_ms(), next = 0;
	for (int k = 0; k < TC_CHILD_COUNT; k++) {
		uint64_t at = s->child[k].restart_at_ms;
		if (s->child[k].pid == 0 && at && (!next || at < next))
			next = at;
	}
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

/* A new signer link for a running peer whose link ended. Once a second
 * at most: a child taken over cannot make the signer churn connections
 * (and the signer keeps at most 8 links per peer: tc_ipc_server_add_peer). While
 * the signer is down there is nothing to do: its start links everyone. */
static void relink(struct tc_supervisor *s, enum tc_child_kind kind)
{
	struct tc_child_proc *c = &s->child[kind];
	uint64_t now = tc_now_ms();
	if (!signer_peer(kind) || s->child[TC_CHILD_SIGNER].pid <= 0 || s->child[TC_CHILD_SIGNER].sup_fd < 0 ||
	    now - c->relinked_ms < 1000)
		return;
	c->relinked_ms = now;
	int peer_end;
	if (make_link(s, kind, &peer_end) != 0) {
		tc_warn("cannot link %s to the signer again", c->name);
		return;
	}
	if (tc_sup_send(c->sup_fd, TC_SUP_SIGNER_FD, "signer", peer_end) != 0)
		tc_warn("cannot hand %s its new signer link", c->name);
	else
		tc_log_event(TC_LOG_WARN, "signer_relink", TC_KV("child", c->name),
			     "%s lost its signer link; linked again", c->name);
	close(peer_end);
}

void tc_children_read_channel(struct tc_supervisor *s, enum tc_child_kind kind)
{
	struct tc_child_proc *c = &s->child[kind];
	struct tc_sup_msg msg;
	int fd;
	int rc = tc_sup_recv(c->sup_fd, &msg, &fd);
	if (rc == 1 && msg.type == TC_SUP_METRICS) {
		tc_metrics_relay(s, kind, fd); /* checked there, never read */
		return;
	}
	if (fd >= 0)
		close(fd); /* other messages never carry one from a child */
	if (rc == 0) {
		/* Channel closed: the process is exiting; SIGCHLD does the rest. */
		close(c->sup_fd);
		c->sup_fd = -1;
		return;
	}
	if (rc < 0) {
		tc_warn("%s: malformed message on its supervisor channel", c->name);
		return;
	}
	if (msg.type == TC_SUP_READY) {
		c->ready = 1;
		snprintf(c->ready_what, sizeof(c->ready_what), "%s", msg.name);
		tc_info("%s (pid %d) ready: %s", c->name, (int)c->pid, c->ready_what);
		tc_children_write_status(s);
	} else if (msg.type == TC_SUP_RELINK) {
		relink(s, kind);
	}
}

void tc_children_signal_all(struct tc_supervisor *s, int sig)
{
	for (int k = 0; k < TC_CHILD_COUNT; k++)
		if (s->child[k].pid > 0)
			kill(s->child[k].pid, sig);
}

int tc_children_none_running(const struct tc_supervisor *s)
{
	for (int k = 0; k < TC_CHILD_COUNT; k++)
		if (s->child[k].pid > 0)
			return 0;
	return 1;
}

int tc_run_tool(struct tc_supervisor *s, char *const argv[])
{
	const struct tc_run_as invoking_user = {.drop = 0};
	/* The configuration copy, but not the data directory's descriptor:
	 * trustchainctl names the real path (it writes it into the dev
	 * token's SoftHSM configuration). */
	struct passed_fd config = {"CONFIG", s->config_fd};
	pid_t pid = fork();
	if (pid == 0)
		exec_child(s, s->ctl_fd, &invoking_user, argv, &config, s->config_fd >= 0);
	if (pid < 0)
		return -1;
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void tc_children_write_status(const struct tc_supervisor *s)
{
	char path[TC_CFG_STR + 32], tmp[TC_CFG_STR + 40];
	if (tc_config_data_path(&s->cfg, "server.status", path, sizeof(path)) != 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "supervisor %d\n", (int)getpid());
	for (int k = 0; k < TC_CHILD_COUNT; k++)
		if (s->child[k].enabled)
			fprintf(f, "%s %d %s %u %s\n", s->child[k].name, (int)s->child[k].pid,
				s->child[k].ready ? "ready" : "starting", s->child[k].restarts,
				s->child[k].ready_what);
	if (fclose(f) == 0)
		rename(tmp, path);
}
