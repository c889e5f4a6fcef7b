/* ACME throughput against a running TrustChain (dev configuration with
 * acme.validation.http_port set to this bench's responder port and NAME
 * resolving to 127.0.0.1 through acme.validation.resolver, e.g. a
 * dns.records entry): N accounts each doing newOrder (dns identifier NAME)
 * -> authorization
 * -> http-01 (the responder is inside the bench) -> poll until valid ->
 * finalize -> certificate download, for D seconds; prints finalized orders
 * per second and p50/p99 per order. Then, in the same run, gRPC Issue from
 * N threads for D seconds against the same gateway, so the ACME overhead
 * over the bare issuance path is visible.
 *
 * Where the CPU goes: each server process's CPU (/proc/<pid>/stat; the
 * server is the parent of the trustchain-acme process listening on the
 * directory's port, or --server-pid) and the bench's own over each phase,
 * per order and per certificate, and the ceiling that split implies: the
 * order rate the box's cores could reach if trustchain-acme cost nothing,
 * and the ACME overhead that rate would still leave against gRPC Issue.
 *
 * usage: bench_acme --directory URL --root ROOT_PEM --http-port PORT
 *                   --gateway HOST:PORT --name NAME [--token-file FILE] [-c accounts]
 *                   [-d seconds] [--poll-ms MS] [--server-pid PID]
 * (prints figures; not a test) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "acme/b64url.h"
#include "acme/jwk.h"
#include "bench/bench_acme_cpu.h"
#include "bench_util.h"
#include "trustchain/client.h"
#include "unit/test_acme_support.h"

#define MAX_WORKERS 256
#define MAX_ORDERS_PER_WORKER 100000

static const char *directory_url, *root_pem, *gateway, *token_file, *name;
static unsigned workers = 16, seconds = 10, poll_ms = 10, http_port;
static char new_nonce_url[512], new_account_url[512], new_order_url[512];
static atomic_int stop_flag;
static pid_t server_pid;
static struct bench_procs procs;
static int have_procs;
/* Server CPU seconds per role over the last phase (filled by the phases). */
static double grpc_role_cpu[BR_N], grpc_client_cpu;

/* Where an order's time goes: newOrder, authorization, challenge POST,
 * waiting for valid, finalize, download (microseconds, summed). */
enum { PH_ORDER, PH_AUTHZ, PH_CHALL, PH_VALID, PH_FINAL, PH_CERT, PH_N };
static const char *const PH_NAMES[PH_N] = {"newOrder", "authz", "challenge", "until valid", "finalize", "download"};
static atomic_llong phase_us[PH_N];
static atomic_llong requests; /* HTTP requests of the ACME phase (polls included) */
static atomic_llong connects; /* of which opened a new connection (a TLS handshake) */

static void phase(int ph, double *t)
{
	double now = bench_now_s();
	atomic_fetch_add(&phase_us[ph], (long long)((now - *t) * 1e6));
	*t = now;
}

