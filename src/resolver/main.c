/* trustchain-resolver: authoritative DNS for the bootstrap zone over classic
 * UDP and TCP and over QUIC (RFC 9250, on the DOQ socket), forwarding other
 * names upstream when dns.traditional_fallback is on.
 *
 * Threads: UDP workers (udp_server.c), one TCP loop (tcp_server.c), one DoQ
 * loop (doq_server.c), the DoQ certificate thread (doq_cert.c), the
 * forwarder (forwarder.c), and the main thread, which only waits for
 * signals and keeps the signer link checked (child_runtime). The zone is
 * built and signed before any listener starts; the zone keeper thread
 * (zone_keeper.c) replaces it (re-signing, new TLSA data such as a new DoQ
 * certificate) while the listeners answer.
 *
 * Classic DNS never waits for the signer: UDP and TCP serve at once; DoQ
 * accepts connections as soon as its certificate is issued, which like
 * every certificate of our CA means logged first (the signer and the CT log
 * at <data_dir>/run/transparency.sock; retried while either is away). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/child_runtime.h"
#include "common/listen_socket.h"
#include "common/log.h"
#include "common/proc_env.h"
#include "resolver/dns_service.h"
#include "resolver/doq_cert.h"
#include "resolver/doq_server.h"
#include "resolver/forwarder.h"
#include "resolver/notify.h"
#include "resolver/tcp_server.h"
#include "resolver/udp_server.h"
#include "resolver/zone.h"
#include "resolver/zone_keeper.h"

#define UDP_THREADS 2
/* Updates waiting for a group commit each hold one (update_pool.h): the
 * most that can share one journal sync and signing round. */
#define UPDATE_THREADS 64
#define UPDATE_QUEUE_MAX 4096

/* Run by hand (no supervisor): open the socket ourselves. */
static int open_listener(const char *host, uint16_t port, int type)
{
	char err[512];
	int fd = tc_listen_open(host, port, type, 1024, err, sizeof(err));
	if (fd < 0)
		tc_err("%s", err);
	return fd;
}

static int listener(const char *env_name, const struct tc_config *cfg, uint16_t port, int type)
{
	int fd = tc_inherited_fd(env_name);
	return fd >= 0 ? fd : open_listener(cfg->dns.listen_address, port, type);
}

/* dns.tsig_keys_file, and the keys of dns.secondaries (each must be in it).
 * NULL with *auth_out NULL when no file is configured. -1 with err. */
static int load_auth(const struct tc_config *cfg, struct tc_dns_auth **auth_out, char *err,
		     size_t errlen)
{
	*auth_out = NULL;
	if (!cfg->dns.tsig_keys_file[0])
		return 0;
	struct tc_dns_auth *auth = calloc(1, sizeof(*auth));
	if (!auth) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (tc_tsig_keys_load(cfg->dns.tsig_keys_file, &auth->ring, err, errlen) != 0) {
		free(auth);
		return -1;
	}
	for (size_t i = 0; i < cfg->dns.secondary_count; i++) {
		const struct tc_tsig_key *k = tc_tsig_key_find_text(&auth->ring,
								    cfg->dns.secondaries[i].key);
		if (!k) {
			snprintf(err, errlen, "dns.secondaries: key '%s' is not in %s",
				 cfg->dns.secondaries[i].key, cfg->dns.tsig_keys_file);
			free(auth);
			return -1;
		}
		auth->xfr_keys[auth->nxfr++] = k;
	}
	*auth_out = auth;
	return 0;
}

static uint16_t keeper_update(void *ctx, const struct tc_update *u)
{
	return tc_zone_keeper_update(ctx, u);
}

/* The --config argument tc_child_start read (NULL: the default path). */
static const char *config_path_of(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0)
			return argv[i + 1];
	return NULL;
}

