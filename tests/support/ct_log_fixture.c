#include "support/ct_log_fixture.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/leaf_template.h"
#include "common/signer_client.h"
#include "transparency/merkle.h"
#include "support/child_spawn.h"


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

struct tc_ct_fixture_ext {
	struct tc_ct_fixture_ext *next;
	size_t len;
	unsigned char data[];
};

int tc_ct_fixture_setup(struct tc_ct_fixture *f, const char *bindir, const char *ct_yaml)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->ext_lock, NULL);
	f->log_pid = -1;
	f->port = free_port();
	if (f->port <= 0)
		return -1;
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
	char extra[1024], err[256];
	snprintf(extra, sizeof(extra), "ct:\n  http_listen: 127.0.0.1:%d\n%s", f->port, ct_yaml ? ct_yaml : "");
	if (tc_harness_setup(&f->h, bindir, extra) != 0 || tc_harness_start_signer(&f->h, NULL) != 0)
		return -1;
	FILE *kf = fopen(tc_harness_path(&f->h, "ct/log_public_key.pem"), "r");
	f->log_key = kf ? PEM_read_PUBKEY(kf, NULL, NULL, NULL) : NULL;
	if (kf)
		fclose(kf);
	f->inter_der = read_pem_der(tc_harness_path(&f->h, "ca/intermediate.pem"), &f->inter_len);
	f->gw = tc_signer_client_new(tc_harness_connect(&f->h, "gateway"));
	if (!f->log_key || !f->inter_der || !f->gw || tc_sct_minter_open(&f->minter, &f->h) != 0 ||
	    tc_http_client_new(f->url, 10000, &f->http, err, sizeof(err)) != 0)
		return -1;
	return 0;
}

void tc_ct_fixture_cleanup(struct tc_ct_fixture *f)
{
	tc_ct_fixture_stop_log(f);
	tc_http_client_free(f->http);
	tc_signer_client_free(f->gw);
	tc_sct_minter_close(&f->minter);
	EVP_PKEY_free(f->log_key);
	OPENSSL_free(f->inter_der);
	tc_harness_cleanup(&f->h);
	while (f->exts) {
		struct tc_ct_fixture_ext *next = f->exts->next;
		free(f->exts);
		f->exts = next;
	}
	pthread_mutex_destroy(&f->ext_lock);
}

/* A copy of an SCT's extensions that lives as long as the fixture. */
static const unsigned char *keep_ext(struct tc_ct_fixture *f, const unsigned char *ext, size_t len)
{
	struct tc_ct_fixture_ext *x = malloc(sizeof(*x) + len + 1);
	if (!x)
		return NULL;
	x->len = len;
	memcpy(x->data, ext, len);
	pthread_mutex_lock(&f->ext_lock);
	x->next = f->exts;
	f->exts = x;
	pthread_mutex_unlock(&f->ext_lock);
	return x->data;
}

uint64_t tc_ct_fixture_leaf_index(const struct tc_ct_entry *e)
{
	/* exactly one extension, leaf_index(0) with 5 bytes: what our log issues */
	const unsigned char *x = e->extensions;
	if (e->extensions_len != 8 || !x || x[0] != 0 || x[1] != 0 || x[2] != 5)
		return UINT64_MAX;
	uint64_t v = 0;
	for (int i = 3; i < 8; i++)
		v = (v << 8) | x[i];
	return v;
}

int tc_ct_fixture_start_log(struct tc_ct_fixture *f)
{
	int sfd = tc_harness_connect(&f->h, "transparency");
	if (sfd < 0)
		return -1;
	char path[600];
	snprintf(path, sizeof(path), "%s/trustchain-transparency", f->h.bindir);
	char *argv[] = {path, "--config", (char *)f->h.config, NULL};
	struct tc_spawn_fd fds[] = {{"TC_FD_SIGNER", sfd}};
	f->log_pid = tc_spawn_with_fds(path, argv, fds, 1, NULL);
	close(sfd);
	if (f->log_pid < 0)
		return -1;
	for (int i = 0; i < 200; i++) { /* up to 20 s (ASan builds are slow) */
		struct tc_ct_head s;
		if (tc_ct_fixture_sth(f, f->http, &s) == 0)
			return 0;
		usleep(100000);
	}
	return -1;
}

