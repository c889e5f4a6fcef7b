/* End-to-end CT log throughput over HTTP: a real signer (SoftHSM) and the
 * trustchain-transparency process, driven by concurrent keep-alive clients.
 *
 *   bench_ct_http BINDIR [seconds=10] [connections=64] [certs=100000] [ct.http_threads]
 *
 * Phases: add-chain of distinct certificates (each one an SCT signed in the
 * HSM and a durable pending write before the answer) for `seconds`; the
 * same certificates again (duplicates: the original SCT from the index);
 * get-proof-by-hash for random logged entries. Prints rates, the log
 * process's CPU time per answered request, the log's tree size, its RSS
 * and the disk use of its store. */
#define _GNU_SOURCE /* nftw */
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench_hsm.h"
#include "bench_util.h"

#include "common/base64.h"
#include "common/config.h"
#include "support/ct_log_fixture.h"
#include "transparency/merkle.h"

static struct tc_ct_fixture f;
static long ncerts;
static unsigned char **certs;
static size_t *cert_lens;
static char **bodies;
static uint64_t *sct_time; /* 0 until its SCT arrived */
/* The SCT's extensions (static-ct-api leaf_index): part of the leaf, so of
 * the hash a proof is asked for. */
#define EXT_MAX 16
static unsigned char (*sct_ext)[EXT_MAX];
static size_t *sct_ext_len;
static atomic_long next_cert, issued;
static atomic_long ok_count, fail_count;
static double phase_end;
static double last_rate; /* answered per second in the last phase */
static int phase;

static void *issuer(void *arg)
{
	(void)arg;
	long i;
	while ((i = atomic_fetch_add(&issued, 1)) < ncerts) {
		certs[i] = tc_ct_fixture_issue(&f, &cert_lens[i]);
		char *c64 = certs[i] ? tc_base64_encode(certs[i], cert_lens[i]) : NULL;
		char *i64 = tc_base64_encode(f.inter_der, f.inter_len);
		json_t *b = c64 && i64 ? json_pack("{s:[s,s]}", "chain", c64, i64) : NULL;
		bodies[i] = b ? json_dumps(b, JSON_COMPACT) : NULL;
		json_decref(b);
		free(c64);
		free(i64);
		if (!bodies[i]) {
			fprintf(stderr, "issuing certificate %ld failed\n", i);
			exit(1);
		}
	}
	return NULL;
}

static void proof_path(long i, char *path, size_t len, uint64_t tree_size)
{
	struct tc_ct_entry e = {.type = TC_CT_X509_ENTRY, .cert = certs[i], .cert_len = cert_lens[i],
				.timestamp = sct_time[i], .extensions = sct_ext[i], .extensions_len = sct_ext_len[i]};
	unsigned char leaf[8192], hash[32];
	size_t ll = 0;
	tc_ct_encode_leaf(&e, leaf, sizeof(leaf), &ll);
	tc_merkle_leaf_hash(leaf, ll, hash);
	char *b64 = tc_base64_encode(hash, 32), esc[128] = "";
	for (const char *p = b64; *p; p++)
		snprintf(esc + strlen(esc), sizeof(esc) - strlen(esc),
			 (*p == '+' || *p == '/' || *p == '=') ? "%%%02X" : "%c", (unsigned char)*p);
	free(b64);
	snprintf(path, len, "/ct/v1/get-proof-by-hash?hash=%s&tree_size=%llu", esc, (unsigned long long)tree_size);
}

static uint64_t proof_tree_size;
static long logged; /* certificates 0..logged-1 have SCTs */