/* The http-01 responder: one outstanding token per worker. */
static pthread_mutex_t resp_lock = PTHREAD_MUTEX_INITIALIZER;
static char resp_token[MAX_WORKERS][64], resp_keyauth[MAX_WORKERS][160];

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			     const char *version, const char *data, size_t *size, void **ptr)
{
	(void)cls, (void)method, (void)version, (void)data, (void)size, (void)ptr;
	const char *prefix = "/.well-known/acme-challenge/";
	char body[160] = "";
	unsigned status = 404;
	if (strncmp(url, prefix, strlen(prefix)) == 0) {
		const char *tok = url + strlen(prefix);
		pthread_mutex_lock(&resp_lock);
		for (unsigned i = 0; i < workers; i++)
			if (resp_token[i][0] && strcmp(resp_token[i], tok) == 0) {
				snprintf(body, sizeof(body), "%s", resp_keyauth[i]);
				status = 200;
			}
		pthread_mutex_unlock(&resp_lock);
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

struct worker {
	unsigned id;
	CURL *curl;
	EVP_PKEY *key;
	char thumb[TC_JWK_THUMB_LEN + 1];
	char kid[512];
	char nonce[128];
	char location[512];
	char *csr_b64;
	double *lat;
	size_t n_lat, failures;
};

struct buf {
	char *p;
	size_t n;
};

static size_t on_body(char *d, size_t s, size_t n, void *arg)
{
	struct buf *b = arg;
	char *g = realloc(b->p, b->n + s * n + 1);
	if (!g)
		return 0;
	memcpy(g + b->n, d, s * n);
	b->p = g;
	b->n += s * n;
	b->p[b->n] = 0;
	return s * n;
}

static size_t on_header(char *d, size_t s, size_t n, void *arg)
{
	struct worker *w = arg;
	size_t len = s * n;
	const char *names[] = {"Replay-Nonce:", "Location:"};
	char *dst[] = {w->nonce, w->location};
	size_t caps[] = {sizeof(w->nonce), sizeof(w->location)};
	for (int i = 0; i < 2; i++) {
		size_t nl = strlen(names[i]);
		if (len > nl && strncasecmp(d, names[i], nl) == 0) {
			const char *v = d + nl;
			size_t vl = len - nl;
			while (vl && (*v == ' '))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
				vl--;
			if (vl < caps[i]) {
				memcpy(dst[i], v, vl);
				dst[i][vl] = 0;
			}
		}
	}
	return len;
}

/* One request; the parsed JSON body (or NULL) and the status. */
static long http(struct worker *w, const char *url, const char *post, json_t **json, struct buf *raw)
{
	struct buf b = {0};
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/jose+json");
	curl_easy_setopt(w->curl, CURLOPT_URL, url);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, h);
	if (post) {
		curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, post);
	} else {
		curl_easy_setopt(w->curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &b);
	w->location[0] = 0;
	atomic_fetch_add(&requests, 1);
	long code = 0;
	if (curl_easy_perform(w->curl) == CURLE_OK) {
		long fresh = 0;
		curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(w->curl, CURLINFO_NUM_CONNECTS, &fresh);
		atomic_fetch_add(&connects, fresh);
	}
	curl_slist_free_all(h);
	if (json)
		*json = b.p ? json_loadb(b.p, b.n, 0, NULL) : NULL;
	if (raw)
		*raw = b;
	else
		free(b.p);
	return code;
}

/* A signed POST; retried once on badNonce. */
static long post(struct worker *w, const char *url, const char *payload, json_t **json, struct buf *raw)
{
	for (int tries = 0; tries < 3; tries++) {
		if (!w->nonce[0])
			http(w, new_nonce_url, NULL, NULL, NULL);
		char *jws = tst_acme_jws(w->key, NULL, w->kid[0] ? w->kid : NULL, url, w->nonce, payload, NULL);
		w->nonce[0] = 0;
		json_t *j = NULL;
		long code = http(w, url, jws, &j, raw);
		free(jws);
		const char *type = json_string_value(json_object_get(j, "type"));
		if (code == 400 && type && strstr(type, "badNonce")) {
			json_decref(j);
			continue;
		}
		if (json)
			*json = j;
		else
			json_decref(j);
		return code;
	}
	return 0;
}

static char *name_csr(EVP_PKEY *key)
{
	X509_REQ *req = X509_REQ_new();
	X509_REQ_set_pubkey(req, key);
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	sk_GENERAL_NAME_push(gens, a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_DNS, name, 0));
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, gens));
	X509_REQ_add_extensions(req, exts);
	X509_REQ_sign(req, key, EVP_sha256());
	unsigned char *der = NULL;
	int len = i2d_X509_REQ(req, &der);
	char *b = tc_b64url_encode(der, (size_t)len);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	return b;
}