/* SIGHUP: the zone is rebuilt from the configuration read again, in this
 * process, so DoQ, TCP and UDP clients keep their connections. Under the
 * supervisor the configuration is the one it read, checked and handed over
 * (it hands it only when nothing but the zone's contents changed, and
 * restarts us otherwise); run by hand, the file again. Listener addresses,
 * keys, policy and secondaries need a restart. */
static void reload_zone(struct tc_child *c, struct tc_zone_keeper *keeper, const char *path)
{
	char err[512], handed[32];
	int fd = tc_child_take_config(c);
	if (fd >= 0) {
		snprintf(handed, sizeof(handed), "/proc/self/fd/%d", fd);
		path = handed;
	}
	struct tc_config *fresh = malloc(sizeof(*fresh));
	if (!fresh || tc_config_load(fresh, path, err, sizeof(err)) != 0)
		tc_err("SIGHUP: keeping the zone: %s", fresh ? err : "out of memory");
	else if (tc_zone_keeper_reload(keeper, fresh, err, sizeof(err)) != 0)
		tc_err("SIGHUP: keeping the zone: %s", err);
	else if (fd >= 0)
		tc_info("SIGHUP: zone reloaded from the supervisor's configuration");
	free(fresh);
	if (fd >= 0)
		close(fd);
}

/* tc_child_idle_loop, with SIGHUP reloading the zone. */
static void serve_signals(struct tc_child *c, struct tc_zone_keeper *keeper, const char *path)
{
	char err[256];
	int linked = tc_child_ping_signer(c, err, sizeof(err)) == 0;
	int sig;
	while ((sig = tc_child_wait_signal(c, 10000)) == 0 || sig == SIGHUP) {
		if (sig == SIGHUP) {
			reload_zone(c, keeper, path);
			continue;
		}
		int now = tc_child_ping_signer(c, err, sizeof(err)) == 0;
		if (now && !linked)
			tc_info("signer link ok");
		else if (!now && linked)
			tc_warn("signer link lost: %s", err);
		linked = now;
	}
	tc_info("signal %d: stopping", sig);
}

