/* static-ct-api publication under a sustained add-chain load: the real
 * signer and log, run twice on fresh data, ct.tiles_dir "off" then on.
 *
 *   bench_ct_tiles BINDIR [seconds=10] [connections=64] [certs=40000]
 *
 * Prints for each run the add-chain rate (distinct certificates: SCT signed
 * in the HSM and a durable pending write per answer) and, with tiles on:
 *   - publication lag of every entry: from its timestamp (set just before
 *     its durable write, so an upper bound of "durable -> published") to
 *     the first checkpoint that covers it, p50 / p99 / max, read from the
 *     checkpoint file polled every 2 ms and the entries' TileLeaf
 *     timestamps in the published data tiles;
 *   - tiles_dir bytes per entry (apparent size, and on disk), in total and
 *     beyond the certificates the data tiles carry. */
#define _GNU_SOURCE /* nftw */
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench_util.h"
#include "common/base64.h"
#include "support/ct_log_fixture.h"
#include "transparency/checkpoint.h"
#include "transparency/tile_leaf.h"
#include "transparency/tile_path.h"

static struct tc_ct_fixture f;
static long ncerts;
static char **bodies;
static atomic_long next_cert, issued, ok_count;
static double phase_end;
static atomic_int sampling;

static void *issuer(void *arg)
{
	(void)arg;
	long i;
	char *i64 = tc_base64_encode(f.inter_der, f.inter_len);
	while ((i = atomic_fetch_add(&issued, 1)) < ncerts) {
		size_t len = 0;
		unsigned char *der = tc_ct_fixture_issue(&f, &len);
		char *c64 = der ? tc_base64_encode(der, len) : NULL;
		json_t *b = c64 ? json_pack("{s:[s,s]}", "chain", c64, i64) : NULL;
		bodies[i] = b ? json_dumps(b, JSON_COMPACT) : NULL;
		json_decref(b);
		free(c64);
		free(der);
		if (!bodies[i]) {
			fprintf(stderr, "issuing certificate %ld failed\n", i);
			exit(1);
		}
	}
	free(i64);
	return NULL;
}

static void *client(void *arg)
{
	(void)arg;
	struct tc_http_client *c;
	char err[256];
	if (tc_http_client_new(f.url, 30000, &c, err, sizeof(err)) != 0)
		return NULL;
	long i;
	while (bench_now_s() < phase_end && (i = atomic_fetch_add(&next_cert, 1)) < ncerts) {
		struct tc_http_response r;
		if (tc_http_request(c, "POST", "/ct/v1/add-chain", bodies[i], strlen(bodies[i]), &r, err, sizeof(err)) ==
		    0) {
			if (r.status == 200)
				atomic_fetch_add(&ok_count, 1);
			tc_http_response_free(&r);
		}
	}
	tc_http_client_free(c);
	return NULL;
}

/* ---- the publication timeline: (wall ms, checkpoint size) ---- */

#define MAX_SAMPLES 200000
static struct {
	uint64_t ms, size;
} samples[MAX_SAMPLES];
static size_t n_samples;
static char cp_path[700];

static uint64_t wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void *sampler(void *arg)
{
	(void)arg;
	uint64_t last = UINT64_MAX;
	while (atomic_load(&sampling) && n_samples < MAX_SAMPLES) {
		FILE *fp = fopen(cp_path, "r");
		char buf[2048];
		size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
		if (fp)
			fclose(fp);
		buf[n] = 0;
		char *nl = strchr(buf, '\n');
		uint64_t size = nl ? strtoull(nl + 1, NULL, 10) : 0;
		if (nl && size != last) {
			samples[n_samples].ms = wall_ms();
			samples[n_samples++].size = size;
			last = size;
		}
		usleep(2000);
	}
	return NULL;
}

