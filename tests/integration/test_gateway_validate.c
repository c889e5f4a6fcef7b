/* Validation.Validate as a STOQ node sees it: a real signer on a real
 * SoftHSM token (dev ceremony), the CT log process, trustchain-gateway
 * processes (SCTs required, the default; not required; one started for the
 * signer-down case), certificates issued through the gateway's Issue (with
 * the log's embedded SCT), and libtrustchain's tc_validate. The SCT tests
 * also make certificates by hand the way issuance does: precertificate
 * from the signer, add-pre-chain to the log over HTTP, final certificate
 * from the signer with the returned SCT (or a tampered one). */
#define _GNU_SOURCE /* strcasestr */
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/hex.h"
#include "common/leaf_template.h"
#include "common/signer_client.h"
#include "support/ca_key_direct.h"
#include "support/gateway_process.h"
#include "support/peer_harness.h"
#include "support/raw_string_call.h"
#include "support/signer_harness.h"
#include "support/test_ca.h"
#include "transparency/ct_encode.h"
#include "trustchain/client.h"
#include "trustchain/v1/validation.pb-c.h"
#include "unit/cunit_main.h"

static const char *bindir;
static struct tc_harness h;
static struct tc_peer_proc gw, gw_lax, gw_late, ct;
static char target[64], target_lax[64], target_late[64];
static int ct_port;
static struct tc_client *client, *client_lax, *admin;
static char root_ca[400];
#define ADMIN_TOKEN "tc-validate-admin-00112233445566778899aabbccddeeff"
static struct tc_signer_client *signer; /* as the gateway peer: precerts and revocations */
static EVP_PKEY *p256;
static unsigned char *inter_der, *root_der;
static size_t inter_len, root_len;

/* A config like the harness's (same data dir) with extra_yaml, in the
 * harness dir. Returns its path (static buffer) or NULL. */
static const char *write_config(const char *name, const char *extra_yaml)
{
	static char path[4][400];
	static int next;
	char *out = path[next++ % 4];
	snprintf(out, 400, "%s/%s", h.dir, name);
	FILE *f = fopen(out, "w");
	if (!f)
		return NULL;
	fprintf(f, "server:\n  dev: true\n  data_dir: %s/data\n  log_level: warn\n%s", h.dir, extra_yaml);
	fclose(f);
	return out;
}

static unsigned char *pem_to_der(const char *pem, size_t *len)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	unsigned char *der = tc_test_der(x, len);
	X509_free(x);
	return der;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	size_t n = buf ? fread(buf, 1, 65535, f) : 0;
	(void)n;
	fclose(f);
	return buf;
}

static struct tc_client *open_client(const char *tgt, const char *token)
{
	struct tc_client_options o = {.root_ca_file = root_ca, .bearer_token = token};
	char err[256];
	struct tc_client *c = tc_client_open_opts(tgt, &o, err, sizeof(err));
	if (!c)
		fprintf(stderr, "client %s: %s\n", tgt, err);
	return c;
}

/* A tokens file granting ADMIN_TOKEN every name and the revoke right. */
static const char *write_tokens(void)
{
	static char path[400];
	unsigned char md[32];
	char hex[65];
	EVP_Digest(ADMIN_TOKEN, strlen(ADMIN_TOKEN), md, NULL, EVP_sha256(), NULL);
	tc_hex_encode(md, sizeof(md), hex);
	snprintf(path, sizeof(path), "/tmp/tc-validate-tokens-%d", (int)getpid());
	FILE *f = fopen(path, "w");
	if (!f || fchmod(fileno(f), 0600) != 0) { /* the gateway insists */
		if (f)
			fclose(f);
		return NULL;
	}
	fprintf(f, "%s admin * revoke\n", hex);
	fclose(f);
	return path;
}

