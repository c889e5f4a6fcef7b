/* The gateway as its callers see it: a real signer on a real SoftHSM token
 * (dev ceremony), the CT log (trustchain-transparency) and the
 * trustchain-gateway process linked to them the way the supervisor links
 * them, and libtrustchain talking gRPC to it. Issued certificates are
 * checked with the openssl CLI; every refusal must carry the right status
 * code and trustchain-reason. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ct.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/sup_channel.h"
#include "support/peer_harness.h"
#include "support/raw_string_call.h"
#include "support/signer_harness.h"
#include "trustchain/client.h"
#include "trustchain/v1/ca.pb-c.h"
#include "unit/cunit_main.h"
#include "support/child_spawn.h"

static const char *bindir;
static struct tc_harness h;
static struct tc_peer_proc ct_log;
static pid_t gateway_pid;
static int gateway_sup = -1;
static struct tc_client *client;
static char target[64];
static char root_ca[600];     /* our root: verifies the gateway's own certificate */
static EVP_PKEY *p256;

/* gRPC status codes used below. */
enum { ST_OK = 0, ST_INVALID_ARGUMENT = 3, ST_PERMISSION_DENIED = 7, ST_RESOURCE_EXHAUSTED = 8,
       ST_UNAVAILABLE = 14 };

/* Runs trustchain-gateway as the supervisor would: signer link and
 * supervisor channel by inherited descriptors; waits for its READY. */
static int start_gateway(void)
{
	int signer_fd = tc_harness_connect(&h, "gateway");
	int chan[2];
	if (signer_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) != 0)
		return -1;
	char path[600];
	snprintf(path, sizeof(path), "%s/trustchain-gateway", bindir);
	char *argv[] = {path, "--config", (char *)h.config, NULL};
	struct tc_spawn_fd fds[] = {{"TC_FD_SIGNER", signer_fd}, {"TC_FD_SUPERVISOR", chan[1]}};
	gateway_pid = tc_spawn_with_fds(path, argv, fds, 2, NULL);
	close(signer_fd);
	close(chan[1]);
	if (gateway_pid < 0) {
		close(chan[0]);
		return -1;
	}
	gateway_sup = chan[0];
	struct tc_sup_msg msg;
	int fd;
	if (tc_sup_recv(gateway_sup, &msg, &fd) != 1 || msg.type != TC_SUP_READY)
		return -1;
	fprintf(stderr, "gateway ready: %s\n", msg.name);
	return 0;
}

/* A loopback TCP port nobody listens on right now (the kernel picks it). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int suite_init(void)
{
	int port = free_port();
	if (port <= 0)
		return 1;
	char extra[256];
	snprintf(extra, sizeof(extra), "gateway:\n  listen: 127.0.0.1:%d\n  threads: 3\n", port);
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	if (tc_harness_setup(&h, bindir, extra) != 0 || tc_harness_start_signer(&h, NULL) != 0 ||
	    tc_peer_start(&h, "transparency", &ct_log) != 0 || start_gateway() != 0)
		return 1;
	char err[256];
	snprintf(root_ca, sizeof(root_ca), "%s/data/ca/root.pem", h.dir);
	struct tc_client_options o = {.root_ca_file = root_ca};
	client = tc_client_open_opts(target, &o, err, sizeof(err));
	if (!client)
		fprintf(stderr, "client: %s\n", err);
	p256 = EVP_EC_gen("P-256");
	return client && p256 ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_client_close(client);
	EVP_PKEY_free(p256);
	if (gateway_pid > 0) {
		kill(gateway_pid, SIGKILL);
		waitpid(gateway_pid, NULL, 0);
	}
	if (gateway_sup >= 0)
		close(gateway_sup);
	tc_peer_stop(&ct_log, SIGKILL);
	tc_harness_cleanup(&h);
	return 0;
}

/* A CSR for key with subject CN=cn and, when san is given, a requested
 * subjectAltName (e.g. "DNS:a.hypermesh.online"). DER, OPENSSL_malloc'ed. */
static unsigned char *make_csr(EVP_PKEY *key, const char *cn, const char *san, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
	X509_REQ_set_pubkey(req, key);
	if (san) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		sk_X509_EXTENSION_push(exts, ext);
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256());
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	X509_REQ_free(req);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

static char *make_csr_pem(EVP_PKEY *key, const char *cn)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
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

