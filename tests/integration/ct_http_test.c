/* trustchain-transparency as a CT client sees it: a real signer on a real
 * SoftHSM token (dev ceremony), certificates it issued through the gateway
 * capability, and the log process run with its own signer link, spoken to
 * over HTTP. Every SCT, tree head and proof is verified here with the
 * published log key and the Merkle verifiers, and the log must survive a
 * restart with its tree, proofs and SCTs intact. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/leaf_template.h"
#include "common/signer_client.h"
#include "support/sct_mint.h"
#include "support/signer_harness.h"
#include "transparency/ct_encode.h"
#include "common/base64.h"
#include "transparency/ct_json.h"
#include "transparency/ct_precert.h"
#include "transparency/merkle.h"
#include "unit/cunit_main.h"
#include "support/child_spawn.h"

typedef Trustchain__Internal__Response Response;
typedef Trustchain__Internal__Request Request;

static const char *bindir;
static struct tc_harness h;
static struct tc_sct_minter minter; /* the test plays the log for final certificates' SCTs */
static int port;
static pid_t log_pid = -1;
static EVP_PKEY *log_key;
static unsigned char log_id[32];
static unsigned char *leaf_der, *precert_der, *inter_der, *crash_der;
static size_t leaf_len, precert_len, inter_len, crash_len;
#define PARALLEL 8
static unsigned char *many_der[PARALLEL];
static size_t many_len[PARALLEL];

/* ---- a tiny HTTP/1.0 client ---- */

struct reply {
	int status;
	json_t *json; /* NULL when the body is not JSON */
};

