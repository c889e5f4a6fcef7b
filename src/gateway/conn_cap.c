/* Accept-side connection cap through gRPC's socket mutator (conn_cap.h).
 *
 * gRPC 1.51 calls the mutator of the GRPC_ARG_SOCKET_MUTATOR channel
 * argument on every socket its TCP server accepts, before the endpoint is
 * created. The mutator's type is internal to gRPC (socket_mutator.h is not
 * installed), so its layout is repeated here, checked against the library
 * release at run time (grpc_version_string()), and was read from 1.51's
 * code: the object starts {vtable, gpr_refcount}, the vtable is {mutate_fd,
 * compare, destroy, mutate_fd_2}, and mutate_fd_2 gets {fd, usage}.
 * The mutator must return true: false stops gRPC's listener for good. A
 * refused socket is reset (SO_LINGER 0 + shutdown) instead, so gRPC's
 * handshake fails on its first read and closes it.
 *
 * gRPC tells nobody when it closes a connection, so open connections are
 * tracked by fd number and re-checked when the count reaches the cap: a
 * tracked fd that is no longer a connected TCP socket on the gRPC port has
 * been closed (a number reused by a later accepted connection is the same
 * slot again). The check runs at most every SWEEP_MS, so a flood of
 * refused connections costs a syscall each, not a sweep each.
 *
 * Each tracked fd also keeps its source (source_key); the connections of
 * one source are counted by a pass over the tracked fds when one of its
 * connections arrives (a few microseconds for 4,096: no table to keep in
 * step with closes gRPC does not report). */
#define _GNU_SOURCE
#include "gateway/conn_cap.h"

#include <grpc/support/alloc.h>
#include <grpc/support/sync.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define SWEEP_MS 200
#define LOG_EVERY_S 10

/* gRPC 1.51's grpc_fd_usage and grpc_mutate_socket_info. */
enum { FD_SERVER_CONNECTION_USAGE = 2 };
struct mutate_info {
	int fd;
	int usage;
};

struct mutator_vtable {
	bool (*mutate_fd)(int fd, struct tc_conn_cap *m);
	int (*compare)(struct tc_conn_cap *a, struct tc_conn_cap *b);
	void (*destroy)(struct tc_conn_cap *m);
	bool (*mutate_fd_2)(const struct mutate_info *info, struct tc_conn_cap *m);
};

struct tc_conn_cap {
	const struct mutator_vtable *vtable; /* grpc_socket_mutator's layout: first */
	gpr_refcount refcount;
	pthread_mutex_t mu;
	unsigned max;
	unsigned per_source; /* connections from one source_key at once */
	int port;          /* local port of accepted connections (0 until the first) */
	uint8_t *tracked;  /* bit per fd number: an accepted connection */
	uint64_t *source;  /* per fd number: the tracked connection's source_key */
	size_t nfds;
	unsigned count;    /* bits set */
	uint64_t last_sweep_ms;
	uint64_t refused;  /* by either cap */
	time_t last_log, last_source_log;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

/* Still one of our connections: a TCP socket on the gRPC port that is not
 * a listener. */
static bool still_connection(const struct tc_conn_cap *c, int fd)
{
	if (c->port <= 0 || local_port(fd) != c->port)
		return false;
	int listening = 0;
	socklen_t len = sizeof(listening);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && !listening;
}

/* What one source is, for the per-source cap: an IPv4 address (an
 * IPv4-mapped IPv6 one too) or an IPv6 /64, the block one host or site is
 * usually given. IPv4 keys are 1 << 32 | address, inside ::/32 (0:1::/32),
 * which no peer is given; 0 when the peer is unknown (never capped). */
static uint64_t source_key(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return 1ull << 32 | ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr);
	if (ss.ss_family != AF_INET6)
		return 0;
	const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	const uint8_t *b = a6->s6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a6))
		return 1ull << 32 | (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
	uint64_t k = 0;
	for (int i = 0; i < 8; i++)
		k = k << 8 | b[i];
	return k;
}

/* Tracked connections from source key, fd except left out. */
static unsigned from_source(const struct tc_conn_cap *c, uint64_t key, int except)
{
	unsigned n = 0;
	for (size_t i = 0; i < c->nfds / 8; i++) {
		if (!c->tracked[i])
			continue;
		for (int b = 0; b < 8; b++) {
			int fd = (int)(i * 8) + b;
			if (fd != except && (c->tracked[i] & (1u << b)) && c->source[fd] == key)
				n++;
		}
	}
	return n;
}

static void sweep(struct tc_conn_cap *c, int except)
{
	for (size_t i = 0; i < c->nfds / 8; i++) {
		if (!c->tracked[i])
			continue;
		for (int b = 0; b < 8; b++) {
			int fd = (int)(i * 8) + b;
			if (fd == except || !(c->tracked[i] & (1u << b)) || still_connection(c, fd))
				continue;
			c->tracked[i] &= (uint8_t) ~(1u << b);
			c->count--;
		}
	}
}

/* Closed fds leave the tracked set, at most every SWEEP_MS. */
static void sweep_if_due(struct tc_conn_cap *c, int except)
{
	uint64_t t = now_ms();
	if (t - c->last_sweep_ms >= SWEEP_MS) {
		c->last_sweep_ms = t;
		sweep(c, except);
	}
}

