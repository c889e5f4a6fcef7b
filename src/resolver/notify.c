/* The NOTIFY sender: see notify.h. */
#include "resolver/notify.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/config_schema.h"
#include "common/log.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/tsig.h"

#define OPCODE_NOTIFY 4
#define MAX_SENDS 6          /* the first and five retries: 1+2+4+8+16 s */
#define FIRST_RETRY_MS 1000

struct target {
	char address[TC_CFG_STR];
	const struct tc_tsig_key *key;
	int fd;
	bool pending;            /* a serial waits to be acknowledged */
	uint32_t serial;
	uint16_t id;
	unsigned sends;
	uint64_t next_ms;        /* when to send (again) */
};

struct tc_notifier {
	uint8_t origin[TC_DNS_MAX_NAME];
	size_t origin_len;
	size_t ntargets;
	struct target targets[TC_CFG_MAX_LIST];
	int wakefd;
	pthread_t thread;
	bool have_thread;
	pthread_mutex_t lock;
	bool stop;
	uint64_t sent, answered, given_up;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int connect_target(struct target *t, char *err, size_t errlen)
{
	char host[TC_CFG_STR];
	uint16_t port;
	if (tc_split_hostport(t->address, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "'%s' is not host:port", t->address);
		return -1;
	}
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port);
	/* Numeric only: the resolver does no name lookups of its own. */
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, portstr, &hints, &ai) != 0) {
		snprintf(err, errlen, "'%s': an IP address is needed", t->address);
		return -1;
	}
	t->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = t->fd >= 0 && connect(t->fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : -1;
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", t->address, strerror(errno));
	freeaddrinfo(ai);
	return rc;
}

static void send_notify(struct tc_notifier *n, struct target *t)
{
	uint8_t msg[512 + TC_TSIG_RR_MAX];
	struct tc_dns_builder b;
	tc_dns_build_init(&b, msg, sizeof(msg));
	tc_dns_build_set_limit(&b, 512);
	if (tc_dns_build_header(&b, t->id, (uint16_t)(OPCODE_NOTIFY << 11 | TC_DNS_FLAG_AA)) != 0 ||
	    tc_dns_build_question(&b, n->origin, n->origin_len, TC_DNS_TYPE_SOA, TC_DNS_CLASS_IN) != 0)
		return;
	size_t len = tc_dns_build_finish(&b);
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t mac_len;
	len = tc_tsig_sign(msg, len, sizeof(msg), t->key, NULL, 0, false, (uint64_t)time(NULL), 0,
			   NULL, 0, mac, &mac_len);
	if (len == 0 || send(t->fd, msg, len, MSG_NOSIGNAL) < 0)
		tc_debug("notify %s: %s", t->address, len ? strerror(errno) : "cannot sign");
	n->sent++;
	t->sends++;
	t->next_ms = now_ms() + ((uint64_t)FIRST_RETRY_MS << (t->sends - 1));
}