static void *client(void *arg)
{
	(void)arg;
	struct tc_http_client *c;
	char err[256], path[256];
	if (tc_http_client_new(f.url, 30000, &c, err, sizeof(err)) != 0)
		return NULL;
	uint64_t rng = (uint64_t)(size_t)&c ^ (uint64_t)time(NULL);
	while (bench_now_s() < phase_end) {
		struct tc_http_response r;
		long i;
		int rc;
		if (phase == 2) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			i = (long)((rng >> 33) % (uint64_t)logged);
			while (!sct_time[i])
				i = (i + 1) % logged;
			proof_path(i, path, sizeof(path), proof_tree_size);
			rc = tc_http_request(c, "GET", path, NULL, 0, &r, err, sizeof(err));
		} else {
			i = atomic_fetch_add(&next_cert, 1);
			if (phase == 1)
				i %= logged; /* only certificates already logged */
			else if (i >= ncerts)
				break;
			rc = tc_http_request(c, "POST", "/ct/v1/add-chain", bodies[i], strlen(bodies[i]), &r, err,
					     sizeof(err));
			if (rc == 0 && r.status == 200 && phase == 0) {
				json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
				const char *ext = json_string_value(json_object_get(j, "extensions"));
				unsigned char *raw = NULL;
				size_t raw_len = 0;
				if (ext && tc_base64_decode(ext, &raw, &raw_len) == 0 && raw_len <= EXT_MAX) {
					memcpy(sct_ext[i], raw, raw_len);
					sct_ext_len[i] = raw_len;
				}
				free(raw);
				sct_time[i] = (uint64_t)json_integer_value(json_object_get(j, "timestamp"));
				json_decref(j);
			}
		}
		if (rc == 0 && r.status == 200)
			atomic_fetch_add(&ok_count, 1);
		else
			atomic_fetch_add(&fail_count, 1);
		if (rc == 0)
			tc_http_response_free(&r);
	}
	tc_http_client_free(c);
	return NULL;
}

static double run_phase(int which, double seconds, int conns, const char *what)
{
	phase = which;
	atomic_store(&ok_count, 0);
	atomic_store(&fail_count, 0);
	atomic_store(&next_cert, 0);
	pthread_t *th = calloc((size_t)conns, sizeof(*th));
	double cpu0 = bench_cpu_s(f.log_pid);
	double t0 = bench_now_s();
	phase_end = t0 + seconds;
	for (int i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, client, NULL);
	for (int i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	double el = bench_now_s() - t0;
	double cpu = bench_cpu_s(f.log_pid) - cpu0;
	long ok = atomic_load(&ok_count), bad = atomic_load(&fail_count);
	printf("%-34s %3d conns  %8ld ok %6ld failed in %5.2f s = %8.0f /s  (log CPU %.3f ms each)\n", what, conns,
	       ok, bad, el, (double)ok / el, ok ? cpu * 1000 / (double)ok : 0.0);
	last_rate = (double)ok / el;
	fflush(stdout);
	free(th);
	return el;
}

static long log_rss_kib(void)
{
	char path[64], line[256];
	long rss = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)f.log_pid);
	FILE *fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp))
		sscanf(line, "VmRSS: %ld kB", &rss);
	if (fp)
		fclose(fp);
	return rss;
}