static int http(const char *method, const char *path, const char *body, size_t body_len, struct reply *r)
{
	memset(r, 0, sizeof(*r));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char head[512];
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\n\r\n", method, path, body ? body_len : 0);
	int ok = send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl;
	for (size_t off = 0; ok && body && off < body_len;) {
		/* The server refuses a body announced over its limit at once and
		 * closes: the rest meets EPIPE / ECONNRESET (no SIGPIPE), and the
		 * answer is still there to read. */
		ssize_t w = send(fd, body + off, body_len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	if (!buf)
		return -1;
	buf[len] = 0;
	char *sep = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1 || !sep) {
		free(buf);
		return -1;
	}
	r->json = json_loads(sep + 4, 0, NULL);
	free(buf);
	return 0;
}

static struct reply get(const char *path)
{
	struct reply r;
	if (http("GET", path, NULL, 0, &r) != 0)
		r.status = -1;
	return r;
}

static void reply_free(struct reply *r) { json_decref(r->json); }

static unsigned char *b64_field(json_t *obj, const char *key, size_t *len)
{
	unsigned char *out = NULL;
	const char *text = json_string_value(json_object_get(obj, key));
	if (!text || tc_base64_decode(text, &out, len) != 0)
		return NULL;
	return out;
}

static void expect_error(struct reply *r, int status)
{
	CU_ASSERT_EQUAL(r->status, status);
	if (r->status != status)
		fprintf(stderr, "expected HTTP %d, got %d\n", status, r->status);
	CU_ASSERT_PTR_NOT_NULL(json_string_value(json_object_get(r->json, "error_message")));
	CU_ASSERT(json_is_false(json_object_get(r->json, "success")));
	reply_free(r);
}

/* ---- the log process ---- */

static char slow_config[400]; /* same data dir, a sequencer that never fires on its own */

static int start_log_with(const char *config)
{
	int sfd = tc_harness_connect(&h, "transparency");
	if (sfd < 0)
		return -1;
	char path[600];
	snprintf(path, sizeof(path), "%s/trustchain-transparency", h.bindir);
	char *argv[] = {path, "--config", (char *)config, NULL};
	struct tc_spawn_fd fds[] = {{"TC_FD_SIGNER", sfd}};
	log_pid = tc_spawn_with_fds(path, argv, fds, 1, NULL);
	close(sfd);
	if (log_pid < 0)
		return -1;
	for (int i = 0; i < 200; i++) { /* up to 20 s (ASan builds are slow) */
		struct reply r = get("/ct/v1/get-sth");
		int st = r.status;
		reply_free(&r);
		if (st == 200)
			return 0;
		usleep(100000);
	}
	return -1;
}

static int start_log(void) { return start_log_with(h.config); }

static int kill_log(void)
{
	int status = -1;
	if (log_pid > 0) {
		kill(log_pid, SIGKILL);
		waitpid(log_pid, &status, 0);
		log_pid = -1;
	}
	return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
}

static int stop_log(void)
{
	int status = -1;
	if (log_pid > 0) {
		kill(log_pid, SIGTERM);
		waitpid(log_pid, &status, 0);
		log_pid = -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- certificates from the real signer ---- */

/* A precertificate, or a final certificate (its precertificate's SCT
 * minted by the test: this log sees neither until a test submits it). */
static unsigned char *issue(struct tc_signer_client *gw, EVP_PKEY *key, int precert, size_t *len)
{
	const char *names[] = {"svc.hypermesh.online"};
	time_t now = time(NULL);
	struct tc_leaf_request rq = {.pubkey = key, .dns_names = names, .n_dns = 1, .server_auth = 1,
				     .not_before = now - 60, .not_after = now + 1800};
	char err[256];
	X509 *x = tc_leaf_template_new(&rq, err, sizeof(err));
	unsigned char *tbs;
	size_t tbs_len;
	if (!x || tc_template_tbs_der(x, &tbs, &tbs_len) != 0)
		return NULL;
	X509_free(x);
	if (!precert) {
		unsigned char *out = tc_sct_minter_issue(&minter, gw, tbs, tbs_len, len, NULL, NULL, err, sizeof(err));
		OPENSSL_free(tbs);
		if (!out)
			fprintf(stderr, "issuance failed: %s\n", err);
		return out;
	}
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignCertificateRequest sc = TRUSTCHAIN__INTERNAL__SIGN_CERTIFICATE_REQUEST__INIT;
	sc.tbs.data = tbs;
	sc.tbs.len = tbs_len;
	sc.precertificate = 1;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE;
	req.sign_certificate = &sc;
	Response *r = tc_signer_call(gw, &req, 10000, err, sizeof(err));
	OPENSSL_free(tbs);
	unsigned char *out = NULL;
	if (r && r->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK && (out = malloc(r->sign_certificate->certificate.len))) {
		*len = r->sign_certificate->certificate.len;
		memcpy(out, r->sign_certificate->certificate.data, *len);
	} else {
		fprintf(stderr, "signing failed: %s\n", r ? r->error : err);
	}
	if (r)
		trustchain__internal__response__free_unpacked(r, NULL);
	return out;
}

static unsigned char *read_pem_der(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	unsigned char *der = NULL;
	int n = x ? i2d_X509(x, &der) : -1;
	X509_free(x);
	*len = n > 0 ? (size_t)n : 0;
	return n > 0 ? der : NULL;
}

/* A loopback port nobody listens on right now. */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), p = -1;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		p = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

/* The SCTs' extensions the entries point at, kept until the suite ends. */
struct kept_ext {
	struct kept_ext *next;
	unsigned char data[];
};
static struct kept_ext *kept_exts;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static const unsigned char *keep_ext(const unsigned char *ext, size_t len)
{
	struct kept_ext *x = malloc(sizeof(*x) + len);
	if (!x)
		return NULL;
	memcpy(x->data, ext, len);
	pthread_mutex_lock(&kept_lock);
	x->next = kept_exts;
	kept_exts = x;
	pthread_mutex_unlock(&kept_lock);
	return x->data;
}

/* The static-ct-api leaf_index of an SCT's extensions, or UINT64_MAX when
 * they are not exactly that one extension. */
static uint64_t ext_leaf_index(const struct tc_ct_entry *e)
{
	const unsigned char *x = e->extensions;
	if (e->extensions_len != 8 || !x || x[0] != 0 || x[1] != 0 || x[2] != 5)
		return UINT64_MAX;
	uint64_t v = 0;
	for (int i = 3; i < 8; i++)
		v = (v << 8) | x[i];
	return v;
}

static int suite_init(void)
{
	char extra[256];
	port = free_port();
	if (port <= 0)
		return 1;
	snprintf(extra, sizeof(extra), "ct:\n  http_listen: 127.0.0.1:%d\n  sequence_interval_ms: 100\n  sth_refresh_s: 1\n", port);
	if (tc_harness_setup(&h, bindir, extra) != 0 || tc_harness_start_signer(&h, NULL) != 0)
		return 1;
	FILE *f = fopen(tc_harness_path(&h, "ct/log_public_key.pem"), "r");
	log_key = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	unsigned char *spki = NULL;
	int spki_len = log_key ? i2d_PUBKEY(log_key, &spki) : -1;
	if (spki_len <= 0)
		return 1;
	SHA256(spki, (size_t)spki_len, log_id);
	OPENSSL_free(spki);
	if (tc_sct_minter_open(&minter, &h) != 0)
		return 1;
	struct tc_signer_client *gw = tc_signer_client_new(tc_harness_connect(&h, "gateway"));
	EVP_PKEY *k1 = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256"), *k3 = EVP_EC_gen("P-256");
	leaf_der = gw ? issue(gw, k1, 0, &leaf_len) : NULL;
	precert_der = gw ? issue(gw, k2, 1, &precert_len) : NULL;
	crash_der = gw ? issue(gw, k3, 0, &crash_len) : NULL;
	EVP_PKEY_free(k3);
	for (int i = 0; i < PARALLEL; i++) {
		EVP_PKEY *k = EVP_EC_gen("P-256");
		many_der[i] = gw && k ? issue(gw, k, 0, &many_len[i]) : NULL;
		EVP_PKEY_free(k);
		if (!many_der[i])
			return 1;
	}
	inter_der = read_pem_der(tc_harness_path(&h, "ca/intermediate.pem"), &inter_len);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	tc_signer_client_free(gw);
	if (!leaf_der || !precert_der || !inter_der || !crash_der)
		return 1;
	snprintf(slow_config, sizeof(slow_config), "%s/slow.yaml", h.dir);
	FILE *sf = fopen(slow_config, "w");
	if (!sf)
		return 1;
	fprintf(sf, "server:\n  dev: true\n  data_dir: %s/data\n  log_level: warn\nct:\n  http_listen: 127.0.0.1:%d\n"
		"  sequence_interval_ms: 60000\n", h.dir, port);
	fclose(sf);
	return start_log() == 0 ? 0 : 1;
}

static int suite_cleanup(void)
{
	while (kept_exts) {
		struct kept_ext *next = kept_exts->next;
		free(kept_exts);
		kept_exts = next;
	}
	stop_log();
	tc_sct_minter_close(&minter);
	EVP_PKEY_free(log_key);
	free(leaf_der);
	free(precert_der);
	free(crash_der);
	for (int i = 0; i < PARALLEL; i++)
		free(many_der[i]);
	OPENSSL_free(inter_der);
	tc_harness_cleanup(&h);
	return 0;
}

/* ---- verification helpers ---- */

/* A TLS DigitallySigned (sha256, ecdsa) over data with the log key. */
static int verify_signed(const unsigned char *ds, size_t ds_len, const unsigned char *data, size_t len)
{
	if (ds_len < 4 || ds[0] != TC_CT_HASH_SHA256 || ds[1] != TC_CT_SIG_ECDSA ||
	    (size_t)((ds[2] << 8) | ds[3]) != ds_len - 4)
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, log_key) == 1 &&
		 EVP_DigestVerify(md, ds + 4, ds_len - 4, data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

struct sth {
	uint64_t size, timestamp;
	unsigned char root[32];
};

/* get-sth, with its signature checked. */
static int fetch_sth(struct sth *s)
{
	struct reply r = get("/ct/v1/get-sth");
	size_t root_len = 0, sig_len = 0;
	unsigned char *root = b64_field(r.json, "sha256_root_hash", &root_len);
	unsigned char *sig = b64_field(r.json, "tree_head_signature", &sig_len);
	int rc = -1;
	if (r.status == 200 && root && root_len == 32 && sig) {
		s->size = (uint64_t)json_integer_value(json_object_get(r.json, "tree_size"));
		s->timestamp = (uint64_t)json_integer_value(json_object_get(r.json, "timestamp"));
		memcpy(s->root, root, 32);
		unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN];
		tc_ct_encode_sth_signature_input(s->timestamp, s->size, s->root, input);
		rc = verify_signed(sig, sig_len, input, sizeof(input));
	}
	free(root);
	free(sig);
	reply_free(&r);
	return rc;
}

/* Waits (<= 2 s) for a signed tree of at least size leaves. */
static int wait_sth(uint64_t size, struct sth *s)
{
	for (int i = 0; i < 40; i++) {
		if (fetch_sth(s) == 0 && s->size >= size)
			return 0;
		usleep(50000);
	}
	return -1;
}

static char *chain_body(const unsigned char *const *certs, const size_t *lens, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, tc_b64_json(certs[i], lens[i]));
	return tc_json_take(json_pack("{s:o}", "chain", a));
}

struct sct {
	int status;
	int valid; /* on 200: version, log id and signature all check out */
	uint64_t timestamp;
	char signature[256];
};

/* Submits and, on 200, checks the SCT signature over entry e (whose
 * timestamp and extensions are set from the SCT; static-ct-api: they must
 * carry the leaf index). No CUnit assertions: client threads call
 * it (CUnit is not thread-safe); submit() below asserts. */
static struct sct submit_raw(const char *path, const unsigned char *const *certs, const size_t *lens, size_t n,
			     struct tc_ct_entry *e)
{
	struct sct s = {0};
	char *body = chain_body(certs, lens, n);
	struct reply r;
	if (!body || http("POST", path, body, strlen(body), &r) != 0) {
		free(body);
		s.status = -1;
		return s;
	}
	free(body);
	s.status = r.status;
	if (r.status != 200)
		fprintf(stderr, "%s: HTTP %d: %s\n", path, r.status,
			json_string_value(json_object_get(r.json, "error_message")));
	if (r.status == 200 && e) {
		size_t id_len = 0, sig_len = 0, in_len = 0;
		unsigned char *id = b64_field(r.json, "id", &id_len);
		unsigned char *sig = b64_field(r.json, "signature", &sig_len);
		e->timestamp = s.timestamp = (uint64_t)json_integer_value(json_object_get(r.json, "timestamp"));
		size_t ext_len = 0;
		unsigned char *ext = b64_field(r.json, "extensions", &ext_len);
		e->extensions = ext && ext_len ? keep_ext(ext, ext_len) : NULL;
		e->extensions_len = e->extensions ? ext_len : 0;
		free(ext);
		snprintf(s.signature, sizeof(s.signature), "%s",
			 json_string_value(json_object_get(r.json, "signature")));
		unsigned char *input = malloc(1 << 16);
		s.valid = json_integer_value(json_object_get(r.json, "sct_version")) == 0 && id && id_len == 32 &&
			  ext_leaf_index(e) != UINT64_MAX &&
			  memcmp(id, log_id, 32) == 0 && input &&
			  tc_ct_encode_sct_signature_input(e, input, 1 << 16, &in_len) == TC_CT_OK && sig &&
			  verify_signed(sig, sig_len, input, in_len) == 0;
		free(input);
		free(id);
		free(sig);
	}
	reply_free(&r);
	return s;
}

static struct sct submit(const char *path, const unsigned char *const *certs, const size_t *lens, size_t n,
			 struct tc_ct_entry *e)
{
	struct sct s = submit_raw(path, certs, lens, n, e);
	if (s.status == 200 && e)
		CU_ASSERT(s.valid);
	return s;
}

static void leaf_hash_of(const struct tc_ct_entry *e, unsigned char out[32])
{
	unsigned char leaf[8192];
	size_t len = 0;
	CU_ASSERT_FATAL(tc_ct_encode_leaf(e, leaf, sizeof(leaf), &len) == TC_CT_OK);
	CU_ASSERT_FATAL(tc_merkle_leaf_hash(leaf, len, out) == 0);
}

/* get-proof-by-hash for e in the tree s, verified against its root. */
static int prove(const struct tc_ct_entry *e, const struct sth *s, uint64_t *index)
{
	unsigned char hash[32];
	leaf_hash_of(e, hash);
	json_t *js = tc_b64_json(hash, 32);
	char path[256], esc[128] = "";
	for (const char *p = json_string_value(js); *p; p++) /* URL-escape + / = */
		snprintf(esc + strlen(esc), sizeof(esc) - strlen(esc),
			 (*p == '+' || *p == '/' || *p == '=') ? "%%%02X" : "%c", (unsigned char)*p);
	json_decref(js);
	snprintf(path, sizeof(path), "/ct/v1/get-proof-by-hash?hash=%s&tree_size=%llu", esc,
		 (unsigned long long)s->size);
	struct reply r = get(path);
	int rc = -1;
	json_t *ap = json_object_get(r.json, "audit_path");
	if (r.status == 200 && json_is_array(ap) && json_array_size(ap) <= TC_MERKLE_MAX_PROOF) {
		unsigned char proof[TC_MERKLE_MAX_PROOF][32];
		size_t n = json_array_size(ap), ok = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned char *p = NULL;
			size_t pl = 0;
			const char *t = json_string_value(json_array_get(ap, i));
			if (t && tc_base64_decode(t, &p, &pl) == 0 && pl == 32) {
				memcpy(proof[i], p, 32);
				ok++;
			}
			free(p);
		}
		*index = (uint64_t)json_integer_value(json_object_get(r.json, "leaf_index"));
		if (ok == n)
			rc = tc_merkle_verify_inclusion(hash, *index, s->size, (const unsigned char (*)[32])proof, n,
							s->root);
	}
	reply_free(&r);
	return rc;
}