static int issue(const unsigned char *csr, size_t len, const char *const *names, size_t n_names,
		 enum tc_profile profile, uint32_t validity, struct tc_issue_result **out,
		 struct tc_status *st)
{
	struct tc_issue_request rq = {.csr = csr, .csr_len = len, .dns_names = names, .n_dns = n_names,
				      .profile = profile, .validity_seconds = validity};
	int rc = tc_issue(client, &rq, out, st);
	if (rc != 0)
		fprintf(stderr, "  issue: %s (%d) reason=%s: %s\n", tc_status_code_name(st->code), st->code,
			st->reason, st->message);
	return rc;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* openssl verify of the issued certificate against the returned chain. */
static int openssl_verify(const struct tc_issue_result *r, const char *purpose)
{
	char cert[600], chain[600], root[600], cmd[2400];
	snprintf(cert, sizeof(cert), "%s/leaf.pem", h.dir);
	snprintf(chain, sizeof(chain), "%s/chain.pem", h.dir);
	snprintf(root, sizeof(root), "%s/root.pem", h.dir);
	write_file(cert, r->certificate_pem);
	write_file(chain, r->chain_pem);
	write_file(root, r->root_pem);
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s -untrusted %s -purpose %s %s >/dev/null", root, chain,
		 purpose, cert);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static X509 *parse_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return x;
}

