/* Upstream forwarding with a small TTL-honouring cache: see forwarder.h. */
#define _GNU_SOURCE
#include "resolver/forwarder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/config_schema.h"
#include "common/log.h"
#include "resolver/dns_name.h"
#include "resolver/dns_wire.h"

#define TICK_MS 50

struct pending {
	bool used;
	uint16_t up_id;             /* the ID upstream sees */
	uint16_t client_id;
	unsigned attempt;           /* sends so far */
	size_t upstream;            /* where the last send went */
	uint64_t deadline_ms;
	size_t qlen;
	size_t question_end;        /* query[12..question_end) is the question */
	uint8_t query[TC_FWD_QUERY_MAX];
	size_t ctxlen;
	uint8_t ctx[TC_FWD_CTX_MAX];
	tc_forward_done_fn done;
};

struct cache_entry {
	bool used;
	uint8_t key[TC_DNS_MAX_NAME + 5];
	size_t keylen;
	uint64_t stored_ms, expires_ms;
	size_t len;
	uint8_t resp[TC_FWD_CACHE_ENTRY_MAX];
};

struct tc_forwarder {
	size_t nup;
	int fds[TC_CFG_MAX_LIST];
	char names[TC_CFG_MAX_LIST][TC_CFG_STR];
	int stopfd;
	pthread_t thread;
	bool thread_started;
	size_t next_upstream;       /* round robin start for new queries */

	pthread_mutex_t lock;       /* pending[] and stats */
	struct pending pending[TC_FWD_PENDING];
	size_t npending;
	struct tc_forwarder_stats stats;

	pthread_mutex_t cache_lock;
	struct cache_entry cache[TC_FWD_CACHE_SLOTS];