/* Polls url (POST-as-GET) until its status is not pending/processing;
 * the last object read goes to *last (may be NULL) for the caller. */
static const char *poll_status(struct worker *w, const char *url, char *status, size_t len, json_t **last)
{
	for (int i = 0; i < 3000 && !atomic_load(&stop_flag); i++) {
		json_t *j = NULL;
		post(w, url, "", &j, NULL);
		snprintf(status, len, "%s", j ? json_string_value(json_object_get(j, "status")) ?: "?" : "?");
		if (strcmp(status, "pending") != 0 && strcmp(status, "processing") != 0) {
			if (last)
				*last = j;
			else
				json_decref(j);
			return status;
		}
		json_decref(j);
		usleep(poll_ms * 1000);
	}
	return status;
}

static int one_order(struct worker *w)
{
	json_t *o = NULL, *z = NULL;
	char order[512], authz[512], fin[512], chall[512] = "", token[64] = "", st[32];
	int ok = 0;
	double t = bench_now_s();
	char req[512];
	snprintf(req, sizeof(req), "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", name);
	if (post(w, new_order_url, req, &o, NULL) != 201)
		goto out;
	phase(PH_ORDER, &t);
	snprintf(order, sizeof(order), "%s", w->location);
	snprintf(authz, sizeof(authz), "%s", json_string_value(json_array_get(json_object_get(o, "authorizations"), 0)));
	snprintf(fin, sizeof(fin), "%s", json_string_value(json_object_get(o, "finalize")));
	if (post(w, authz, "", &z, NULL) != 200)
		goto out;
	phase(PH_AUTHZ, &t);
	size_t i;
	json_t *ch;
	json_array_foreach(json_object_get(z, "challenges"), i, ch)
		if (strcmp(json_string_value(json_object_get(ch, "type")), "http-01") == 0) {
			snprintf(chall, sizeof(chall), "%s", json_string_value(json_object_get(ch, "url")));
			snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(ch, "token")));
		}
	if (!chall[0])
		goto out;
	pthread_mutex_lock(&resp_lock);
	snprintf(resp_token[w->id], sizeof(resp_token[0]), "%s", token);
	snprintf(resp_keyauth[w->id], sizeof(resp_keyauth[0]), "%s.%s", token, w->thumb);
	pthread_mutex_unlock(&resp_lock);
	if (post(w, chall, "{}", NULL, NULL) != 200)
		goto out;
	phase(PH_CHALL, &t);
	if (strcmp(poll_status(w, authz, st, sizeof(st), NULL), "valid") != 0)
		goto out;
	phase(PH_VALID, &t);
	char payload[1024];
	snprintf(payload, sizeof(payload), "{\"csr\":\"%s\"}", w->csr_b64);
	json_decref(o);
	o = NULL;
	if (post(w, fin, payload, &o, NULL) != 200)
		goto out;
	/* finalize answers processing (the CA works in the background) or
	 * valid; the order read that says valid names the certificate. */
	const char *s = json_string_value(json_object_get(o, "status"));
	if (!s || strcmp(s, "valid") != 0) {
		json_decref(o);
		o = NULL;
		if (strcmp(poll_status(w, order, st, sizeof(st), &o), "valid") != 0)
			goto out;
	}
	phase(PH_FINAL, &t);
	const char *cert = json_string_value(json_object_get(o, "certificate"));
	struct buf pem = {0};
	if (cert && post(w, cert, "", NULL, &pem) == 200 && pem.p && strstr(pem.p, "BEGIN CERTIFICATE"))
		ok = 1;
	phase(PH_CERT, &t);
	free(pem.p);
out:
	pthread_mutex_lock(&resp_lock);
	resp_token[w->id][0] = 0;
	pthread_mutex_unlock(&resp_lock);
	json_decref(o);
	json_decref(z);
	return ok;
}

