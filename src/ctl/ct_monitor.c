/* trustchainctl ct monitor --url URL [--from CHECKPOINT] [--state FILE]
 *                          [--log-key PEM] [--once] [--interval S]
 *
 * Follows a static-ct-api log (C2SP) from its monitoring prefix, which may
 * be the log itself or any static server of ct.tiles_dir. Each round:
 *   1. fetch /checkpoint and verify its RFC6962NoteSignature with the log
 *      key (key name = origin, key ID from origin and log ID);
 *   2. fetch the data tiles and level-0 hash tiles of the new entries; each
 *      TileLeaf must hash to its hash-tile entry (a tampered or truncated
 *      tile is named);
 *   3. extend the verified tree (monitor_state.h) leaf by leaf and require
 *      its root to be the checkpoint's: this proves every new entry and the
 *      consistency of the new checkpoint with the last one seen; a
 *      checkpoint that is smaller, or whose tree does not extend the one
 *      verified, is reported as a split view with both notes;
 *   4. save the state, so a restart resumes where it stopped.
 * --from pins a checkpoint the operator trusts: the tree rebuilt from the
 * tiles must have its root at its size. Exit 0 when everything verified,
 * 1 on any failure (with the reason), 2 on usage errors. */
#include "ctl/ct_monitor.h"

#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/http_client.h"
#include "ctl/monitor_state.h"
#include "transparency/checkpoint.h"
#include "transparency/tile_leaf.h"
#include "transparency/tile_path.h"

#define HTTP_TIMEOUT_MS 20000
/* Tiles are fetched and checked (leaf hashes against the hash tile) by
 * FETCHERS threads, each on its own connection, up to FETCH_AHEAD tiles
 * ahead of the main thread, which appends them to the tree in order: with
 * one request at a time the monitor waited on the server for most of its
 * time (52,567 entries/s from python's http.server), and with the hashing
 * on the main thread that thread was the bound. */
#define FETCHERS 4
#define FETCH_AHEAD 32

