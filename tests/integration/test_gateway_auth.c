/* Who may call the gateway: bearer tokens and client certificates mapped to
 * name patterns and rights, against a real signer and gateway over TLS.
 * Anonymous callers are refused where authentication is required, names
 * outside a caller's patterns are refused, mTLS works with a certificate
 * issued through the API itself, and Revoke + GetCrl produce a CRL that
 * openssl verifies and that lists the revoked serial. */
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/hex.h"
#include "support/gateway_process.h"
#include "support/peer_harness.h"
#include "support/raw_string_call.h"
#include "support/signer_harness.h"
#include "trustchain/client.h"
#include "trustchain/v1/ca.pb-c.h"
#include "unit/cunit_main.h"

enum {
	ST_OK = 0,
	ST_INVALID_ARGUMENT = 3,
	ST_PERMISSION_DENIED = 7,
	ST_UNAVAILABLE = 14,
	ST_UNAUTHENTICATED = 16,
};

#define ADMIN_TOKEN "tc-admin-0123456789abcdef0123456789abcdef"
#define SVC_TOKEN "tc-svc-fedcba9876543210fedcba9876543210"

static const char *bindir;
static struct tc_harness h;
static struct tc_peer_proc ct_log; /* issuance needs the CT log */
static struct tc_gateway_proc gw = {.pid = -1, .sup_fd = -1};
static char authdir[] = "/tmp/tc-gw-auth-XXXXXX";
static char target[64], root_ca[600];
static struct tc_client *admin, *svc, *anon;
static EVP_PKEY *key;

static char *path_in(const char *dir, const char *name)
{
	static char buf[4][700];
	static int next;
	char *p = buf[next++ % 4];
	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	return chmod(path, mode);
}

static void sha256_hex(const char *token, char out[65])
{
	unsigned char md[32];
	SHA256((const unsigned char *)token, strlen(token), md);
	tc_hex_encode(md, 32, out);
}

static struct tc_client *open_client(const char *token, const char *cert, const char *keyfile)
{
	struct tc_client_options o = {.root_ca_file = root_ca, .bearer_token = token, .cert_file = cert,
				      .key_file = keyfile};
	char err[256];
	struct tc_client *c = tc_client_open_opts(target, &o, err, sizeof(err));
	if (!c)
		fprintf(stderr, "client: %s\n", err);
	return c;
}

static int copy_file(const char *from, const char *to)
{
	char cmd[1500];
	snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
	return system(cmd) == 0 ? 0 : -1;
}

static int suite_init(void)
{
	if (!mkdtemp(authdir))
		return 1;
	char admin_h[65], svc_h[65], tokens[512];
	sha256_hex(ADMIN_TOKEN, admin_h);
	sha256_hex(SVC_TOKEN, svc_h);
	snprintf(tokens, sizeof(tokens),
		 "# hash  name  patterns  rights\n%s admin * revoke\n\n%s svc-deployer "
		 "*.svc.hypermesh.online,api.hypermesh.online,127.0.0.1\n",
		 admin_h, svc_h);
	const char *clients = "robot.clients.hypermesh.online robot *.robot.hypermesh.online revoke  # a robot\n";
	if (write_file(path_in(authdir, "tokens"), tokens, 0600) != 0 ||
	    write_file(path_in(authdir, "clients"), clients, 0600) != 0)
		return 1;
	int port = tc_free_tcp_port();
	char extra[2048];
	snprintf(extra, sizeof(extra),
		 "gateway:\n  listen: 127.0.0.1:%d\n  threads: 3\n  require_auth: true\n"
		 "  tokens_file: %s/tokens\n  clients_file: %s/clients\n  client_ca_file: %s/client-ca.pem\n",
		 port, authdir, authdir, authdir);
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	if (tc_harness_setup(&h, bindir, extra) != 0 || tc_harness_start_signer(&h, NULL) != 0)
		return 1;
	snprintf(root_ca, sizeof(root_ca), "%s/data/ca/root.pem", h.dir);
	/* Client certificates are ours: the client CA bundle is our root. */
	if (copy_file(root_ca, path_in(authdir, "client-ca.pem")) != 0)
		return 1;
	char ready[128];
	if (tc_peer_start(&h, "transparency", &ct_log) != 0 || tc_gateway_proc_start(&gw, &h, ready, sizeof(ready)) != 0)
		return 1;
	fprintf(stderr, "gateway ready: %s\n", ready);
	admin = open_client(ADMIN_TOKEN, NULL, NULL);
	svc = open_client(SVC_TOKEN, NULL, NULL);
	anon = open_client(NULL, NULL, NULL);
	key = EVP_EC_gen("P-256");
	return admin && svc && anon && key ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_client_close(admin);
	tc_client_close(svc);
	tc_client_close(anon);
	EVP_PKEY_free(key);
	tc_gateway_proc_stop(&gw);
	tc_peer_stop(&ct_log, SIGTERM);
	tc_harness_cleanup(&h);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", authdir);
	return system(cmd) == 0 ? 0 : 1;
}