/* A NOTIFY response with our ID acknowledges the serial. */
static void read_answers(struct tc_notifier *n, struct target *t)
{
	uint8_t buf[1024];
	ssize_t r;
	while ((r = recv(t->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (r < TC_DNS_HEADER_LEN || !t->pending)
			continue;
		uint16_t flags = tc_dns_get16(buf + 2);
		if (tc_dns_get16(buf) == t->id && (flags & TC_DNS_FLAG_QR) &&
		    TC_DNS_OPCODE(flags) == OPCODE_NOTIFY) {
			t->pending = false;
			n->answered++;
			tc_debug("notify %s: serial %u acknowledged (rcode %u)", t->address, t->serial,
				 TC_DNS_RCODE(flags));
		}
	}
}

static void *notifier_main(void *arg)
{
	struct tc_notifier *n = arg;
	struct pollfd pfd[TC_CFG_MAX_LIST + 1];
	for (;;) {
		pthread_mutex_lock(&n->lock);
		if (n->stop) {
			pthread_mutex_unlock(&n->lock);
			return NULL;
		}
		uint64_t now = now_ms();
		int timeout = -1;
		for (size_t i = 0; i < n->ntargets; i++) {
			struct target *t = &n->targets[i];
			if (!t->pending)
				continue;
			if (t->next_ms <= now) {
				if (t->sends == MAX_SENDS) {
					t->pending = false;
					n->given_up++;
					tc_warn("notify %s: no answer for serial %u after %d tries",
						t->address, t->serial, MAX_SENDS);
					continue;
				}
				send_notify(n, t);
			}
			uint64_t wait = t->next_ms > now ? t->next_ms - now : 0;
			if (timeout < 0 || wait < (uint64_t)timeout)
				timeout = (int)wait;
		}
		pthread_mutex_unlock(&n->lock);
		pfd[0] = (struct pollfd){.fd = n->wakefd, .events = POLLIN};
		for (size_t i = 0; i < n->ntargets; i++)
			pfd[i + 1] = (struct pollfd){.fd = n->targets[i].fd, .events = POLLIN};
		if (poll(pfd, n->ntargets + 1, timeout) < 0 && errno != EINTR)
			tc_warn("notify: poll: %s", strerror(errno));
		uint64_t v;
		if ((pfd[0].revents & POLLIN) && read(n->wakefd, &v, sizeof(v)) < 0)
			tc_debug("notify: eventfd: %s", strerror(errno));
		pthread_mutex_lock(&n->lock);
		for (size_t i = 0; i < n->ntargets; i++)
			if (pfd[i + 1].revents)
				read_answers(n, &n->targets[i]);
		pthread_mutex_unlock(&n->lock);
	}
}

int tc_notifier_start(const struct tc_config *cfg, const struct tc_tsig_keyring *ring,
		      struct tc_notifier **out, char *err, size_t errlen)
{
	*out = NULL;
	struct tc_notifier *n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&n->lock, NULL);
	n->wakefd = -1;
	for (size_t i = 0; i < TC_CFG_MAX_LIST; i++)
		n->targets[i].fd = -1;
	const char *why;
	static const uint8_t root = 0;
	if (tc_dns_name_from_text(cfg->bootstrap.domain, strlen(cfg->bootstrap.domain), &root, 1,
				  n->origin, &n->origin_len, &why) != 0) {
		snprintf(err, errlen, "bootstrap.domain: %s", why);
		goto fail;
	}
	for (size_t i = 0; i < cfg->dns.secondary_count; i++) {
		struct target *t = &n->targets[i];
		snprintf(t->address, sizeof(t->address), "%s", cfg->dns.secondaries[i].address);
		t->key = tc_tsig_key_find_text(ring, cfg->dns.secondaries[i].key);
		n->ntargets++;
		if (!t->key) {
			snprintf(err, errlen, "key '%s' is not in dns.tsig_keys_file",
				 cfg->dns.secondaries[i].key);
			goto fail;
		}
		if (connect_target(t, err, errlen) != 0)
			goto fail;
	}
	n->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->wakefd < 0 || pthread_create(&n->thread, NULL, notifier_main, n) != 0) {
		snprintf(err, errlen, "notify thread: %s", strerror(errno));
		goto fail;
	}
	n->have_thread = true;
	*out = n;
	return 0;
fail:
	tc_notifier_stop(n);
	return -1;
}

void tc_notifier_zone_changed(void *arg, uint32_t serial)
{
	struct tc_notifier *n = arg;
	pthread_mutex_lock(&n->lock);
	for (size_t i = 0; i < n->ntargets; i++) {
		struct target *t = &n->targets[i];
		uint16_t id;
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint16_t)(t->id * 31 + 7);
		t->pending = true;
		t->serial = serial;
		t->id = id;
		t->sends = 0;
		t->next_ms = 0;
	}
	pthread_mutex_unlock(&n->lock);
	uint64_t one = 1;
	if (write(n->wakefd, &one, sizeof(one)) < 0)
		tc_debug("notify: wake: %s", strerror(errno));
}

void tc_notifier_stats(struct tc_notifier *n, uint64_t *sent, uint64_t *answered,
		       uint64_t *given_up)
{
	pthread_mutex_lock(&n->lock);
	*sent = n->sent;
	*answered = n->answered;
	*given_up = n->given_up;
	pthread_mutex_unlock(&n->lock);
}

void tc_notifier_stop(struct tc_notifier *n)
{
	if (!n)
		return;
	if (n->have_thread) {
		pthread_mutex_lock(&n->lock);
		n->stop = true;
		pthread_mutex_unlock(&n->lock);
		uint64_t one = 1;
		if (write(n->wakefd, &one, sizeof(one)) < 0)
			tc_debug("notify: wake: %s", strerror(errno));
		pthread_join(n->thread, NULL);
		tc_info("notify: %llu sent, %llu answered, %llu given up",
			(unsigned long long)n->sent, (unsigned long long)n->answered,
			(unsigned long long)n->given_up);
	}
	for (size_t i = 0; i < TC_CFG_MAX_LIST; i++)
		if (n->targets[i].fd >= 0)
			close(n->targets[i].fd);
	if (n->wakefd >= 0)
		close(n->wakefd);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