/* ---- tests ---- */

static struct tc_ct_entry leaf_entry, precert_entry;
static unsigned char *precert_tbs;
static struct sct leaf_sct;
static struct sth after_leaf;

static void test_empty_log_has_signed_head(void)
{
	struct sth s;
	unsigned char empty[32];
	tc_merkle_empty_root(empty);
	CU_ASSERT_FATAL(fetch_sth(&s) == 0);
	CU_ASSERT_EQUAL(s.size, 0);
	CU_ASSERT(memcmp(s.root, empty, 32) == 0);
	struct reply r = get("/ct/v1/get-roots");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(r.json, "certificates")), 1);
	reply_free(&r);
}

static void test_add_chain_sct_and_inclusion(void)
{
	const unsigned char *certs[] = {leaf_der, inter_der};
	size_t lens[] = {leaf_len, inter_len};
	leaf_entry = (struct tc_ct_entry){.type = TC_CT_X509_ENTRY, .cert = leaf_der, .cert_len = leaf_len};
	leaf_sct = submit("/ct/v1/add-chain", certs, lens, 2, &leaf_entry);
	CU_ASSERT_EQUAL_FATAL(leaf_sct.status, 200);
	CU_ASSERT_FATAL(wait_sth(1, &after_leaf) == 0);
	CU_ASSERT_EQUAL(after_leaf.size, 1);
	uint64_t index = 99;
	CU_ASSERT(prove(&leaf_entry, &after_leaf, &index) == 0);
	CU_ASSERT_EQUAL(index, 0);
	/* static-ct-api: the SCT names the entry's index (and the leaf, which
	 * get-entries returns below, carries the same extension) */
	CU_ASSERT_EQUAL(ext_leaf_index(&leaf_entry), 0);
	/* get-entries returns exactly the leaf the SCT promised, and the chain. */
	struct reply r = get("/ct/v1/get-entries?start=0&end=10");
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	json_t *entries = json_object_get(r.json, "entries");
	CU_ASSERT_EQUAL_FATAL(json_array_size(entries), 1);
	size_t li_len = 0, ex_len = 0, want_len = 0;
	unsigned char *li = b64_field(json_array_get(entries, 0), "leaf_input", &li_len);
	unsigned char *ex = b64_field(json_array_get(entries, 0), "extra_data", &ex_len);
	unsigned char want[8192];
	CU_ASSERT(tc_ct_encode_leaf(&leaf_entry, want, sizeof(want), &want_len) == TC_CT_OK);
	CU_ASSERT(li && li_len == want_len && memcmp(li, want, want_len) == 0);
	/* certificate_chain: intermediate and root, each with a 3-byte length. */
	CU_ASSERT(ex && ex_len > 3 + 3 + inter_len && memcmp(ex + 6, inter_der, inter_len) == 0);
	free(li);
	free(ex);
	reply_free(&r);
}