static void test_health_serving(void)
{
	struct tc_status st;
	enum tc_health hs = TC_HEALTH_UNKNOWN;
	CU_ASSERT_EQUAL_FATAL(tc_health_check(client, "", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_SERVING);
	CU_ASSERT_EQUAL(tc_health_check(client, "trustchain.v1.CertificateAuthority", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_SERVING);
	CU_ASSERT_EQUAL(tc_health_check(client, "no.such.Service", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_SERVICE_UNKNOWN);
}

/* The gateway's certificate as openssl s_client sees it, verified against
 * our root; its serial goes to serial (hex). Returns 0 when it verified. */
static int gateway_cert(char *serial, size_t len, char *text, size_t textlen)
{
	char cmd[1600];
	snprintf(cmd, sizeof(cmd),
		 "openssl s_client -connect %s -alpn h2 -CAfile %s -verify_return_error </dev/null 2>/dev/null | "
		 "openssl x509 -noout -serial -ext subjectAltName,extendedKeyUsage -issuer 2>/dev/null",
		 target, root_ca);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(text, 1, textlen - 1, p);
	text[n] = '\0';
	int st = pclose(p);
	const char *s = strstr(text, "serial=");
	if (!s || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	snprintf(serial, len, "%.*s", (int)strcspn(s + 7, "\n"), s + 7);
	return 0;
}

/* TLS: the gateway serves a server certificate our CA issued for its names
 * (dev: ca.<domain>, localhost, 127.0.0.1) that openssl verifies against
 * our root; clients trusting other roots, or speaking plaintext, fail. */
static void test_tls_own_certificate(void)
{
	char serial[80], text[4096];
	CU_ASSERT_EQUAL_FATAL(gateway_cert(serial, sizeof(serial), text, sizeof(text)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "DNS:ca.trust.hypermesh.online"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "DNS:localhost"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "IP Address:127.0.0.1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "TLS Web Server Authentication"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "Issuing CA"));

	const struct tc_client_options wrong[] = {
		{.root_ca_file = "/etc/ssl/certs/ca-certificates.crt"},
		{.plaintext = 1},
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		char err[256];
		struct tc_client *c = tc_client_open_opts(target, &wrong[i], err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		tc_client_set_timeout(c, 10000);
		struct tc_status st;
		enum tc_health hs;
		CU_ASSERT_EQUAL(tc_health_check(c, "", &hs, &st), -1);
		CU_ASSERT_EQUAL(st.code, 14 /* UNAVAILABLE */);
		tc_client_close(c);
	}
}

/* SIGHUP renews the gateway's certificate at once (as the periodic renewal
 * does before expiry): new connections get the new one, without a restart,
 * and existing clients keep working. */
static void test_tls_renewal(void)
{
	char before[80], after[80] = "", text[4096];
	CU_ASSERT_EQUAL_FATAL(gateway_cert(before, sizeof(before), text, sizeof(text)), 0);
	CU_ASSERT_EQUAL_FATAL(kill(gateway_pid, SIGHUP), 0);
	for (int i = 0; i < 150; i++) { /* up to 15 s on a loaded machine */
		usleep(100 * 1000);
		if (gateway_cert(after, sizeof(after), text, sizeof(text)) == 0 && strcmp(before, after) != 0)
			break;
	}
	CU_ASSERT_STRING_NOT_EQUAL(before, after);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "DNS:ca.trust.hypermesh.online"));
	struct tc_status st;
	enum tc_health hs = TC_HEALTH_UNKNOWN;
	CU_ASSERT_EQUAL(tc_health_check(client, "", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_SERVING);
}

static void test_issue_server_pem(void)
{
	char *csr = make_csr_pem(p256, "ignored.example.com");
	const char *names[] = {"svc.hypermesh.online"};
	struct tc_issue_result *r = NULL;
	struct tc_status st;
	CU_ASSERT_EQUAL_FATAL(issue((unsigned char *)csr, strlen(csr), names, 1, TC_PROFILE_SERVER, 0, &r, &st), 0);
	free(csr);
	CU_ASSERT_EQUAL(openssl_verify(r, "sslserver"), 0);
	X509 *x = parse_pem(r->certificate_pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(X509_check_host(x, "svc.hypermesh.online", 0, 0, NULL), 1);
	CU_ASSERT_EQUAL(X509_check_host(x, "ignored.example.com", 0, 0, NULL), 0);
	uint32_t xku = X509_get_extended_key_usage(x);
	CU_ASSERT(xku & XKU_SSL_SERVER);
	CU_ASSERT(!(xku & XKU_SSL_CLIENT));
	CU_ASSERT_EQUAL(X509_check_ca(x), 0);
	/* The default validity is the policy maximum (dev: 24 h). */
	CU_ASSERT_EQUAL(r->not_after - r->not_before, 24 * 3600);
	CU_ASSERT(llabs((long long)(r->not_before - time(NULL))) < 600);
	/* The times reported are the certificate's. */
	CU_ASSERT_EQUAL(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), (time_t)r->not_before), 0);
	CU_ASSERT_EQUAL(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), (time_t)r->not_after), 0);
	/* The serial reported is the certificate's. */
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = BN_bn2hex(bn);
	CU_ASSERT_EQUAL(strcasecmp(hex, r->serial), 0);
	OPENSSL_free(hex);
	BN_free(bn);
	/* The key certified is the CSR's. */
	CU_ASSERT_EQUAL(EVP_PKEY_eq(X509_get0_pubkey(x), p256), 1);
	X509_free(x);
	tc_issue_result_free(r);
}

/* DER CSR, client profile, names taken from the CSR, a shorter lifetime. */
/* A retry under the same idempotency key gets the first certificate back,
 * with the first certificate's times (its template was built a second
 * earlier), not the retry's. */
static void test_issue_idempotent_times(void)
{
	char *csr = make_csr_pem(p256, "again.hypermesh.online");
	const char *names[] = {"again.hypermesh.online"};
	static const unsigned char key[] = "test-gateway-idempotent-times";
	struct tc_issue_request rq = {.csr = (unsigned char *)csr, .csr_len = strlen(csr), .dns_names = names,
				      .n_dns = 1, .profile = TC_PROFILE_SERVER, .validity_seconds = 3600,
				      .idempotency_key = key, .idempotency_key_len = sizeof(key) - 1};
	struct tc_issue_result *a = NULL, *b = NULL;
	struct tc_status st;
	CU_ASSERT_EQUAL_FATAL(tc_issue(client, &rq, &a, &st), 0);
	usleep(1200 * 1000);
	CU_ASSERT_EQUAL_FATAL(tc_issue(client, &rq, &b, &st), 0);
	CU_ASSERT_STRING_EQUAL(a->serial, b->serial);
	CU_ASSERT_STRING_EQUAL(a->certificate_pem, b->certificate_pem);
	CU_ASSERT_EQUAL(a->not_before, b->not_before);
	CU_ASSERT_EQUAL(a->not_after, b->not_after);
	X509 *x = parse_pem(b->certificate_pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), (time_t)b->not_before), 0);
	X509_free(x);
	tc_issue_result_free(a);
	tc_issue_result_free(b);
	free(csr);
}

static void test_issue_client_der_names_from_csr(void)
{
	size_t len;
	unsigned char *der = make_csr(p256, "x", "DNS:Node-1.Hypermesh.Online, IP:10.1.2.3", &len);
	struct tc_issue_result *r = NULL;
	struct tc_status st;
	CU_ASSERT_EQUAL_FATAL(issue(der, len, NULL, 0, TC_PROFILE_CLIENT, 3600, &r, &st), 0);
	OPENSSL_free(der);
	CU_ASSERT_EQUAL(openssl_verify(r, "sslclient"), 0);
	CU_ASSERT_NOT_EQUAL(openssl_verify(r, "sslserver"), 0);
	X509 *x = parse_pem(r->certificate_pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(X509_check_host(x, "node-1.hypermesh.online", 0, 0, NULL), 1);
	CU_ASSERT_EQUAL(X509_check_ip_asc(x, "10.1.2.3", 0), 1);
	uint32_t xku = X509_get_extended_key_usage(x);
	CU_ASSERT(xku & XKU_SSL_CLIENT);
	CU_ASSERT(!(xku & XKU_SSL_SERVER));
	CU_ASSERT_EQUAL(r->not_after - r->not_before, 3600);
	X509_free(x);
	tc_issue_result_free(r);
}

static void expect_refusal(const unsigned char *csr, size_t len, const char *name, uint32_t validity,
			   int code, const char *reason)
{
	const char *names[] = {name};
	struct tc_issue_result *r = NULL;
	struct tc_status st;
	CU_ASSERT_EQUAL(issue(csr, len, names, name ? 1 : 0, TC_PROFILE_SERVER, validity, &r, &st), -1);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(st.code, code);
	if (reason)
		CU_ASSERT_STRING_EQUAL(st.reason, reason);
	CU_ASSERT(strlen(st.message) > 0);
	tc_issue_result_free(r);
}

static void test_garbage_csr(void)
{
	const unsigned char junk[] = "this is not a certificate request";
	expect_refusal(junk, sizeof(junk), "svc.hypermesh.online", 0, ST_INVALID_ARGUMENT, "csr_malformed");
	expect_refusal(junk, 0, "svc.hypermesh.online", 0, ST_INVALID_ARGUMENT, "csr_malformed");
	const char pem[] = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
	expect_refusal((const unsigned char *)pem, strlen(pem), "svc.hypermesh.online", 0,
		       ST_INVALID_ARGUMENT, "csr_malformed");
}

static void test_broken_signature(void)
{
	size_t len;
	unsigned char *der = make_csr(p256, "svc.hypermesh.online", NULL, &len);
	/* The last byte belongs to the signature's s value: still DER, no
	 * longer a valid signature. */
	der[len - 1] ^= 0x01;
	expect_refusal(der, len, "svc.hypermesh.online", 0, ST_INVALID_ARGUMENT, "csr_signature_invalid");
	OPENSSL_free(der);
}

static void test_forbidden_name(void)
{
	size_t len;
	unsigned char *der = make_csr(p256, "x", NULL, &len);
	expect_refusal(der, len, "www.example.com", 0, ST_PERMISSION_DENIED, "name_not_permitted");
	expect_refusal(der, len, "bad..name.hypermesh.online", 0, ST_INVALID_ARGUMENT, "name_invalid");
	expect_refusal(der, len, NULL, 0, ST_INVALID_ARGUMENT, "no_names");
	expect_refusal(der, len, "svc.hypermesh.online", 25 * 3600, ST_INVALID_ARGUMENT,
		       "validity_exceeds_policy");
	OPENSSL_free(der);
}

/* Issue with a requested name holding a NUL, sent as the string field
 * (2: dns_names, 3: ip_addresses) the way a caller in any other language
 * sends it: refused name_invalid, never a certificate for the part before
 * the NUL. */
static void expect_nul_name_refused(uint32_t field, const char *name, size_t len)
{
	size_t csr_len;
	unsigned char *csr = make_csr(p256, "x", NULL, &csr_len);
	Trustchain__V1__IssueRequest rq = TRUSTCHAIN__V1__ISSUE_REQUEST__INIT;
	rq.csr = (ProtobufCBinaryData){.data = csr, .len = csr_len};
	struct tc_status st;
	int rc = tc_test_call_with_string(client, "/trustchain.v1.CertificateAuthority/Issue", &rq.base, field, name,
					  len, &st);
	if (rc == 0)
		fprintf(stderr, "\n  issued a certificate for '%s' (sent with a NUL after it)\n", name);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(st.code, ST_INVALID_ARGUMENT);
	CU_ASSERT_STRING_EQUAL(st.reason, "name_invalid");
	CU_ASSERT_PTR_NOT_NULL(strstr(st.message, "NUL"));
	OPENSSL_free(csr);
}

/* "DER:..." (X509V3_EXT_conf_nid syntax) of a subjectAltName holding one
 * GeneralName with this context tag and value (len < 100). */
static void raw_san(char *out, size_t outlen, unsigned tag, const void *value, size_t len)
{
	int n = snprintf(out, outlen, "DER:30:%02zx:%02x:%02zx", len + 2, 0x80 | tag, len);
	for (size_t i = 0; i < len && n > 0 && (size_t)n < outlen; i++)
		n += snprintf(out + n, outlen - (size_t)n, ":%02x", ((const unsigned char *)value)[i]);
}

static void test_names_with_nul(void)
{
	static const char dns[] = "nul.hypermesh.online\0.evil.com";
	static const char ip[] = "127.0.0.1\0junk";
	static const char trailing[] = "nul.hypermesh.online\0";
	expect_nul_name_refused(2, dns, sizeof(dns) - 1);
	expect_nul_name_refused(3, ip, sizeof(ip) - 1);
	expect_nul_name_refused(2, trailing, sizeof(trailing) - 1);
	/* Names from the CSR: a dNSName holding a NUL, an iPAddress of 5
	 * bytes. */
	char san[256];
	raw_san(san, sizeof(san), 2, dns, sizeof(dns) - 1);
	size_t len;
	unsigned char *der = make_csr(p256, "x", san, &len);
	CU_ASSERT_FATAL(len > 0);
	expect_refusal(der, len, NULL, 0, ST_INVALID_ARGUMENT, "name_invalid");
	OPENSSL_free(der);
	raw_san(san, sizeof(san), 7, "\x7f\0\0\x01\x05", 5);
	der = make_csr(p256, "x", san, &len);
	CU_ASSERT_FATAL(len > 0);
	expect_refusal(der, len, NULL, 0, ST_INVALID_ARGUMENT, "name_invalid");
	OPENSSL_free(der);
	/* Other control bytes are no part of a DNS name either. */
	der = make_csr(p256, "x", NULL, &len);
	expect_refusal(der, len, "ctl.hypermesh.online\n", 0, ST_INVALID_ARGUMENT, "name_invalid");
	expect_refusal(der, len, "ctl\x01.hypermesh.online", 0, ST_INVALID_ARGUMENT, "name_invalid");
	OPENSSL_free(der);
}

static void test_key_type(void)
{
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ed);
	size_t len;
	unsigned char *der = make_csr(ed, "x", NULL, &len);
	CU_ASSERT_FATAL(len > 0);
	expect_refusal(der, len, "svc.hypermesh.online", 0, ST_INVALID_ARGUMENT, "key_type_not_allowed");
	OPENSSL_free(der);
	EVP_PKEY_free(ed);
}

static void test_oversized_csr(void)
{
	/* Above the 64 KiB CSR limit but within the message cap: the gateway
	 * refuses it. */
	size_t n = 100 * 1024;
	unsigned char *big = malloc(1200 * 1024);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 0x30, 1200 * 1024);
	expect_refusal(big, n, "svc.hypermesh.online", 0, ST_INVALID_ARGUMENT, "csr_too_large");
	/* Above the 1 MiB message cap: the transport refuses it. */
	expect_refusal(big, 1200 * 1024, "svc.hypermesh.online", 0, ST_RESOURCE_EXHAUSTED, NULL);
	free(big);
	/* And the gateway is still fine. */
	struct tc_status st;
	enum tc_health hs = TC_HEALTH_UNKNOWN;
	CU_ASSERT_EQUAL(tc_health_check(client, "", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_SERVING);
}

#define WORKERS 4
#define PER_WORKER 3

static void *issue_worker(void *arg)
{
	long *ok = arg;
	for (int i = 0; i < PER_WORKER; i++) {
		size_t len;
		unsigned char *der = make_csr(p256, "x", NULL, &len);
		const char *names[] = {"load.hypermesh.online"};
		struct tc_issue_result *r = NULL;
		struct tc_status st;
		if (issue(der, len, names, 1, TC_PROFILE_SERVER, 600, &r, &st) == 0 && r->certificate_pem[0])
			(*ok)++;
		tc_issue_result_free(r);
		OPENSSL_free(der);
	}
	return NULL;
}

/* Several callers at once on one client: every issuance succeeds. */
static void test_concurrent_issue(void)
{
	pthread_t t[WORKERS];
	long ok[WORKERS] = {0};
	for (int i = 0; i < WORKERS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, issue_worker, &ok[i]), 0);
	long total = 0;
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(t[i], NULL);
		total += ok[i];
	}
	CU_ASSERT_EQUAL(total, WORKERS * PER_WORKER);
}