static void *acme_worker(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load(&stop_flag) && w->n_lat < MAX_ORDERS_PER_WORKER) {
		double t0 = bench_now_s();
		if (one_order(w))
			w->lat[w->n_lat++] = bench_now_s() - t0;
		else if (!atomic_load(&stop_flag)) /* cut short by the end of the run: not a failure */
			w->failures++;
	}
	return NULL;
}

static int setup_worker(struct worker *w, unsigned id)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->curl = curl_easy_init();
	curl_easy_setopt(w->curl, CURLOPT_CAINFO, root_pem);
	curl_easy_setopt(w->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(w->curl, CURLOPT_HEADERDATA, w);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	w->key = tst_acme_key("P-256");
	EVP_PKEY *certkey = tst_acme_key("P-256");
	w->csr_b64 = name_csr(certkey);
	EVP_PKEY_free(certkey);
	w->lat = calloc(MAX_ORDERS_PER_WORKER, sizeof(double));
	if (tc_jwk_thumbprint_of_key(w->key, w->thumb) != 0 || !w->lat)
		return -1;
	if (post(w, new_account_url, "{\"termsOfServiceAgreed\":true}", NULL, NULL) != 201)
		return -1;
	snprintf(w->kid, sizeof(w->kid), "%s", w->location);
	return 0;
}

static int discover(void)
{
	struct worker w = {0};
	w.curl = curl_easy_init();
	curl_easy_setopt(w.curl, CURLOPT_CAINFO, root_pem);
	json_t *d = NULL;
	long code = http(&w, directory_url, NULL, &d, NULL);
	curl_easy_cleanup(w.curl);
	if (code != 200 || !d)
		return -1;
	snprintf(new_nonce_url, sizeof(new_nonce_url), "%s", json_string_value(json_object_get(d, "newNonce")));
	snprintf(new_account_url, sizeof(new_account_url), "%s", json_string_value(json_object_get(d, "newAccount")));
	snprintf(new_order_url, sizeof(new_order_url), "%s", json_string_value(json_object_get(d, "newOrder")));
	json_decref(d);
	return 0;
}

/* CPU seconds this process used so far: the client's own share of the box,
 * printed per phase (the server's children are measured from outside). */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void report(const char *what, double *lat, size_t n, double elapsed, size_t failures)
{
	qsort(lat, n, sizeof(double), bench_cmp_double);
	printf("%s: %zu in %.1f s = %.1f/s, p50 %.1f ms, p99 %.1f ms, failures %zu\n", what, n, elapsed,
	       n / elapsed, n ? lat[n / 2] * 1e3 : 0, n ? lat[(n * 99) / 100] * 1e3 : 0, failures);
}

/* ---- gRPC Issue in the same run ---- */
struct issuer {
	struct tc_client *c;
	unsigned char *csr;
	size_t csr_len;
	double *lat;
	size_t n_lat, failures;
};

static void *issue_worker(void *arg)
{
	struct issuer *is = arg;
	const char *dns[] = {name};
	struct tc_issue_request rq = {.csr = is->csr, .csr_len = is->csr_len, .dns_names = dns, .n_dns = 1};
	while (!atomic_load(&stop_flag) && is->n_lat < MAX_ORDERS_PER_WORKER) {
		struct tc_issue_result *res = NULL;
		struct tc_status st;
		double t0 = bench_now_s();
		if (tc_issue(is->c, &rq, &res, &st) == 0) {
			is->lat[is->n_lat++] = bench_now_s() - t0;
			tc_issue_result_free(res);
		} else {
			is->failures++;
		}
	}
	return NULL;
}

static size_t grpc_count;