static void refuse(int fd)
{
	/* A reset rather than a FIN: nothing lingers on either side. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	(void)shutdown(fd, SHUT_RDWR);
}

static bool on_socket(const struct mutate_info *info, struct tc_conn_cap *c)
{
	int fd = info->fd;
	if (info->usage != FD_SERVER_CONNECTION_USAGE || fd < 0)
		return true;
	pthread_mutex_lock(&c->mu);
	if ((size_t)fd >= c->nfds) { /* beyond RLIMIT_NOFILE at start: cannot be tracked */
		c->refused++;
		pthread_mutex_unlock(&c->mu);
		refuse(fd);
		return true;
	}
	if (c->port <= 0) /* -1 (getsockname failed) would match every closed fd */
		c->port = local_port(fd);
	uint64_t key = source_key(fd);
	uint8_t bit = (uint8_t)(1u << (fd % 8));
	if (!(c->tracked[fd / 8] & bit)) { /* a set bit: that connection closed, its number reused */
		c->tracked[fd / 8] |= bit;
		c->count++;
	}
	c->source[fd] = key;
	if (c->count > c->max)
		sweep_if_due(c, fd);
	bool refused = c->count > c->max, by_source = false;
	if (!refused && key && from_source(c, key, fd) >= c->per_source) {
		sweep_if_due(c, fd); /* some of them may have closed */
		refused = by_source = from_source(c, key, fd) >= c->per_source;
	}
	time_t now = 0, *last = by_source ? &c->last_source_log : &c->last_log;
	uint64_t total = 0;
	if (refused) {
		c->tracked[fd / 8] &= (uint8_t)~bit;
		c->count--;
		total = ++c->refused;
		now = time(NULL);
		if (now - *last < LOG_EVERY_S)
			now = 0;
		else
			*last = now;
	}
	pthread_mutex_unlock(&c->mu);
	if (refused) {
		refuse(fd);
		if (now && by_source)
			tc_warn("gRPC connection refused: gateway.max_per_source (%u) reached by one source (%llu refused "
				"so far)",
				c->per_source, (unsigned long long)total);
		else if (now)
			tc_warn("gRPC connection refused: gateway.max_connections (%u) reached (%llu refused so far)",
				c->max, (unsigned long long)total);
	}
	return true;
}

static bool on_fd(int fd, struct tc_conn_cap *c)
{
	(void)fd;
	(void)c;
	return true; /* listener and client sockets: nothing to change */
}

static int compare(struct tc_conn_cap *a, struct tc_conn_cap *b)
{
	return a < b ? -1 : a > b;
}

static void destroy(struct tc_conn_cap *c)
{
	pthread_mutex_destroy(&c->mu);
	free(c->tracked);
	free(c->source);
	free(c);
}

static const struct mutator_vtable cap_vtable = {on_fd, compare, destroy, on_socket};

void tc_conn_cap_unref(struct tc_conn_cap *c)
{
	if (c && gpr_unref(&c->refcount))
		destroy(c);
}

/* The channel argument's own vtable (a pointer argument holds a reference). */
static void *arg_copy(void *p)
{
	gpr_ref(&((struct tc_conn_cap *)p)->refcount);
	return p;
}

static void arg_destroy(void *p)
{
	tc_conn_cap_unref(p);
}

static int arg_cmp(void *a, void *b)
{
	return compare(a, b);
}

static const grpc_arg_pointer_vtable cap_arg_vtable = {arg_copy, arg_destroy, arg_cmp};

uint64_t tc_conn_cap_refused(const struct tc_conn_cap *c)
{
	pthread_mutex_lock((pthread_mutex_t *)&c->mu);
	uint64_t n = c->refused;
	pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
	return n;
}

struct tc_conn_cap *tc_conn_cap_new(unsigned max, unsigned per_source, grpc_arg *arg, char *err, size_t errlen)
{
	err[0] = '\0';
	if (max == 0)
		return NULL;
	/* The layout above is 1.51's (core "29.x"); another release may differ. */
	const char *v = grpc_version_string();
	if (strncmp(v, "29.", 3) != 0) {
		snprintf(err, errlen,
			 "gateway.max_connections needs gRPC core 29.x (1.51), this is %s: set it to 0 or rebuild", v);
		return NULL;
	}
	struct rlimit rl;
	size_t nfds = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1u << 24))
		nfds = (size_t)rl.rlim_cur;
	nfds = (nfds + 7) / 8 * 8;
	struct tc_conn_cap *c = calloc(1, sizeof(*c));
	if (c) {
		c->tracked = calloc(nfds / 8, 1);
		c->source = calloc(nfds, sizeof(*c->source)); /* pages untouched until used */
	}
	if (!c || !c->tracked || !c->source) {
		if (c) {
			free(c->tracked);
			free(c->source);
		}
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->vtable = &cap_vtable;
	gpr_ref_init(&c->refcount, 1);
	pthread_mutex_init(&c->mu, NULL);
	c->max = max;
	c->per_source = per_source ? per_source : max / 8 > 8 ? max / 8 : 8;
	c->nfds = nfds;
	memset(arg, 0, sizeof(*arg));
	arg->type = GRPC_ARG_POINTER;
	arg->key = (char *)GRPC_ARG_SOCKET_MUTATOR;
	arg->value.pointer.p = c;
	arg->value.pointer.vtable = &cap_arg_vtable;
	return c;
}