static void test_duplicate_returns_original_sct(void)
{
	const unsigned char *certs[] = {leaf_der};
	size_t lens[] = {leaf_len};
	struct tc_ct_entry e = leaf_entry;
	struct sct again = submit("/ct/v1/add-chain", certs, lens, 1, &e);
	CU_ASSERT_EQUAL(again.status, 200);
	CU_ASSERT_EQUAL(again.timestamp, leaf_sct.timestamp);
	CU_ASSERT_STRING_EQUAL(again.signature, leaf_sct.signature);
	usleep(400000);
	struct sth s;
	CU_ASSERT(fetch_sth(&s) == 0);
	CU_ASSERT_EQUAL(s.size, 1);
}

static void test_precert_and_consistency(void)
{
	size_t tbs_len = 0;
	CU_ASSERT_FATAL(tc_ct_precert_tbs(precert_der, precert_len, &precert_tbs, &tbs_len) == TC_CT_OK);
	precert_entry = (struct tc_ct_entry){.type = TC_CT_PRECERT_ENTRY, .cert = precert_tbs, .cert_len = tbs_len};
	CU_ASSERT_FATAL(tc_ct_issuer_key_hash(inter_der, inter_len, precert_entry.issuer_key_hash) == TC_CT_OK);
	const unsigned char *pc[] = {precert_der, inter_der}, *lc[] = {leaf_der, inter_der};
	size_t pl[] = {precert_len, inter_len}, ll[] = {leaf_len, inter_len};
	/* Each endpoint takes only its own kind. */
	CU_ASSERT_EQUAL(submit("/ct/v1/add-chain", pc, pl, 2, NULL).status, 400);
	CU_ASSERT_EQUAL(submit("/ct/v1/add-pre-chain", lc, ll, 2, NULL).status, 400);
	struct sct s = submit("/ct/v1/add-pre-chain", pc, pl, 2, &precert_entry);
	CU_ASSERT_EQUAL_FATAL(s.status, 200);
	struct sth two;
	CU_ASSERT_FATAL(wait_sth(2, &two) == 0);
	uint64_t index = 0;
	CU_ASSERT(prove(&precert_entry, &two, &index) == 0);
	CU_ASSERT_EQUAL(index, 1);
	struct reply r = get("/ct/v1/get-sth-consistency?first=1&second=2");
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	json_t *c = json_object_get(r.json, "consistency");
	unsigned char proof[TC_MERKLE_MAX_PROOF][32];
	size_t n = json_array_size(c);
	CU_ASSERT_FATAL(n >= 1 && n <= TC_MERKLE_MAX_PROOF);
	for (size_t i = 0; i < n; i++) {
		unsigned char *p = NULL;
		size_t len = 0;
		CU_ASSERT_FATAL(tc_base64_decode(json_string_value(json_array_get(c, i)), &p, &len) == 0 && len == 32);
		memcpy(proof[i], p, 32);
		free(p);
	}
	CU_ASSERT(tc_merkle_verify_consistency(1, 2, after_leaf.root, two.root,
					       (const unsigned char (*)[32])proof, n) == 0);
	reply_free(&r);
	r = get("/ct/v1/get-entry-and-proof?leaf_index=1&tree_size=2");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(r.json, "audit_path")), 1);
	reply_free(&r);
}