static void install_doq_creds(void *arg, struct tc_quic_creds *creds)
{
	tc_doq_server_set_creds(arg, creds);
}

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start("resolver", argc, argv);
	const struct tc_config *cfg = tc_child_config(c);
	char err[512];
	int rc = 1;
	struct tc_zone_keeper *keeper = NULL;
	struct tc_forwarder *fwd = NULL;
	struct tc_udp_server *udp = NULL;
	struct tc_tcp_server *tcp = NULL;
	struct tc_doq_server *doq = NULL;
	struct tc_doq_cert *doq_cert = NULL;
	struct tc_dns_auth *auth = NULL;
	struct tc_notifier *notifier = NULL;
	struct tc_update_policy *policy = NULL;
	struct tc_update_pool *upool = NULL;

	if (load_auth(cfg, &auth, err, sizeof(err)) != 0) {
		tc_err("dns.tsig_keys_file: %s", err);
		goto out;
	}
	if (tc_zone_keeper_start(c, cfg, &keeper, err, sizeof(err)) != 0) {
		tc_err("zone %s: %s", cfg->bootstrap.domain, err);
		goto out;
	}
	if (cfg->dns.secondary_count > 0) {
		if (tc_notifier_start(cfg, &auth->ring, &notifier, err, sizeof(err)) != 0) {
			tc_err("dns.secondaries: %s", err);
			goto out;
		}
		tc_zone_keeper_on_change(keeper, tc_notifier_zone_changed, notifier);
	}
	if (cfg->dns.traditional_fallback &&
	    tc_forwarder_start(&cfg->dns.upstreams, &fwd, err, sizeof(err)) != 0) {
		tc_err("dns.traditional_fallback: %s", err);
		goto out;
	}
	struct tc_dns_service svc = {.live = tc_zone_keeper_live(keeper), .fwd = fwd,
				     .udp_max = TC_DNS_UDP_MAX, .auth = auth,
				     .ixfr = tc_zone_keeper_ixfr(keeper)};
	if (auth && cfg->dns.update_rule_count) {
		policy = calloc(1, sizeof(*policy));
		if (!policy ||
		    tc_update_policy_from_config(cfg, &auth->ring, policy, err, sizeof(err)) != 0) {
			tc_err("%s", policy ? err : "out of memory");
			goto out;
		}
		svc.policy = policy;
		svc.update = keeper_update;
		svc.update_ctx = keeper;
		if (!(svc.update_pool = upool = tc_update_pool_start(UPDATE_THREADS, UPDATE_QUEUE_MAX))) {
			tc_err("cannot start the update threads");
			goto out;
		}
	}
	int ufd = listener("DNS_UDP", cfg, cfg->dns.udp_port, SOCK_DGRAM);
	int tfd = listener("DNS_TCP", cfg, cfg->dns.udp_port, SOCK_STREAM);
	int qfd = listener("DOQ", cfg, cfg->dns.quic_port, SOCK_DGRAM);
	if (ufd < 0 || tfd < 0 || qfd < 0)
		goto out;
	struct tc_doq_limits lim = {
		.max_conns = cfg->dns.max_connections,
		.max_streams = cfg->dns.max_streams,
		.idle_ms = cfg->dns.idle_timeout_ms,
		.retry_always = cfg->dns.quic_retry_always,
	};
	struct tc_tcp_limits tcp_lim = {
		.max_conns = cfg->dns.max_connections,
		.per_source = tc_tcp_per_source_default(cfg->dns.max_connections),
		.idle_ms = cfg->dns.idle_timeout_ms,
	};
	if (tc_udp_server_start(ufd, UDP_THREADS, &svc, cfg->dns.rate_limit_qps, &udp, err,
				sizeof(err)) != 0 ||
	    tc_tcp_server_start(tfd, &svc, &tcp_lim, &tcp, err, sizeof(err)) != 0 ||
	    tc_doq_server_start(qfd, &svc, &lim, &doq, err, sizeof(err)) != 0 ||
	    tc_doq_cert_start(c, cfg, install_doq_creds, doq, &doq_cert, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		goto out;
	}
	struct sockaddr_storage qaddr;
	socklen_t qalen = sizeof(qaddr);
	unsigned qport = cfg->dns.quic_port;
	if (getsockname(qfd, (struct sockaddr *)&qaddr, &qalen) == 0)
		qport = ntohs(qaddr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&qaddr)->sin6_port
							  : ((struct sockaddr_in *)&qaddr)->sin_port);
	/* Short: the supervisor shows at most TC_SUP_NAME_MAX octets of it. */
	char what[TC_CFG_STR * 2 + 96];
	snprintf(what, sizeof(what), "DNS udp/tcp %s:%u, DoQ udp %u, zone %s (%s), fallback %s",
		 cfg->dns.listen_address, cfg->dns.udp_port, qport, cfg->bootstrap.domain,
		 tc_zone_keeper_signed(keeper) ? "signed" : "unsigned", fwd ? "on" : "off");
	tc_child_ready(c, what);
	serve_signals(c, keeper, config_path_of(argc, argv));
	rc = 0;
out:
	/* The certificate thread feeds the DoQ listener: stop it first. */
	tc_doq_cert_stop(doq_cert);
	/* Callbacks of the forwarder and of updates in progress point into the
	 * listeners: halt them first. */
	tc_forwarder_halt(fwd);
	tc_update_pool_stop(upool);
	tc_udp_server_stop(udp);
	tc_tcp_server_stop(tcp);
	tc_doq_server_stop(doq);
	tc_forwarder_stop(fwd);
	tc_zone_keeper_stop(keeper);
	tc_notifier_stop(notifier);
	free(policy);
	free(auth);
	tc_child_stop(c);
	return rc;
}
