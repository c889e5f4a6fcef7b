/* DNS-over-QUIC load generator against a running resolver (prints figures;
 * not a test). Three phases:
 *  1. established connections: for each count in -c (default 1 and 64),
 *     open that many connections, then for -d seconds keep -s queries in
 *     flight on each (one stream per query) and report answered queries/s
 *     and p50/p99 latency;
 *  2. new connections: for -d seconds, -k handshakes in progress on each
 *     of -t threads (connect, TLS 1.3 with certificate verification, one
 *     query, close, next); report handshakes/s.
 * The clients run on -t threads (default 2), each an epoll loop over its
 * share of the connections, using the same tc_doq_client library as
 * `trustchainctl dig +quic`.
 *
 *   bench_doq --config FILE [@ADDR] [-p PORT] [-d SECONDS (10)] [-c 1,64]
 *             [-s STREAMS (16)] [-t THREADS (2)] [-k HANDSHAKES (16)] [-n NAME]
 *             [--no-handshakes]
 *
 * Address, port, trust anchors (<data_dir>/ca/root.pem) and the expected
 * name (dns.<bootstrap.domain>) come from the configuration. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "ctl/doq_client.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/doq.h"

#define MAX_THREADS 16
#define MAX_CONNS 1024

struct bench {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char cafile[600], name[300];
	uint8_t query[600];          /* framed, ID 0 */
	size_t qlen;
	int seconds, streams, threads;
	int pending;                 /* handshakes in progress per thread */
};

struct conn_state {
	struct tc_doq_client *c;
	unsigned inflight;
	uint64_t last_ns;            /* when its last answer came */
	struct worker *w;
};

struct worker {
	const struct bench *b;
	struct conn_state *conns;
	int nconns;
	uint64_t answered, failed, handshakes;
	uint64_t *lat;               /* ns per answered query */
	size_t nlat, caplat;
	pthread_t thread;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct tc_doq_client *open_conn(const struct bench *b, char *err, size_t errlen)
{
	struct tc_doq_client_opts o = {.cafile = b->cafile, .server_name = b->name};
	struct tc_doq_client *c =
		tc_doq_client_new((const struct sockaddr *)&b->addr, b->addrlen, &o, err, errlen);
	if (c && tc_doq_client_handshake(c, 5000, err, errlen) != 0) {
		tc_doq_client_free(c);
		return NULL;
	}
	return c;
}

/* Each query carries its connection and send time to its completion. */
struct qrec {
	struct conn_state *cs;
	uint64_t t0;
};

static void record_latency(struct worker *w, uint64_t ns)
{
	if (w->nlat == w->caplat) {
		size_t cap = w->caplat ? w->caplat * 2 : 65536;
		uint64_t *nl = realloc(w->lat, cap * sizeof(*nl));
		if (!nl)
			return;
		w->lat = nl;
		w->caplat = cap;
	}
	w->lat[w->nlat++] = ns;
}

static void on_answer(void *arg, int64_t id, int status, const uint8_t *data, size_t len)
{
	(void)id;
	struct qrec *q = arg;
	struct conn_state *cs = q->cs;
	struct worker *w = cs->w;
	cs->inflight--;
	const uint8_t *msg;
	size_t mlen;
	if (status == 0 && tc_doq_frame_parse(data, len, true, &msg, &mlen) == TC_DOQ_FRAME_OK) {
		w->answered++;
		cs->last_ns = now_ns();
		record_latency(w, cs->last_ns - q->t0);
	} else {
		w->failed++;
	}
	free(q);
}

static void fill(struct worker *w, struct conn_state *cs)
{
	while (cs->inflight < (unsigned)w->b->streams) {
		struct qrec *q = malloc(sizeof(*q));
		if (!q)
			return;
		q->cs = cs;
		q->t0 = now_ns();
		if (tc_doq_client_send(cs->c, w->b->query, w->b->qlen, true, on_answer, q, NULL) != 0) {
			free(q);
			return;   /* no stream credit now: more comes as answers arrive */
		}
		cs->inflight++;
	}
}

static void *run_established(void *arg)
{
	struct worker *w = arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < w->nconns; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = &w->conns[i]};
		epoll_ctl(ep, EPOLL_CTL_ADD, tc_doq_client_fd(w->conns[i].c), &e);
		fill(w, &w->conns[i]);
	}
	uint64_t end = now_ns() + (uint64_t)w->b->seconds * 1000000000ull;
	struct epoll_event ev[64];
	while (now_ns() < end) {
		int timeout = 50;
		for (int i = 0; i < w->nconns; i++) {
			int t = tc_doq_client_timeout_ms(w->conns[i].c);
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		int n = epoll_wait(ep, ev, 64, timeout);
		for (int i = 0; i < n; i++) {
			struct conn_state *cs = ev[i].data.ptr;
			tc_doq_client_io(cs->c);
			fill(w, cs);
		}
		/* Timers (acks, loss recovery) of connections without input. */
		for (int i = 0; i < w->nconns; i++) {
			if (tc_doq_client_timeout_ms(w->conns[i].c) == 0) {
				tc_doq_client_io(w->conns[i].c);
				fill(w, &w->conns[i]);
			}
		}
	}
	close(ep);
	return NULL;
}

