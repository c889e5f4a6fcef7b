/* trustchain-server: reads trustchain.yaml, opens the listeners, runs the
 * dev key ceremony when asked, then starts and watches the signer,
 * transparency, resolver and gateway, each unprivileged and linked to the
 * signer by its own socketpair. It never loads the PKCS#11 module. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config_dns.h"
#include "common/log.h"
#include "server/children.h"
#include "server/data_layout.h"
#include "server/file_checks.h"
#include "server/notify.h"

#define STOP_GRACE_MS 10000

static void usage(void)
{
	fprintf(stderr,
		"usage: trustchain-server [--config FILE] [--dev] [--check-config]\n"
		"  --config FILE    trustchain.yaml (default: none, built-in dev defaults)\n"
		"  --dev            development mode: runs the dev key ceremony on first start\n"
		"                   (implied when no --config is given)\n"
		"  --check-config   validate the configuration and exit (0 ok, 2 error)\n");
	exit(2);
}

static int find_bindir(char *out, size_t outlen)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(out, outlen, "%s", exe);
	return 0;
}

/* One supervisor per data directory: two would run two signers on one
 * journal and token. The lock lives as long as the process. */
static int lock_data_dir(const struct tc_config *cfg)
{
	char path[TC_CFG_STR + 32];
	if (tc_config_data_path(cfg, "server.lock", path, sizeof(path)) != 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		tc_err("%s: %s", path, errno == EWOULDBLOCK ? "another trustchain-server uses this data directory"
							    : strerror(errno));
		return -1;
	}
	return fd;
}

static int run_dev_ceremony(struct tc_supervisor *s)
{
	char *argv[6], config_arg[32];
	int i = 0;
	argv[i++] = "trustchainctl";
	if (s->config_fd >= 0) {
		snprintf(config_arg, sizeof(config_arg), "/proc/self/fd/%d", s->config_fd);
		argv[i++] = "--config";
		argv[i++] = config_arg;
	}
	argv[i++] = "ceremony";
	argv[i++] = "dev";
	argv[i] = NULL;
	tc_info("dev mode: running the key ceremony (skips what exists)");
	int rc = tc_run_tool(s, argv);
	if (rc != 0)
		tc_err("dev key ceremony failed (exit %d)", rc);
	return rc == 0 ? 0 : -1;
}

static void announce(struct tc_supervisor *s)
{
	for (int k = 0; k < TC_CHILD_COUNT; k++)
		if (s->child[k].enabled && !s->child[k].ready)
			return;
	s->announced = 1;
	tc_sd_notify("READY=1\nSTATUS=every child is ready"); /* systemd Type=notify */
	printf("TrustChain is running%s: data dir %s, children as %s\n", s->cfg.dev ? " (DEV mode)" : "",
	       s->cfg.server.data_dir, s->run_as[0].drop ? "a user each" : "the invoking user");
	for (int k = 0; k < TC_CHILD_COUNT; k++)
		if (s->child[k].enabled)
			printf("  %-13s pid %-7d %-24s %s\n", s->child[k].name, (int)s->child[k].pid,
			       s->run_as[k].drop ? s->run_as[k].user : "", s->child[k].ready_what);
	printf("  listeners     %s, %s, %s, %s\n", s->listeners.where[TC_LISTEN_DNS_UDP],
	       s->listeners.where[TC_LISTEN_DNS_TCP], s->listeners.where[TC_LISTEN_DOQ],
	       s->listeners.where[TC_LISTEN_CT_HTTP]);
	printf("  gRPC API      %s\n", s->cfg.gateway.listen);
	if (s->child[TC_CHILD_METRICS].enabled)
		printf("  metrics       http://%s/metrics\n", s->cfg.server.metrics_listen);
	if (s->child[TC_CHILD_ACME].enabled)
		printf("  ACME          https://%s/acme/directory\n", s->cfg.acme.listen);
	fflush(stdout);
}

