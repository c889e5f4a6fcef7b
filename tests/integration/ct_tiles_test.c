/* The static-ct-api read path of the real log process (issue 13 items 1-2):
 *   - /checkpoint is a signed note whose RFC6962NoteSignature, decoded and
 *     verified here with OpenSSL against data/ct/log_public_key.pem, is the
 *     very tree head get-sth serves (same size, time, root and signature);
 *   - the tiles served over HTTP are the files in data/ct/tiles, rebuild the
 *     checkpoint's root, and carry the spec's headers (Content-Type, long
 *     Cache-Control for full tiles, a second for the checkpoint);
 *   - an entry made durable (SCT returned) is in a published checkpoint
 *     within a second at the default sequencing interval;
 *   - kill -9 during a burst, three times: right after each kill the
 *     checkpoint on disk names only tiles that exist, no full tile seen
 *     before has changed, and after restart every SCT's entry is in a tile. */
#define _GNU_SOURCE /* memmem, strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "support/ct_log_fixture.h"
#include "support/merkle_reference.h"
#include "transparency/checkpoint.h"
#include "transparency/tile_leaf.h"
#include "transparency/tile_path.h"
#include "unit/cunit_main.h"

#define CERTS 620
#define FIRST 300       /* submitted before the crash rounds */
#define ROUNDS 3
#define PER_ROUND 100
#define THREADS 8

static const char *bindir;
static struct tc_ct_fixture f;
static unsigned char *certs[CERTS];
static size_t cert_lens[CERTS];
static struct tc_ct_entry entries[CERTS];
static int got_sct[CERTS];
static char origin[128], tiles_dir[400];

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int suite_init(void)
{
	if (tc_ct_fixture_setup(&f, bindir, NULL) != 0)
		return 1;
	for (int i = 0; i < CERTS; i++)
		if (!(certs[i] = tc_ct_fixture_issue(&f, &cert_lens[i])))
			return 1;
	snprintf(origin, sizeof(origin), "ct.trust.hypermesh.online:%d", f.port);
	snprintf(tiles_dir, sizeof(tiles_dir), "%s", tc_harness_path(&f.h, "ct/tiles"));
	return tc_ct_fixture_start_log(&f) == 0 ? 0 : 1;
}

static int suite_cleanup(void)
{
	for (int i = 0; i < CERTS; i++)
		free(certs[i]);
	tc_ct_fixture_cleanup(&f);
	return 0;
}

/* ---- raw HTTP, to see the headers ---- */

struct raw_reply {
	int status;
	char head[2048];
	unsigned char *body;
	size_t body_len;
};

static int raw_get(const char *method, const char *path, struct raw_reply *r)
{
	memset(r, 0, sizeof(*r));
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f.port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char req[512];
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: ct\r\nConnection: close\r\n\r\n", method, path);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	unsigned char *buf = malloc(cap);
	ssize_t got;
	while ((got = recv(fd, buf + len, cap - len, 0)) > 0) {
		len += (size_t)got;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	unsigned char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end || sscanf((char *)buf, "HTTP/1.1 %d", &r->status) != 1) {
		free(buf);
		return -1;
	}
	size_t hl = (size_t)(end - buf);
	snprintf(r->head, sizeof(r->head), "%.*s", (int)(hl < sizeof(r->head) ? hl : sizeof(r->head) - 1), buf);
	r->body_len = len - hl - 4;
	r->body = malloc(r->body_len + 1);
	memcpy(r->body, end + 4, r->body_len);
	r->body[r->body_len] = 0;
	free(buf);
	return 0;
}

static int has_header(const struct raw_reply *r, const char *line)
{
	return strcasestr(r->head, line) != NULL;
}

static unsigned char *read_file(const char *rel, size_t *len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", tiles_dir, rel);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, fp);
	b[*len] = 0;
	fclose(fp);
	return b;
}

/* ---- the checkpoint, checked without our note code ---- */

struct cp {
	uint64_t size, timestamp;
	unsigned char root[32];
	unsigned char ds[300]; /* the DigitallySigned struct */
	size_t ds_len;
};