/* A DER CSR for k (names come from the request). */
static unsigned char *make_csr(EVP_PKEY *k, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_REQ_set_pubkey(req, k);
	X509_REQ_sign(req, k, EVP_sha256());
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	X509_REQ_free(req);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

/* Issue for names (DNS, or IPs when ip) with profile; returns the status
 * code and *out on success (may be NULL when not wanted). */
static int issue_names(struct tc_client *c, const char *const *names, size_t n, int ip, enum tc_profile profile,
		       struct tc_issue_result **out, struct tc_status *st)
{
	size_t len;
	unsigned char *csr = make_csr(key, &len);
	struct tc_issue_request rq = {.csr = csr, .csr_len = len, .profile = profile};
	if (ip) {
		rq.ip_addresses = names;
		rq.n_ips = n;
	} else {
		rq.dns_names = names;
		rq.n_dns = n;
	}
	struct tc_issue_result *r = NULL;
	int rc = tc_issue(c, &rq, &r, st);
	OPENSSL_free(csr);
	if (rc != 0)
		fprintf(stderr, "  issue %s: %s reason=%s: %s\n", names[0], tc_status_code_name(st->code), st->reason,
			st->message);
	if (out)
		*out = r;
	else
		tc_issue_result_free(r);
	return rc == 0 ? ST_OK : st->code;
}

static int issue_one(struct tc_client *c, const char *name, struct tc_status *st)
{
	const char *names[] = {name};
	return issue_names(c, names, 1, 0, TC_PROFILE_SERVER, NULL, st);
}

static void test_anonymous(void)
{
	struct tc_status st;
	enum tc_health hs = TC_HEALTH_UNKNOWN;
	CU_ASSERT_EQUAL(tc_health_check(anon, "", &hs, &st), 0); /* health stays open */
	CU_ASSERT_EQUAL(hs, TC_HEALTH_SERVING);
	CU_ASSERT_EQUAL(issue_one(anon, "a.svc.hypermesh.online", &st), ST_UNAUTHENTICATED);
	CU_ASSERT_STRING_EQUAL(st.reason, "authentication_required");
	CU_ASSERT_EQUAL(tc_revoke(anon, "40000000000000000000000000000001", TC_REVOKE_KEY_COMPROMISE, NULL, &st), -1);
	CU_ASSERT_EQUAL(st.code, ST_UNAUTHENTICATED);
	CU_ASSERT_STRING_EQUAL(st.reason, "authentication_required");
	struct tc_crl *crl = NULL;
	CU_ASSERT_EQUAL(tc_get_crl(anon, &crl, &st), 0); /* the CRL is public */
	tc_crl_free(crl);
}

static void test_bad_token(void)
{
	const char *tokens[] = {"tc-not-a-known-token", "tc-admin-0123456789abcdef0123456789abcdeF"};
	for (size_t i = 0; i < 2; i++) {
		struct tc_client *c = open_client(tokens[i], NULL, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		struct tc_status st;
		enum tc_health hs;
		/* A wrong credential is refused on every method. */
		CU_ASSERT_EQUAL(tc_health_check(c, "", &hs, &st), -1);
		CU_ASSERT_EQUAL(st.code, ST_UNAUTHENTICATED);
		CU_ASSERT_STRING_EQUAL(st.reason, "invalid_token");
		CU_ASSERT_EQUAL(issue_one(c, "a.svc.hypermesh.online", &st), ST_UNAUTHENTICATED);
		CU_ASSERT_STRING_EQUAL(st.reason, "invalid_token");
		tc_client_close(c);
	}
}

static void test_token_patterns(void)
{
	struct tc_status st;
	CU_ASSERT_EQUAL(issue_one(svc, "a.svc.hypermesh.online", &st), ST_OK);
	CU_ASSERT_EQUAL(issue_one(svc, "deep.a.svc.hypermesh.online", &st), ST_OK);
	CU_ASSERT_EQUAL(issue_one(svc, "API.hypermesh.online.", &st), ST_OK);
	const char *ip[] = {"127.0.0.1"};
	CU_ASSERT_EQUAL(issue_names(svc, ip, 1, 1, TC_PROFILE_SERVER, NULL, &st), ST_OK);
	/* The suffix itself is not under it; neighbours are not either. */
	const char *outside[] = {"svc.hypermesh.online", "other.hypermesh.online", "a.svc.hypermesh.online.evil",
				 "x.api.hypermesh.online"};
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		CU_ASSERT_EQUAL(issue_one(svc, outside[i], &st), ST_PERMISSION_DENIED);
		if (strcmp(outside[i], "a.svc.hypermesh.online.evil") != 0)
			CU_ASSERT_STRING_EQUAL(st.reason, "name_not_authorized");
	}
	const char *ip2[] = {"127.0.0.2"};
	CU_ASSERT_EQUAL(issue_names(svc, ip2, 1, 1, TC_PROFILE_SERVER, NULL, &st), ST_PERMISSION_DENIED);
	CU_ASSERT_STRING_EQUAL(st.reason, "name_not_authorized");
	/* One name outside the patterns spoils the whole request. */
	const char *mixed[] = {"b.svc.hypermesh.online", "b.other.hypermesh.online"};
	CU_ASSERT_EQUAL(issue_names(svc, mixed, 2, 0, TC_PROFILE_SERVER, NULL, &st), ST_PERMISSION_DENIED);
	CU_ASSERT_STRING_EQUAL(st.reason, "name_not_authorized");
	/* The admin's "*" still meets the CA policy, enforced by the signer. */
	CU_ASSERT_EQUAL(issue_one(admin, "www.example.com", &st), ST_PERMISSION_DENIED);
	CU_ASSERT_STRING_EQUAL(st.reason, "name_not_permitted");
	CU_ASSERT_EQUAL(issue_one(admin, "anything.hypermesh.online", &st), ST_OK);
}

/* The caller's patterns are matched against the whole name sent: a name
 * that would match only once cut at its NUL ("a.svc.hypermesh.online\0
 * .evil.com" under *.svc.hypermesh.online) is refused as no name at all,
 * never issued for its first part. */
static void test_token_patterns_whole_names(void)
{
	static const char dns[] = "a.svc.hypermesh.online\0.evil.com";
	static const char ip[] = "127.0.0.1\0.2";
	const struct {
		uint32_t field; /* IssueRequest: 2 dns_names, 3 ip_addresses */
		const char *name;
		size_t len;
	} cases[] = {{2, dns, sizeof(dns) - 1}, {3, ip, sizeof(ip) - 1}};
	size_t csr_len;
	unsigned char *csr = make_csr(key, &csr_len);
	for (size_t i = 0; i < 2; i++) {
		Trustchain__V1__IssueRequest rq = TRUSTCHAIN__V1__ISSUE_REQUEST__INIT;
		rq.csr = (ProtobufCBinaryData){.data = csr, .len = csr_len};
		struct tc_status st;
		int rc = tc_test_call_with_string(svc, "/trustchain.v1.CertificateAuthority/Issue", &rq.base,
						  cases[i].field, cases[i].name, cases[i].len, &st);
		if (rc == 0)
			fprintf(stderr, "\n  issued '%s' (sent with a NUL after it)\n", cases[i].name);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(st.code, ST_INVALID_ARGUMENT);
		CU_ASSERT_STRING_EQUAL(st.reason, "name_invalid");
	}
	OPENSSL_free(csr);
}

/* Issues a client certificate for identity through the API and writes its
 * key and chain (leaf, intermediate) into authdir/<file>.key|.pem. */
static int client_cert(const char *identity, enum tc_profile profile, const char *file)
{
	const char *names[] = {identity};
	struct tc_issue_result *r = NULL;
	struct tc_status st;
	if (issue_names(admin, names, 1, 0, profile, &r, &st) != ST_OK)
		return -1;
	char fname[64], *chain = malloc(strlen(r->certificate_pem) + strlen(r->chain_pem) + 1);
	strcpy(chain, r->certificate_pem);
	strcat(chain, r->chain_pem);
	snprintf(fname, sizeof(fname), "%s.pem", file);
	int rc = write_file(path_in(authdir, fname), chain, 0644);
	free(chain);
	tc_issue_result_free(r);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *pem = strndup(data, (size_t)n);
	BIO_free(b);
	snprintf(fname, sizeof(fname), "%s.key", file);
	rc |= write_file(path_in(authdir, fname), pem, 0600);
	free(pem);
	return rc;
}

static void test_mtls(void)
{
	CU_ASSERT_EQUAL_FATAL(client_cert("robot.clients.hypermesh.online", TC_PROFILE_CLIENT, "robot"), 0);
	struct tc_client *robot = open_client(NULL, path_in(authdir, "robot.pem"), path_in(authdir, "robot.key"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(robot);
	struct tc_status st;
	CU_ASSERT_EQUAL(issue_one(robot, "x.robot.hypermesh.online", &st), ST_OK);
	CU_ASSERT_EQUAL(issue_one(robot, "x.svc.hypermesh.online", &st), ST_PERMISSION_DENIED);
	CU_ASSERT_STRING_EQUAL(st.reason, "name_not_authorized");
	tc_client_close(robot);

	/* A token on a connection with a client certificate decides. */
	struct tc_client *both = open_client(SVC_TOKEN, path_in(authdir, "robot.pem"), path_in(authdir, "robot.key"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(both);
	CU_ASSERT_EQUAL(issue_one(both, "y.robot.hypermesh.online", &st), ST_PERMISSION_DENIED);
	CU_ASSERT_EQUAL(issue_one(both, "y.svc.hypermesh.online", &st), ST_OK);
	tc_client_close(both);

	/* A valid certificate of ours that no clients_file line maps is
	 * anonymous. */
	CU_ASSERT_EQUAL_FATAL(client_cert("stranger.clients.hypermesh.online", TC_PROFILE_CLIENT, "stranger"), 0);
	struct tc_client *stranger =
		open_client(NULL, path_in(authdir, "stranger.pem"), path_in(authdir, "stranger.key"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(stranger);
	CU_ASSERT_EQUAL(issue_one(stranger, "x.robot.hypermesh.online", &st), ST_UNAUTHENTICATED);
	CU_ASSERT_STRING_EQUAL(st.reason, "authentication_required");
	tc_client_close(stranger);

	/* A server-only certificate is no client certificate: the TLS
	 * handshake fails. */
	CU_ASSERT_EQUAL_FATAL(client_cert("robot.clients.hypermesh.online", TC_PROFILE_SERVER, "server-only"), 0);
	struct tc_client *wrong =
		open_client(NULL, path_in(authdir, "server-only.pem"), path_in(authdir, "server-only.key"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(wrong);
	tc_client_set_timeout(wrong, 10000);
	CU_ASSERT_EQUAL(issue_one(wrong, "x.robot.hypermesh.online", &st), ST_UNAVAILABLE);
	tc_client_close(wrong);
}

static int run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_revoke_and_crl(void)
{
	const char *names[] = {"revoked.svc.hypermesh.online"};
	struct tc_issue_result *r = NULL;
	struct tc_status st;
	CU_ASSERT_EQUAL_FATAL(issue_names(svc, names, 1, 0, TC_PROFILE_SERVER, &r, &st), ST_OK);
	CU_ASSERT_EQUAL(strlen(r->serial), 32);

	/* No revoke right, no revocation; bad serials and reasons are refused. */
	CU_ASSERT_EQUAL(tc_revoke(svc, r->serial, TC_REVOKE_KEY_COMPROMISE, NULL, &st), -1);
	CU_ASSERT_EQUAL(st.code, ST_PERMISSION_DENIED);
	CU_ASSERT_STRING_EQUAL(st.reason, "revoke_not_authorized");
	const char *bad_serials[] = {"", "zz", "01", "00000000000000000000000000000001",
				     "400000000000000000000000000000010", "4000000000000000000000000000000g"};
	for (size_t i = 0; i < sizeof(bad_serials) / sizeof(bad_serials[0]); i++) {
		CU_ASSERT_EQUAL(tc_revoke(admin, bad_serials[i], TC_REVOKE_KEY_COMPROMISE, NULL, &st), -1);
		CU_ASSERT_EQUAL(st.code, ST_INVALID_ARGUMENT);
		CU_ASSERT_STRING_EQUAL(st.reason, "serial_invalid");
	}
	/* The serial followed by a NUL and more: not this serial. */
	char with_nul[40];
	memcpy(with_nul, r->serial, 32);
	memcpy(with_nul + 32, "\0ff", 3);
	Trustchain__V1__RevokeRequest rv = TRUSTCHAIN__V1__REVOKE_REQUEST__INIT;
	rv.reason = TRUSTCHAIN__V1__REVOCATION_REASON__REVOCATION_REASON_KEY_COMPROMISE;
	CU_ASSERT_EQUAL(tc_test_call_with_string(admin, "/trustchain.v1.CertificateAuthority/Revoke", &rv.base, 1,
						 with_nul, 35, &st),
			-1);
	CU_ASSERT_EQUAL(st.code, ST_INVALID_ARGUMENT);
	CU_ASSERT_STRING_EQUAL(st.reason, "name_invalid");
	const int bad_reasons[] = {7, 8, 11, -1};
	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(tc_revoke(admin, r->serial, (enum tc_revocation_reason)bad_reasons[i], NULL, &st), -1);
		CU_ASSERT_EQUAL(st.code, ST_INVALID_ARGUMENT);
		CU_ASSERT_STRING_EQUAL(st.reason, "reason_invalid");
	}

	int64_t when = 0, again = 0;
	CU_ASSERT_EQUAL_FATAL(tc_revoke(admin, r->serial, TC_REVOKE_KEY_COMPROMISE, &when, &st), 0);
	CU_ASSERT(llabs((long long)(when - time(NULL))) < 60);
	sleep(1);
	/* Idempotent: the original time comes back (upper-case hex accepted). */
	char upper[33];
	for (size_t i = 0; i <= 32; i++)
		upper[i] = (char)toupper((unsigned char)r->serial[i]);
	CU_ASSERT_EQUAL(tc_revoke(admin, upper, TC_REVOKE_SUPERSEDED, &again, &st), 0);
	CU_ASSERT_EQUAL(again, when);

	struct tc_crl *crl = NULL;
	CU_ASSERT_EQUAL_FATAL(tc_get_crl(anon, &crl, &st), 0);
	CU_ASSERT(crl->der_len > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(crl->pem, "BEGIN X509 CRL"));
	CU_ASSERT(crl->crl_number > 0);
	CU_ASSERT(crl->next_update > crl->this_update);
	CU_ASSERT(llabs((long long)(crl->this_update - time(NULL))) < 120);
	FILE *f = fopen(path_in(authdir, "crl.der"), "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(crl->der, 1, crl->der_len, f);
	fclose(f);
	CU_ASSERT_EQUAL(write_file(path_in(authdir, "crl.pem"), crl->pem, 0644), 0);
	char ca[700 * 2];
	snprintf(ca, sizeof(ca), "%s/data/ca/chain.pem", h.dir);

	/* openssl checks the CRL's signature against our chain. */
	char cmd[4000], out[16384];
	snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in %s -CAfile %s -verify -noout -text 2>&1",
		 path_in(authdir, "crl.der"), ca);
	CU_ASSERT_EQUAL(run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "verify OK"));
	char needle[64];
	snprintf(needle, sizeof(needle), "Serial Number: %s", upper);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Key Compromise"));

	/* And a verifier using the CRL rejects the certificate. */
	CU_ASSERT_EQUAL(write_file(path_in(authdir, "revoked.pem"), r->certificate_pem, 0644), 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -crl_check -CAfile %s -CRLfile %s %s 2>&1", ca,
		 path_in(authdir, "crl.pem"), path_in(authdir, "revoked.pem"));
	CU_ASSERT_NOT_EQUAL(run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "certificate revoked"));
	tc_crl_free(crl);
	tc_issue_result_free(r);

	/* The robot's client certificate carries the revoke right too. */
	const char *n2[] = {"gone.robot.hypermesh.online"};
	CU_ASSERT_EQUAL_FATAL(issue_names(admin, n2, 1, 0, TC_PROFILE_SERVER, &r, &st), ST_OK);
	struct tc_client *robot = open_client(NULL, path_in(authdir, "robot.pem"), path_in(authdir, "robot.key"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(robot);
	CU_ASSERT_EQUAL(tc_revoke(robot, r->serial, TC_REVOKE_CESSATION_OF_OPERATION, NULL, &st), 0);
	tc_client_close(robot);
	tc_issue_result_free(r);
}

/* SIGTERM: clean exit (under ASan, also no leak in the gateway). */
static void test_clean_stop(void)
{
	CU_ASSERT_EQUAL(tc_gateway_proc_stop(&gw), 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BINDIR\n", argv[0]);
		return 2;
	}
	bindir = argv[1];
	static const struct tc_test tests[] = {
		{"anonymous: health and CRL open, Issue and Revoke refused", test_anonymous},
		{"bearer token: unknown or malformed is refused everywhere", test_bad_token},
		{"bearer token: names within the caller's patterns only", test_token_patterns},
		{"bearer token: patterns match whole names, never cut at a NUL", test_token_patterns_whole_names},
		{"mTLS: client certificate issued by the API, mapped identity", test_mtls},
		{"revoke: right needed, then GetCrl lists it, openssl verifies", test_revoke_and_crl},
		{"stop: SIGTERM is clean", test_clean_stop},
		{NULL, NULL},
	};
	return tc_run_suite("gateway_auth", tests, suite_init, suite_cleanup);
}