struct monitor {
	struct tc_http_client *http;
	struct tc_http_client *pool[FETCHERS];
	EVP_PKEY *key;
	struct tc_monitor_state st;
	const char *state_path;
	struct tc_checkpoint from; /* --from, when from_set */
	char *from_note;
	size_t from_note_len;
	int from_set, from_checked;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl ct monitor --url URL [--from CHECKPOINT_FILE] [--state FILE]\n"
		     "                                 [--log-key PEM] [--once] [--interval SECONDS]\n"
		     "  follows a static-ct-api log from its monitoring prefix URL (http://host:port[/path]):\n"
		     "  verifies each checkpoint with the log key (default DIR/ct/log_public_key.pem),\n"
		     "  downloads the new entries from the tiles, rebuilds the tree and checks it against the\n"
		     "  checkpoint and the previous one; state in FILE (default ct-monitor.state) so a\n"
		     "  restart resumes. --from: a checkpoint the log must be consistent with. --once: stop\n"
		     "  after catching up with the current checkpoint.\n");
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the whole monitor (every thread), user and system. */
static void cpu_s(double *user, double *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* GET path on connection http: 0 and the body, 1 for 404, -1 on any other
 * failure. */
static int get_on(struct tc_http_client *http, const char *path, struct tc_http_response *r)
{
	char err[256];
	if (tc_http_request(http, "GET", path, NULL, 0, r, err, sizeof(err)) != 0) {
		tc_ctl_error("GET %s: %s", path, err);
		return -1;
	}
	if (r->status == 200)
		return 0;
	int st = r->status;
	tc_http_response_free(r);
	if (st == 404)
		return 1;
	tc_ctl_error("GET %s: HTTP %d", path, st);
	return -1;
}

static int get(struct monitor *m, const char *path, struct tc_http_response *r)
{
	return get_on(m->http, path, r);
}

/* A tile of width w (partial, or full for 256); a missing partial falls
 * back to the full tile (the log prunes partials once it exists), of which
 * only the first w entries count. */
static int get_tile(struct tc_http_client *http, int level, uint64_t index, unsigned width,
		    struct tc_http_response *r, char *path, size_t cap)
{
	char rel[TC_TILE_PATH_MAX];
	tc_tile_path(rel, sizeof(rel), level, index, width);
	snprintf(path, cap, "/%s", rel);
	int rc = get_on(http, path, r);
	if (rc == 1 && width < TC_TILE_WIDTH) {
		tc_tile_path(rel, sizeof(rel), level, index, TC_TILE_WIDTH);
		snprintf(path, cap, "/%s", rel);
		rc = get_on(http, path, r);
	}
	if (rc == 1)
		tc_ctl_error("GET %s: not found", path);
	return rc == 0 ? 0 : -1;
}

static void print_split_view(const struct monitor *m, const char *note, size_t len, const char *why)
{
	printf("SPLIT VIEW: %s\n--- checkpoint verified before ---\n%.*s--- checkpoint now served ---\n%.*s", why,
	       (int)m->st.note_len, m->st.note ? m->st.note : "(none)\n", (int)len, note);
	fflush(stdout);
}

/* The root at the pinned --from size, when the tree reaches it. */
static int check_from(struct monitor *m)
{
	if (!m->from_set || m->from_checked || m->st.size != m->from.tree_size)
		return 0;
	unsigned char root[32];
	tc_monitor_tree_root(&m->st, root);
	m->from_checked = 1;
	if (memcmp(root, m->from.root, 32) != 0) {
		print_split_view(m, m->from_note, m->from_note_len,
				 "the log's tiles do not rebuild the --from checkpoint's tree");
		return -1;
	}
	return 0;
}

/* Tile t's level-0 hash tile and data tile, as far as the tree of size
 * target needs them, fetched and checked against each other by a fetcher
 * thread: what is left for the main thread is the in-order tree append. */
struct fetched {
	uint64_t tile;
	unsigned width;
	int ready; /* set by the fetcher, cleared by the main thread */
	int rc;    /* 0: hashes hold the tile's verified leaf hashes; -1: err says why */
	unsigned char hashes[TC_TILE_WIDTH][32];
	char err[TC_TILE_PATH_MAX * 2 + 160];
};

/* Each TileLeaf of the data tile must hash to its level-0 hash tile entry
 * (a tampered or truncated tile is named). Runs in a fetcher thread, with
 * its own digest context, so the leaf hashing -- the monitor's main CPU
 * cost -- spreads over the cores. Frees both bodies. */
static void check_tile(EVP_MD_CTX *md, struct fetched *f, struct tc_http_response *hr, const char *hpath,
		       struct tc_http_response *dr, const char *dpath)
{
	uint64_t first = f->tile * TC_TILE_WIDTH;
	unsigned width = f->width;
	/* what was fetched: the partial tile asked for, or the full one */
	unsigned h_width = strstr(hpath, ".p/") ? width : TC_TILE_WIDTH;
	int d_exact = (strstr(dpath, ".p/") != NULL) == (width < TC_TILE_WIDTH);
	f->rc = -1;
	if (hr->body_len != (size_t)h_width * 32) {
		snprintf(f->err, sizeof(f->err), "%s: %zu bytes, a tile of %u hashes has %u (truncated or corrupt)", hpath,
			 hr->body_len, h_width, h_width * 32);
		return;
	}
	size_t pos = 0;
	const unsigned char *d = (const unsigned char *)dr->body;
	for (unsigned i = 0; i < width; i++) {
		struct tc_tile_leaf l;
		if (tc_tile_leaf_next(d, dr->body_len, &pos, &l) != 0 || tc_tile_leaf_hash_ctx(md, &l, f->hashes[i]) != 0) {
			snprintf(f->err, sizeof(f->err), "%s: entry %u (log entry %llu) malformed: tile truncated or corrupt",
				 dpath, i, (unsigned long long)(first + i));
			return;
		}
		if (memcmp(f->hashes[i], hr->body + 32 * i, 32) != 0) {
			snprintf(f->err, sizeof(f->err), "%s: entry %u (log entry %llu) does not hash to %s's: tile tampered with",
				 dpath, i, (unsigned long long)(first + i), hpath);
			return;
		}
	}
	if (pos != dr->body_len && d_exact) { /* a data tile holds exactly its entries */
		snprintf(f->err, sizeof(f->err), "%s: %zu bytes after its %u entries", dpath, dr->body_len - pos, width);
		return;
	}
	f->rc = 0;
}

static void fetch_tile(struct tc_http_client *http, EVP_MD_CTX *md, uint64_t t, uint64_t target, struct fetched *f)
{
	struct tc_http_response hr, dr;
	char hpath[TC_TILE_PATH_MAX + 2], dpath[TC_TILE_PATH_MAX + 2];
	uint64_t first = t * TC_TILE_WIDTH;
	f->tile = t;
	f->width = target - first >= TC_TILE_WIDTH ? TC_TILE_WIDTH : (unsigned)(target - first);
	f->rc = -1;
	f->err[0] = '\0'; /* a failed GET was reported by get_tile */
	if (get_tile(http, 0, t, f->width, &hr, hpath, sizeof(hpath)) != 0)
		return;
	if (get_tile(http, TC_TILE_DATA_LEVEL, t, f->width, &dr, dpath, sizeof(dpath)) != 0) {
		tc_http_response_free(&hr);
		return;
	}
	if (!md)
		snprintf(f->err, sizeof(f->err), "out of memory");
	else
		check_tile(md, f, &hr, hpath, &dr, dpath);
	tc_http_response_free(&hr);
	tc_http_response_free(&dr);
}

/* The pipeline of one catch-up: FETCHERS threads take the next tile
 * number, fetch and check it into its slot of a ring of FETCH_AHEAD; the
 * main thread consumes the slots in tile order. A fetcher waits while its
 * tile is FETCH_AHEAD ahead of the consumer, so memory stays bounded and
 * fetching never stops for the main thread's appends (the batch-at-a-time
 * version waited for the slowest fetch of each batch). */
struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t cond; /* a slot became ready, or room for a fetcher */
	struct fetched *ring;
	uint64_t next, end, consumed, target;
	int stop;
};

