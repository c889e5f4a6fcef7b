/* Sockets the supervisor opens before dropping privileges (DNS port 53 and
 * DoQ port 853 need root) and hands to the children by name. */
#ifndef TC_SERVER_LISTENERS_H
#define TC_SERVER_LISTENERS_H

#include <stddef.h>

#include "common/config.h"

enum tc_listener_id { TC_LISTEN_DNS_UDP, TC_LISTEN_DNS_TCP, TC_LISTEN_DOQ, TC_LISTEN_CT_HTTP, TC_LISTEN_COUNT };

struct tc_listeners {
	int fd[TC_LISTEN_COUNT];
	char where[TC_LISTEN_COUNT][TC_CFG_STR + 16]; /* "udp 127.0.0.1:5300" */
};

/* The TC_FD_<NAME> a listener is passed under. */
const char *tc_listener_env_name(enum tc_listener_id id);

int tc_listeners_open(const struct tc_config *cfg, struct tc_listeners *l, char *err, size_t errlen);
void tc_listeners_close(struct tc_listeners *l);

#endif