	uint8_t rbuf[TC_DNS_MAX_MSG];   /* receive buffer, thread only */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "addr", "addr:port" or "[v6addr]:port"; port 53 when omitted. */
static int parse_upstream(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[TC_CFG_STR];
	uint16_t port = 53;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, s, &a4) != 1 && inet_pton(AF_INET6, s, &a6) != 1) {
		if (tc_split_hostport(s, host, sizeof(host), &port) != 0)
			return -1;
	} else {
		snprintf(host, sizeof(host), "%s", s);
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a4;
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a6;
		*sslen = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* Cache key: lower-case qname, qtype, qclass and whether the client speaks
 * EDNS with DO (the answer's shape depends on both). */
static size_t cache_key(const struct tc_dns_msg *m, uint8_t *key)
{
	tc_dns_name_lower(key, m->qname, m->qname_len);
	size_t n = m->qname_len;
	tc_dns_put16(key + n, m->qtype);
	tc_dns_put16(key + n + 2, m->qclass);
	key[n + 4] = (uint8_t)((m->has_edns ? 1 : 0) | ((m->edns_flags & TC_DNS_EDNS_FLAG_DO) ? 2 : 0));
	return n + 5;
}

static size_t cache_slot(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % TC_FWD_CACHE_SLOTS;
}

/* Walks every record; for each one that is not OPT calls fn with the offset
 * of its TTL. Returns -1 on a malformed message. */
static int for_each_ttl(uint8_t *msg, size_t len, void (*fn)(uint8_t *ttl, void *arg), void *arg,
			bool answer_authority_only)
{
	size_t off;
	if (tc_dns_skip_questions(msg, len, &off) != TC_DNS_OK)
		return -1;
	unsigned total = (unsigned)tc_dns_get16(msg + 6) + tc_dns_get16(msg + 8);
	if (!answer_authority_only)
		total += tc_dns_get16(msg + 10);
	struct tc_dns_rr rr;
	for (unsigned i = 0; i < total; i++) {
		if (tc_dns_read_rr(msg, len, &off, &rr) != TC_DNS_OK)
			return -1;
		if (rr.type != TC_DNS_TYPE_OPT)
			fn(msg + rr.rdata_off - 6, arg);
	}
	return 0;
}

static void min_ttl(uint8_t *ttl, void *arg)
{
	uint32_t *m = arg;
	uint32_t v = tc_dns_get32(ttl);
	if (v < *m)
		*m = v;
}

static void age_ttl(uint8_t *ttl, void *arg)
{
	uint32_t age = *(uint32_t *)arg;
	uint32_t v = tc_dns_get32(ttl);
	tc_dns_put32(ttl, v > age ? v - age : 0);
}

static void cache_store(struct tc_forwarder *f, const uint8_t *query, size_t qlen,
			uint8_t *resp, size_t len)
{
	uint16_t flags = tc_dns_get16(resp + 2);
	unsigned rcode = TC_DNS_RCODE(flags);
	if (len > TC_FWD_CACHE_ENTRY_MAX || (flags & TC_DNS_FLAG_TC) ||
	    (rcode != TC_DNS_RCODE_NOERROR && rcode != TC_DNS_RCODE_NXDOMAIN))
		return;
	uint32_t ttl = TC_FWD_CACHE_MAX_TTL;
	unsigned records = (unsigned)tc_dns_get16(resp + 6) + tc_dns_get16(resp + 8);
	/* Without records there is no TTL to honour (RFC 2308 §5): not cached. */
	if (records == 0 || for_each_ttl(resp, len, min_ttl, &ttl, true) != 0 || ttl == 0)
		return;
	struct tc_dns_msg m;
	if (tc_dns_parse(query, qlen, &m) != TC_DNS_OK || m.qdcount != 1)
		return;
	uint8_t key[TC_DNS_MAX_NAME + 5];
	size_t keylen = cache_key(&m, key);
	uint64_t now = now_ms();
	pthread_mutex_lock(&f->cache_lock);
	struct cache_entry *e = &f->cache[cache_slot(key, keylen)];
	e->used = true;
	memcpy(e->key, key, keylen);
	e->keylen = keylen;
	e->stored_ms = now;
	e->expires_ms = now + (uint64_t)ttl * 1000;
	memcpy(e->resp, resp, len);
	e->len = len;
	pthread_mutex_unlock(&f->cache_lock);
}

size_t tc_forwarder_cached(struct tc_forwarder *f, const uint8_t *query, size_t qlen,
			   uint8_t *out, size_t outcap)
{
	struct tc_dns_msg m;
	if (tc_dns_parse(query, qlen, &m) != TC_DNS_OK || m.qdcount != 1)
		return 0;
	uint8_t key[TC_DNS_MAX_NAME + 5];
	size_t keylen = cache_key(&m, key), len = 0;
	uint64_t now = now_ms();
	uint32_t age = 0;
	pthread_mutex_lock(&f->cache_lock);
	struct cache_entry *e = &f->cache[cache_slot(key, keylen)];
	if (e->used && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) {
		if (now >= e->expires_ms) {
			e->used = false;
		} else if (e->len <= outcap) {
			memcpy(out, e->resp, e->len);
			len = e->len;
			age = (uint32_t)((now - e->stored_ms) / 1000);
		}
	}
	pthread_mutex_unlock(&f->cache_lock);
	if (len == 0)
		return 0;
	memcpy(out, query, 2);   /* the client's ID */
	/* The client's spelling of the name (0x20 case) if the answer's question
	 * is stored uncompressed at offset 12, as every resolver sends it. */
	if (len >= TC_DNS_HEADER_LEN + m.qname_len &&
	    tc_dns_name_equal(out + TC_DNS_HEADER_LEN, m.qname_len, m.qname, m.qname_len))
		memcpy(out + TC_DNS_HEADER_LEN, m.qname, m.qname_len);
	if (age > 0 && for_each_ttl(out, len, age_ttl, &age, false) != 0)
		return 0;
	pthread_mutex_lock(&f->lock);
	f->stats.cache_hits++;
	pthread_mutex_unlock(&f->lock);
	return len;
}

/* SERVFAIL for the query in p: header + question, RD echoed, RA set. */
static size_t build_servfail(const struct pending *p, uint8_t *out)
{
	memcpy(out, p->query, p->question_end);
	uint16_t qflags = tc_dns_get16(p->query + 2);
	tc_dns_put16(out, p->client_id);
	tc_dns_put16(out + 2, (uint16_t)(TC_DNS_FLAG_QR | (qflags & (TC_DNS_OPCODE_MASK | TC_DNS_FLAG_RD)) |
					 TC_DNS_FLAG_RA | TC_DNS_RCODE_SERVFAIL));
	tc_dns_put16(out + 4, 1);
	memset(out + 6, 0, 6);
	return p->question_end;
}

static uint16_t fresh_id(const struct tc_forwarder *f)
{
	for (;;) {
		uint16_t id = (uint16_t)arc4random_uniform(65536);
		bool taken = false;
		for (size_t i = 0; i < TC_FWD_PENDING && !taken; i++)
			taken = f->pending[i].used && f->pending[i].up_id == id;
		if (!taken)
			return id;
	}
}

/* Sends p to the next upstream after its last one; lock held. */
static int send_next(struct tc_forwarder *f, struct pending *p)
{
	for (size_t tries = 0; tries < f->nup; tries++) {
		p->upstream = (p->upstream + 1) % f->nup;
		p->attempt++;
		p->deadline_ms = now_ms() + TC_FWD_TIMEOUT_MS;
		if (send(f->fds[p->upstream], p->query, p->qlen, MSG_DONTWAIT) == (ssize_t)p->qlen)
			return 0;
		tc_debug("forwarder: send to %s: %s", f->names[p->upstream], strerror(errno));
		if (p->attempt >= TC_FWD_ATTEMPTS)
			break;
	}
	return -1;
}

int tc_forwarder_submit(struct tc_forwarder *f, const uint8_t *query, size_t qlen,
			const void *ctx, size_t ctxlen, tc_forward_done_fn done)
{
	if (qlen > TC_FWD_QUERY_MAX || qlen < TC_DNS_HEADER_LEN || ctxlen > TC_FWD_CTX_MAX)
		return -1;
	size_t qend = TC_DNS_HEADER_LEN;
	if (tc_dns_get16(query + 4) != 1 || tc_dns_read_name(query, qlen, &qend, NULL, NULL) != TC_DNS_OK ||
	    qend + 4 > qlen)
		return -1;
	qend += 4;
	pthread_mutex_lock(&f->lock);
	struct pending *p = NULL;
	for (size_t i = 0; i < TC_FWD_PENDING && !p; i++)
		if (!f->pending[i].used)
			p = &f->pending[i];
	if (!p) {
		f->stats.failed++;
		pthread_mutex_unlock(&f->lock);
		return -1;
	}
	memcpy(p->query, query, qlen);
	p->qlen = qlen;
	p->question_end = qend;
	p->client_id = tc_dns_get16(query);
	p->up_id = fresh_id(f);
	tc_dns_put16(p->query, p->up_id);
	memcpy(p->ctx, ctx, ctxlen);
	p->ctxlen = ctxlen;
	p->done = done;
	p->attempt = 0;
	p->upstream = (f->next_upstream + f->nup - 1) % f->nup;
	f->next_upstream = (f->next_upstream + 1) % f->nup;
	if (send_next(f, p) != 0) {
		f->stats.failed++;
		pthread_mutex_unlock(&f->lock);
		return -1;
	}
	p->used = true;
	f->npending++;
	f->stats.forwarded++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* Finishes p with resp (already carrying the client's ID): copies what the
 * callback needs, frees the slot, and calls back without the lock. */
static void complete(struct tc_forwarder *f, struct pending *p, const uint8_t *resp, size_t len)
{
	uint8_t ctx[TC_FWD_CTX_MAX];
	memcpy(ctx, p->ctx, p->ctxlen);
	tc_forward_done_fn done = p->done;
	p->used = false;
	f->npending--;
	pthread_mutex_unlock(&f->lock);
	done(ctx, resp, len);
	pthread_mutex_lock(&f->lock);
}

static void handle_response(struct tc_forwarder *f, uint8_t *resp, size_t len)
{
	if (len < TC_DNS_HEADER_LEN || !(tc_dns_get16(resp + 2) & TC_DNS_FLAG_QR))
		return;
	uint16_t id = tc_dns_get16(resp);
	pthread_mutex_lock(&f->lock);
	struct pending *p = NULL;
	for (size_t i = 0; i < TC_FWD_PENDING && !p; i++)
		if (f->pending[i].used && f->pending[i].up_id == id)
			p = &f->pending[i];
	/* The question must come back as sent (same octets after the ID-free
	 * header part): anything else is a stray or a spoof. */
	size_t qlen_sec = p ? p->question_end - TC_DNS_HEADER_LEN : 0;
	if (!p || len < p->question_end || tc_dns_get16(resp + 4) != 1 ||
	    !tc_dns_name_equal(resp + TC_DNS_HEADER_LEN, qlen_sec - 4, p->query + TC_DNS_HEADER_LEN,
			       qlen_sec - 4) ||
	    memcmp(resp + p->question_end - 4, p->query + p->question_end - 4, 4) != 0) {
		pthread_mutex_unlock(&f->lock);
		return;
	}
	/* Cache with the upstream ID replaced: the entry is ID-agnostic anyway.
	 * We relay as a recursive service: RA on, and AA off since we are not
	 * the authority for what we relay. */
	tc_dns_put16(resp, p->client_id);
	tc_dns_put16(resp + 2, (uint16_t)((tc_dns_get16(resp + 2) | TC_DNS_FLAG_RA) & ~TC_DNS_FLAG_AA));
	uint8_t query[TC_FWD_QUERY_MAX];
	size_t qlen = p->qlen;
	memcpy(query, p->query, qlen);
	f->stats.answered++;
	complete(f, p, resp, len);
	pthread_mutex_unlock(&f->lock);
	cache_store(f, query, qlen, resp, len);
}

static void handle_timeouts(struct tc_forwarder *f)
{
	uint64_t now = now_ms();
	uint8_t out[TC_FWD_QUERY_MAX];
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < TC_FWD_PENDING && f->npending > 0; i++) {
		struct pending *p = &f->pending[i];
		if (!p->used || now < p->deadline_ms)
			continue;
		if (p->attempt < TC_FWD_ATTEMPTS && send_next(f, p) == 0) {
			f->stats.timeouts++;
			continue;
		}
		tc_info("forwarder: no answer from %zu upstream(s) after %u attempts: SERVFAIL",
			f->nup, p->attempt);
		f->stats.timeouts++;
		size_t n = build_servfail(p, out);
		complete(f, p, out, n);
	}
	pthread_mutex_unlock(&f->lock);
}

static void *forwarder_thread(void *arg)
{
	struct tc_forwarder *f = arg;
	struct pollfd pfd[TC_CFG_MAX_LIST + 1];
	for (size_t i = 0; i < f->nup; i++)
		pfd[i] = (struct pollfd){.fd = f->fds[i], .events = POLLIN};
	pfd[f->nup] = (struct pollfd){.fd = f->stopfd, .events = POLLIN};
	uint64_t next_tick = now_ms() + TICK_MS;
	for (;;) {
		int n = poll(pfd, f->nup + 1, TICK_MS);
		if (n < 0 && errno != EINTR) {
			tc_err("forwarder: poll: %s", strerror(errno));
			break;
		}
		if (pfd[f->nup].revents)
			break;
		for (size_t i = 0; n > 0 && i < f->nup; i++) {
			if (!pfd[i].revents)
				continue;
			/* Drain: a burst of answers costs one poll. */
			for (;;) {
				ssize_t r = recv(f->fds[i], f->rbuf, sizeof(f->rbuf), MSG_DONTWAIT);
				if (r < 0)
					break;   /* EAGAIN, or ECONNREFUSED from an ICMP: the timeout retries */
				handle_response(f, f->rbuf, (size_t)r);
			}
		}
		uint64_t now = now_ms();
		if (now >= next_tick) {
			handle_timeouts(f);
			next_tick = now + TICK_MS;
		}
	}
	return NULL;
}

int tc_forwarder_start(const struct tc_string_list *upstreams, struct tc_forwarder **out,
		       char *err, size_t errlen)
{
	if (upstreams->count == 0) {
		snprintf(err, errlen, "dns.upstreams is empty");
		return -1;
	}
	struct tc_forwarder *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	f->stopfd = -1;
	for (size_t i = 0; i < TC_CFG_MAX_LIST; i++)
		f->fds[i] = -1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->cache_lock, NULL);
	for (size_t i = 0; i < upstreams->count; i++) {
		struct sockaddr_storage ss;
		socklen_t sslen;
		if (parse_upstream(upstreams->items[i], &ss, &sslen) != 0) {
			snprintf(err, errlen, "dns.upstreams: bad address '%s' (want addr, addr:port or [v6]:port)",
				 upstreams->items[i]);
			goto fail;
		}
		int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sslen) != 0) {
			snprintf(err, errlen, "upstream %s: %s", upstreams->items[i], strerror(errno));
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		f->fds[f->nup] = fd;
		snprintf(f->names[f->nup], sizeof(f->names[0]), "%s", upstreams->items[i]);
		f->nup++;
	}
	f->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->stopfd < 0 || pthread_create(&f->thread, NULL, forwarder_thread, f) != 0) {
		snprintf(err, errlen, "forwarder thread: %s", strerror(errno));
		goto fail;
	}
	f->thread_started = true;
	*out = f;
	return 0;
fail:
	tc_forwarder_stop(f);
	return -1;
}