struct fetcher {
	struct pipeline *p;
	struct tc_http_client *http;
};

static void *fetcher_main(void *arg)
{
	struct fetcher *w = arg;
	struct pipeline *p = w->p;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next < p->end && p->next - p->consumed >= FETCH_AHEAD)
			pthread_cond_wait(&p->cond, &p->mu);
		if (p->stop || p->next >= p->end)
			break;
		uint64_t t = p->next++;
		struct fetched *f = &p->ring[t % FETCH_AHEAD];
		pthread_mutex_unlock(&p->mu);
		fetch_tile(w->http, md, t, p->target, f);
		pthread_mutex_lock(&p->mu);
		f->ready = 1;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->mu);
	EVP_MD_CTX_free(md);
	return NULL;
}

/* The checked hashes of tile f appended to the tree, from st.size on. */
static int append_tile(struct monitor *m, const struct fetched *f)
{
	if (f->rc != 0) {
		if (f->err[0])
			tc_ctl_error("%s", f->err);
		return -1;
	}
	uint64_t first = f->tile * TC_TILE_WIDTH;
	for (unsigned i = 0; i < f->width; i++)
		if (first + i >= m->st.size) {
			tc_monitor_tree_append(&m->st, f->hashes[i]);
			if (check_from(m) != 0)
				return -1;
		}
	return 0;
}