static void test_foreign_chain_refused(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"other",
				   -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	CU_ASSERT_FATAL(X509_sign(x, k, EVP_sha256()) > 0);
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	const unsigned char *certs[] = {der};
	size_t lens[] = {(size_t)len};
	char *body = chain_body(certs, lens, 1);
	struct reply r;
	CU_ASSERT_FATAL(http("POST", "/ct/v1/add-chain", body, strlen(body), &r) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(r.json, "error_message")), "accepted root"));
	expect_error(&r, 400);
	/* Nor is our leaf accepted with a foreign chain after it when the
	 * foreign cert is what it claims to chain to: it still leads to our
	 * root, so that one is fine; a leaf the foreign key signed is not. */
	free(body);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void test_bad_requests(void)
{
	struct reply r;
	CU_ASSERT_FATAL(http("POST", "/ct/v1/add-chain", "{\"chain\": [", 11, &r) == 0);
	expect_error(&r, 400);
	const char *bad64 = "{\"chain\": [\"not*base64!\"]}";
	CU_ASSERT_FATAL(http("POST", "/ct/v1/add-chain", bad64, strlen(bad64), &r) == 0);
	expect_error(&r, 400);
	const char *garbage = "{\"chain\": [\"AAAA\"]}";
	CU_ASSERT_FATAL(http("POST", "/ct/v1/add-chain", garbage, strlen(garbage), &r) == 0);
	expect_error(&r, 400);
	CU_ASSERT_FATAL(http("POST", "/ct/v1/add-chain", "{}", 2, &r) == 0);
	expect_error(&r, 400);
	size_t big_len = 2 * 1024 * 1024;
	char *big = malloc(big_len);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, ' ', big_len);
	CU_ASSERT_FATAL(http("POST", "/ct/v1/add-chain", big, big_len, &r) == 0);
	expect_error(&r, 413);
	free(big);
	r = get("/ct/v1/get-entries?start=5&end=2");
	expect_error(&r, 400);
	r = get("/ct/v1/get-entries?start=1000&end=1001");
	expect_error(&r, 400);
	r = get("/ct/v1/get-entries?start=-1&end=1");
	expect_error(&r, 400);
	r = get("/ct/v1/get-entries?start=0");
	expect_error(&r, 400);
	r = get("/ct/v1/get-sth-consistency?first=2&second=1");
	expect_error(&r, 400);
	r = get("/ct/v1/get-sth-consistency?first=0&second=99");
	expect_error(&r, 400);
	r = get("/ct/v1/get-proof-by-hash?hash=AAAA&tree_size=1");
	expect_error(&r, 400);
	r = get("/ct/v1/get-entry-and-proof?leaf_index=5&tree_size=2");
	expect_error(&r, 400);
	CU_ASSERT_FATAL(http("POST", "/ct/v1/get-sth", "", 0, &r) == 0);
	expect_error(&r, 405);
	r = get("/ct/v1/add-chain");
	expect_error(&r, 405);
	r = get("/ct/v1/nothing");
	expect_error(&r, 404);
	r = get("/");
	expect_error(&r, 404);
}