/* Parses and verifies a checkpoint with OpenSSL alone; 0 or -1. */
static int openssl_verify_checkpoint(const char *note, struct cp *out)
{
	char o[200], root_b64[64], sig_name[200], sig_b64[400];
	unsigned long long size;
	int used = 0;
	if (sscanf(note, "%199[^\n]\n%llu\n%63[^\n]\n\n%n", o, &size, root_b64, &used) != 3 || used == 0 ||
	    strcmp(o, origin) != 0)
		return -1;
	if (sscanf(note + used, "\xe2\x80\x94 %199s %399[^\n]\n", sig_name, sig_b64) != 2 || strcmp(sig_name, origin) != 0)
		return -1;
	unsigned char *root = NULL, *sig = NULL;
	size_t root_len = 0, sig_len = 0;
	if (tc_base64_decode(root_b64, &root, &root_len) != 0 || root_len != 32 ||
	    tc_base64_decode(sig_b64, &sig, &sig_len) != 0 || sig_len < 4 + 12) {
		free(root);
		free(sig);
		return -1;
	}
	/* key ID = SHA-256(origin || 0x0A || 0x05 || log ID)[:4] */
	unsigned char *spki = NULL, log_id[32], pre[300], h[32];
	int spki_len = i2d_PUBKEY(f.log_key, &spki);
	SHA256(spki, (size_t)spki_len, log_id);
	OPENSSL_free(spki);
	size_t ol = strlen(origin);
	memcpy(pre, origin, ol);
	pre[ol] = '\n';
	pre[ol + 1] = 0x05;
	memcpy(pre + ol + 2, log_id, 32);
	SHA256(pre, ol + 34, h);
	int ok = memcmp(sig, h, 4) == 0;
	/* timestamp(8) || 0x04 0x03 || len(2) || DER ECDSA */
	const unsigned char *b = sig + 4;
	uint64_t ts = 0;
	for (int i = 0; i < 8; i++)
		ts = ts << 8 | b[i];
	size_t der_len = (size_t)b[10] << 8 | b[11];
	ok = ok && b[8] == 4 && b[9] == 3 && der_len == sig_len - 4 - 12;
	unsigned char input[50] = {0, 1}; /* v1, tree_hash */
	for (int i = 0; i < 8; i++) {
		input[2 + i] = (unsigned char)(ts >> (56 - 8 * i));
		input[10 + i] = (unsigned char)((uint64_t)size >> (56 - 8 * i));
	}
	memcpy(input + 18, root, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ok = ok && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, f.log_key) == 1 &&
	     EVP_DigestVerify(md, b + 12, der_len, input, sizeof(input)) == 1;
	EVP_MD_CTX_free(md);
	if (ok) {
		out->size = size;
		out->timestamp = ts;
		memcpy(out->root, root, 32);
		out->ds_len = sig_len - 4 - 8;
		memcpy(out->ds, b + 8, out->ds_len);
	}
	free(root);
	free(sig);
	return ok ? 0 : -1;
}

static int fetch_checkpoint(struct cp *out)
{
	struct raw_reply r;
	if (raw_get("GET", "/checkpoint", &r) != 0)
		return -1;
	int rc = r.status == 200 ? openssl_verify_checkpoint((char *)r.body, out) : -1;
	free(r.body);
	return rc;
}

/* Polls /checkpoint until it covers size entries (deadline ms). */
static int wait_checkpoint(uint64_t size, int ms, struct cp *out)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	do {
		if (fetch_checkpoint(out) == 0 && out->size >= size)
			return 0;
		usleep(5000);
	} while (now_ms() < end);
	return -1;
}

static void submit_range(int first, int last)
{
	char sig[200];
	for (int i = first; i < last; i++) {
		CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_submit(&f, f.http, certs[i], cert_lens[i], &entries[i], sig, sizeof(sig)), 0);
		got_sct[i] = 1;
	}
}

static void test_checkpoint_is_the_sth(void)
{
	submit_range(0, FIRST);
	struct tc_ct_head head;
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_wait_sth(&f, FIRST, 20000, &head), 0);
	struct cp cp;
	CU_ASSERT_EQUAL_FATAL(wait_checkpoint(FIRST, 5000, &cp), 0);
	/* the same tree head as get-sth, signature included */
	struct tc_http_response r;
	char err[128];
	CU_ASSERT_EQUAL_FATAL(tc_http_request(f.http, "GET", "/ct/v1/get-sth", NULL, 0, &r, err, sizeof(err)), 0);
	char size_s[32], ts_s[32];
	snprintf(size_s, sizeof(size_s), "\"tree_size\":%llu", (unsigned long long)cp.size);
	snprintf(ts_s, sizeof(ts_s), "\"timestamp\":%llu", (unsigned long long)cp.timestamp);
	char *ds = tc_base64_encode(cp.ds, cp.ds_len), *root = tc_base64_encode(cp.root, 32);
	char *compact = malloc(r.body_len + 1);
	size_t k = 0;
	for (size_t i = 0; i < r.body_len; i++)
		if (r.body[i] != ' ')
			compact[k++] = r.body[i];
	compact[k] = 0;
	CU_ASSERT_PTR_NOT_NULL(strstr(compact, size_s));
	CU_ASSERT_PTR_NOT_NULL(strstr(compact, ts_s));
	CU_ASSERT_PTR_NOT_NULL(strstr(compact, ds));
	CU_ASSERT_PTR_NOT_NULL(strstr(compact, root));
	free(compact);
	free(ds);
	free(root);
	tc_http_response_free(&r);
	/* and our own verifier agrees */
	size_t len = 0;
	char *note = (char *)read_file("checkpoint", &len);
	struct tc_checkpoint c;
	CU_ASSERT_PTR_NOT_NULL_FATAL(note);
	CU_ASSERT_EQUAL(tc_checkpoint_verify(note, len, origin, f.log_key, &c, err, sizeof(err)), 0);
	free(note);
}

