/* The signer as its peers see it: a real signer process on a real SoftHSM
 * token after a dev ceremony, driven over IPC sockets. Certificates it signs
 * are checked with the openssl CLI; every policy and capability refusal must
 * come from the signer itself (nothing here goes through a gateway); bad
 * frames cost the sender its connection and nobody else anything. The test
 * plays the CT log where a final certificate needs an SCT (sct_mint.h). */
#include <errno.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/leaf_template.h"
#include "common/signer_client.h"
#include "support/sct_mint.h"
#include "support/signer_harness.h"
#include "unit/cunit_main.h"

static const char *bindir;
static struct tc_harness h;
static struct tc_signer_client *gateway, *transparency, *resolver;
static EVP_PKEY *leaf_key;
static struct tc_sct_minter minter;

typedef Trustchain__Internal__Response Response;
typedef Trustchain__Internal__Request Request;

static int suite_init(void)
{
	if (tc_harness_setup(&h, bindir, NULL) != 0 || tc_harness_start_signer(&h, NULL) != 0)
		return 1;
	gateway = tc_signer_client_new(tc_harness_connect(&h, "gateway"));
	transparency = tc_signer_client_new(tc_harness_connect(&h, "transparency"));
	resolver = tc_signer_client_new(tc_harness_connect(&h, "resolver"));
	leaf_key = EVP_EC_gen("P-256");
	return gateway && transparency && resolver && leaf_key && tc_sct_minter_open(&minter, &h) == 0 ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_signer_client_free(gateway);
	tc_signer_client_free(transparency);
	tc_signer_client_free(resolver);
	tc_sct_minter_close(&minter);
	EVP_PKEY_free(leaf_key);
	tc_harness_cleanup(&h);
	return 0;
}

static Response *call(struct tc_signer_client *c, Request *req)
{
	char err[256];
	Response *r = tc_signer_call(c, req, 10000, err, sizeof(err));
	if (!r)
		fprintf(stderr, "signer call failed: %s\n", err);
	return r;
}

/* A leaf template's DER for name, valid from a minute ago for hours;
 * mutate (may be NULL) edits it first. */
static unsigned char *leaf_template(const char *name, long hours, void (*mutate)(X509 *), size_t *len)
{
	const char *names[] = {name};
	time_t now = time(NULL);
	struct tc_leaf_request rq = {.pubkey = leaf_key, .dns_names = names, .n_dns = 1,
				     .server_auth = 1, .not_before = now - 60,
				     .not_after = now - 60 + hours * 3600};
	char err[256];
	X509 *x = tc_leaf_template_new(&rq, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	if (mutate)
		mutate(x);
	unsigned char *der;
	CU_ASSERT_FATAL(tc_template_tbs_der(x, &der, len) == 0);
	X509_free(x);
	return der;
}

/* Asks peer c to sign a leaf template as a precertificate: the first step
 * of every issuance, where policy is enforced. */
static Response *sign_leaf(struct tc_signer_client *c, const char *name, long hours,
			   void (*mutate)(X509 *))
{
	size_t len;
	unsigned char *der = leaf_template(name, hours, mutate, &len);
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignCertificateRequest sc = TRUSTCHAIN__INTERNAL__SIGN_CERTIFICATE_REQUEST__INIT;
	sc.tbs.data = der;
	sc.tbs.len = len;
	sc.precertificate = 1;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE;
	req.sign_certificate = &sc;
	Response *r = call(c, &req);
	OPENSSL_free(der);
	return r;
}

/* Also checks the machine-readable reason peers act on (never the text). */
static void expect_reason(Response *r, Trustchain__Internal__Status st, const char *reason)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, st);
	CU_ASSERT_STRING_EQUAL(r->reason, reason);
	trustchain__internal__response__free_unpacked(r, NULL);
}

static void expect_status(Response *r, Trustchain__Internal__Status st, const char *why)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, st);
	if (why) {
		CU_ASSERT_PTR_NOT_NULL(strstr(r->error, why));
		if (!strstr(r->error, why))
			fprintf(stderr, "expected '%s' in '%s'\n", why, r->error);
	}
	trustchain__internal__response__free_unpacked(r, NULL);
}