static int reap(struct tc_ct_fixture *f, int sig)
{
	int status = -1;
	if (f->log_pid <= 0)
		return -1;
	kill(f->log_pid, sig);
	waitpid(f->log_pid, &status, 0);
	f->log_pid = -1;
	if (sig == SIGKILL)
		return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int tc_ct_fixture_kill_log(struct tc_ct_fixture *f) { return reap(f, SIGKILL); }
int tc_ct_fixture_stop_log(struct tc_ct_fixture *f) { return reap(f, SIGTERM); }

unsigned char *tc_ct_fixture_issue(struct tc_ct_fixture *f, size_t *len)
{
	const char *names[] = {"svc.hypermesh.online"};
	time_t now = time(NULL);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	struct tc_leaf_request rq = {.pubkey = key, .dns_names = names, .n_dns = 1, .server_auth = 1,
				     .not_before = now - 60, .not_after = now + 1800};
	char err[256];
	X509 *x = key ? tc_leaf_template_new(&rq, err, sizeof(err)) : NULL;
	EVP_PKEY_free(key);
	unsigned char *tbs = NULL;
	size_t tbs_len;
	if (!x || tc_template_tbs_der(x, &tbs, &tbs_len) != 0) {
		X509_free(x);
		return NULL;
	}
	X509_free(x);
	unsigned char *out = tc_sct_minter_issue(&f->minter, f->gw, tbs, tbs_len, len, NULL, NULL, err, sizeof(err));
	OPENSSL_free(tbs);
	if (!out)
		fprintf(stderr, "ct fixture: issuance failed: %s\n", err);
	return out;
}

static json_t *request(struct tc_http_client *c, const char *method, const char *path, const char *body,
		       int *status)
{
	struct tc_http_response r;
	char err[256];
	*status = -1;
	if (tc_http_request(c, method, path, body, body ? strlen(body) : 0, &r, err, sizeof(err)) != 0)
		return NULL;
	*status = r.status;
	json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
	tc_http_response_free(&r);
	return j;
}

static unsigned char *b64_field(json_t *obj, const char *key, size_t *len)
{
	unsigned char *out = NULL;
	const char *text = json_string_value(json_object_get(obj, key));
	if (!text || tc_base64_decode(text, &out, len) != 0)
		return NULL;
	return out;
}

static int verify_signed(EVP_PKEY *key, const unsigned char *ds, size_t ds_len, const unsigned char *data,
			 size_t len)
{
	if (ds_len < 4 || ds[0] != TC_CT_HASH_SHA256 || ds[1] != TC_CT_SIG_ECDSA ||
	    (size_t)((ds[2] << 8) | ds[3]) != ds_len - 4)
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestVerify(md, ds + 4, ds_len - 4, data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

int tc_ct_fixture_sth(struct tc_ct_fixture *f, struct tc_http_client *c, struct tc_ct_head *s)
{
	int status;
	json_t *j = request(c, "GET", "/ct/v1/get-sth", NULL, &status);
	size_t root_len = 0, sig_len = 0;
	unsigned char *root = b64_field(j, "sha256_root_hash", &root_len);
	unsigned char *sig = b64_field(j, "tree_head_signature", &sig_len);
	int rc = -1;
	if (status == 200 && root && root_len == 32 && sig) {
		s->size = (uint64_t)json_integer_value(json_object_get(j, "tree_size"));
		s->timestamp = (uint64_t)json_integer_value(json_object_get(j, "timestamp"));
		memcpy(s->root, root, 32);
		unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN];
		tc_ct_encode_sth_signature_input(s->timestamp, s->size, s->root, input);
		rc = verify_signed(f->log_key, sig, sig_len, input, sizeof(input));
	}
	free(root);
	free(sig);
	json_decref(j);
	return rc;
}

int tc_ct_fixture_wait_sth(struct tc_ct_fixture *f, uint64_t size, int wait_ms, struct tc_ct_head *out)
{
	for (int waited = 0; waited <= wait_ms; waited += 50) {
		if (tc_ct_fixture_sth(f, f->http, out) == 0 && out->size >= size)
			return 0;
		usleep(50000);
	}
	return -1;
}

int tc_ct_fixture_submit(struct tc_ct_fixture *f, struct tc_http_client *c, const unsigned char *cert,
			 size_t cert_len, struct tc_ct_entry *e, char *sct_sig, size_t sig_cap)
{
	char *c64 = tc_base64_encode(cert, cert_len), *i64 = tc_base64_encode(f->inter_der, f->inter_len);
	json_t *body = c64 && i64 ? json_pack("{s:[s,s]}", "chain", c64, i64) : NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	free(c64);
	free(i64);
	json_decref(body);
	if (!text)
		return -1;
	int status;
	json_t *j = request(c, "POST", "/ct/v1/add-chain", text, &status);
	free(text);
	int rc = -1;
	*e = (struct tc_ct_entry){.type = TC_CT_X509_ENTRY, .cert = cert, .cert_len = cert_len};
	if (status == 200) {
		size_t id_len = 0, sig_len = 0, in_len = 0;
		unsigned char *id = b64_field(j, "id", &id_len), *sig = b64_field(j, "signature", &sig_len);
		unsigned char log_id[32], *spki = NULL, input[8192];
		int spki_len = i2d_PUBKEY(f->log_key, &spki);
		if (spki_len > 0)
			SHA256(spki, (size_t)spki_len, log_id);
		OPENSSL_free(spki);
		e->timestamp = (uint64_t)json_integer_value(json_object_get(j, "timestamp"));
		size_t ext_len = 0;
		unsigned char *ext = b64_field(j, "extensions", &ext_len);
		if (ext && ext_len)
			e->extensions = keep_ext(f, ext, ext_len);
		e->extensions_len = e->extensions ? ext_len : 0;
		free(ext);
		if (id && id_len == 32 && spki_len > 0 && memcmp(id, log_id, 32) == 0 && sig &&
		    tc_ct_fixture_leaf_index(e) != UINT64_MAX &&
		    tc_ct_encode_sct_signature_input(e, input, sizeof(input), &in_len) == TC_CT_OK &&
		    verify_signed(f->log_key, sig, sig_len, input, in_len) == 0) {
			rc = 0;
			if (sct_sig)
				snprintf(sct_sig, sig_cap, "%s", json_string_value(json_object_get(j, "signature")));
		}
		free(id);
		free(sig);
	}
	json_decref(j);
	return rc;
}

static int proof_of(json_t *arr, unsigned char (*proof)[32], size_t *n)
{
	*n = json_array_size(arr);
	if (!json_is_array(arr) || *n > TC_MERKLE_MAX_PROOF)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		unsigned char *p = NULL;
		size_t pl = 0;
		const char *t = json_string_value(json_array_get(arr, i));
		int ok = t && tc_base64_decode(t, &p, &pl) == 0 && pl == 32;
		if (ok)
			memcpy(proof[i], p, 32);
		free(p);
		if (!ok)
			return -1;
	}
	return 0;
}

int tc_ct_fixture_prove(struct tc_ct_fixture *f, struct tc_http_client *c, const struct tc_ct_entry *e,
			const struct tc_ct_head *head, uint64_t *index)
{
	(void)f;
	unsigned char leaf[8192], hash[32];
	size_t len = 0;
	if (tc_ct_encode_leaf(e, leaf, sizeof(leaf), &len) != TC_CT_OK || tc_merkle_leaf_hash(leaf, len, hash) != 0)
		return -1;
	char *b64 = tc_base64_encode(hash, 32), esc[128] = "", path[256];
	for (const char *p = b64; p && *p; p++) /* URL-escape + / = */
		snprintf(esc + strlen(esc), sizeof(esc) - strlen(esc),
			 (*p == '+' || *p == '/' || *p == '=') ? "%%%02X" : "%c", (unsigned char)*p);
	free(b64);
	snprintf(path, sizeof(path), "/ct/v1/get-proof-by-hash?hash=%s&tree_size=%llu", esc,
		 (unsigned long long)head->size);
	int status, rc = -1;
	json_t *j = request(c, "GET", path, NULL, &status);
	unsigned char proof[TC_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	if (status == 200 && proof_of(json_object_get(j, "audit_path"), proof, &n) == 0) {
		*index = (uint64_t)json_integer_value(json_object_get(j, "leaf_index"));
		rc = tc_merkle_verify_inclusion(hash, *index, head->size, (const unsigned char (*)[32])proof, n,
						head->root) == TC_MERKLE_OK ? 0 : -1;
	}
	json_decref(j);
	return rc;
}

int tc_ct_fixture_consistent(struct tc_ct_fixture *f, struct tc_http_client *c, const struct tc_ct_head *old,
			     const struct tc_ct_head *new_head)
{
	(void)f;
	char path[128];
	snprintf(path, sizeof(path), "/ct/v1/get-sth-consistency?first=%llu&second=%llu",
		 (unsigned long long)old->size, (unsigned long long)new_head->size);
	int status, rc = -1;
	json_t *j = request(c, "GET", path, NULL, &status);
	unsigned char proof[TC_MERKLE_MAX_PROOF][32];
	size_t n = 0;
	if (status == 200 && proof_of(json_object_get(j, "consistency"), proof, &n) == 0)
		rc = tc_merkle_verify_consistency(old->size, new_head->size, old->root, new_head->root,
						  (const unsigned char (*)[32])proof, n) == TC_MERKLE_OK ? 0 : -1;
	json_decref(j);
	return rc;
}