/* Verifies tiles old_size / 256 .. up to target through the pipeline. */
static int verify_tiles(struct monitor *m, uint64_t old_size, uint64_t target)
{
	struct pipeline p = {.next = old_size / TC_TILE_WIDTH, .target = target};
	p.end = (target + TC_TILE_WIDTH - 1) / TC_TILE_WIDTH;
	p.consumed = p.next;
	if (p.next >= p.end)
		return 0;
	if (!(p.ring = calloc(FETCH_AHEAD, sizeof(*p.ring)))) {
		tc_ctl_error("out of memory");
		return -1;
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cond, NULL);
	pthread_t th[FETCHERS];
	struct fetcher w[FETCHERS];
	int started = 0;
	for (int k = 0; k < FETCHERS; k++) {
		w[k] = (struct fetcher){.p = &p, .http = m->pool[k]};
		if (pthread_create(&th[started], NULL, fetcher_main, &w[k]) == 0)
			started++;
	}
	int rc = 0;
	if (!started) {
		tc_ctl_error("cannot start the tile fetchers");
		rc = -1;
	}
	for (uint64_t t = p.consumed; rc == 0 && t < p.end; t++) {
		struct fetched *f = &p.ring[t % FETCH_AHEAD];
		pthread_mutex_lock(&p.mu);
		while (!f->ready)
			pthread_cond_wait(&p.cond, &p.mu);
		pthread_mutex_unlock(&p.mu);
		rc = append_tile(m, f);
		pthread_mutex_lock(&p.mu);
		f->ready = 0;
		p.consumed = t + 1;
		pthread_cond_broadcast(&p.cond);
		pthread_mutex_unlock(&p.mu);
	}
	pthread_mutex_lock(&p.mu);
	p.stop = 1; /* after a failure: the fetchers finish their tile and quit */
	pthread_cond_broadcast(&p.cond);
	pthread_mutex_unlock(&p.mu);
	for (int k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.mu);
	free(p.ring);
	return rc;
}

/* One round: 0 verified (caught up), -1 failure reported. */
static int monitor_round(struct monitor *m)
{
	struct tc_http_response r;
	if (get(m, "/checkpoint", &r) != 0) {
		tc_ctl_error("no checkpoint at the monitoring prefix");
		return -1;
	}
	struct tc_checkpoint cp;
	char err[512];
	int rc = tc_checkpoint_verify(r.body, r.body_len, m->st.origin[0] ? m->st.origin : NULL, m->key, &cp, err,
				      sizeof(err));
	if (rc != 0) {
		tc_ctl_error("checkpoint refused: %s", err);
		printf("--- checkpoint served ---\n%.*s", (int)r.body_len, r.body);
		tc_http_response_free(&r);
		return -1;
	}
	unsigned char old_root[32];
	tc_monitor_tree_root(&m->st, old_root);
	uint64_t old_size = m->st.size;
	if (cp.tree_size < old_size || (cp.tree_size == old_size && memcmp(cp.root, old_root, 32) != 0)) {
		print_split_view(m, r.body, r.body_len,
				 cp.tree_size < old_size ? "the log's tree shrank" : "same size, another root");
		tc_http_response_free(&r);
		return -1;
	}
	if (m->from_set && cp.tree_size < m->from.tree_size) {
		print_split_view(m, m->from_note, m->from_note_len, "the log is behind the --from checkpoint");
		tc_http_response_free(&r);
		return -1;
	}
	double t0 = now_s(), u0, s0;
	cpu_s(&u0, &s0);
	rc = verify_tiles(m, old_size, cp.tree_size);
	unsigned char root[32];
	tc_monitor_tree_root(&m->st, root);
	if (rc == 0 && memcmp(root, cp.root, 32) != 0) {
		print_split_view(m, r.body, r.body_len,
				 "the entries in the tiles do not extend the verified tree to the checkpoint's root");
		rc = -1;
	}
	if (rc != 0) {
		tc_http_response_free(&r);
		return -1; /* the state on disk still holds the last verified tree */
	}
	snprintf(m->st.origin, sizeof(m->st.origin), "%s", cp.origin);
	free(m->st.note);
	m->st.note = malloc(r.body_len + 1);
	if (m->st.note) {
		memcpy(m->st.note, r.body, r.body_len);
		m->st.note_len = r.body_len;
	}
	tc_http_response_free(&r);
	if (tc_monitor_state_save(m->state_path, &m->st, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		return -1;
	}
	double dt = now_s() - t0, u1, s1;
	cpu_s(&u1, &s1);
	uint64_t n = cp.tree_size - old_size;
	printf("checkpoint %s size %llu time %llu verified; %llu new entries verified", cp.origin,
	       (unsigned long long)cp.tree_size, (unsigned long long)cp.timestamp, (unsigned long long)n);
	/* the wall-clock rate depends on the server and on what else runs;
	 * the rate per second of the monitor's own CPU is its cost */
	double cpu = (u1 - u0) + (s1 - s0);
	if (n)
		printf(" in %.3f s (%.0f entries/s); monitor CPU %.2f s (user %.2f, sys %.2f): %.0f entries per CPU-second",
		       dt, dt > 0 ? (double)n / dt : 0.0, cpu, u1 - u0, s1 - s0, cpu > 0 ? (double)n / cpu : 0.0);
	printf("\n");
	fflush(stdout);
	return 0;
}

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!k)
		tc_ctl_error("%s: no PEM public key", path);
	return k;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *b = malloc(65536);
	*len = b ? fread(b, 1, 65535, f) : 0;
	fclose(f);
	return b;
}

