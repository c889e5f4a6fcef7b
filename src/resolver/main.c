/* trustchain-resolver: authoritative DNS for the bootstrap zone over classic
 * UDP and TCP (DoQ joins as its own listener on the DOQ socket), forwarding
 * other names upstream when dns.traditional_fallback is on.
 *
 * Threads: UDP workers (udp_server.c), one TCP loop (tcp_server.c), the
 * forwarder (forwarder.c), and the main thread, which only waits for
 * signals and keeps the signer link checked (child_runtime). The zone is
 * built once before any listener starts and is read-only afterwards. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/child_runtime.h"
#include "common/log.h"
#include "common/proc_env.h"
#include "resolver/dns_service.h"
#include "resolver/forwarder.h"
#include "resolver/tcp_server.h"
#include "resolver/udp_server.h"
#include "resolver/zone.h"

#define UDP_THREADS 2

/* Run by hand (no supervisor): open the socket ourselves. */
static int open_listener(const char *host, uint16_t port, int type)
{
	struct addrinfo hints = {.ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0)
		return -1;
	int fd = socket(ai->ai_family, type | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 1024) != 0)) {
		tc_err("cannot listen on %s %s:%u: %s", type == SOCK_STREAM ? "tcp" : "udp", host, port,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int listener(const char *env_name, const struct tc_config *cfg, int type)
{
	int fd = tc_inherited_fd(env_name);
	return fd >= 0 ? fd : open_listener(cfg->dns.listen_address, cfg->dns.udp_port, type);
}

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start("resolver", argc, argv);
	const struct tc_config *cfg = tc_child_config(c);
	char err[512];
	int rc = 1;
	struct tc_zone *zone = NULL;
	struct tc_forwarder *fwd = NULL;
	struct tc_udp_server *udp = NULL;
	struct tc_tcp_server *tcp = NULL;
	/* Held for the DoQ listener; until it lands QUIC clients get nothing. */
	int doq = tc_inherited_fd("DOQ");

	if (tc_zone_from_config(cfg, &zone, err, sizeof(err)) != 0) {
		tc_err("zone %s: %s", cfg->bootstrap.domain, err);
		goto out;
	}
	if (cfg->dns.traditional_fallback &&
	    tc_forwarder_start(&cfg->dns.upstreams, &fwd, err, sizeof(err)) != 0) {
		tc_err("dns.traditional_fallback: %s", err);
		goto out;
	}
	struct tc_dns_service svc = {.zone = zone, .fwd = fwd, .udp_max = TC_DNS_UDP_MAX};
	int ufd = listener("DNS_UDP", cfg, SOCK_DGRAM), tfd = listener("DNS_TCP", cfg, SOCK_STREAM);
	if (ufd < 0 || tfd < 0)
		goto out;
	if (tc_udp_server_start(ufd, UDP_THREADS, &svc, cfg->dns.rate_limit_qps, &udp, err,
				sizeof(err)) != 0 ||
	    tc_tcp_server_start(tfd, &svc, cfg->dns.max_connections, cfg->dns.idle_timeout_ms, &tcp,
				err, sizeof(err)) != 0) {
		tc_err("%s", err);
		goto out;
	}
	char what[TC_CFG_STR * 3 + 128];
	snprintf(what, sizeof(what), "DNS udp/tcp %s:%u zone %s (%zu records), fallback %s%s",
		 cfg->dns.listen_address, cfg->dns.udp_port, cfg->bootstrap.domain,
		 tc_zone_rr_count(zone), fwd ? "on" : "off", doq >= 0 ? "" : ", no DoQ socket");
	tc_child_ready(c, what);
	tc_child_idle_loop(c, 10000);
	rc = 0;
out:
	/* Callbacks of the forwarder point into the listeners: halt it first. */
	tc_forwarder_halt(fwd);
	tc_udp_server_stop(udp);
	tc_tcp_server_stop(tcp);
	tc_forwarder_stop(fwd);
	tc_zone_free(zone);
	tc_child_stop(c);
	return rc;
}