void tc_forwarder_halt(struct tc_forwarder *f)
{
	if (!f || !f->thread_started)
		return;
	uint64_t one = 1;
	if (write(f->stopfd, &one, sizeof(one)) < 0)
		tc_warn("forwarder: wake: %s", strerror(errno));
	pthread_join(f->thread, NULL);
	f->thread_started = false;
	tc_info("forwarder: %llu forwarded, %llu answered, %llu timeouts, %llu failed, %llu cache hits",
		(unsigned long long)f->stats.forwarded, (unsigned long long)f->stats.answered,
		(unsigned long long)f->stats.timeouts, (unsigned long long)f->stats.failed,
		(unsigned long long)f->stats.cache_hits);
}

void tc_forwarder_stop(struct tc_forwarder *f)
{
	if (!f)
		return;
	tc_forwarder_halt(f);
	for (size_t i = 0; i < TC_CFG_MAX_LIST; i++)
		if (f->fds[i] >= 0)
			close(f->fds[i]);
	if (f->stopfd >= 0)
		close(f->stopfd);
	pthread_mutex_destroy(&f->lock);
	pthread_mutex_destroy(&f->cache_lock);
	free(f);
}

void tc_forwarder_get_stats(struct tc_forwarder *f, struct tc_forwarder_stats *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	pthread_mutex_unlock(&f->lock);
}