int tc_ctl_ct_monitor(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},     {"from", required_argument, NULL, 'f'},
		{"state", required_argument, NULL, 's'},   {"log-key", required_argument, NULL, 'k'},
		{"once", no_argument, NULL, '1'},          {"interval", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	const char *url = NULL, *from = NULL, *key_path = NULL;
	char default_key[PATH_MAX];
	int once = 0, c;
	long interval = 5;
	struct monitor m = {.state_path = "ct-monitor.state"};
	optind = 1;
	while ((c = getopt_long(argc, argv, "u:f:s:k:1i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return TC_CTL_OK;
		case 'u': url = optarg; break;
		case 'f': from = optarg; break;
		case 's': m.state_path = optarg; break;
		case 'k': key_path = optarg; break;
		case '1': once = 1; break;
		case 'i': interval = strtol(optarg, NULL, 10); break;
		default: usage(stderr); return TC_CTL_USAGE;
		}
	}
	if (!url || optind != argc || interval < 1) {
		usage(stderr);
		return TC_CTL_USAGE;
	}
	if (!key_path) {
		snprintf(default_key, sizeof(default_key), "%s/ct/log_public_key.pem", ctl->cfg.server.data_dir);
		key_path = default_key;
	}
	char err[512];
	int rc = TC_CTL_FAIL;
	if (!(m.key = load_key(key_path)))
		return TC_CTL_FAIL;
	if (tc_monitor_state_load(m.state_path, &m.st, err, sizeof(err)) < 0) {
		tc_ctl_error("%s", err);
		goto out;
	}
	if (from) {
		if (!(m.from_note = read_all(from, &m.from_note_len)) ||
		    tc_checkpoint_verify(m.from_note, m.from_note_len, m.st.origin[0] ? m.st.origin : NULL, m.key, &m.from,
					 err, sizeof(err)) != 0) {
			tc_ctl_error("--from %s: %s", from, m.from_note ? err : "unreadable");
			goto out;
		}
		m.from_set = 1;
		/* a state already past it must contain it: only the same-size case
		 * is checkable here, so a state beyond --from is accepted as is */
		if (m.st.size == m.from.tree_size && check_from(&m) != 0)
			goto out;
	}
	if (tc_http_client_new(url, HTTP_TIMEOUT_MS, &m.http, err, sizeof(err)) != 0) {
		tc_ctl_error("--url %s: %s", url, err);
		goto out;
	}
	for (int k = 0; k < FETCHERS; k++)
		if (tc_http_client_new(url, HTTP_TIMEOUT_MS, &m.pool[k], err, sizeof(err)) != 0) {
			tc_ctl_error("--url %s: %s", url, err);
			goto out;
		}
	for (;;) {
		if (monitor_round(&m) != 0)
			goto out;
		if (once)
			break;
		sleep((unsigned)interval);
	}
	rc = TC_CTL_OK;
out:
	tc_http_client_free(m.http);
	for (int k = 0; k < FETCHERS; k++)
		tc_http_client_free(m.pool[k]);
	EVP_PKEY_free(m.key);
	tc_monitor_state_free(&m.st);
	free(m.from_note);
	return rc;
}