/* RFC 6962 3.5: a fresh tree head at least once per MMD even when nothing
 * arrives; here every second (ct.sth_refresh_s: 1). */
static void test_idle_log_refreshes_tree_head(void)
{
	struct sth first, later;
	CU_ASSERT_FATAL(fetch_sth(&first) == 0);
	int refreshed = 0;
	for (int i = 0; i < 60 && !refreshed; i++) { /* up to 3 s */
		usleep(50000);
		refreshed = fetch_sth(&later) == 0 && later.timestamp > first.timestamp;
	}
	CU_ASSERT_FATAL(refreshed);
	CU_ASSERT_EQUAL(later.size, first.size);
	CU_ASSERT(memcmp(later.root, first.root, 32) == 0);
	CU_ASSERT(later.timestamp >= first.timestamp + 900);
}

static void test_restart_keeps_tree(void)
{
	struct sth before, after;
	CU_ASSERT_FATAL(fetch_sth(&before) == 0);
	CU_ASSERT_EQUAL(stop_log(), 0);
	CU_ASSERT_FATAL(start_log() == 0);
	CU_ASSERT_FATAL(fetch_sth(&after) == 0);
	CU_ASSERT_EQUAL(after.size, before.size);
	CU_ASSERT(memcmp(after.root, before.root, 32) == 0);
	uint64_t index = 99;
	CU_ASSERT(prove(&leaf_entry, &after, &index) == 0);
	CU_ASSERT_EQUAL(index, 0);
	const unsigned char *certs[] = {leaf_der, inter_der};
	size_t lens[] = {leaf_len, inter_len};
	struct tc_ct_entry e = leaf_entry;
	struct sct again = submit("/ct/v1/add-chain", certs, lens, 2, &e);
	CU_ASSERT_EQUAL(again.status, 200);
	CU_ASSERT_EQUAL(again.timestamp, leaf_sct.timestamp);
	CU_ASSERT_STRING_EQUAL(again.signature, leaf_sct.signature);
	free(precert_tbs);
	precert_tbs = NULL;
}

