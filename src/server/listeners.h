/* Sockets the supervisor opens before dropping privileges (DNS port 53 and
 * DoQ port 853 need root) and hands to the children by name. The CT log's
 * internal IPC socket (<data_dir>/run/transparency.sock, for the gateway)
 * is one of them so that it outlives restarts of the transparency process:
 * connections made while it restarts wait in the backlog. */
#ifndef TC_SERVER_LISTENERS_H
#define TC_SERVER_LISTENERS_H

#include <stddef.h>

#include "common/config.h"
#include "server/privdrop.h"

/* ACME_HTTPS is open only with acme.listen set (-1 otherwise). */
/* METRICS_HTTP is open only with server.metrics_listen set (-1 otherwise,
 * and also when the dev default's port is taken: see listeners.c). */
enum tc_listener_id { TC_LISTEN_DNS_UDP, TC_LISTEN_DNS_TCP, TC_LISTEN_DOQ, TC_LISTEN_CT_HTTP, TC_LISTEN_CT_IPC,
		     TC_LISTEN_ACME_HTTPS, TC_LISTEN_METRICS_HTTP, TC_LISTEN_COUNT };

struct tc_listeners {
	int fd[TC_LISTEN_COUNT];
	char where[TC_LISTEN_COUNT][TC_CFG_STR + 40]; /* "udp 127.0.0.1:5300" */
	char ipc_path[TC_CFG_STR + 32];               /* unlinked at close */
};

/* The TC_FD_<NAME> a listener is passed under. */
const char *tc_listener_env_name(enum tc_listener_id id);

/* 1 when server.metrics_listen asks for /metrics. */
int tc_metrics_enabled(const struct tc_config *cfg);

/* Local sockets (and their directory) are made the run-as user's. */
int tc_listeners_open(const struct tc_config *cfg, const struct tc_run_as *ra, struct tc_listeners *l, char *err,
		      size_t errlen);
void tc_listeners_close(struct tc_listeners *l);

#endif