static int suite_init(void)
{
	int gp = tc_free_tcp_port(), gp2 = tc_free_tcp_port(), gp3 = tc_free_tcp_port();
	if (gp <= 0 || gp2 <= 0 || gp3 <= 0)
		return 1;
	const char *tokens = write_tokens();
	if (!tokens)
		return 1;
	char extra[800];
	snprintf(extra, sizeof(extra),
		 "gateway:\n  listen: 127.0.0.1:%d\n  threads: 3\n  tokens_file: %s\n"
		 "ct:\n  sequence_interval_ms: 100\n", gp, tokens);
	snprintf(target, sizeof(target), "127.0.0.1:%d", gp);
	snprintf(target_lax, sizeof(target_lax), "127.0.0.1:%d", gp2);
	snprintf(target_late, sizeof(target_late), "127.0.0.1:%d", gp3);
	if (tc_harness_setup(&h, bindir, extra) != 0 || tc_harness_start_signer(&h, NULL) != 0 ||
	    tc_peer_start(&h, "transparency", &ct) != 0 || tc_peer_start(&h, "gateway", &gw) != 0)
		return 1;
	ct_port = ct.http_port; /* the harness hands the log its HTTP listener */
	char extra2[200];
	snprintf(extra2, sizeof(extra2), "gateway:\n  listen: 127.0.0.1:%d\n  threads: 2\n  require_sct: false\n", gp2);
	const char *cfg2 = write_config("lax_sct.yaml", extra2);
	snprintf(extra2, sizeof(extra2), "gateway:\n  listen: 127.0.0.1:%d\n  threads: 1\n", gp3);
	const char *cfg3 = write_config("late.yaml", extra2);
	if (!cfg2 || !cfg3 || tc_peer_start_config(&h, "gateway", cfg2, &gw_lax) != 0 ||
	    tc_peer_start_config(&h, "gateway", cfg3, &gw_late) != 0)
		return 1;
	snprintf(root_ca, sizeof(root_ca), "%s", tc_harness_path(&h, "ca/root.pem"));
	client = open_client(target, NULL);
	client_lax = open_client(target_lax, NULL);
	admin = open_client(target, ADMIN_TOKEN);
	signer = tc_signer_client_new(tc_harness_connect(&h, "gateway"));
	p256 = EVP_EC_gen("P-256");
	char *inter_pem = read_text(tc_harness_path(&h, "ca/intermediate.pem"));
	char *root_pem = read_text(tc_harness_path(&h, "ca/root.pem"));
	inter_der = inter_pem ? pem_to_der(inter_pem, &inter_len) : NULL;
	root_der = root_pem ? pem_to_der(root_pem, &root_len) : NULL;
	free(inter_pem);
	free(root_pem);
	return client && client_lax && admin && signer && p256 && inter_der && root_der ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_client_close(client);
	tc_client_close(client_lax);
	tc_client_close(admin);
	tc_signer_client_free(signer);
	EVP_PKEY_free(p256);
	OPENSSL_free(inter_der);
	OPENSSL_free(root_der);
	tc_peer_stop(&gw, SIGTERM);
	tc_peer_stop(&gw_lax, SIGTERM);
	tc_peer_stop(&gw_late, SIGTERM);
	tc_peer_stop(&ct, SIGTERM);
	tc_harness_cleanup(&h);
	char tokens[64];
	snprintf(tokens, sizeof(tokens), "/tmp/tc-validate-tokens-%d", (int)getpid());
	unlink(tokens);
	return 0;
}

/* ---- issuing through the gateway ---- */

static char *csr_pem(EVP_PKEY *key)
{
	X509_REQ *req = X509_REQ_new();
	X509_REQ_set_pubkey(req, key);
	X509_REQ_sign(req, key, EVP_sha256());
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509_REQ(b, req);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *pem = strndup(data, (size_t)n);
	BIO_free(b);
	X509_REQ_free(req);
	return pem;
}

static struct tc_issue_result *issue(const char *name, enum tc_profile profile, uint32_t validity)
{
	char *csr = csr_pem(p256);
	const char *names[] = {name};
	struct tc_issue_request rq = {.csr = (unsigned char *)csr, .csr_len = strlen(csr), .dns_names = names,
				      .n_dns = 1, .profile = profile, .validity_seconds = validity};
	struct tc_issue_result *r = NULL;
	struct tc_status st;
	if (tc_issue(client, &rq, &r, &st) != 0)
		fprintf(stderr, "issue: %s %s: %s\n", tc_status_code_name(st.code), st.reason, st.message);
	free(csr);
	return r;
}

/* ---- validating ---- */

struct chain {
	const unsigned char *der[4];
	size_t len[4];
	size_t n;
};

static struct tc_validate_result *validate_on(struct tc_client *c, const struct chain *ch, const char *name,
					      int64_t at, enum tc_purpose purpose)
{
	struct tc_validate_request rq = {.chain = ch->der, .chain_lens = ch->len, .n_chain = ch->n, .name = name,
					 .time = at, .purpose = purpose};
	struct tc_validate_result *r = NULL;
	struct tc_status st;
	if (tc_validate(c, &rq, &r, &st) != 0)
		fprintf(stderr, "validate: %s %s: %s\n", tc_status_code_name(st.code), st.reason, st.message);
	return r;
}

static struct tc_validate_result *validate(const struct chain *ch, const char *name, int64_t at,
					   enum tc_purpose purpose)
{
	return validate_on(client, ch, name, at, purpose);
}

static void print(const struct tc_validate_result *r)
{
	fprintf(stderr, "  %s:", tc_decision_name(r->decision));
	for (size_t i = 0; i < r->n_reasons; i++)
		fprintf(stderr, " %s", tc_reason_name(r->reasons[i]));
	fprintf(stderr, " (%s)\n", r->detail);
}

/* Asserts the decision and that reason is among the reasons. */
static void expect(struct tc_validate_result *r, enum tc_decision d, enum tc_reason reason)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	if (r->decision != d || !tc_validate_result_has(r, reason))
		print(r);
	CU_ASSERT_EQUAL(r->decision, d);
	CU_ASSERT(tc_validate_result_has(r, reason));
	CU_ASSERT_EQUAL(d == TC_TRUSTED, r->detail[0] == '\0');
	tc_validate_result_free(r);
}

/* A certificate issued through Issue, as leaf DER + intermediate DER. */
struct issued {
	struct tc_issue_result *r;
	unsigned char *leaf;
	size_t leaf_len;
	struct chain ch;
};