static unsigned long long disk_bytes;
static int add_size(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)p;
	(void)ftw;
	if (flag == FTW_F)
		disk_bytes += (unsigned long long)sb->st_blocks * 512;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s BINDIR [seconds=10] [connections=64] [certs=100000] [ct.http_threads]\n",
			argv[0]);
		return 2;
	}
	double seconds = argc > 2 ? atof(argv[2]) : 10;
	int conns = argc > 3 ? atoi(argv[3]) : 64;
	ncerts = argc > 4 ? atol(argv[4]) : 100000;
	int http_threads = argc > 5 ? atoi(argv[5]) : 0; /* 0: the configuration's default */
	if (seconds <= 0 || conns < 1 || ncerts < 1 || http_threads < 0)
		return 2;
	char ct_yaml[128];
	int yl = snprintf(ct_yaml, sizeof(ct_yaml), "  sequence_interval_ms: 100\n");
	if (http_threads)
		snprintf(ct_yaml + yl, sizeof(ct_yaml) - (size_t)yl, "  http_threads: %d\n", http_threads);
	if (tc_ct_fixture_setup(&f, argv[1], ct_yaml) != 0 || tc_ct_fixture_start_log(&f) != 0) {
		fprintf(stderr, "cannot start the signer and the log\n");
		return 1;
	}
	certs = calloc((size_t)ncerts, sizeof(*certs));
	cert_lens = calloc((size_t)ncerts, sizeof(*cert_lens));
	bodies = calloc((size_t)ncerts, sizeof(*bodies));
	sct_time = calloc((size_t)ncerts, sizeof(*sct_time));
	sct_ext = calloc((size_t)ncerts, sizeof(*sct_ext));
	sct_ext_len = calloc((size_t)ncerts, sizeof(*sct_ext_len));
	double t0 = bench_now_s();
	pthread_t iss[16];
	for (int i = 0; i < 16; i++)
		pthread_create(&iss[i], NULL, issuer, NULL);
	for (int i = 0; i < 16; i++)
		pthread_join(iss[i], NULL);
	printf("issued %ld certificates through the signer in %.1f s\n", ncerts, bench_now_s() - t0);

	run_phase(0, seconds, conns, "add-chain (new, SCT + durable)");
	double new_rate = last_rate;
	logged = atomic_load(&next_cert) < ncerts ? atomic_load(&next_cert) : ncerts;
	if (atomic_load(&next_cert) >= ncerts)
		printf("  (ran out of certificates: raise certs for a full %g s run)\n", seconds);
	run_phase(1, seconds / 2, conns, "add-chain (duplicates)");
	struct tc_ct_head head;
	if (tc_ct_fixture_wait_sth(&f, (uint64_t)atomic_load(&ok_count) ? 1 : 0, 10000, &head) != 0)
		return 1;
	for (int i = 0; i < 100; i++) { /* the sequencer catches up */
		uint64_t size = head.size;
		usleep(200000);
		if (tc_ct_fixture_sth(&f, f.http, &head) == 0 && head.size == size)
			break;
	}
	proof_tree_size = head.size;
	run_phase(2, seconds / 2, conns, "get-proof-by-hash");
	disk_bytes = 0;
	nftw(tc_harness_path(&f.h, "ct"), add_size, 16, FTW_PHYS);
	printf("tree size %llu, log process RSS %ld KiB, store on disk %.1f MiB\n", (unsigned long long)head.size,
	       log_rss_kib(), (double)disk_bytes / (1 << 20));
	/* What caps new add-chains on this machine whatever the log does: each
	 * costs one signature by the log key in the HSM (the SCT) and at least
	 * one P-256 signature check (the chain). Measured here, log and signer
	 * stopped, both cores free for it. */
	tc_ct_fixture_stop_log(&f);
	tc_harness_stop_signer(&f.h);
	struct tc_config cfg;
	char err[512];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	double hsm = tc_config_load(&cfg, f.h.config, err, sizeof(err)) == 0
			     ? bench_hsm_sign_rate(f.h.config, cfg.hsm.ct_key_label, 8, 3)
			     : -1;
	double verify = bench_p256_verify_rate(1);
	if (hsm > 0 && verify > 0) {
		double ceiling = 1.0 / (1.0 / hsm + 1.0 / (verify * (double)ncpu));
		printf("ceiling here: HSM log-key signatures %.0f /s (8 threads), P-256 checks %.0f /s per core x %ld "
		       "cores => new add-chains <= %.0f /s with nothing else running\n",
		       hsm, verify, ncpu, ceiling);
		printf("add-chain (new) at %.0f %% of that ceiling\n", 100.0 * new_rate / ceiling);
	}
	for (long i = 0; i < ncerts; i++) {
		free(certs[i]);
		free(bodies[i]);
	}
	free(certs);
	free(cert_lens);
	free(bodies);
	free(sct_time);
	free(sct_ext);
	free(sct_ext_len);
	tc_ct_fixture_cleanup(&f);
	return 0;
}