static X509 *issue_one(struct tc_issue_result **r)
{
	size_t len;
	unsigned char *der = make_csr(p256, "x", NULL, &len);
	const char *names[] = {"ct.hypermesh.online"};
	struct tc_status st;
	int rc = issue(der, len, names, 1, TC_PROFILE_SERVER, 600, r, &st);
	OPENSSL_free(der);
	return rc == 0 ? parse_pem((*r)->certificate_pem) : NULL;
}

/* Every certificate embeds the SCT its precertificate got from the log,
 * and the response reports it with where its entry is. */
static void test_issue_embeds_sct(void)
{
	struct tc_issue_result *r = NULL;
	X509 *x = issue_one(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_TRUE(X509_get_ext_by_NID(x, NID_ct_precert_scts, -1) >= 0);
	CU_ASSERT_TRUE(X509_get_ext_by_NID(x, NID_ct_precert_poison, -1) < 0);
	CU_ASSERT_EQUAL_FATAL(r->n_scts, 1);
	const struct tc_sct *sct = &r->scts[0];
	CU_ASSERT_TRUE(sct->sct_len > 40);
	CU_ASSERT_EQUAL(sct->sct[0], 0); /* v1 */
	CU_ASSERT_EQUAL(memcmp(sct->sct + 1, sct->log_id, 32), 0);
	CU_ASSERT(llabs((long long)(sct->timestamp / 1000) - (long long)time(NULL)) < 600);
	/* The embedded list is exactly that one SCT. */
	STACK_OF(SCT) *scts = X509_get_ext_d2i(x, NID_ct_precert_scts, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(scts);
	CU_ASSERT_EQUAL(sk_SCT_num(scts), 1);
	unsigned char *enc = NULL;
	int n = i2o_SCT(sk_SCT_value(scts, 0), &enc);
	CU_ASSERT_EQUAL(n, (int)sct->sct_len);
	CU_ASSERT(n > 0 && memcmp(enc, sct->sct, sct->sct_len) == 0);
	OPENSSL_free(enc);
	SCT_LIST_free(scts);
	/* ct.log_stoq_certificates (default on): the final certificate too. */
	CU_ASSERT_TRUE(r->certificate_logged);
	CU_ASSERT_NOT_EQUAL(memcmp(r->certificate_leaf_hash, sct->leaf_hash, 32), 0);
	X509_free(x);
	tc_issue_result_free(r);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct waiting_issue {
	int ok;        /* issued, with one SCT */
	uint64_t done_ms;
};

static void *issue_while_log_away(void *arg)
{
	struct waiting_issue *w = arg;
	struct tc_issue_result *r = NULL;
	X509 *x = issue_one(&r);
	w->ok = x && r && r->n_scts == 1;
	w->done_ms = mono_ms();
	X509_free(x);
	tc_issue_result_free(r);
	return NULL;
}

/* CT log gone: a call waits for the log up to the gateway's CT deadline (a
 * log that restarts is away for a moment; under the supervisor connections
 * wait in its backlog the same way), then fails UNAVAILABLE ct_unavailable
 * with nothing issued. A log that comes back within the deadline serves the
 * call that was waiting for it. */
static void test_ct_log_down(void)
{
	CU_ASSERT_EQUAL(tc_peer_stop(&ct_log, SIGKILL), 128 + SIGKILL);
	size_t len;
	unsigned char *der = make_csr(p256, "x", NULL, &len);
	uint64_t start = mono_ms();
	expect_refusal(der, len, "svc.hypermesh.online", 0, ST_UNAVAILABLE, "ct_unavailable");
	OPENSSL_free(der);
	uint64_t waited = mono_ms() - start;
	CU_ASSERT(waited >= 9000);  /* TC_GATEWAY_CT_TIMEOUT_MS, less scheduling slack */
	CU_ASSERT(waited < 25000);
	struct tc_status st;
	enum tc_health hs = TC_HEALTH_UNKNOWN;
	CU_ASSERT_EQUAL(tc_health_check(client, "", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_NOT_SERVING);
	CU_ASSERT_EQUAL(tc_health_check(client, "trustchain.v1.Transparency", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_NOT_SERVING);

	/* An issuance made while the log is away, the log started a moment
	 * later: the call gets its certificate, after the log came back. */
	struct waiting_issue w = {0};
	pthread_t t;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, issue_while_log_away, &w), 0);
	usleep(500 * 1000);
	uint64_t log_start = mono_ms();
	CU_ASSERT_EQUAL(tc_peer_start(&h, "transparency", &ct_log), 0);
	pthread_join(t, NULL);
	CU_ASSERT_TRUE(w.ok);
	CU_ASSERT(w.done_ms >= log_start);
	CU_ASSERT_EQUAL(tc_health_check(client, "", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_SERVING);
}

/* Signer gone: health turns NOT_SERVING and issuance UNAVAILABLE with
 * signer_unavailable, promptly and without taking the gateway down. */
static void test_signer_down(void)
{
	CU_ASSERT_EQUAL_FATAL(tc_harness_stop_signer(&h), 0);
	struct tc_status st;
	enum tc_health hs = TC_HEALTH_UNKNOWN;
	time_t start = time(NULL);
	CU_ASSERT_EQUAL(tc_health_check(client, "", &hs, &st), 0);
	CU_ASSERT_EQUAL(hs, TC_HEALTH_NOT_SERVING);
	size_t len;
	unsigned char *der = make_csr(p256, "x", NULL, &len);
	expect_refusal(der, len, "svc.hypermesh.online", 0, 14 /* UNAVAILABLE */, "signer_unavailable");
	OPENSSL_free(der);
	CU_ASSERT(time(NULL) - start < 5);
}

/* SIGTERM: the gateway stops on its own, exit status 0. */
static void test_clean_stop(void)
{
	CU_ASSERT_EQUAL_FATAL(kill(gateway_pid, SIGTERM), 0);
	int status = -1;
	for (int i = 0; i < 100; i++) {
		if (waitpid(gateway_pid, &status, WNOHANG) == gateway_pid)
			break;
		usleep(100 * 1000);
	}
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFEXITED(status) || WIFSIGNALED(status))
		gateway_pid = 0;
	/* With the gateway gone a call fails cleanly (UNAVAILABLE). */
	struct tc_status st;
	enum tc_health hs;
	tc_client_set_timeout(client, 2000);
	CU_ASSERT_EQUAL(tc_health_check(client, "", &hs, &st), -1);
	CU_ASSERT(st.code == 14 || st.code == 4);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BINDIR\n", argv[0]);
		return 2;
	}
	bindir = argv[1];
	static const struct tc_test tests[] = {
		{"health: SERVING with the signer up", test_health_serving},
		{"tls: own certificate from our CA, verified", test_tls_own_certificate},
		{"tls: SIGHUP renews the certificate", test_tls_renewal},
		{"issue: PEM CSR, server profile, openssl verify", test_issue_server_pem},
		{"issue: a retry under the same idempotency key gets the first certificate and its times",
		 test_issue_idempotent_times},
		{"issue: DER CSR, client profile, names from the CSR", test_issue_client_der_names_from_csr},
		{"refused: garbage CSR", test_garbage_csr},
		{"refused: CSR signature broken", test_broken_signature},
		{"refused: names and validity", test_forbidden_name},
		{"refused: names holding a NUL or a control byte", test_names_with_nul},
		{"refused: Ed25519 key", test_key_type},
		{"refused: oversized CSR and message", test_oversized_csr},
		{"issue: concurrent callers", test_concurrent_issue},
		{"issue: embedded SCT from the CT log", test_issue_embeds_sct},
		{"CT log down: waits, then UNAVAILABLE ct_unavailable; back: the waiting call served", test_ct_log_down},
		{"signer down: NOT_SERVING and UNAVAILABLE", test_signer_down},
		{"stop: SIGTERM is clean", test_clean_stop},
		{NULL, NULL},
	};
	return tc_run_suite("gateway_issue", tests, suite_init, suite_cleanup);
}