static unsigned long long apparent, on_disk;
static int add_size(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)p, (void)ftw;
	if (flag == FTW_F) {
		apparent += (unsigned long long)sb->st_size;
		on_disk += (unsigned long long)sb->st_blocks * 512;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Lag of every published entry, and the tiles' size. */
static void report_tiles(uint64_t size)
{
	char dir[700];
	snprintf(dir, sizeof(dir), "%s", tc_harness_path(&f.h, "ct/tiles"));
	uint64_t *lags = calloc(size ? size : 1, sizeof(*lags)), n_lags = 0, cert_bytes = 0;
	size_t s = 0;
	for (uint64_t t = 0; t * 256 < size; t++) {
		unsigned w = size - t * 256 >= 256 ? 256 : (unsigned)(size - t * 256);
		char rel[TC_TILE_PATH_MAX], path[800];
		tc_tile_path(rel, sizeof(rel), TC_TILE_DATA_LEVEL, t, w);
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
		FILE *fp = fopen(path, "rb");
		if (!fp) {
			fprintf(stderr, "%s missing\n", path);
			break;
		}
		static unsigned char buf[4 << 20];
		size_t len = fread(buf, 1, sizeof(buf), fp), pos = 0;
		fclose(fp);
		for (unsigned i = 0; i < w; i++) {
			struct tc_tile_leaf l;
			if (tc_tile_leaf_next(buf, len, &pos, &l) != 0)
				break;
			uint64_t k = t * 256 + i;
			cert_bytes += l.entry.cert_len;
			while (s < n_samples && samples[s].size <= k)
				s++; /* the first checkpoint covering entry k */
			if (s < n_samples && samples[s].ms >= l.entry.timestamp)
				lags[n_lags++] = samples[s].ms - l.entry.timestamp;
			else if (s < n_samples)
				lags[n_lags++] = 0;
		}
	}
	qsort(lags, n_lags, sizeof(*lags), cmp_u64);
	if (n_lags)
		printf("  publication lag (entry timestamp -> checkpoint covering it), %llu entries: p50 %llu ms, "
		       "p99 %llu ms, max %llu ms (%zu checkpoints seen)\n",
		       (unsigned long long)n_lags, (unsigned long long)lags[n_lags / 2],
		       (unsigned long long)lags[n_lags * 99 / 100], (unsigned long long)lags[n_lags - 1], n_samples);
	apparent = on_disk = 0;
	nftw(dir, add_size, 16, FTW_PHYS);
	printf("  tiles_dir: %.1f MiB for %llu entries = %.0f bytes/entry (%.0f on disk); beyond the certificates "
	       "themselves: %.0f bytes/entry\n",
	       (double)apparent / (1 << 20), (unsigned long long)size, (double)apparent / (double)size,
	       (double)on_disk / (double)size, ((double)apparent - (double)cert_bytes) / (double)size);
	free(lags);
}

static int run(const char *bindir, int tiles, double seconds, int conns)
{
	if (tc_ct_fixture_setup(&f, bindir, tiles ? "" : "  tiles_dir: off\n") != 0 ||
	    tc_ct_fixture_start_log(&f) != 0) {
		fprintf(stderr, "cannot start the signer and the log\n");
		return -1;
	}
	snprintf(cp_path, sizeof(cp_path), "%s", tc_harness_path(&f.h, "ct/tiles/checkpoint"));
	atomic_store(&issued, 0);
	atomic_store(&next_cert, 0);
	atomic_store(&ok_count, 0);
	double t0 = bench_now_s();
	pthread_t iss[16];
	for (int i = 0; i < 16; i++)
		pthread_create(&iss[i], NULL, issuer, NULL);
	for (int i = 0; i < 16; i++)
		pthread_join(iss[i], NULL);
	printf("tiles %s: issued %ld certificates in %.1f s\n", tiles ? "on" : "off", ncerts, bench_now_s() - t0);
	n_samples = 0;
	atomic_store(&sampling, 1);
	pthread_t smp;
	pthread_create(&smp, NULL, sampler, NULL);
	pthread_t *th = calloc((size_t)conns, sizeof(*th));
	double cpu0 = bench_cpu_s(f.log_pid);
	t0 = bench_now_s();
	phase_end = t0 + seconds;
	for (int i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, client, NULL);
	for (int i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	double el = bench_now_s() - t0, cpu = bench_cpu_s(f.log_pid) - cpu0;
	long ok = atomic_load(&ok_count);
	printf("  add-chain (new): %ld in %.2f s = %.0f /s, log CPU %.3f ms each%s\n", ok, el, (double)ok / el,
	       ok ? cpu * 1000 / (double)ok : 0.0, atomic_load(&next_cert) >= ncerts ? " (ran out of certificates)" : "");
	struct tc_ct_head head;
	int rc = tc_ct_fixture_wait_sth(&f, (uint64_t)ok, 30000, &head);
	if (rc == 0 && tiles) {
		uint64_t end = (uint64_t)(bench_now_s() * 1000) + 5000;
		while (n_samples == 0 || samples[n_samples - 1].size < head.size) {
			if ((uint64_t)(bench_now_s() * 1000) > end)
				break;
			usleep(2000);
		}
	}
	atomic_store(&sampling, 0);
	pthread_join(smp, NULL);
	if (rc == 0 && tiles)
		report_tiles(head.size);
	free(th);
	for (long i = 0; i < ncerts; i++) {
		free(bodies[i]);
		bodies[i] = NULL;
	}
	tc_ct_fixture_cleanup(&f);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s BINDIR [seconds=10] [connections=64] [certs=40000]\n", argv[0]);
		return 2;
	}
	double seconds = argc > 2 ? atof(argv[2]) : 10;
	int conns = argc > 3 ? atoi(argv[3]) : 64;
	ncerts = argc > 4 ? atol(argv[4]) : 40000;
	if (seconds <= 0 || conns < 1 || ncerts < 1)
		return 2;
	bodies = calloc((size_t)ncerts, sizeof(*bodies));
	int rc = run(argv[1], 0, seconds, conns) == 0 && run(argv[1], 1, seconds, conns) == 0 ? 0 : 1;
	free(bodies);
	return rc;
}