static void reload(struct tc_supervisor *s)
{
	struct tc_config fresh;
	char err[512];
	if (tc_config_load(&fresh, s->config_path, err, sizeof(err)) != 0) {
		tc_err("SIGHUP: keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(fresh.server.data_dir, s->cfg.server.data_dir) != 0 ||
	    strcmp(fresh.dns.listen_address, s->cfg.dns.listen_address) != 0 ||
	    fresh.dns.udp_port != s->cfg.dns.udp_port || fresh.dns.quic_port != s->cfg.dns.quic_port ||
	    strcmp(fresh.ct.http_listen, s->cfg.ct.http_listen) != 0 || strcmp(fresh.acme.listen, s->cfg.acme.listen) != 0 ||
	    strcmp(fresh.server.user, s->cfg.server.user) != 0 ||
	    strcmp(fresh.server.metrics_listen, s->cfg.server.metrics_listen) != 0)
		tc_warn("SIGHUP: data_dir, listen addresses (metrics_listen too) and user take effect only after a "
			"restart");
	snprintf(fresh.server.data_dir, sizeof(fresh.server.data_dir), "%s", s->cfg.server.data_dir);
	snprintf(fresh.server.user, sizeof(fresh.server.user), "%s", s->cfg.server.user);
	if (tc_children_snapshot_config(s, err, sizeof(err)) != 0) {
		tc_err("SIGHUP: keeping the running configuration: %s", err);
		return;
	}
	enum tc_config_change change = tc_config_dns_change(&s->cfg, &fresh);
	s->cfg = fresh;
	tc_log_set_format(s->cfg.server.log_format);
	tc_children_configure(s);
	char uerr[512];
	for (int k = 0; k < TC_CHILD_COUNT; k++)
		if (s->child[k].enabled && s->run_as[k].uid == 0 && s->run_as[0].drop &&
		    tc_run_as_resolve(s->cfg.server.user, s->child[k].name, &s->run_as[k], uerr, sizeof(uerr)) != 0) {
			tc_err("SIGHUP: %s: not starting %s", uerr, s->child[k].name);
			s->child[k].enabled = 0;
		}
	/* The resolver rebuilds its zone in place, its DoQ and TCP clients kept:
	 * handed the configuration, not restarted, when nothing else changed;
	 * the others then run on unless more than the zone's records changed
	 * (an unchanged file still restarts them: they re-read their files). */
	struct tc_child_proc *r = &s->child[TC_CHILD_RESOLVER];
	int handed = change != TC_CFG_OTHER && r->pid > 0 && r->sup_fd >= 0 &&
		     tc_sup_send(r->sup_fd, TC_SUP_CONFIG, "", s->config_fd) == 0;
	tc_info("SIGHUP: configuration reloaded; %s", !handed ? "restarting the children"
						   : change == TC_CFG_ZONE_ONLY ? "zone handed to the resolver"
						   : "zone handed to the resolver, restarting the others");
	/* Restart promptly rather than with back-off: this exit was asked for. */
	for (int k = 0; k < TC_CHILD_COUNT; k++) {
		s->child[k].backoff_ms = 0;
		if (s->child[k].pid > 0 && !(handed && (k == TC_CHILD_RESOLVER || change == TC_CFG_ZONE_ONLY)))
			kill(s->child[k].pid, SIGTERM);
	}
}

static int serve(struct tc_supervisor *s, int sfd)
{
	uint64_t stop_deadline = 0;
	for (;;) {
		struct pollfd pfd[1 + TC_CHILD_COUNT];
		int map[1 + TC_CHILD_COUNT], n = 0;
		pfd[n] = (struct pollfd){.fd = sfd, .events = POLLIN};
		map[n++] = -1;
		for (int k = 0; k < TC_CHILD_COUNT; k++)
			if (s->child[k].sup_fd >= 0) {
				pfd[n] = (struct pollfd){.fd = s->child[k].sup_fd, .events = POLLIN};
				map[n++] = k;
			}
		int timeout = tc_children_next_timeout(s);
		int tick = s->stopping ? -1 : tc_metrics_relay_tick(s);
		if (tick >= 0 && (timeout < 0 || tick < timeout))
			timeout = tick;
		if (s->stopping) {
			uint64_t now = tc_now_ms();
			timeout = now >= stop_deadline ? 0 : (int)(stop_deadline - now);
		}
		int pr = poll(pfd, (nfds_t)n, timeout);
		if (pr < 0 && errno != EINTR) {
			tc_err("poll: %s", strerror(errno));
			return 1;
		}
		for (int i = 1; pr > 0 && i < n; i++)
			if (pfd[i].revents)
				tc_children_read_channel(s, (enum tc_child_kind)map[i]);
		if (pr > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					int status;
					pid_t pid;
					while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
						tc_children_reaped(s, pid, status);
				} else if (si.ssi_signo == SIGHUP && !s->stopping) {
					reload(s);
				} else if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && !s->stopping) {
					tc_info("signal %u: stopping the children", si.ssi_signo);
					s->stopping = 1;
					stop_deadline = tc_now_ms() + STOP_GRACE_MS;
					/* Peers first, then the signer, so nothing is cut mid-request. */
					for (int k = TC_CHILD_COUNT - 1; k >= 0; k--)
						if (s->child[k].pid > 0)
							kill(s->child[k].pid, SIGTERM);
				}
			}
		}
		if (s->stopping) {
			if (tc_children_none_running(s))
				return 0;
			if (tc_now_ms() >= stop_deadline) {
				tc_warn("children still running after %d ms: killing them", STOP_GRACE_MS);
				tc_children_signal_all(s, SIGKILL);
				stop_deadline = tc_now_ms() + 60000;
			}
			continue;
		}
		tc_children_run_due(s);
		if (!s->announced)
			announce(s);
	}
}