/* Every tile the checkpoint in tiles_dir needs exists; the root rebuilt
 * from the level-0 tiles (checked against the data tiles) is its root.
 * Fills leaves (cap entries) and returns the size, or -1. */
static int64_t check_files_complete(hash_t *leaves, uint64_t cap)
{
	size_t len = 0;
	char *note = (char *)read_file("checkpoint", &len);
	if (!note)
		return -1;
	struct tc_checkpoint c;
	char err[200];
	int rc = tc_checkpoint_verify(note, len, origin, f.log_key, &c, err, sizeof(err));
	free(note);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_FATAL(c.tree_size <= cap);
	for (uint64_t t = 0; t * 256 < c.tree_size; t++) {
		unsigned w = c.tree_size - t * 256 >= 256 ? 256 : (unsigned)(c.tree_size - t * 256);
		char hp[TC_TILE_PATH_MAX], dp[TC_TILE_PATH_MAX];
		tc_tile_path(hp, sizeof(hp), 0, t, w);
		tc_tile_path(dp, sizeof(dp), TC_TILE_DATA_LEVEL, t, w);
		size_t hl = 0, dl = 0, pos = 0;
		unsigned char *h = read_file(hp, &hl), *d = read_file(dp, &dl);
		if (!h || !d)
			fprintf(stderr, "checkpoint %llu names missing %s or %s\n", (unsigned long long)c.tree_size, hp, dp);
		CU_ASSERT_PTR_NOT_NULL_FATAL(h);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_EQUAL_FATAL(hl, (size_t)w * 32);
		for (unsigned i = 0; i < w; i++) {
			struct tc_tile_leaf l;
			CU_ASSERT_EQUAL_FATAL(tc_tile_leaf_next(d, dl, &pos, &l), 0);
			CU_ASSERT_EQUAL_FATAL(tc_tile_leaf_hash(&l, leaves[t * 256 + i]), 0);
			CU_ASSERT_EQUAL(memcmp(leaves[t * 256 + i], h + 32 * i, 32), 0);
			CU_ASSERT_EQUAL(l.n_chain, 2); /* intermediate and root */
			for (size_t k = 0; k < l.n_chain; k++) {
				char ip[80];
				tc_tile_issuer_path(ip, sizeof(ip), l.chain + 32 * k);
				size_t il = 0;
				unsigned char *iss = read_file(ip, &il), fp[32];
				CU_ASSERT_PTR_NOT_NULL_FATAL(iss);
				SHA256(iss, il, fp);
				CU_ASSERT_EQUAL(memcmp(fp, l.chain + 32 * k, 32), 0);
				free(iss);
			}
		}
		free(h);
		free(d);
	}
	if (c.tree_size >= 256) { /* level 1 partial */
		char p1[TC_TILE_PATH_MAX];
		tc_tile_path(p1, sizeof(p1), 1, 0, (unsigned)(c.tree_size / 256));
		size_t l1 = 0;
		unsigned char *h1 = read_file(p1, &l1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(h1);
		for (uint64_t i = 0; i < c.tree_size / 256; i++) {
			hash_t want;
			ref_mth(leaves + i * 256, 256, want);
			CU_ASSERT_EQUAL(memcmp(want, h1 + 32 * i, 32), 0);
		}
		free(h1);
	}
	hash_t root;
	ref_mth(leaves, c.tree_size, root);
	CU_ASSERT_EQUAL(memcmp(root, c.root, 32), 0);
	return (int64_t)c.tree_size;
}

static void test_http_serves_the_files(void)
{
	struct cp cp;
	CU_ASSERT_EQUAL_FATAL(fetch_checkpoint(&cp), 0);
	CU_ASSERT_FATAL(cp.size >= 256);
	struct raw_reply r;
	CU_ASSERT_EQUAL_FATAL(raw_get("GET", "/checkpoint", &r), 0);
	CU_ASSERT(has_header(&r, "Content-Type: text/plain; charset=utf-8"));
	CU_ASSERT(has_header(&r, "Cache-Control: public, max-age=1"));
	free(r.body);
	static const char *const full[] = {"/tile/0/000", "/tile/data/000"};
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(raw_get("GET", full[i], &r), 0);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT(has_header(&r, "Content-Type: application/octet-stream"));
		CU_ASSERT(has_header(&r, "Cache-Control: public, max-age=31536000, immutable"));
		size_t len = 0;
		unsigned char *file = read_file(full[i] + 1, &len);
		CU_ASSERT(file && len == r.body_len && memcmp(file, r.body, len) == 0);
		free(file);
		free(r.body);
	}
	char partial[TC_TILE_PATH_MAX + 1] = "/";
	tc_tile_path(partial + 1, sizeof(partial) - 1, 0, cp.size / 256, (unsigned)(cp.size % 256));
	CU_ASSERT_EQUAL_FATAL(raw_get("GET", partial, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.body_len, (cp.size % 256) * 32);
	CU_ASSERT(has_header(&r, "Cache-Control: public, max-age=60"));
	free(r.body);
	/* the issuer of the first entry */
	unsigned char fp[32];
	char ip[90] = "/";
	SHA256(f.inter_der, f.inter_len, fp);
	tc_tile_issuer_path(ip + 1, sizeof(ip) - 1, fp);
	CU_ASSERT_EQUAL_FATAL(raw_get("GET", ip, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(has_header(&r, "Content-Type: application/pkix-cert"));
	CU_ASSERT(r.body_len == f.inter_len && memcmp(r.body, f.inter_der, f.inter_len) == 0);
	free(r.body);
	/* not published, not canonical, not a GET */
	static const char *const missing[] = {"/tile/0/999", "/tile/0/x000/000", "/tile/0/000.p/0", "/issuer/00",
					      "/tile/data/000.p/255"};
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL_FATAL(raw_get("GET", missing[i], &r), 0);
		CU_ASSERT_EQUAL(r.status, 404);
		free(r.body);
	}
	CU_ASSERT_EQUAL_FATAL(raw_get("DELETE", "/checkpoint", &r), 0);
	CU_ASSERT_EQUAL(r.status, 405);
	free(r.body);
	CU_ASSERT_EQUAL_FATAL(raw_get("HEAD", "/tile/0/000", &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.body_len, 0);
	free(r.body);
	/* the RFC 6962 API is still there */
	CU_ASSERT_EQUAL_FATAL(raw_get("GET", "/ct/v1/get-sth", &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	free(r.body);
	hash_t *leaves = malloc(CERTS * sizeof(hash_t));
	CU_ASSERT(check_files_complete(leaves, CERTS) >= FIRST);
	free(leaves);
}

static void test_publication_lag(void)
{
	/* entry durable (its SCT returned) -> in a published checkpoint */
	uint64_t worst = 0;
	for (int i = 0; i < 5; i++) {
		struct cp before;
		CU_ASSERT_EQUAL_FATAL(fetch_checkpoint(&before), 0);
		char sig[200];
		int idx = FIRST + i;
		CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_submit(&f, f.http, certs[idx], cert_lens[idx], &entries[idx], sig,
							   sizeof(sig)), 0);
		got_sct[idx] = 1;
		uint64_t t0 = now_ms();
		struct cp after;
		CU_ASSERT_EQUAL_FATAL(wait_checkpoint(before.size + 1, 5000, &after), 0);
		uint64_t lag = now_ms() - t0;
		if (lag > worst)
			worst = lag;
	}
	printf("\n    publication lag, worst of 5: %llu ms\n", (unsigned long long)worst);
	CU_ASSERT(worst <= 1000);
}

/* ---- crash rounds ---- */

struct burst {
	int first, last, step;
};
static atomic_int sct_count;

static void *burst_client(void *p)
{
	struct burst *b = p;
	struct tc_http_client *c = NULL;
	char err[128], sig[200];
	if (tc_http_client_new(f.url, 10000, &c, err, sizeof(err)) != 0)
		return NULL;
	for (int i = b->first; i < b->last; i += b->step) {
		if (tc_ct_fixture_submit(&f, c, certs[i], cert_lens[i], &entries[i], sig, sizeof(sig)) != 0)
			break;
		got_sct[i] = 1;
		atomic_fetch_add(&sct_count, 1);
	}
	tc_http_client_free(c);
	return NULL;
}

#define MAX_FULL_TILES 64
static struct {
	char path[TC_TILE_PATH_MAX];
	unsigned char digest[32];
} full_tiles[MAX_FULL_TILES];
static int n_full_tiles;

/* Records the full tiles present now; checks the earlier ones unchanged. */
static void check_full_tiles(void)
{
	for (int i = 0; i < n_full_tiles; i++) {
		size_t len = 0;
		unsigned char *b = read_file(full_tiles[i].path, &len), d[32];
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		SHA256(b, len, d);
		CU_ASSERT_EQUAL(memcmp(d, full_tiles[i].digest, 32), 0);
		free(b);
	}
	for (int level = TC_TILE_DATA_LEVEL; level <= 0; level++)
		for (uint64_t n = 0; n < 8; n++) {
			char p[TC_TILE_PATH_MAX];
			tc_tile_path(p, sizeof(p), level, n, 256);
			int known = 0;
			for (int i = 0; i < n_full_tiles; i++)
				known |= strcmp(full_tiles[i].path, p) == 0;
			size_t len = 0;
			unsigned char *b = known ? NULL : read_file(p, &len);
			if (b && n_full_tiles < MAX_FULL_TILES) {
				snprintf(full_tiles[n_full_tiles].path, TC_TILE_PATH_MAX, "%s", p);
				SHA256(b, len, full_tiles[n_full_tiles++].digest);
			}
			free(b);
		}
}

static void test_kill_9_during_publication(void)
{
	hash_t *leaves = malloc(CERTS * sizeof(hash_t));
	check_full_tiles();
	int next = FIRST + 5;
	for (int round = 0; round < ROUNDS; round++) {
		int last = next + PER_ROUND;
		atomic_store(&sct_count, 0);
		pthread_t th[THREADS];
		struct burst b[THREADS];
		for (int t = 0; t < THREADS; t++) {
			b[t] = (struct burst){next + t, last, THREADS};
			pthread_create(&th[t], NULL, burst_client, &b[t]);
		}
		/* kill at a different point of the burst each round */
		int kill_after = 20 + 30 * round;
		uint64_t deadline = now_ms() + 30000;
		while (atomic_load(&sct_count) < kill_after && now_ms() < deadline)
			usleep(1000);
		CU_ASSERT_EQUAL(tc_ct_fixture_kill_log(&f), SIGKILL);
		for (int t = 0; t < THREADS; t++)
			pthread_join(th[t], NULL);
		/* as the crash left it */
		CU_ASSERT(check_files_complete(leaves, CERTS) >= FIRST);
		check_full_tiles();
		CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_start_log(&f), 0);
		next = last;
	}
	/* after the last restart: every SCT'd entry is in a tile */
	int sct_total = 0;
	for (int i = 0; i < next; i++)
		sct_total += got_sct[i];
	struct tc_ct_head head;
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_wait_sth(&f, (uint64_t)sct_total, 20000, &head), 0);
	struct cp cp;
	CU_ASSERT_EQUAL_FATAL(wait_checkpoint(head.size, 5000, &cp), 0);
	int64_t size = check_files_complete(leaves, CERTS);
	CU_ASSERT_FATAL(size >= sct_total);
	check_full_tiles();
	int found = 0;
	for (int i = 0; i < next; i++) {
		if (!got_sct[i])
			continue;
		size_t ll = 0;
		tc_ct_encode_leaf(&entries[i], NULL, 0, &ll);
		unsigned char *leaf = malloc(ll), lh[32];
		tc_ct_encode_leaf(&entries[i], leaf, ll, &ll);
		tc_merkle_leaf_hash(leaf, ll, lh);
		free(leaf);
		int in = 0;
		for (int64_t k = 0; k < size && !in; k++)
			in = memcmp(leaves[k], lh, 32) == 0;
		if (!in)
			fprintf(stderr, "SCT'd entry %d not in any tile\n", i);
		found += in;
	}
	CU_ASSERT_EQUAL(found, sct_total);
	printf("\n    %d SCTs over %d kill -9 rounds, all in tiles (tree size %lld)\n", sct_total, ROUNDS,
	       (long long)size);
	free(leaves);
}

int main(int argc, char **argv)
{
	bindir = argc > 1 ? argv[1] : "bin";
	static const struct tc_test tests[] = {
		{"checkpoint is the get-sth tree head (OpenSSL)", test_checkpoint_is_the_sth},
		{"HTTP serves the files with the spec's headers", test_http_serves_the_files},
		{"publication lag <= 1 s", test_publication_lag},
		{"kill -9 during publication", test_kill_9_during_publication},
		{NULL, NULL},
	};
	return tc_run_suite("ct_tiles", tests, suite_init, suite_cleanup);
}
