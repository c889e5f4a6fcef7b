#include "server/listeners.h"

#include "common/config_schema.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *tc_listener_env_name(enum tc_listener_id id)
{
	static const char *const names[] = {"DNS_UDP", "DNS_TCP", "DOQ", "CT_HTTP"};
	return names[id];
}

static int open_one(const char *host, unsigned port, int type, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port);
	int gai = getaddrinfo(host, portstr, &hints, &ai);
	if (gai != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(gai));
		return -1;
	}
	int fd = socket(ai->ai_family, type | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 1024) != 0)) {
		snprintf(err, errlen, "cannot listen on %s %s:%u: %s", type == SOCK_STREAM ? "tcp" : "udp",
			 host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int tc_listeners_open(const struct tc_config *cfg, struct tc_listeners *l, char *err, size_t errlen)
{
	for (int i = 0; i < TC_LISTEN_COUNT; i++)
		l->fd[i] = -1;
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
	for (int i = 0; i < TC_LISTEN_COUNT; i++) {
		l->fd[i] = open_one(spec[i].host, spec[i].port, spec[i].type, err, errlen);
		if (l->fd[i] < 0) {
			tc_listeners_close(l);
			return -1;
		}
		int v6 = strchr(spec[i].host, ':') != NULL;
		snprintf(l->where[i], sizeof(l->where[i]), "%s %s%s%s:%u", spec[i].proto, v6 ? "[" : "",
			 spec[i].host, v6 ? "]" : "", spec[i].port);
	}
	return 0;
}

void tc_listeners_close(struct tc_listeners *l)
{
	for (int i = 0; i < TC_LISTEN_COUNT; i++) {
		if (l->fd[i] >= 0)
			close(l->fd[i]);
		l->fd[i] = -1;
	}
}