static double grpc_phase(void)
{
	char token[256] = "", err[512];
	if (token_file) {
		FILE *f = fopen(token_file, "r");
		if (!f || !fgets(token, sizeof(token), f)) {
			fprintf(stderr, "cannot read %s\n", token_file);
			return -1;
		}
		fclose(f);
		token[strcspn(token, "\r\n")] = 0;
	}
	struct tc_client_options o = {.root_ca_file = root_pem, .bearer_token = token[0] ? token : NULL};
	struct tc_client *c = tc_client_open_opts(gateway, &o, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "gateway: %s\n", err);
		return -1;
	}
	struct issuer *is = calloc(workers, sizeof(*is));
	pthread_t t[MAX_WORKERS];
	EVP_PKEY *k = tst_acme_key("P-256");
	char *csr64 = name_csr(k);
	unsigned char *csr;
	size_t csr_len;
	tc_b64url_decode(csr64, strlen(csr64), &csr, &csr_len);
	for (unsigned i = 0; i < workers; i++) {
		is[i] = (struct issuer){.c = c, .csr = csr, .csr_len = csr_len, .lat = calloc(MAX_ORDERS_PER_WORKER, sizeof(double))};
	}
	atomic_store(&stop_flag, 0);
	double r0[BR_N], r1[BR_N];
	if (have_procs)
		bench_procs_cpu(&procs, r0);
	double t0 = bench_now_s(), c0 = cpu_s();
	for (unsigned i = 0; i < workers; i++)
		pthread_create(&t[i], NULL, issue_worker, &is[i]);
	sleep(seconds);
	atomic_store(&stop_flag, 1);
	size_t n = 0, failures = 0;
	for (unsigned i = 0; i < workers; i++) {
		pthread_join(t[i], NULL);
		n += is[i].n_lat;
		failures += is[i].failures;
	}
	double elapsed = bench_now_s() - t0;
	grpc_client_cpu = cpu_s() - c0;
	if (have_procs) {
		bench_procs_cpu(&procs, r1);
		for (int r = 0; r < BR_N; r++)
			grpc_role_cpu[r] = r1[r] - r0[r];
	}
	double *all = calloc(n ? n : 1, sizeof(double));
	size_t k2 = 0;
	for (unsigned i = 0; i < workers; i++) {
		memcpy(all + k2, is[i].lat, is[i].n_lat * sizeof(double));
		k2 += is[i].n_lat;
		free(is[i].lat);
	}
	report("gRPC Issue", all, n, elapsed, failures);
	grpc_count = n;
	printf("bench client CPU during gRPC Issue: %.2f s (%.2f ms per certificate)\n", cpu_s() - c0,
	       n ? (cpu_s() - c0) * 1e3 / n : 0);
	free(all);
	free(is);
	free(csr);
	free(csr64);
	EVP_PKEY_free(k);
	tc_client_close(c);
	return n / elapsed;
}

/* The port of --directory (443 when it names none). */
static unsigned directory_port(void)
{
	const char *host = strstr(directory_url, "://");
	host = host ? host + 3 : directory_url;
	const char *end = host + strcspn(host, "/");
	const char *colon = NULL;
	for (const char *p = host; p < end; p++)
		if (*p == ':')
			colon = p;
	if (colon && (host[0] != '[' || colon > strchr(host, ']')))
		return (unsigned)atoi(colon + 1);
	return 443;
}

/* Where the CPU of an order and of a gRPC certificate went, and what the
 * box could do if trustchain-acme cost nothing: the cores divided by the
 * CPU per order of everything else (the other server processes and this
 * client: JWS signing, TLS, the http-01 responder), since the run is
 * CPU-bound on a small box. */