static int run(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_ping_names_the_peer(void)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__PingRequest ping = TRUSTCHAIN__INTERNAL__PING_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_PING;
	req.ping = &ping;
	Response *r = call(transparency, &req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	CU_ASSERT_STRING_EQUAL(r->ping->peer, "transparency");
	trustchain__internal__response__free_unpacked(r, NULL);
}

static char issued_serial_hex[64];

static void test_issued_leaf_verifies_with_openssl(void)
{
	size_t tlen, len;
	unsigned char *tbs = leaf_template("svc.hypermesh.online", 1, NULL, &tlen);
	char err[400];
	unsigned char *der = tc_sct_minter_issue(&minter, gateway, tbs, tlen, &len, NULL, NULL, err, sizeof(err));
	OPENSSL_free(tbs);
	if (!der)
		fprintf(stderr, "issuance failed: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(der);
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	free(der);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	CU_ASSERT_EQUAL(sn->length, 16);
	for (int i = 0; i < sn->length && i < 16; i++)
		sprintf(issued_serial_hex + 2 * i, "%02X", sn->data[i]);
	char leaf[600];
	snprintf(leaf, sizeof(leaf), "%s/leaf.pem", h.dir);
	FILE *f = fopen(leaf, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	PEM_write_X509(f, x);
	fclose(f);
	/* The signer, not the template, decides CA:FALSE and the AKI. */
	CU_ASSERT_EQUAL(X509_check_ca(x), 0);
	CU_ASSERT_PTR_NOT_NULL(X509_get0_authority_key_id(x));
	CU_ASSERT(X509_get_ext_by_NID(x, NID_ct_precert_scts, -1) >= 0);
	X509_free(x);
	char cmd[2400];
	snprintf(cmd, sizeof(cmd),
		 "openssl verify -purpose sslserver -CAfile %s -untrusted %s %s",
		 tc_harness_path(&h, "ca/root.pem"), tc_harness_path(&h, "ca/intermediate.pem"), leaf);
	CU_ASSERT_EQUAL(run(cmd), 0);
	/* And a foreign root must not accept it. */
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other "
		 "-keyout %s/other.key -out %s/other.pem -days 1 2>/dev/null && "
		 "openssl verify -CAfile %s/other.pem -untrusted %s %s >/dev/null 2>&1",
		 h.dir, h.dir, h.dir, tc_harness_path(&h, "ca/intermediate.pem"), leaf);
	CU_ASSERT_NOT_EQUAL(run(cmd), 0);
}

static void test_policy_refuses_long_validity(void)
{
	expect_status(sign_leaf(gateway, "svc.hypermesh.online", 48, NULL),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "exceeds the policy maximum");
	expect_reason(sign_leaf(gateway, "svc.hypermesh.online", 48, NULL),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "validity_exceeds_policy");
}

static void test_policy_refuses_forbidden_name(void)
{
	expect_status(sign_leaf(gateway, "www.example.com", 1, NULL),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "outside the permitted suffixes");
	expect_status(sign_leaf(gateway, "evilhypermesh.online", 1, NULL),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "outside the permitted suffixes");
	expect_reason(sign_leaf(gateway, "www.example.com", 1, NULL), TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY,
		      "name_not_permitted");
	/* The resolver's link may only get dns.<domain>. */
	expect_reason(sign_leaf(resolver, "svc.hypermesh.online", 1, NULL),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "name_not_permitted");
}

static void make_ca(X509 *x)
{
	int idx = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
	X509_EXTENSION_free(X509_delete_ext(x, idx));
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	bc->ca = 1;
	X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT);
	BASIC_CONSTRAINTS_free(bc);
}

static void test_policy_refuses_ca_true(void)
{
	expect_status(sign_leaf(gateway, "svc.hypermesh.online", 1, make_ca),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "CA:TRUE");
	expect_reason(sign_leaf(gateway, "svc.hypermesh.online", 1, make_ca),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "extension_not_allowed");
}

static void test_capabilities_are_per_peer(void)
{
	/* The CT log's socket cannot get certificates signed... */
	expect_status(sign_leaf(transparency, "svc.hypermesh.online", 1, NULL),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED, "not allowed for peer transparency");
	/* ...the gateway's cannot use the CT log key... */
	unsigned char sth[2 + 8 + 8 + 32] = {0, 1};
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG;
	sd.data.data = sth;
	sd.data.len = sizeof(sth);
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
	req.sign_data = &sd;
	expect_status(call(gateway, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED, "not allowed");
	/* ...nobody may sign arbitrary data with the root key... */
	sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_ROOT;
	expect_status(call(transparency, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED, NULL);
	/* ...and the resolver only gets a certificate for its own name. */
	expect_status(sign_leaf(resolver, "svc.hypermesh.online", 1, NULL),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "may only obtain");
	expect_status(sign_leaf(resolver, "dns.trust.hypermesh.online", 1, NULL),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK, NULL);
}

static void test_ct_key_signs_only_ct_structures(void)
{
	unsigned char sth[2 + 8 + 8 + 32] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 42};
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG;
	sd.data.data = sth;
	sd.data.len = sizeof(sth);
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
	req.sign_data = &sd;
	Response *r = call(transparency, &req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	/* The signature verifies under the CT log public key the signer reports. */
	Request info_req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetPublicInfoRequest gi = TRUSTCHAIN__INTERNAL__GET_PUBLIC_INFO_REQUEST__INIT;
	gi.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG;
	info_req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_PUBLIC_INFO;
	info_req.get_public_info = &gi;
	Response *info = call(transparency, &info_req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(info);
	CU_ASSERT_EQUAL_FATAL(info->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	const unsigned char *p = info->get_public_info->public_key.data;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)info->get_public_info->public_key.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	CU_ASSERT(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1);
	CU_ASSERT(EVP_DigestVerify(md, r->sign_data->signature.data, r->sign_data->signature.len, sth,
				   sizeof(sth)) == 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	trustchain__internal__response__free_unpacked(info, NULL);
	trustchain__internal__response__free_unpacked(r, NULL);
	/* Anything not shaped like an RFC 6962 signed struct is refused. */
	unsigned char junk[64] = {0x30, 0x82};
	sd.data.data = junk;
	sd.data.len = sizeof(junk);
	expect_status(call(transparency, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, NULL);
}

static void test_revocation_shows_in_a_verifiable_crl(void)
{
	CU_ASSERT_FATAL(issued_serial_hex[0] != '\0');
	unsigned char serial[16];
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(issued_serial_hex + 2 * i, "%2X", &v);
		serial[i] = (unsigned char)v;
	}
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__RevokeRequest rv = TRUSTCHAIN__INTERNAL__REVOKE_REQUEST__INIT;
	rv.serial.data = serial;
	rv.serial.len = sizeof(serial);
	rv.reason = 1; /* keyCompromise */
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_REVOKE;
	req.revoke = &rv;
	expect_reason(call(transparency, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED, "operation_not_allowed");
	rv.reason = 7; /* unused in RFC 5280 */
	expect_reason(call(gateway, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST, "reason_invalid");
	unsigned char too_long[21] = {0x40};
	rv.serial.data = too_long;
	rv.serial.len = sizeof(too_long);
	rv.reason = 1; /* keyCompromise */
	expect_reason(call(gateway, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST, "serial_invalid");
	/* No RFC 5280 serial number: zero, and 20 octets that need a 21st
	 * as a positive INTEGER. Neither could enter a CRL. */
	unsigned char zero[4] = {0}, wide[20] = {0x80};
	rv.serial.data = zero;
	rv.serial.len = sizeof(zero);
	expect_reason(call(gateway, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST, "serial_invalid");
	rv.serial.data = wide;
	rv.serial.len = sizeof(wide);
	expect_reason(call(gateway, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST, "serial_invalid");
	rv.serial.data = serial;
	rv.serial.len = sizeof(serial);
	expect_reason(call(gateway, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK, "");
	/* The same number with a leading zero octet is the same serial: a
	 * repeat, not a second CRL entry. */
	unsigned char padded[17] = {0};
	memcpy(padded + 1, serial, sizeof(serial));
	rv.serial.data = padded;
	rv.serial.len = sizeof(padded);
	expect_reason(call(gateway, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK, "");

	Request creq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetCrlRequest gc = TRUSTCHAIN__INTERNAL__GET_CRL_REQUEST__INIT;
	creq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL;
	creq.get_crl = &gc;
	Response *r = call(gateway, &creq);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	char crl[600], cmd[2400];
	snprintf(crl, sizeof(crl), "%s/crl.der", h.dir);
	FILE *f = fopen(crl, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(r->get_crl->crl.data, 1, r->get_crl->crl.len, f);
	fclose(f);
	trustchain__internal__response__free_unpacked(r, NULL);
	snprintf(cmd, sizeof(cmd),
		 "openssl crl -inform DER -in %s -CAfile %s -noout 2>&1 | grep -q 'verify OK' && "
		 "test \"$(openssl crl -inform DER -in %s -noout -text | grep -c 'Serial Number: %s')\" = 1",
		 crl, tc_harness_path(&h, "ca/intermediate.pem"), crl, issued_serial_hex);
	CU_ASSERT_EQUAL(run(cmd), 0);
}

/* Sends raw bytes on a fresh connection and reports whether the signer hung up. */
/* A template's DER for name (fixed validity, so two calls give the same
 * bytes); mutate (may be NULL) edits it first. */
static unsigned char *template_der_mut(const char *name, time_t nb, void (*mutate)(X509 *), size_t *len)
{
	const char *names[] = {name};
	struct tc_leaf_request rq = {.pubkey = leaf_key, .dns_names = names, .n_dns = 1, .server_auth = 1,
				     .not_before = nb, .not_after = nb + 3600};
	char err[256];
	X509 *x = tc_leaf_template_new(&rq, err, sizeof(err));
	if (x && mutate)
		mutate(x);
	unsigned char *der = NULL;
	if (!x || tc_template_tbs_der(x, &der, len) != 0)
		der = NULL;
	X509_free(x);
	return der;
}

static unsigned char *template_der(const char *name, time_t nb, size_t *len)
{
	return template_der_mut(name, nb, NULL, len);
}

/* A precertificate (list NULL) or a final certificate with the SCT list
 * list (may be empty: a plain certificate) for serial (may be empty). */
static Response *sign_tbs(struct tc_signer_client *c, const unsigned char *tbs, size_t len,
			  const unsigned char *list, size_t list_len, const unsigned char *serial, size_t serial_len)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignCertificateRequest sc = TRUSTCHAIN__INTERNAL__SIGN_CERTIFICATE_REQUEST__INIT;
	sc.tbs.data = (unsigned char *)tbs;
	sc.tbs.len = len;
	sc.precertificate = !list;
	if (list) {
		sc.sct_list.data = (unsigned char *)list;
		sc.sct_list.len = list_len;
		sc.serial.data = (unsigned char *)serial;
		sc.serial.len = serial_len;
	}
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE;
	req.sign_certificate = &sc;
	return call(c, &req);
}

static X509 *cert_of(Response *r)
{
	const unsigned char *p = r->sign_certificate->certificate.data;
	return d2i_X509(NULL, &p, (long)r->sign_certificate->certificate.len);
}

/* The SCT list our log would give for the precertificate in r. */
static unsigned char *sct_list_for(Response *r, size_t *len)
{
	unsigned char *list = NULL;
	CU_ASSERT_FATAL(tc_sct_mint_list(&minter, r->sign_certificate->certificate.data,
					 r->sign_certificate->certificate.len, &list, len) == 0);
	return list;
}

/* RFC 6962: the final certificate is its precertificate's twin (same TBS
 * once the poison and the SCT list are taken out), for the same serial,
 * once, and only for the peer and template of that precertificate. */
static void test_precertificate_then_final(void)
{
	time_t nb = time(NULL) - 60;
	size_t len_a, len_b;
	unsigned char *a = template_der("twin.hypermesh.online", nb, &len_a);
	unsigned char *b = template_der("other.hypermesh.online", nb, &len_b);
	CU_ASSERT_FATAL(a && b);
	Response *pre = sign_tbs(gateway, a, len_a, NULL, 0, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pre);
	CU_ASSERT_EQUAL_FATAL(pre->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	unsigned char serial[64];
	size_t serial_len = pre->sign_certificate->serial.len, list_len;
	memcpy(serial, pre->sign_certificate->serial.data, serial_len);
	unsigned char *list = sct_list_for(pre, &list_len);

	/* Another template or another peer cannot use that precertificate. */
	expect_reason(sign_tbs(gateway, b, len_b, list, list_len, serial, serial_len),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "precertificate_unknown");
	Response *other = sign_tbs(resolver, a, len_a, list, list_len, serial, serial_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_NOT_EQUAL(other->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	trustchain__internal__response__free_unpacked(other, NULL);

	Response *fin = sign_tbs(gateway, a, len_a, list, list_len, serial, serial_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fin);
	CU_ASSERT_EQUAL_FATAL(fin->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	CU_ASSERT_EQUAL(fin->sign_certificate->serial.len, serial_len);
	CU_ASSERT_EQUAL(memcmp(fin->sign_certificate->serial.data, serial, serial_len), 0);
	X509 *xp = cert_of(pre), *xf = cert_of(fin);
	CU_ASSERT_FATAL(xp && xf);
	CU_ASSERT(X509_get_ext_by_NID(xp, NID_ct_precert_poison, -1) >= 0);
	CU_ASSERT(X509_get_ext_by_NID(xf, NID_ct_precert_poison, -1) < 0);
	CU_ASSERT(X509_get_ext_by_NID(xf, NID_ct_precert_scts, -1) >= 0);
	/* Twins: without their CT extension the two TBSCertificates are equal. */
	X509_EXTENSION_free(X509_delete_ext(xp, X509_get_ext_by_NID(xp, NID_ct_precert_poison, -1)));
	X509_EXTENSION_free(X509_delete_ext(xf, X509_get_ext_by_NID(xf, NID_ct_precert_scts, -1)));
	unsigned char *tp = NULL, *tf = NULL;
	int lp = i2d_re_X509_tbs(xp, &tp), lf = i2d_re_X509_tbs(xf, &tf);
	CU_ASSERT(lp > 0 && lp == lf && memcmp(tp, tf, (size_t)lp) == 0);
	OPENSSL_free(tp);
	OPENSSL_free(tf);
	X509_free(xp);
	X509_free(xf);
	trustchain__internal__response__free_unpacked(pre, NULL);
	trustchain__internal__response__free_unpacked(fin, NULL);

	/* Once: a second final certificate for that serial is refused. */
	expect_reason(sign_tbs(gateway, a, len_a, list, list_len, serial, serial_len),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "precertificate_unknown");
	free(list);
	OPENSSL_free(a);
	OPENSSL_free(b);
}

/* The serial a caller writes in its template is ignored (the signer sets
 * its own): the same certificate from other request bytes, so the final
 * certificate is completed from the template again instead of reusing the
 * precertificate's. */
static void template_serial_4242(X509 *x)
{
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
}

enum forgery { SIGNED_BY_OTHER_KEY_AS_OURS, OTHER_LOG };

/* An SCT list for the precertificate in pre that a taken-over peer could
 * make: signed by a key that is not our log's, under our log's ID or the
 * other key's own. */
static unsigned char *forged_list(Response *pre, enum forgery kind, size_t *len)
{
	EVP_PKEY *other = EVP_EC_gen("P-256");
	unsigned char *in = NULL, *spki = NULL, other_id[32], sig[128], *list = NULL;
	size_t in_len = 0, sig_len = sizeof(sig);
	int spki_len = other ? i2d_PUBKEY(other, &spki) : -1;
	CU_ASSERT_FATAL(spki_len > 0);
	EVP_Digest(spki, (size_t)spki_len, other_id, NULL, EVP_sha256(), NULL);
	OPENSSL_free(spki);
	CU_ASSERT_FATAL(tc_sct_precert_input(minter.issuer_key_hash, pre->sign_certificate->certificate.data,
					     pre->sign_certificate->certificate.len, 1700000000000ull, &in,
					     &in_len) == 0);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	CU_ASSERT_FATAL(md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, other) == 1 &&
			EVP_DigestSign(md, sig, &sig_len, in, in_len) == 1);
	EVP_MD_CTX_free(md);
	free(in);
	EVP_PKEY_free(other);
	CU_ASSERT_FATAL(tc_sct_list_of(kind == OTHER_LOG ? other_id : minter.log_id, 1700000000000ull, sig, sig_len,
				       &list, len) == 0);
	return list;
}

static Response *expect_ok(Response *r)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	if (r->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK)
		fprintf(stderr, "refused: %s (%s)\n", r->error, r->reason);
	CU_ASSERT_EQUAL_FATAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	return r;
}

/* The final certificate of pre: it embeds the SCT list it was given. */
static void expect_final_of(Response *fin, Response *pre)
{
	X509 *xf = cert_of(fin), *xp = cert_of(pre);
	CU_ASSERT_FATAL(xf && xp);
	CU_ASSERT(X509_get_ext_by_NID(xf, NID_ct_precert_scts, -1) >= 0);
	CU_ASSERT_EQUAL(ASN1_INTEGER_cmp(X509_get0_serialNumber(xp), X509_get0_serialNumber(xf)), 0);
	X509_free(xf);
	X509_free(xp);
	trustchain__internal__response__free_unpacked(fin, NULL);
}

/* What a taken-over gateway or resolver could ask for, refused by the
 * signer itself: a plain certificate (with or without a precertificate's
 * serial), a final certificate whose SCT list is garbage, signed by
 * another key (under our log's ID or its own), or our log's genuine SCT
 * for another precertificate, and a final certificate with no
 * precertificate behind it. The real final certificates pass afterwards:
 * a refused final certificate does not use up its precertificate. */
static void final_refusals_on(struct tc_signer_client *link, const char *name)
{
	time_t nb = time(NULL) - 60;
	size_t la, la2, lb, lb2, lc, list_a_len, list_b_len, forged_len, other_len;
	unsigned char *a = template_der(name, nb, &la), *a2 = template_der_mut(name, nb, template_serial_4242, &la2);
	unsigned char *b = template_der(name, nb + 7, &lb);
	unsigned char *b2 = template_der_mut(name, nb + 7, template_serial_4242, &lb2);
	unsigned char *c = template_der(name, nb + 13, &lc);
	CU_ASSERT_FATAL(a && a2 && b && b2 && c);
	const unsigned char none[1] = {0};
	const unsigned char garbage[] = {0x00, 0x06, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef};
	const Trustchain__Internal__Status policy = TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY;

	expect_reason(sign_tbs(link, a, la, none, 0, NULL, 0), policy, "precertificate_required");
	Response *pre_a = expect_ok(sign_tbs(link, a, la, NULL, 0, NULL, 0));
	Response *pre_b = expect_ok(sign_tbs(link, b, lb, NULL, 0, NULL, 0));
	const ProtobufCBinaryData sa = pre_a->sign_certificate->serial, sb = pre_b->sign_certificate->serial;
	expect_reason(sign_tbs(link, a, la, none, 0, sa.data, sa.len), policy, "precertificate_required");
	unsigned char *list_a = sct_list_for(pre_a, &list_a_len), *list_b = sct_list_for(pre_b, &list_b_len);
	unsigned char *forged = forged_list(pre_a, SIGNED_BY_OTHER_KEY_AS_OURS, &forged_len);
	unsigned char *other = forged_list(pre_a, OTHER_LOG, &other_len);

	/* The precertificate's very template (its completed certificate reused)... */
	expect_reason(sign_tbs(link, a, la, garbage, sizeof(garbage), sa.data, sa.len), policy, "sct_invalid");
	expect_reason(sign_tbs(link, a, la, forged, forged_len, sa.data, sa.len), policy, "sct_invalid");
	expect_reason(sign_tbs(link, a, la, other, other_len, sa.data, sa.len), policy, "sct_invalid");
	expect_reason(sign_tbs(link, a, la, list_b, list_b_len, sa.data, sa.len), policy, "sct_invalid");
	/* ...and other bytes for the same certificate (completed again). */
	expect_reason(sign_tbs(link, a2, la2, forged, forged_len, sa.data, sa.len), policy, "sct_invalid");
	expect_reason(sign_tbs(link, a2, la2, other, other_len, sa.data, sa.len), policy, "sct_invalid");
	expect_reason(sign_tbs(link, a2, la2, list_b, list_b_len, sa.data, sa.len), policy, "sct_invalid");
	/* No precertificate at all: a serial this signer never gave, a real SCT. */
	unsigned char made_up[16] = {0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	expect_reason(sign_tbs(link, c, lc, list_b, list_b_len, made_up, sizeof(made_up)), policy,
		      "precertificate_unknown");
	expect_reason(sign_tbs(link, c, lc, list_b, list_b_len, sb.data, sb.len), policy, "precertificate_unknown");

	expect_final_of(expect_ok(sign_tbs(link, a, la, list_a, list_a_len, sa.data, sa.len)), pre_a);
	expect_final_of(expect_ok(sign_tbs(link, b2, lb2, list_b, list_b_len, sb.data, sb.len)), pre_b);
	trustchain__internal__response__free_unpacked(pre_a, NULL);
	trustchain__internal__response__free_unpacked(pre_b, NULL);
	free(list_a);
	free(list_b);
	free(forged);
	free(other);
	OPENSSL_free(a);
	OPENSSL_free(a2);
	OPENSSL_free(b);
	OPENSSL_free(b2);
	OPENSSL_free(c);
}

static void test_gateway_final_needs_logged_precertificate(void)
{
	final_refusals_on(gateway, "final.svc.hypermesh.online");
}

static void test_resolver_final_needs_logged_precertificate(void)
{
	final_refusals_on(resolver, "dns.trust.hypermesh.online");
}

static int signer_hangs_up_on(const void *bytes, size_t len)
{
	int fd = tc_harness_connect(&h, "gateway");
	if (fd < 0)
		return 0;
	if (write(fd, bytes, len) != (ssize_t)len) {
		close(fd);
		return 0;
	}
	char buf[64];
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = read(fd, buf, sizeof(buf));
	int reset = n < 0 && errno == ECONNRESET;
	close(fd);
	/* Closing a unix socket with our unread bytes still queued resets it:
	 * EOF and ECONNRESET both mean the signer hung up. */
	return n == 0 || reset;
}

static void expect_signer_alive(void)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__PingRequest ping = TRUSTCHAIN__INTERNAL__PING_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_PING;
	req.ping = &ping;
	expect_status(call(gateway, &req), TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK, NULL);
}

/* The resolver's DoQ certificate takes the path every certificate takes
 * (precertificate, then its final twin with the SCT list), and its link's
 * one-name restriction holds on both steps: another name is refused as a
 * precertificate and as a final certificate (whatever serial it names). */
static void test_resolver_precertificate_then_final(void)
{
	time_t nb = time(NULL) - 60;
	size_t len_own, len_other;
	unsigned char *own = template_der("dns.trust.hypermesh.online", nb, &len_own);
	unsigned char *other = template_der("svc.hypermesh.online", nb, &len_other);
	CU_ASSERT_FATAL(own && other);
	expect_reason(sign_tbs(resolver, other, len_other, NULL, 0, NULL, 0),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "name_not_permitted");
	Response *pre = sign_tbs(resolver, own, len_own, NULL, 0, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pre);
	CU_ASSERT_EQUAL_FATAL(pre->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	unsigned char serial[64];
	size_t serial_len = pre->sign_certificate->serial.len, list_len;
	memcpy(serial, pre->sign_certificate->serial.data, serial_len);
	unsigned char *list = sct_list_for(pre, &list_len);
	expect_reason(sign_tbs(resolver, other, len_other, list, list_len, serial, serial_len),
		      TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "name_not_permitted");
	Response *fin = sign_tbs(resolver, own, len_own, list, list_len, serial, serial_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fin);
	CU_ASSERT_EQUAL_FATAL(fin->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	X509 *xp = cert_of(pre), *xf = cert_of(fin);
	CU_ASSERT_FATAL(xp && xf);
	CU_ASSERT(X509_get_ext_by_NID(xp, NID_ct_precert_poison, -1) >= 0);
	CU_ASSERT(X509_get_ext_by_NID(xf, NID_ct_precert_scts, -1) >= 0);
	CU_ASSERT_EQUAL(ASN1_INTEGER_cmp(X509_get0_serialNumber(xp), X509_get0_serialNumber(xf)), 0);
	CU_ASSERT_EQUAL(X509_check_host(xf, "dns.trust.hypermesh.online", 0, 0, NULL), 1);
	X509_free(xp);
	X509_free(xf);
	trustchain__internal__response__free_unpacked(pre, NULL);
	trustchain__internal__response__free_unpacked(fin, NULL);
	free(list);
	OPENSSL_free(own);
	OPENSSL_free(other);
}

static void test_bad_frames_close_only_that_connection(void)
{
	const unsigned char oversized[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
	const unsigned char empty[] = {0, 0, 0, 0};
	const unsigned char garbage[] = {0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	CU_ASSERT(signer_hangs_up_on(oversized, sizeof(oversized)));
	expect_signer_alive();
	CU_ASSERT(signer_hangs_up_on(empty, sizeof(empty)));
	expect_signer_alive();
	CU_ASSERT(signer_hangs_up_on(garbage, sizeof(garbage)));
	expect_signer_alive();
	/* A truncated frame followed by a hang-up from our side. */
	int fd = tc_harness_connect(&h, "gateway");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, "\0\0\1\0abc", 7) == 7);
	close(fd);
	expect_signer_alive();
	/* An unknown peer name gets no connection at all. */
	fd = tc_harness_connect(&h, "intruder");
	char b;
	CU_ASSERT(fd >= 0 && read(fd, &b, 1) == 0);
	if (fd >= 0)
		close(fd);
	expect_signer_alive();
}

/* A peer that sends signing requests and stops reading the answers must
 * not stall the signer for the others: its answers pile up in its socket
 * until writing them times out, then that connection alone is dropped. */
static void test_peer_not_reading_stalls_nobody(void)
{
	int fd = tc_harness_connect(&h, "gateway");
	CU_ASSERT_FATAL(fd >= 0);
	size_t tlen = 0;
	unsigned char *tbs = template_der("stuck.svc.hypermesh.online", time(NULL) - 60, &tlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tbs);
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignCertificateRequest sc = TRUSTCHAIN__INTERNAL__SIGN_CERTIFICATE_REQUEST__INIT;
	sc.tbs.data = tbs;
	sc.tbs.len = tlen;
	sc.precertificate = 1;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE;
	req.sign_certificate = &sc;
	/* Certificates of ~1 KiB each: a few hundred fill the socket. We send
	 * until the signer stops reading us (our in-flight cap, or its answers
	 * to us stuck): then our send times out. */
	struct timeval stv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &stv, sizeof(stv));
	int sent = 0;
	for (uint64_t id = 1; id <= 2000; id++) {
		req.id = id;
		size_t n = trustchain__internal__request__get_packed_size(&req);
		unsigned char *frame = malloc(4 + n);
		frame[0] = (unsigned char)(n >> 24);
		frame[1] = (unsigned char)(n >> 16);
		frame[2] = (unsigned char)(n >> 8);
		frame[3] = (unsigned char)n;
		trustchain__internal__request__pack(&req, frame + 4);
		ssize_t w = send(fd, frame, 4 + n, MSG_NOSIGNAL);
		free(frame);
		if (w != (ssize_t)(4 + n))
			break; /* the socket is full (a cut frame is fine: we never finish it) */
		sent++;
	}
	CU_ASSERT(sent >= 256);
	OPENSSL_free(tbs);
	/* Meanwhile the CT log's signatures keep coming. */
	unsigned char sth[2 + 8 + 8 + 32] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 7};
	Request sreq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG;
	sd.data.data = sth;
	sd.data.len = sizeof(sth);
	sreq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
	sreq.sign_data = &sd;
	for (int i = 0; i < 3; i++)
		expect_status(call(transparency, &sreq), TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK, NULL);
	/* The stuck connection was dropped: draining it ends in EOF. */
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	CU_ASSERT(n == 0 || (n < 0 && errno == ECONNRESET));
	close(fd);
	expect_signer_alive();
}

static void test_journal_records_signatures_and_refusals(void)
{
	CU_ASSERT_EQUAL(tc_harness_ctl(&h, "journal verify >/dev/null"), 0);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd),
		 "grep -q '\"op\":\"sign_certificate\".*\"result\":\"ok\"' %s && "
		 "grep -q '\"op\":\"sign_certificate\".*\"result\":\"policy\".*no SCT from our CT log' %s && "
		 "grep -q '\"result\":\"denied\"' %s && grep -q '\"result\":\"policy\"' %s && "
		 "grep -q '\"op\":\"revoke\"' %s",
		 tc_harness_path(&h, "journal/audit.jsonl"), tc_harness_path(&h, "journal/audit.jsonl"),
		 tc_harness_path(&h, "journal/audit.jsonl"), tc_harness_path(&h, "journal/audit.jsonl"),
		 tc_harness_path(&h, "journal/audit.jsonl"));
	CU_ASSERT_EQUAL(run(cmd), 0);
}

static void test_ceremony_refused_while_signer_holds_journal(void)
{
	/* Two writers would fork the hash chain: the journal is locked. */
	CU_ASSERT_NOT_EQUAL(tc_harness_ctl(&h, "ceremony create-key dns-zone >/dev/null 2>&1"), 0);
}

static void test_clean_stop(void)
{
	tc_signer_client_free(gateway);
	tc_signer_client_free(transparency);
	tc_signer_client_free(resolver);
	gateway = transparency = resolver = NULL;
	CU_ASSERT_EQUAL(tc_harness_stop_signer(&h), 0);
	CU_ASSERT_EQUAL(tc_harness_ctl(&h, "journal verify >/dev/null"), 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BINDIR\n", argv[0]);
		return 2;
	}
	bindir = argv[1];
	static const struct tc_test tests[] = {
	    {"ping names the peer", test_ping_names_the_peer},
	    {"issued leaf verifies with openssl", test_issued_leaf_verifies_with_openssl},
	    {"policy refuses long validity", test_policy_refuses_long_validity},
	    {"policy refuses forbidden name", test_policy_refuses_forbidden_name},
	    {"policy refuses CA:TRUE", test_policy_refuses_ca_true},
	    {"capabilities are per peer", test_capabilities_are_per_peer},
	    {"CT key signs only CT structures", test_ct_key_signs_only_ct_structures},
	    {"revocation shows in a verifiable CRL", test_revocation_shows_in_a_verifiable_crl},
	    {"precertificate, then its final twin once", test_precertificate_then_final},
	    {"resolver: precertificate and final, its own name only", test_resolver_precertificate_then_final},
	    {"gateway: no final certificate without a logged precertificate",
	     test_gateway_final_needs_logged_precertificate},
	    {"resolver: no final certificate without a logged precertificate",
	     test_resolver_final_needs_logged_precertificate},
	    {"bad frames close only that connection", test_bad_frames_close_only_that_connection},
	    {"a peer that stops reading stalls nobody", test_peer_not_reading_stalls_nobody},
	    {"journal records signatures and refusals", test_journal_records_signatures_and_refusals},
	    {"ceremony refused while the signer holds the journal", test_ceremony_refused_while_signer_holds_journal},
	    {"clean stop", test_clean_stop},
	    {NULL, NULL},
	};
	return tc_run_suite("signer over IPC", tests, suite_init, suite_cleanup);
}