static int issued_new(struct issued *is, const char *name, enum tc_profile profile, uint32_t validity)
{
	memset(is, 0, sizeof(*is));
	if (!(is->r = issue(name, profile, validity)) || !(is->leaf = pem_to_der(is->r->certificate_pem, &is->leaf_len)))
		return -1;
	is->ch = (struct chain){.der = {is->leaf, inter_der}, .len = {is->leaf_len, inter_len}, .n = 2};
	return 0;
}

static void issued_free(struct issued *is)
{
	tc_issue_result_free(is->r);
	OPENSSL_free(is->leaf);
}

/* ---- tests ---- */

static void test_issued_is_trusted(void)
{
	struct issued is;
	CU_ASSERT_EQUAL_FATAL(issued_new(&is, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	struct tc_validate_result *r = validate(&is.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	/* Issue embeds the log's SCT (DESIGN.md section 3). */
	static const enum tc_reason want[] = {TC_REASON_OK_PATH, TC_REASON_OK_VALIDITY, TC_REASON_OK_NAME,
					      TC_REASON_OK_KEY_USAGE, TC_REASON_OK_SCT, TC_REASON_OK_NOT_REVOKED};
	if (r->decision != TC_TRUSTED)
		print(r);
	CU_ASSERT_EQUAL(r->decision, TC_TRUSTED);
	CU_ASSERT_EQUAL_FATAL(r->n_reasons, 6);
	CU_ASSERT_EQUAL(memcmp(r->reasons, want, sizeof(want)), 0);
	CU_ASSERT_STRING_EQUAL(r->detail, "");
	/* The verified path: the leaf, the data dir's intermediate and root. */
	CU_ASSERT_EQUAL_FATAL(r->n_verified_chain, 3);
	CU_ASSERT(r->verified_chain_lens[0] == is.leaf_len &&
		  memcmp(r->verified_chain[0], is.leaf, is.leaf_len) == 0);
	CU_ASSERT(r->verified_chain_lens[1] == inter_len && memcmp(r->verified_chain[1], inter_der, inter_len) == 0);
	CU_ASSERT(r->verified_chain_lens[2] == root_len && memcmp(r->verified_chain[2], root_der, root_len) == 0);
	tc_validate_result_free(r);

	/* The leaf alone, the root appended, and PEM text as given by Issue. */
	struct chain alone = {.der = {is.leaf}, .len = {is.leaf_len}, .n = 1};
	expect(validate(&alone, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED, TC_REASON_OK_PATH);
	struct chain with_root = {.der = {is.leaf, inter_der, root_der}, .len = {is.leaf_len, inter_len, root_len},
				  .n = 3};
	expect(validate(&with_root, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED,
	       TC_REASON_OK_PATH);
	char pem[16384];
	snprintf(pem, sizeof(pem), "%s%s", is.r->certificate_pem, is.r->chain_pem);
	struct chain as_pem = {.der = {(unsigned char *)pem}, .len = {strlen(pem)}, .n = 1};
	expect(validate(&as_pem, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED, TC_REASON_OK_PATH);
	/* No name: not checked, still trusted. */
	expect(validate(&is.ch, "", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED, TC_REASON_NAME_NOT_CHECKED);
	issued_free(&is);
}

static void test_name_mismatch(void)
{
	struct issued is;
	CU_ASSERT_EQUAL_FATAL(issued_new(&is, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	struct tc_validate_result *r = validate(&is.ch, "other.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(strstr(r->detail, "other.hypermesh.online") != NULL);
	CU_ASSERT(tc_validate_result_has(r, TC_REASON_OK_PATH));
	expect(r, TC_UNTRUSTED, TC_REASON_NAME_MISMATCH);
	issued_free(&is);
}

/* The name is compared as sent, whole: "svc.hypermesh.online\0.evil.com"
 * is not the certificate's name cut at the NUL (the class of
 * CVE-2009-2408). A name with a NUL or another control byte is no name:
 * INVALID_ARGUMENT name_invalid, rather than any decision. */
static void test_name_with_nul_or_control_byte(void)
{
	struct issued is;
	CU_ASSERT_EQUAL_FATAL(issued_new(&is, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	ProtobufCBinaryData chain[2] = {{.data = is.leaf, .len = is.leaf_len}, {.data = inter_der, .len = inter_len}};
	Trustchain__V1__ValidateRequest rq = TRUSTCHAIN__V1__VALIDATE_REQUEST__INIT;
	rq.chain = chain;
	rq.n_chain = 2;
	static const char nul[] = "svc.hypermesh.online\0.evil.com";
	static const char trailing[] = "svc.hypermesh.online\0";
	const struct {
		const char *name;
		size_t len;
	} with_nul[] = {{nul, sizeof(nul) - 1}, {trailing, sizeof(trailing) - 1}};
	for (size_t i = 0; i < 2; i++) {
		struct tc_status st;
		int rc = tc_test_call_with_string(client, "/trustchain.v1.Validation/Validate", &rq.base, 2,
						  with_nul[i].name, with_nul[i].len, &st);
		if (rc == 0)
			fprintf(stderr, "\n  a decision for a name with a NUL in it\n");
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(st.code, 3 /* INVALID_ARGUMENT */);
		CU_ASSERT_STRING_EQUAL(st.reason, "name_invalid");
	}
	static const char *const control[] = {"svc.hypermesh.online\n", "svc.hypermesh.online\r\nx",
					      "\tsvc.hypermesh.online", "svc.hypermesh.online\x7f",
					      "svc\x1b.hypermesh.online"};
	for (size_t i = 0; i < sizeof(control) / sizeof(control[0]); i++) {
		struct tc_validate_request vr = {.chain = is.ch.der, .chain_lens = is.ch.len, .n_chain = is.ch.n,
						 .name = control[i]};
		struct tc_validate_result *r = NULL;
		struct tc_status st;
		CU_ASSERT_EQUAL(tc_validate(client, &vr, &r, &st), -1);
		CU_ASSERT_PTR_NULL(r);
		CU_ASSERT_EQUAL(st.code, 3 /* INVALID_ARGUMENT */);
		CU_ASSERT_STRING_EQUAL(st.reason, "name_invalid");
		tc_validate_result_free(r);
	}
	/* The same certificate and the name alone: trusted. */
	expect(validate(&is.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED, TC_REASON_OK_NAME);
	issued_free(&is);
}

static void test_validity_window(void)
{
	struct issued is;
	CU_ASSERT_EQUAL_FATAL(issued_new(&is, "svc.hypermesh.online", TC_PROFILE_SERVER, 3600), 0);
	expect(validate(&is.ch, "svc.hypermesh.online", is.r->not_after, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED,
	       TC_REASON_OK_VALIDITY);
	struct tc_validate_result *r = validate(&is.ch, "svc.hypermesh.online", is.r->not_after + 1,
						TC_PURPOSE_SERVER_AUTH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(tc_validate_result_has(r, TC_REASON_OK_PATH)); /* the path itself is fine */
	CU_ASSERT(!tc_validate_result_has(r, TC_REASON_NOT_YET_VALID));
	expect(r, TC_UNTRUSTED, TC_REASON_EXPIRED);
	r = validate(&is.ch, "svc.hypermesh.online", is.r->not_before - 1, TC_PURPOSE_SERVER_AUTH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(!tc_validate_result_has(r, TC_REASON_EXPIRED));
	expect(r, TC_UNTRUSTED, TC_REASON_NOT_YET_VALID);
	issued_free(&is);
}

static void test_purpose(void)
{
	struct issued server, client_cert;
	CU_ASSERT_EQUAL_FATAL(issued_new(&server, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	CU_ASSERT_EQUAL_FATAL(issued_new(&client_cert, "node.hypermesh.online", TC_PROFILE_CLIENT, 0), 0);
	expect(validate(&server.ch, "svc.hypermesh.online", 0, TC_PURPOSE_CLIENT_AUTH), TC_UNTRUSTED,
	       TC_REASON_KEY_USAGE_MISMATCH);
	expect(validate(&client_cert.ch, "node.hypermesh.online", 0, TC_PURPOSE_CLIENT_AUTH), TC_TRUSTED,
	       TC_REASON_OK_KEY_USAGE);
	expect(validate(&client_cert.ch, "node.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_UNTRUSTED,
	       TC_REASON_KEY_USAGE_MISMATCH);
	issued_free(&server);
	issued_free(&client_cert);
}

/* A CA made here with OpenSSL, issuing for our names: no path. */
static void test_foreign_ca(void)
{
	struct tc_test_ca root, inter;
	CU_ASSERT_EQUAL_FATAL(tc_test_ca_root(&root, "TrustChain Root", 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(tc_test_ca_sub(&inter, &root, "TrustChain Intermediate", 0, 0), 0);
	struct tc_test_leaf o = {.dns = "svc.hypermesh.online", .server = 1};
	X509 *leaf = tc_test_leaf_new(&inter, p256, &o);
	size_t l0, l1, l2;
	unsigned char *d0 = tc_test_der(leaf, &l0), *d1 = tc_test_der(inter.cert, &l1), *d2 = tc_test_der(root.cert, &l2);
	struct chain ch = {.der = {d0, d1, d2}, .len = {l0, l1, l2}, .n = 3};
	struct tc_validate_result *r = validate(&ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->n_verified_chain, 0);
	CU_ASSERT(!tc_validate_result_has(r, TC_REASON_OK_SCT) && !tc_validate_result_has(r, TC_REASON_OK_NOT_REVOKED));
	expect(r, TC_UNTRUSTED, TC_REASON_PATH_UNTRUSTED);
	OPENSSL_free(d0);
	OPENSSL_free(d1);
	OPENSSL_free(d2);
	X509_free(leaf);
	tc_test_ca_free(&inter);
	tc_test_ca_free(&root);
}

static void test_malformed_and_empty(void)
{
	static const unsigned char junk[] = "\x30\x82 definitely not DER";
	struct chain garbage = {.der = {junk}, .len = {sizeof(junk)}, .n = 1};
	struct tc_validate_result *r = validate(&garbage, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->n_reasons, 1);
	expect(r, TC_UNTRUSTED, TC_REASON_CHAIN_MALFORMED);
	struct chain empty = {.n = 0};
	expect(validate(&empty, "", 0, TC_PURPOSE_SERVER_AUTH), TC_UNTRUSTED, TC_REASON_CHAIN_EMPTY);
	/* Too many certificates. */
	const unsigned char *many_der[11];
	size_t many_len[11];
	for (int i = 0; i < 11; i++) {
		many_der[i] = inter_der;
		many_len[i] = inter_len;
	}
	struct tc_validate_request rq = {.chain = many_der, .chain_lens = many_len, .n_chain = 11};
	struct tc_status st;
	CU_ASSERT_EQUAL_FATAL(tc_validate(client, &rq, &r, &st), 0);
	expect(r, TC_UNTRUSTED, TC_REASON_CHAIN_MALFORMED);
}

static int revoke_serial(const char *hex)
{
	unsigned char serial[64];
	size_t n = strlen(hex) / 2;
	if (n == 0 || n > sizeof(serial) || tc_hex_decode(hex, serial, n) != 0)
		return -1;
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__RevokeRequest rv = TRUSTCHAIN__INTERNAL__REVOKE_REQUEST__INIT;
	rv.serial.data = serial;
	rv.serial.len = n;
	rv.reason = 1; /* keyCompromise */
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_REVOKE;
	req.revoke = &rv;
	char err[256];
	Trustchain__Internal__Response *resp = tc_signer_call(signer, &req, 10000, err, sizeof(err));
	int ok = resp && resp->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK;
	if (!ok)
		fprintf(stderr, "revoke: %s\n", resp ? resp->error : err);
	if (resp)
		trustchain__internal__response__free_unpacked(resp, NULL);
	return ok ? 0 : -1;
}

/* Revoked at the signer (as the Revoke RPC will do): the gateway sees it
 * within its one-second CRL refresh. */
static void test_revoked(void)
{
	struct issued is, other;
	CU_ASSERT_EQUAL_FATAL(issued_new(&is, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	CU_ASSERT_EQUAL_FATAL(issued_new(&other, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	expect(validate(&is.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED,
	       TC_REASON_OK_NOT_REVOKED);
	CU_ASSERT_EQUAL_FATAL(revoke_serial(is.r->serial), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct tc_validate_result *r = NULL;
	for (int i = 0; i < 60; i++) {
		r = validate(&is.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH);
		if (!r || tc_validate_result_has(r, TC_REASON_REVOKED))
			break;
		tc_validate_result_free(r);
		r = NULL;
		usleep(50 * 1000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "  revocation seen after %.2f s\n", waited);
	CU_ASSERT(waited < 2.5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(strcasestr(r->detail, is.r->serial) != NULL);
	CU_ASSERT(tc_validate_result_has(r, TC_REASON_OK_PATH));
	expect(r, TC_UNTRUSTED, TC_REASON_REVOKED);
	expect(validate(&other.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED,
	       TC_REASON_OK_NOT_REVOKED);
	issued_free(&is);
	issued_free(&other);
}

/* Revoked through this gateway's Revoke: its very next Validate knows,
 * although its CRL was fetched a moment ago. */
static void test_revoke_rpc_is_immediate(void)
{
	struct issued is;
	CU_ASSERT_EQUAL_FATAL(issued_new(&is, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	expect(validate(&is.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED,
	       TC_REASON_OK_NOT_REVOKED);
	struct tc_status st;
	CU_ASSERT_EQUAL_FATAL(tc_revoke(admin, is.r->serial, TC_REVOKE_KEY_COMPROMISE, NULL, &st), 0);
	expect(validate(&is.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_UNTRUSTED, TC_REASON_REVOKED);
	issued_free(&is);
}

/* ---- certificates with a real SCT from the log process ---- */

struct http_reply {
	int status;
	json_t *json;
};

static int http_post(const char *path, const char *body, struct http_reply *r)
{
	memset(r, 0, sizeof(*r));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ct_port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char head[256];
	int hl = snprintf(head, sizeof(head),
			  "POST %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\n\r\n", path, strlen(body));
	int ok = write(fd, head, (size_t)hl) == hl && write(fd, body, strlen(body)) == (ssize_t)strlen(body);
	char *buf = malloc(65536);
	size_t len = 0;
	ssize_t n;
	while (ok && buf && len < 65535 && (n = read(fd, buf + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (!buf)
		return -1;
	buf[len] = '\0';
	char *sep = strstr(buf, "\r\n\r\n");
	int rc = sscanf(buf, "HTTP/1.%*d %d", &r->status) == 1 && sep ? 0 : -1;
	if (rc == 0)
		r->json = json_loads(sep + 4, 0, NULL);
	free(buf);
	return rc;
}

static Trustchain__Internal__Response *sign(const unsigned char *tbs, size_t tbs_len, int precert,
					    const unsigned char *sct_list, size_t sct_len, const ProtobufCBinaryData *serial)
{
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignCertificateRequest sc = TRUSTCHAIN__INTERNAL__SIGN_CERTIFICATE_REQUEST__INIT;
	sc.tbs.data = (uint8_t *)tbs;
	sc.tbs.len = tbs_len;
	sc.precertificate = precert;
	sc.sct_list.data = (uint8_t *)sct_list;
	sc.sct_list.len = sct_len;
	if (serial)
		sc.serial = *serial;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE;
	req.sign_certificate = &sc;
	char err[256];
	Trustchain__Internal__Response *r = tc_signer_call(signer, &req, 10000, err, sizeof(err));
	if (!r || r->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK) {
		fprintf(stderr, "sign: %s\n", r ? r->error : err);
		if (r)
			trustchain__internal__response__free_unpacked(r, NULL);
		return NULL;
	}
	return r;
}

/* The SCT list (TLS) for the log's add-pre-chain answer. tamper flips a
 * bit of the signature. */
static unsigned char *sct_list_from(json_t *j, int tamper, size_t *len)
{
	size_t id_len = 0, sig_len = 0, ext_len = 0;
	unsigned char *id = NULL, *sig = NULL, *ext = NULL, *list = NULL;
	const char *ids = json_string_value(json_object_get(j, "id"));
	const char *sigs = json_string_value(json_object_get(j, "signature"));
	const char *exts = json_string_value(json_object_get(j, "extensions"));
	if (!ids || !sigs || tc_base64_decode(ids, &id, &id_len) != 0 || id_len != 32 ||
	    tc_base64_decode(sigs, &sig, &sig_len) != 0 || sig_len < 5 ||
	    (exts && tc_base64_decode(exts, &ext, &ext_len) != 0))
		goto out;
	/* signature is a DigitallySigned: hash, signature algorithm, length. */
	struct tc_ct_sct sct = {.timestamp = (uint64_t)json_integer_value(json_object_get(j, "timestamp")),
				.extensions = ext, .extensions_len = ext_len, .sig_alg = sig[1],
				.signature = sig + 4, .signature_len = sig_len - 4};
	memcpy(sct.log_id, id, 32);
	if (tamper)
		sig[sig_len - 3] ^= 0x01;
	list = malloc(4096);
	if (tc_ct_encode_sct_list(&sct, 1, list, 4096, len) != TC_CT_OK) {
		free(list);
		list = NULL;
	}
out:
	free(id);
	free(sig);
	free(ext);
	return list;
}

/* The issuance flow of DESIGN.md section 3, by hand: returns the final
 * certificate (DER, malloc'ed) carrying the log's SCT. With tamper, the
 * SCT's signature is altered and the final certificate (the
 * precertificate's twin) is signed with our CA key outside the signer,
 * which refuses an SCT that does not verify (ca_key_direct.h). */
static unsigned char *issue_with_sct(const char *name, int tamper, size_t *out_len)
{
	const char *names[] = {name};
	time_t now = time(NULL);
	struct tc_leaf_request lr = {.pubkey = p256, .dns_names = names, .n_dns = 1, .server_auth = 1,
				     .not_before = now - 60, .not_after = now + 3600};
	char err[256];
	X509 *tmpl = tc_leaf_template_new(&lr, err, sizeof(err));
	unsigned char *tbs = NULL, *list = NULL, *out = NULL;
	size_t tbs_len = 0, list_len = 0;
	Trustchain__Internal__Response *pre = NULL, *fin = NULL;
	struct http_reply hr = {0};
	char *body = NULL, *b0 = NULL, *b1 = NULL;
	if (!tmpl || tc_template_tbs_der(tmpl, &tbs, &tbs_len) != 0 || !(pre = sign(tbs, tbs_len, 1, NULL, 0, NULL)))
		goto out;
	b0 = tc_base64_encode(pre->sign_certificate->certificate.data, pre->sign_certificate->certificate.len);
	b1 = tc_base64_encode(inter_der, inter_len);
	if (!b0 || !b1 || !(body = malloc(strlen(b0) + strlen(b1) + 32)))
		goto out;
	sprintf(body, "{\"chain\":[\"%s\",\"%s\"]}", b0, b1);
	if (http_post("/ct/v1/add-pre-chain", body, &hr) != 0 || hr.status != 200) {
		fprintf(stderr, "add-pre-chain: HTTP %d\n", hr.status);
		goto out;
	}
	if (!(list = sct_list_from(hr.json, tamper, &list_len)))
		goto out;
	if (tamper) {
		if (pre->sign_certificate->serial.len != 16 ||
		    tc_ca_key_sign_leaf(h.config, tbs, tbs_len, pre->sign_certificate->serial.data, list, list_len,
					&out, out_len, err, sizeof(err)) != 0) {
			fprintf(stderr, "signing with the CA key: %s\n", err);
			out = NULL;
		}
		goto out;
	}
	if (!(fin = sign(tbs, tbs_len, 0, list, list_len, &pre->sign_certificate->serial)))
		goto out;
	if ((out = malloc(fin->sign_certificate->certificate.len))) {
		memcpy(out, fin->sign_certificate->certificate.data, fin->sign_certificate->certificate.len);
		*out_len = fin->sign_certificate->certificate.len;
	}
out:
	X509_free(tmpl);
	OPENSSL_free(tbs);
	free(list);
	free(body);
	free(b0);
	free(b1);
	json_decref(hr.json);
	if (pre)
		trustchain__internal__response__free_unpacked(pre, NULL);
	if (fin)
		trustchain__internal__response__free_unpacked(fin, NULL);
	return out;
}

/* A certificate without SCT, as certificates issued before CT issuance
 * were: signed with our CA key outside the signer, which never signs one
 * (ca_key_direct.h). */
static unsigned char *issue_without_sct(const char *name, size_t *out_len)
{
	const char *names[] = {name};
	time_t now = time(NULL);
	struct tc_leaf_request lr = {.pubkey = p256, .dns_names = names, .n_dns = 1, .server_auth = 1,
				     .not_before = now - 60, .not_after = now + 3600};
	char err[256];
	X509 *tmpl = tc_leaf_template_new(&lr, err, sizeof(err));
	unsigned char *tbs = NULL, *out = NULL;
	size_t tbs_len = 0;
	if (tmpl && tc_template_tbs_der(tmpl, &tbs, &tbs_len) == 0 &&
	    tc_ca_key_sign_leaf(h.config, tbs, tbs_len, NULL, NULL, 0, &out, out_len, err, sizeof(err)) != 0) {
		fprintf(stderr, "signing with the CA key: %s\n", err);
		out = NULL;
	}
	X509_free(tmpl);
	OPENSSL_free(tbs);
	return out;
}

static void test_embedded_sct(void)
{
	/* The issuance flow by hand: the SCT comes from add-pre-chain over
	 * the log's HTTP API, not from the gateway's own Issue. */
	size_t len;
	unsigned char *leaf = issue_with_sct("sct.hypermesh.online", 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(leaf);
	struct chain ch = {.der = {leaf, inter_der}, .len = {len, inter_len}, .n = 2};
	struct tc_validate_result *r = validate(&ch, "sct.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH);
	static const enum tc_reason want[] = {TC_REASON_OK_PATH, TC_REASON_OK_VALIDITY, TC_REASON_OK_NAME,
					      TC_REASON_OK_KEY_USAGE, TC_REASON_OK_SCT, TC_REASON_OK_NOT_REVOKED};
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->n_reasons, 6);
	CU_ASSERT_EQUAL(memcmp(r->reasons, want, sizeof(want)), 0);
	expect(r, TC_TRUSTED, TC_REASON_OK_SCT);
	free(leaf);
	/* Without an SCT: UNTRUSTED where SCTs are required (the default),
	 * reported but not failing where gateway.require_sct is false. */
	leaf = issue_without_sct("svc.hypermesh.online", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(leaf);
	struct chain plain = {.der = {leaf, inter_der}, .len = {len, inter_len}, .n = 2};
	expect(validate(&plain, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_UNTRUSTED,
	       TC_REASON_SCT_MISSING);
	expect(validate_on(client_lax, &plain, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED,
	       TC_REASON_SCT_MISSING);
	free(leaf);
	/* An SCT whose signature was altered before the final certificate was
	 * signed: our log's ID, no valid signature. Failing everywhere. */
	leaf = issue_with_sct("sct.hypermesh.online", 1, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(leaf);
	struct chain bad = {.der = {leaf, inter_der}, .len = {len, inter_len}, .n = 2};
	expect(validate(&bad, "sct.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_UNTRUSTED, TC_REASON_SCT_INVALID);
	expect(validate_on(client_lax, &bad, "sct.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_UNTRUSTED,
	       TC_REASON_SCT_INVALID);
	free(leaf);
}

/* ---- trustchainctl validate ---- */

static int ctl_validate(const char *tgt, const char *args, const char *chain_path, char *out, size_t outlen)
{
	char cmd[2048], path[400];
	snprintf(path, sizeof(path), "%s/ctl.out", h.dir);
	snprintf(cmd, sizeof(cmd), "'%s/trustchainctl' --config '%s' validate --target %s %s '%s' > '%s' 2>&1", bindir,
		 h.config, tgt, args, chain_path, path);
	int st = system(cmd);
	char *text = read_text(path);
	snprintf(out, outlen, "%s", text ? text : "");
	free(text);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_ctl(void)
{
	struct issued is;
	CU_ASSERT_EQUAL_FATAL(issued_new(&is, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	char chain_path[400], out[4096];
	snprintf(chain_path, sizeof(chain_path), "%s/chain-for-ctl.pem", h.dir);
	FILE *f = fopen(chain_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "%s%s", is.r->certificate_pem, is.r->chain_pem);
	fclose(f);
	CU_ASSERT_EQUAL(ctl_validate(target, "--name svc.hypermesh.online", chain_path, out, sizeof(out)), 0);
	CU_ASSERT(strstr(out, "decision: TRUSTED") != NULL);
	CU_ASSERT(strstr(out, "OK_PATH OK_VALIDITY OK_NAME OK_KEY_USAGE") != NULL);
	CU_ASSERT(strstr(out, "verified chain:") != NULL);
	CU_ASSERT_EQUAL(ctl_validate(target, "--name nope.hypermesh.online --purpose client", chain_path, out,
				     sizeof(out)), 1);
	CU_ASSERT(strstr(out, "decision: UNTRUSTED") != NULL);
	CU_ASSERT(strstr(out, "NAME_MISMATCH") && strstr(out, "KEY_USAGE_MISMATCH") && strstr(out, "detail: "));
	char at[64];
	snprintf(at, sizeof(at), "--time %lld", (long long)is.r->not_after + 10);
	CU_ASSERT_EQUAL(ctl_validate(target, at, chain_path, out, sizeof(out)), 1);
	CU_ASSERT(strstr(out, "EXPIRED") != NULL);
	CU_ASSERT_EQUAL(ctl_validate(target, "--time 2000-01-01T00:00:00Z", chain_path, out, sizeof(out)), 1);
	CU_ASSERT(strstr(out, "NOT_YET_VALID") != NULL);
	/* No decision: bad usage, missing file, nobody listening. */
	CU_ASSERT_EQUAL(ctl_validate(target, "--purpose both", chain_path, out, sizeof(out)), 2);
	CU_ASSERT_EQUAL(ctl_validate(target, "", "/nonexistent/chain.pem", out, sizeof(out)), 2);
	char dead[64];
	snprintf(dead, sizeof(dead), "127.0.0.1:%d", tc_free_tcp_port());
	CU_ASSERT_EQUAL(ctl_validate(dead, "--timeout 2000", chain_path, out, sizeof(out)), 2);
	CU_ASSERT(strstr(out, "UNAVAILABLE") != NULL || strstr(out, "DEADLINE") != NULL);
	issued_free(&is);
}

/* ---- many callers ---- */

#define WORKERS 4
#define PER_WORKER 40

static struct chain shared_chain;

static void *validate_worker(void *arg)
{
	long *trusted = arg;
	for (int i = 0; i < PER_WORKER; i++) {
		struct tc_validate_result *r = validate(&shared_chain, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH);
		if (r && r->decision == TC_TRUSTED)
			(*trusted)++;
		tc_validate_result_free(r);
	}
	return NULL;
}

static void test_concurrent(void)
{
	struct issued is;
	CU_ASSERT_EQUAL_FATAL(issued_new(&is, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	shared_chain = is.ch;
	pthread_t t[WORKERS];
	long trusted[WORKERS] = {0};
	for (int i = 0; i < WORKERS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, validate_worker, &trusted[i]), 0);
	long total = 0;
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(t[i], NULL);
		total += trusted[i];
	}
	CU_ASSERT_EQUAL(total, WORKERS * PER_WORKER);
	issued_free(&is);
}

/* The signer goes away. A gateway that never had a CRL cannot know the
 * revocation status: UNTRUSTED with REVOCATION_UNKNOWN (fail closed). One
 * with a CRL fetched seconds ago keeps using it (up to 30 s). */
static void test_signer_down_fails_closed(void)
{
	struct issued is;
	CU_ASSERT_EQUAL_FATAL(issued_new(&is, "svc.hypermesh.online", TC_PROFILE_SERVER, 0), 0);
	expect(validate(&is.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED,
	       TC_REASON_OK_NOT_REVOKED);
	CU_ASSERT_EQUAL_FATAL(tc_harness_stop_signer(&h), 0);
	struct tc_client *late = open_client(target_late, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(late);
	struct tc_validate_result *r = validate_on(late, &is.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(tc_validate_result_has(r, TC_REASON_OK_PATH));
	CU_ASSERT(strstr(r->detail, "revocation status unavailable") != NULL);
	expect(r, TC_UNTRUSTED, TC_REASON_REVOCATION_UNKNOWN);
	usleep(1100 * 1000); /* past the refresh interval: the fetch fails, the recent CRL is used */
	expect(validate(&is.ch, "svc.hypermesh.online", 0, TC_PURPOSE_SERVER_AUTH), TC_TRUSTED,
	       TC_REASON_OK_NOT_REVOKED);
	tc_client_close(late);
	issued_free(&is);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BINDIR\n", argv[0]);
		return 2;
	}
	bindir = argv[1];
	static const struct tc_test tests[] = {
		{"issued certificate: TRUSTED with every OK reason", test_issued_is_trusted},
		{"wrong name: NAME_MISMATCH", test_name_mismatch},
		{"name with a NUL or a control byte: INVALID_ARGUMENT name_invalid", test_name_with_nul_or_control_byte},
		{"validity window: EXPIRED, NOT_YET_VALID", test_validity_window},
		{"purpose: KEY_USAGE_MISMATCH", test_purpose},
		{"foreign CA: PATH_UNTRUSTED", test_foreign_ca},
		{"garbage and empty chains", test_malformed_and_empty},
		{"revoked at the signer: REVOKED", test_revoked},
		{"revoked through Revoke: REVOKED at once", test_revoke_rpc_is_immediate},
		{"embedded SCT from the log process", test_embedded_sct},
		{"trustchainctl validate", test_ctl},
		{"concurrent callers", test_concurrent},
		{"signer down: fails closed", test_signer_down_fails_closed},
		{NULL, NULL},
	};
	return tc_run_suite("gateway_validate", tests, suite_init, suite_cleanup);
}