static void cpu_report(const double d[BR_N], double client_s, size_t n, double elapsed, double grpc_rate,
		       double mean_order_s, double machine_s)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	double total = client_s;
	printf("CPU per finalized order (ms, /proc/<pid>/stat over the ACME phase):");
	for (int r = 0; r < BR_N; r++) {
		printf(" %s %.2f,", BENCH_ROLE_NAMES[r], d[r] * 1e3 / n);
		total += d[r];
	}
	printf(" bench client %.2f, total %.2f (this run kept %.0f %% of %ld cores busy", client_s * 1e3 / n,
	       total * 1e3 / n, 100.0 * total / (elapsed * cores), cores);
	if (machine_s >= 0)
		printf("; the machine %.0f %%, other processes included", 100.0 * machine_s / (elapsed * cores));
	printf(")\n");
	double gtotal = grpc_client_cpu;
	if (grpc_count) {
		printf("CPU per gRPC Issue (ms, same, gRPC phase):");
		for (int r = 0; r < BR_N; r++) {
			printf(" %s %.2f,", BENCH_ROLE_NAMES[r], grpc_role_cpu[r] * 1e3 / grpc_count);
			gtotal += grpc_role_cpu[r];
		}
		printf(" bench client %.2f, total %.2f\n", grpc_client_cpu * 1e3 / grpc_count, gtotal * 1e3 / grpc_count);
	}
	double rest_ms = (total - d[BR_ACME]) * 1e3 / n;
	double ceiling = rest_ms > 0 ? cores * 1e3 / rest_ms : 0;
	printf("ACME ceiling if trustchain-acme cost nothing: %ld cores / %.2f ms = %.0f orders/s", cores, rest_ms,
	       ceiling);
	if (grpc_rate > 0)
		printf(", overhead at that ceiling against gRPC Issue (%.1f/s): %.0f %%", grpc_rate,
		       100.0 * (1.0 - ceiling / grpc_rate));
	printf("; 400 orders/s needs <= %.2f ms per order in all\n", cores * 1e3 / 400.0);
	/* The measured gRPC rate may itself be latency-bound or share the
	 * box: compared by CPU alone, as if both had the cores to themselves. */
	if (grpc_count && gtotal > 0)
		printf("by CPU alone (gRPC Issue %.2f ms per certificate = %.0f/s on %ld cores): ACME overhead %.0f %% as "
		       "measured, %.0f %% if trustchain-acme cost nothing\n",
		       gtotal * 1e3 / grpc_count, cores * grpc_count / gtotal, cores,
		       100.0 * (1.0 - (gtotal / grpc_count) / (total / n)),
		       100.0 * (1.0 - (gtotal / grpc_count) / (rest_ms / 1e3)));
	/* Below a busy box the rate is set by latency (Little's law), not
	 * by CPU: more accounts would raise it up to the CPU-bound rate. */
	printf("rate bounds: CPU-bound %ld cores / %.2f ms = %.0f orders/s; latency-bound %u accounts / %.1f ms per "
	       "order = %.0f orders/s\n",
	       cores, total * 1e3 / n, cores * 1e3 / (total * 1e3 / n), workers, mean_order_s * 1e3,
	       mean_order_s > 0 ? workers / mean_order_s : 0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"directory", 1, 0, 'D'}, {"root", 1, 0, 'r'}, {"http-port", 1, 0, 'p'}, {"gateway", 1, 0, 'g'},
		{"token-file", 1, 0, 't'}, {"poll-ms", 1, 0, 'P'}, {"name", 1, 0, 'n'}, {"server-pid", 1, 0, 's'}, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "c:d:", opts, NULL)) != -1) {
		switch (c) {
		case 'D': directory_url = optarg; break;
		case 'r': root_pem = optarg; break;
		case 'p': http_port = (unsigned)atoi(optarg); break;
		case 'g': gateway = optarg; break;
		case 't': token_file = optarg; break;
		case 'P': poll_ms = (unsigned)atoi(optarg); break;
		case 'n': name = optarg; break;
		case 's': server_pid = (pid_t)atoi(optarg); break;
		case 'c': workers = (unsigned)atoi(optarg); break;
		case 'd': seconds = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (!directory_url || !root_pem || !http_port || !gateway || !name || !workers || workers > MAX_WORKERS) {
		fprintf(stderr, "usage: bench_acme --directory URL --root ROOT_PEM --http-port PORT --gateway HOST:PORT --name NAME "
				"[--token-file FILE] [-c accounts] [-d seconds] [--poll-ms MS] [--server-pid PID]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct MHD_Daemon *resp = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)http_port,
						   NULL, NULL, serve, NULL, MHD_OPTION_THREAD_POOL_SIZE, 2u,
						   MHD_OPTION_END);
	if (!resp || discover() != 0) {
		fprintf(stderr, "responder on :%u or the directory %s unavailable\n", http_port, directory_url);
		return 1;
	}
	struct worker *w = calloc(workers, sizeof(*w));
	for (unsigned i = 0; i < workers; i++)
		if (setup_worker(&w[i], i) != 0) {
			fprintf(stderr, "account %u: newAccount failed\n", i);
			return 1;
		}
	char why[256];
	have_procs = bench_procs_find(directory_port(), server_pid, &procs, why, sizeof(why)) == 0;
	if (!have_procs)
		fprintf(stderr, "server CPU not measured: %s\n", why);
	double a0[BR_N], a1[BR_N];
	if (have_procs)
		bench_procs_cpu(&procs, a0);
	double m0 = bench_machine_busy_s();
	pthread_t t[MAX_WORKERS];
	double t0 = bench_now_s(), c0 = cpu_s();
	for (unsigned i = 0; i < workers; i++)
		pthread_create(&t[i], NULL, acme_worker, &w[i]);
	sleep(seconds);
	atomic_store(&stop_flag, 1);
	size_t n = 0, failures = 0;
	for (unsigned i = 0; i < workers; i++) {
		pthread_join(t[i], NULL);
		n += w[i].n_lat;
		failures += w[i].failures;
	}
	double elapsed = bench_now_s() - t0, acme_cpu = cpu_s() - c0;
	if (have_procs)
		bench_procs_cpu(&procs, a1);
	double machine_s = bench_machine_busy_s() - m0;
	double *all = calloc(n ? n : 1, sizeof(double));
	size_t k = 0;
	for (unsigned i = 0; i < workers; i++) {
		memcpy(all + k, w[i].lat, w[i].n_lat * sizeof(double));
		k += w[i].n_lat;
	}
	printf("bench_acme: %u accounts, %u s, http-01 poll every %u ms\n", workers, seconds, poll_ms);
	report("ACME finalized orders", all, n, elapsed, failures);
	double acme_rate = n / elapsed;
	if (n) {
		printf("per order (mean):");
		for (int p = 0; p < PH_N; p++)
			printf(" %s %.1f ms%s", PH_NAMES[p], atomic_load(&phase_us[p]) / 1e3 / n, p + 1 < PH_N ? "," : "\n");
		printf("HTTP requests per finalized order: %.1f (new connections %.2f)\n",
		       (double)atomic_load(&requests) / n, (double)atomic_load(&connects) / n);
		printf("bench client CPU during ACME: %.2f s (%.2f ms per order; TLS, JWS signing, responder)\n",
		       acme_cpu, acme_cpu * 1e3 / n);
	}
	double grpc_rate = grpc_phase();
	if (grpc_rate > 0)
		printf("ACME overhead against gRPC Issue: %.0f %% (ACME %.1f/s, gRPC %.1f/s)\n",
		       100.0 * (1.0 - acme_rate / grpc_rate), acme_rate, grpc_rate);
	if (have_procs && n) {
		double d[BR_N];
		for (int r = 0; r < BR_N; r++)
			d[r] = a1[r] - a0[r];
		double sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += all[i];
		cpu_report(d, acme_cpu, n, elapsed, grpc_rate, sum / n, m0 >= 0 ? machine_s : -1);
	}
	for (unsigned i = 0; i < workers; i++) {
		curl_easy_cleanup(w[i].curl);
		EVP_PKEY_free(w[i].key);
		free(w[i].csr_b64);
		free(w[i].lat);
	}
	free(w);
	free(all);
	MHD_stop_daemon(resp);
	curl_global_cleanup();
	return 0;
}
