/* trustchain-signer: the only process that loads the PKCS#11 module and logs
 * in to the token. It opens no network socket: its peers reach it over
 * socketpairs the supervisor hands it, each tagged with the peer's name,
 * which fixes that connection's capability set. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/fs_sandbox.h"
#include "common/sandbox.h"
#include "common/proc_env.h"
#include "common/metrics_proc.h"
#include "common/sup_channel.h"
#include "signer/ipc_server.h"
#include "signer/signer.h"

/* Workers run what waits for its own journal record (revocation, CRL) and
 * the other small requests; signing runs on each peer's reader thread and
 * its answer waits on the journal's writer (ipc_server.c), so a few workers
 * suffice and more only add context switches. */
#define DEFAULT_WORKERS 4

static struct tc_ipc_server *server;
static int sup_fd = -1;

static void *supervisor_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct tc_sup_msg msg;
		int fd;
		int rc = tc_sup_recv(sup_fd, &msg, &fd);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (errno == EPROTO)
				continue; /* malformed message: already discarded */
			break;
		}
		if (msg.type == TC_SUP_PEER_FD && fd >= 0)
			tc_ipc_server_add_peer(server, msg.name, fd);
		else if (fd >= 0)
			close(fd);
	}
	/* Without its supervisor the signer has no reason to run on. */
	tc_warn("supervisor channel closed; stopping");
	kill(getpid(), SIGTERM);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: trustchain-signer [--config FILE] [--workers N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	unsigned workers = DEFAULT_WORKERS;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
			workers = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			usage();
	}
	if (workers < 1 || workers > 256)
		usage();
	/* No core dumps and no ptrace by other processes of this user: this
	 * process holds a logged-in HSM session. */
	prctl(PR_SET_DUMPABLE, 0);

	struct tc_config cfg;
	char err[512];
	tc_log_init("signer", TC_LOG_INFO, 0);
	if (tc_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		return 2;
	}
	enum tc_log_level lvl = TC_LOG_INFO;
	tc_log_level_parse(cfg.server.log_level, &lvl);
	tc_log_init("signer", lvl, cfg.server.log_syslog);
	/* Before the PKCS#11 module is loaded, so its code runs filtered too. */
	if (tc_fs_sandbox_apply("signer", &cfg, config_path, err, sizeof(err)) < 0 ||
	    tc_sandbox_apply(TC_SANDBOX_SIGNER, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		return 1;
	}

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	static struct tc_signer signer;
	if (tc_signer_init(&signer, &cfg, err, sizeof(err)) != 0) {
		tc_err("cannot start: %s", err);
		return 1;
	}
	server = tc_ipc_server_start(&signer, workers, err, sizeof(err));
	if (!server) {
		tc_err("cannot start: %s", err);
		tc_signer_fini(&signer);
		return 1;
	}
	/* Peers passed at exec time (tests and benches run the signer alone). */
	static const char *const peer_names[] = {"gateway", "transparency", "resolver", "control"};
	for (size_t i = 0; i < sizeof(peer_names) / sizeof(peer_names[0]); i++) {
		char var[32];
		snprintf(var, sizeof(var), "PEER_%s", peer_names[i]);
		for (char *p = var; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		int fd = tc_inherited_fd(var);
		if (fd >= 0)
			tc_ipc_server_add_peer(server, peer_names[i], fd);
	}
	pthread_t sup_thread;
	int have_sup = 0;
	sup_fd = tc_inherited_fd("SUPERVISOR");
	if (sup_fd >= 0) {
		have_sup = pthread_create(&sup_thread, NULL, supervisor_main, NULL) == 0;
		tc_sup_send(sup_fd, TC_SUP_READY, "HSM token logged in, keys loaded", -1);
		/* Its figures (HSM latency, errors) go out, after READY; nothing
		 * comes in. */
		if (cfg.server.metrics_listen[0] && strcmp(cfg.server.metrics_listen, "off") != 0)
			tc_metrics_push_start(sup_fd);
	}
	tc_info("ready: token '%s', issuing key %s, CT key %s, audit journal open",
		cfg.hsm.token_label, signer.have_intermediate ? "loaded" : "MISSING",
		signer.have_ct_log ? "loaded" : "MISSING");

	int sig = 0;
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		tc_info("SIGHUP ignored: the supervisor restarts the signer to reload");
	tc_info("signal %d: stopping", sig);
	if (have_sup) {
		shutdown(sup_fd, SHUT_RDWR);
		pthread_join(sup_thread, NULL);
	}
	tc_ipc_server_stop(server);
	tc_signer_fini(&signer);
	return 0;
}