/* One connection being set up in the handshake phase. */
struct hs_slot {
	struct tc_doq_client *c;
	bool asked, answered;
};

static void hs_answered(void *arg, int64_t id, int status, const uint8_t *data, size_t len)
{
	(void)id;
	(void)data;
	(void)len;
	struct hs_slot *h = arg;
	h->answered = status == 0;
}

/* Keeps b->pending handshakes in progress at once on this thread: connect,
 * handshake (certificate verified), one query, close, start the next. */
static void *run_handshakes(void *arg)
{
	struct worker *w = arg;
	const struct bench *b = w->b;
	struct hs_slot *slots = calloc((size_t)b->pending, sizeof(*slots));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	uint64_t end = now_ns() + (uint64_t)b->seconds * 1000000000ull;
	struct tc_doq_client_opts o = {.cafile = b->cafile, .server_name = b->name};
	struct epoll_event ev[64];
	char err[256];
	while (now_ns() < end) {
		int timeout = 50;
		for (int i = 0; i < b->pending; i++) {
			struct hs_slot *h = &slots[i];
			if (!h->c) {
				memset(h, 0, sizeof(*h));
				h->c = tc_doq_client_new((const struct sockaddr *)&b->addr, b->addrlen, &o,
							 err, sizeof(err));
				if (!h->c) {
					w->failed++;
					continue;
				}
				struct epoll_event e = {.events = EPOLLIN, .data.ptr = h};
				epoll_ctl(ep, EPOLL_CTL_ADD, tc_doq_client_fd(h->c), &e);
			}
			int t = tc_doq_client_timeout_ms(h->c);
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		int n = epoll_wait(ep, ev, 64, timeout);
		for (int i = 0; i < n; i++)
			tc_doq_client_io(((struct hs_slot *)ev[i].data.ptr)->c);
		for (int i = 0; i < b->pending; i++) {
			struct hs_slot *h = &slots[i];
			if (!h->c)
				continue;
			int open = tc_doq_client_timeout_ms(h->c) == 0 ? tc_doq_client_io(h->c) == 0
								       : tc_doq_client_close_info(h->c)->kind == TC_DOQ_OPEN;
			if (open && tc_doq_client_handshake_done(h->c) && !h->asked) {
				h->asked = true;
				open = tc_doq_client_send(h->c, b->query, b->qlen, true, hs_answered, h, NULL) == 0;
			}
			if (h->answered || !open) {
				if (h->answered)
					w->handshakes++;
				else
					w->failed++;
				tc_doq_client_free(h->c);   /* closing the fd leaves the epoll set */
				h->c = NULL;
			}
		}
	}
	for (int i = 0; i < b->pending; i++)
		tc_doq_client_free(slots[i].c);
	free(slots);
	close(ep);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int established(const struct bench *b, int nconns)
{
	int nthreads = b->threads < nconns ? b->threads : nconns;
	struct worker w[MAX_THREADS];
	struct conn_state *conns = calloc((size_t)nconns, sizeof(*conns));
	memset(w, 0, sizeof(w));
	char err[256];
	for (int i = 0; i < nconns; i++) {
		if (!(conns[i].c = open_conn(b, err, sizeof(err)))) {
			fprintf(stderr, "bench_doq: connection %d: %s\n", i, err);
			return -1;
		}
	}
	int per = nconns / nthreads, extra = nconns % nthreads, at = 0;
	for (int t = 0; t < nthreads; t++) {
		w[t].b = b;
		w[t].conns = conns + at;
		w[t].nconns = per + (t < extra);
		for (int i = 0; i < w[t].nconns; i++)
			w[t].conns[i].w = &w[t];
		at += w[t].nconns;
	}
	uint64_t t0 = now_ns();
	for (int t = 0; t < nthreads; t++)
		pthread_create(&w[t].thread, NULL, run_established, &w[t]);
	uint64_t answered = 0, failed = 0;
	size_t nlat = 0;
	for (int t = 0; t < nthreads; t++) {
		pthread_join(w[t].thread, NULL);
		answered += w[t].answered;
		failed += w[t].failed;
		nlat += w[t].nlat;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	uint64_t *all = malloc((nlat ? nlat : 1) * sizeof(*all));
	size_t k = 0;
	for (int t = 0; t < nthreads; t++) {
		memcpy(all + k, w[t].lat, w[t].nlat * sizeof(*all));
		k += w[t].nlat;
		free(w[t].lat);
	}
	qsort(all, nlat, sizeof(*all), cmp_u64);
	double p50 = nlat ? (double)all[nlat / 2] / 1e3 : 0, p99 = nlat ? (double)all[nlat * 99 / 100] / 1e3 : 0;
	printf("established: %4d connections x %d streams, %d client threads: %9.0f queries/s  "
	       "p50 %7.0f us  p99 %7.0f us  (%llu answered, %llu failed in %.1f s)\n",
	       nconns, b->streams, nthreads, (double)answered / secs, p50, p99,
	       (unsigned long long)answered, (unsigned long long)failed, secs);
	free(all);
	/* A connection the server dropped (a restart) stops answering: how long
	 * ago the quietest one answered last, and how many the server closed. */
	uint64_t t_end = now_ns(), quiet = 0;
	int closed = 0;
	for (int i = 0; i < nconns; i++) {
		uint64_t q = conns[i].last_ns ? t_end - conns[i].last_ns : t_end - t0;
		quiet = q > quiet ? q : quiet;
		closed += tc_doq_client_close_info(conns[i].c)->kind != TC_DOQ_OPEN;
	}
	printf("established: last answer on every connection within %.0f ms of the end; "
	       "%d of %d connections closed\n", (double)quiet / 1e6, closed, nconns);
	for (int i = 0; i < nconns; i++)
		tc_doq_client_free(conns[i].c);
	free(conns);
	return 0;
}

static void handshakes(const struct bench *b)
{
	struct worker w[MAX_THREADS];
	memset(w, 0, sizeof(w));
	uint64_t t0 = now_ns(), total = 0, failed = 0;
	for (int t = 0; t < b->threads; t++) {
		w[t].b = b;
		pthread_create(&w[t].thread, NULL, run_handshakes, &w[t]);
	}
	for (int t = 0; t < b->threads; t++) {
		pthread_join(w[t].thread, NULL);
		total += w[t].handshakes;
		failed += w[t].failed;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	printf("new connections: %d client threads x %d in progress: %7.0f handshakes/s (connect + TLS 1.3 "
	       "+ one query + close; %llu done, %llu failed in %.1f s)\n",
	       b->threads, b->pending, (double)total / secs, (unsigned long long)total, (unsigned long long)failed,
	       secs);
}

int main(int argc, char **argv)
{
	static struct tc_config cfg;
	static struct bench b;
	const char *config = NULL, *server = NULL, *qname = NULL, *conns_arg = "1,64";
	unsigned port = 0;
	bool do_handshakes = true;
	b.seconds = 10;
	b.streams = 16;
	b.threads = 2;
	b.pending = 16;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--config") == 0 && v)
			config = argv[++i];
		else if (a[0] == '@')
			server = a + 1;
		else if (strcmp(a, "-p") == 0 && v)
			port = (unsigned)atoi(argv[++i]);
		else if (strcmp(a, "-d") == 0 && v)
			b.seconds = atoi(argv[++i]);
		else if (strcmp(a, "-c") == 0 && v)
			conns_arg = argv[++i];
		else if (strcmp(a, "-s") == 0 && v)
			b.streams = atoi(argv[++i]);
		else if (strcmp(a, "-t") == 0 && v)
			b.threads = atoi(argv[++i]);
		else if (strcmp(a, "-k") == 0 && v)
			b.pending = atoi(argv[++i]);
		else if (strcmp(a, "-n") == 0 && v)
			qname = argv[++i];
		else if (strcmp(a, "--no-handshakes") == 0)
			do_handshakes = false;
		else {
			fprintf(stderr, "usage: bench_doq --config FILE [@ADDR] [-p PORT] [-d SECONDS] "
					"[-c CONNS,...] [-s STREAMS] [-t THREADS] [-k HANDSHAKES] [-n NAME] "
					"[--no-handshakes]\n");
			return 2;
		}
	}
	char err[512];
	if (tc_config_load(&cfg, config, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_doq: %s\n", err);
		return 2;
	}
	if (b.seconds < 1 || b.streams < 1 || b.threads < 1 || b.threads > MAX_THREADS ||
	    b.pending < 1 || b.pending > 256) {
		fprintf(stderr, "bench_doq: bad -d, -s, -t or -k\n");
		return 2;
	}
	tc_config_data_path(&cfg, "ca/root.pem", b.cafile, sizeof(b.cafile));
	snprintf(b.name, sizeof(b.name), "dns.%s", cfg.bootstrap.domain);
	if (!server)
		server = strcmp(cfg.dns.listen_address, "0.0.0.0") == 0 ? "127.0.0.1" : cfg.dns.listen_address;
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port ? port : cfg.dns.quic_port);
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai;
	if (getaddrinfo(server, portstr, &hints, &ai) != 0) {
		fprintf(stderr, "bench_doq: bad address %s\n", server);
		return 2;
	}
	memcpy(&b.addr, ai->ai_addr, ai->ai_addrlen);
	b.addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);

	char namebuf[300];
	snprintf(namebuf, sizeof(namebuf), "%s", qname ? qname : "");
	if (!qname)
		snprintf(namebuf, sizeof(namebuf), "ca.%s.", cfg.bootstrap.domain);
	uint8_t wire[TC_DNS_MAX_NAME], q[512];
	size_t wlen;
	const char *why;
	static const uint8_t root[] = {0};
	struct tc_dns_builder bld;
	tc_dns_build_init(&bld, q, sizeof(q));
	if (tc_dns_name_from_text(namebuf, strlen(namebuf), root, 1, wire, &wlen, &why) != 0 ||
	    tc_dns_build_header(&bld, 0, TC_DNS_FLAG_RD) != 0 ||
	    tc_dns_build_question(&bld, wire, wlen, TC_DNS_TYPE_A, TC_DNS_CLASS_IN) != 0 ||
	    tc_doq_frame_response(q, tc_dns_build_finish(&bld), b.query, sizeof(b.query), &b.qlen) != 0) {
		fprintf(stderr, "bench_doq: bad name %s\n", namebuf);
		return 2;
	}
	printf("bench_doq: %s port %s, name %s, %d s per phase\n", server, portstr, namebuf, b.seconds);
	char list[256];
	snprintf(list, sizeof(list), "%s", conns_arg);
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		int n = atoi(tok);
		if (n < 1 || n > MAX_CONNS) {
			fprintf(stderr, "bench_doq: %s connections: 1 to %d per run (run several for more)\n", tok,
				MAX_CONNS);
			return 2;
		}
		if (established(&b, n) != 0)
			return 1;
	}
	if (do_handshakes)
		handshakes(&b);
	return 0;
}