/* An SCT is only returned once its entry is durable: kill -9 the log right
 * after the SCT (its sequencer set never to fire), and the restarted log
 * must sequence the entry by itself and still know its SCT. */
static void test_sct_survives_kill_9(void)
{
	struct sth before, after;
	CU_ASSERT_FATAL(fetch_sth(&before) == 0);
	CU_ASSERT_EQUAL(stop_log(), 0);
	CU_ASSERT_FATAL(start_log_with(slow_config) == 0);
	const unsigned char *certs[] = {crash_der, inter_der};
	size_t lens[] = {crash_len, inter_len};
	struct tc_ct_entry e = {.type = TC_CT_X509_ENTRY, .cert = crash_der, .cert_len = crash_len};
	struct sct first = submit("/ct/v1/add-chain", certs, lens, 2, &e);
	CU_ASSERT_EQUAL_FATAL(first.status, 200);
	struct sth mid;
	CU_ASSERT(fetch_sth(&mid) == 0);
	CU_ASSERT_EQUAL(mid.size, before.size); /* not sequenced yet */
	CU_ASSERT_EQUAL(kill_log(), SIGKILL);
	CU_ASSERT_FATAL(start_log() == 0);
	CU_ASSERT_FATAL(wait_sth(before.size + 1, &after) == 0);
	CU_ASSERT_EQUAL(after.size, before.size + 1);
	uint64_t index = 0;
	CU_ASSERT(prove(&e, &after, &index) == 0);
	CU_ASSERT_EQUAL(index, before.size);
	struct tc_ct_entry again_e = e;
	struct sct again = submit("/ct/v1/add-chain", certs, lens, 2, &again_e);
	CU_ASSERT_EQUAL(again.status, 200);
	CU_ASSERT_EQUAL(again.timestamp, first.timestamp);
	CU_ASSERT_STRING_EQUAL(again.signature, first.signature);
}