static int resolve_users(struct tc_supervisor *s, char *err, size_t errlen)
{
	for (int k = 0; k < TC_CHILD_COUNT; k++) {
		if (!s->child[k].enabled ||
		    tc_run_as_resolve(s->cfg.server.user, s->child[k].name, &s->run_as[k], err, errlen) == 0)
			continue;
		/* An installation from before /metrics has no user for it: the
		 * CA keeps running, without the figures. */
		if (k == TC_CHILD_METRICS) {
			tc_warn("not serving /metrics: %s", err);
			s->child[k].enabled = 0;
			continue;
		}
		return -1;
	}
	return 0;
}

/* --check-config: the file parses, and each child's user can read what its
 * configuration names (checked as that user when run as root). */
static int check_config(struct tc_supervisor *s)
{
	const char *name = s->config_path ? s->config_path : "(built-in defaults)";
	/* As the children will reach it, when it exists already. */
	s->data_fd = open(s->cfg.server.data_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int problems = tc_check_child_files(s, stdout);
	if (problems) {
		printf("%s: %d problem(s) with the files the children read\n", name, problems);
		return 2;
	}
	printf("%s: configuration OK%s%s\n", name, s->cfg.dev ? " (dev mode)" : "",
	       s->run_as[0].drop ? "; every child's user can read its files" : "");
	return 0;
}

int main(int argc, char **argv)
{
	static struct tc_supervisor sup;
	struct tc_supervisor *s = &sup;
	int check_only = 0, dev_flag = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			s->config_path = argv[++i];
		else if (strcmp(argv[i], "--dev") == 0)
			dev_flag = 1;
		else if (strcmp(argv[i], "--check-config") == 0)
			check_only = 1;
		else
			usage();
	}
	tc_log_init("server", TC_LOG_INFO, 0);
	char err[512];
	if (tc_config_load(&s->cfg, s->config_path, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		return 2;
	}
	if (dev_flag && !s->cfg.dev) {
		tc_err("%s: --dev needs a development configuration (server.dev: true)", s->config_path);
		return 2;
	}
	tc_children_init(s);
	tc_children_configure(s);
	if (resolve_users(s, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		return check_only ? 2 : 1;
	}
	if (check_only)
		return check_config(s);
	enum tc_log_level lvl = TC_LOG_INFO;
	tc_log_level_parse(s->cfg.server.log_level, &lvl);
	tc_log_init("server", lvl, s->cfg.server.log_syslog);
	tc_log_set_format(s->cfg.server.log_format); /* and for the children (TC_LOG_FORMAT) */
	if (find_bindir(s->bindir, sizeof(s->bindir)) != 0) {
		tc_err("cannot find the directory of trustchain-server");
		return 1;
	}
	if (tc_data_layout_repair(s, err, sizeof(err)) != 0 || tc_children_open_files(s, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		return 1;
	}
	/* Children get the data directory as a descriptor (children.h);
	 * trustchainctl, run as the invoking user, by its absolute path. */
	setenv("TC_DATA_DIR", s->cfg.server.data_dir, 1);
	if (lock_data_dir(&s->cfg) < 0)
		return 1;

	/* Signals arrive through a signalfd; children get them unblocked. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		tc_err("signalfd: %s", strerror(errno));
		return 1;
	}
	if (s->cfg.dev && run_dev_ceremony(s) != 0)
		return 1;
	if (tc_make_acme_token(s) != 0) {
		tc_err("cannot draw the acme credential");
		return 1;
	}
	/* Again: the ceremony wrote as the invoking user. Then, before any
	 * child runs, what each will read. */
	if (tc_data_layout_repair(s, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		return 1;
	}
	if (tc_check_child_files(s, stderr) != 0) {
		tc_err("not starting: fix the files above (trustchain-server --check-config checks again)");
		return 1;
	}
	if (tc_listeners_open(&s->cfg, &s->run_as[TC_CHILD_TRANSPARENCY], &s->listeners, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		return 1;
	}
	for (int k = 0; k < TC_CHILD_COUNT; k++)
		tc_children_spawn(s, (enum tc_child_kind)k);
	int rc = serve(s, sfd);
	tc_listeners_close(&s->listeners);
	tc_children_write_status(s);
	tc_info("stopped");
	return rc;
}
