#include "server/listeners.h"

#include "common/config_acme.h"
#include "common/config_schema.h"
#include "common/listen_socket.h"
#include "common/ct_client.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Deep enough for a burst of DNS-over-TCP and HTTP clients. */
#define LISTEN_BACKLOG 1024

const char *tc_listener_env_name(enum tc_listener_id id)
{
	static const char *const names[] = {"DNS_UDP", "DNS_TCP", "DOQ", "CT_HTTP", "CT_IPC", "ACME_HTTPS", "METRICS_HTTP"};
	return names[id];
}

/* The CT log's IPC socket, in run/ (root:<group> 0750, see data_layout.h):
 * the log's user owns it and the shared group may connect (mode 0660), so
 * only TrustChain's own processes reach it. */
static int open_local(const char *path, const struct tc_run_as *ra, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)];
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a socket (data_dir too deep)", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot prepare %s: %s", dir, strerror(errno));
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path); /* left by a previous run; the data dir lock is ours */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(0077);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	umask(old);
	ok = ok && (!ra->drop || (chown(path, ra->uid, ra->group) == 0 && chmod(path, 0660) == 0)) &&
	     listen(fd, 1024) == 0;
	if (!ok) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

int tc_metrics_enabled(const struct tc_config *cfg)
{
	return cfg->server.metrics_listen[0] && strcmp(cfg->server.metrics_listen, "off") != 0;
}

/* /metrics. The dev default (on in every dev configuration, so in many test
 * servers at once) gives way when its port is taken: the server then runs
 * without metrics and says so. An address the operator chose must work. */
static int open_metrics(const struct tc_config *cfg, struct tc_listeners *l, char *err, size_t errlen)
{
	if (!tc_metrics_enabled(cfg))
		return 0;
	char host[TC_CFG_STR];
	uint16_t port;
	if (tc_split_hostport(cfg->server.metrics_listen, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "server.metrics_listen: expected host:port, got '%s'", cfg->server.metrics_listen);
		tc_listeners_close(l);
		return -1;
	}
	if ((l->fd[TC_LISTEN_METRICS_HTTP] = tc_listen_open(host, port, SOCK_STREAM, LISTEN_BACKLOG, err, errlen)) < 0) {
		if (cfg->dev && strcmp(cfg->server.metrics_listen, TC_METRICS_DEV_LISTEN) == 0) {
			tc_warn("server.metrics_listen (dev default): %s; running without /metrics", err);
			return 0;
		}
		tc_listeners_close(l);
		return -1;
	}
	snprintf(l->where[TC_LISTEN_METRICS_HTTP], sizeof(l->where[TC_LISTEN_METRICS_HTTP]), "metrics http %s",
		 cfg->server.metrics_listen);
	return 0;
}

int tc_listeners_open(const struct tc_config *cfg, const struct tc_run_as *ra, struct tc_listeners *l, char *err,
		      size_t errlen)
{
	for (int i = 0; i < TC_LISTEN_COUNT; i++)
		l->fd[i] = -1;
	l->ipc_path[0] = '\0';
	char ct_host[TC_CFG_STR];
	uint16_t ct_port;
	if (tc_split_hostport(cfg->ct.http_listen, ct_host, sizeof(ct_host), &ct_port) != 0) {
		snprintf(err, errlen, "ct.http_listen: bad address");
		return -1;
	}
	struct {
		const char *host;
		unsigned port;
		int type;
		const char *proto;
	} spec[TC_LISTEN_COUNT] = {
	    [TC_LISTEN_DNS_UDP] = {cfg->dns.listen_address, cfg->dns.udp_port, SOCK_DGRAM, "dns udp"},
	    [TC_LISTEN_DNS_TCP] = {cfg->dns.listen_address, cfg->dns.udp_port, SOCK_STREAM, "dns tcp"},
	    [TC_LISTEN_DOQ] = {cfg->dns.listen_address, cfg->dns.quic_port, SOCK_DGRAM, "doq udp"},
	    [TC_LISTEN_CT_HTTP] = {ct_host, ct_port, SOCK_STREAM, "ct http"},
	};
	for (int i = 0; i < TC_LISTEN_CT_IPC; i++) {
		l->fd[i] = tc_listen_open(spec[i].host, spec[i].port, spec[i].type, LISTEN_BACKLOG, err, errlen);
		if (l->fd[i] < 0) {
			tc_listeners_close(l);
			return -1;
		}
		int v6 = strchr(spec[i].host, ':') != NULL;
		snprintf(l->where[i], sizeof(l->where[i]), "%s %s%s%s:%u", spec[i].proto, v6 ? "[" : "",
			 spec[i].host, v6 ? "]" : "", spec[i].port);
	}
	if (tc_config_data_path(cfg, TC_CT_IPC_SOCKET, l->ipc_path, sizeof(l->ipc_path)) != 0) {
		snprintf(err, errlen, "server.data_dir too long");
		tc_listeners_close(l);
		return -1;
	}
	if ((l->fd[TC_LISTEN_CT_IPC] = open_local(l->ipc_path, ra, err, errlen)) < 0) {
		l->ipc_path[0] = '\0';
		tc_listeners_close(l);
		return -1;
	}
	snprintf(l->where[TC_LISTEN_CT_IPC], sizeof(l->where[TC_LISTEN_CT_IPC]), "ct ipc %s", l->ipc_path);
	if (tc_config_acme_enabled(cfg)) {
		char host[TC_CFG_STR];
		uint16_t port;
		if (tc_split_hostport(cfg->acme.listen, host, sizeof(host), &port) != 0) {
			snprintf(err, errlen, "acme.listen: bad address");
			tc_listeners_close(l);
			return -1;
		}
		if ((l->fd[TC_LISTEN_ACME_HTTPS] = tc_listen_open(host, port, SOCK_STREAM, LISTEN_BACKLOG, err, errlen)) < 0) {
			tc_listeners_close(l);
			return -1;
		}
		snprintf(l->where[TC_LISTEN_ACME_HTTPS], sizeof(l->where[TC_LISTEN_ACME_HTTPS]), "acme https %s",
			 cfg->acme.listen);
	}
	return open_metrics(cfg, l, err, errlen);
}

void tc_listeners_close(struct tc_listeners *l)
{
	for (int i = 0; i < TC_LISTEN_COUNT; i++) {
		if (l->fd[i] >= 0)
			close(l->fd[i]);
		l->fd[i] = -1;
	}
	if (l->ipc_path[0])
		unlink(l->ipc_path);
	l->ipc_path[0] = '\0';
}