/* Many clients at once, each sending its own certificate twice and the
 * same shared one: every distinct certificate becomes exactly one entry. */
struct parallel_job {
	int i;
	struct tc_ct_entry e;
	struct sct first, second;
	int shared_status;
};

static void *parallel_client(void *arg)
{
	struct parallel_job *j = arg;
	const unsigned char *certs[] = {many_der[j->i], inter_der};
	size_t lens[] = {many_len[j->i], inter_len};
	j->e = (struct tc_ct_entry){.type = TC_CT_X509_ENTRY, .cert = many_der[j->i], .cert_len = many_len[j->i]};
	struct tc_ct_entry e2 = j->e, shared = {.type = TC_CT_X509_ENTRY, .cert = many_der[0],
						.cert_len = many_len[0]};
	const unsigned char *sc[] = {many_der[0]};
	size_t sl[] = {many_len[0]};
	j->first = submit_raw("/ct/v1/add-chain", certs, lens, 2, &j->e);
	struct sct sh = submit_raw("/ct/v1/add-chain", sc, sl, 1, &shared);
	j->shared_status = sh.status == 200 && sh.valid ? 200 : -1;
	j->second = submit_raw("/ct/v1/add-chain", certs, lens, 2, &e2);
	return NULL;
}

static void test_parallel_submissions(void)
{
	struct sth before, after;
	CU_ASSERT_FATAL(fetch_sth(&before) == 0);
	struct parallel_job jobs[PARALLEL];
	pthread_t th[PARALLEL];
	for (int i = 0; i < PARALLEL; i++) {
		jobs[i] = (struct parallel_job){.i = i};
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, parallel_client, &jobs[i]) == 0);
	}
	for (int i = 0; i < PARALLEL; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < PARALLEL; i++) {
		CU_ASSERT_EQUAL(jobs[i].first.status, 200);
		CU_ASSERT(jobs[i].first.valid && jobs[i].second.valid);
		CU_ASSERT_EQUAL(jobs[i].shared_status, 200);
		CU_ASSERT_EQUAL(jobs[i].second.timestamp, jobs[i].first.timestamp);
		CU_ASSERT_STRING_EQUAL(jobs[i].second.signature, jobs[i].first.signature);
	}
	CU_ASSERT_FATAL(wait_sth(before.size + PARALLEL, &after) == 0);
	usleep(300000); /* nothing more must arrive */
	CU_ASSERT(fetch_sth(&after) == 0);
	CU_ASSERT_EQUAL(after.size, before.size + PARALLEL);
	for (int i = 0; i < PARALLEL; i++) {
		uint64_t index = 0;
		CU_ASSERT(prove(&jobs[i].e, &after, &index) == 0);
		CU_ASSERT(index >= before.size && index < after.size);
	}
}

int main(int argc, char **argv)
{
	bindir = argc > 1 ? argv[1] : "build/bin";
	struct tc_test tests[] = {
		{"an empty log has a signed tree head", test_empty_log_has_signed_head},
		{"add-chain: SCT verifies, entry sequenced and provable", test_add_chain_sct_and_inclusion},
		{"a duplicate submission gets the original SCT", test_duplicate_returns_original_sct},
		{"add-pre-chain and consistency proofs", test_precert_and_consistency},
		{"a chain to a foreign root is refused", test_foreign_chain_refused},
		{"bad requests get 4xx JSON errors", test_bad_requests},
		{"an idle log signs a fresh tree head", test_idle_log_refreshes_tree_head},
		{"a restart keeps tree, proofs and SCTs", test_restart_keeps_tree},
		{"an SCT survives kill -9 before sequencing", test_sct_survives_kill_9},
		{"parallel submissions: one entry per certificate", test_parallel_submissions},
		{NULL, NULL},
	};
	return tc_run_suite("ct_http", tests, suite_init, suite_cleanup);
}
