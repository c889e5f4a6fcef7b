/* A CRL larger than an IPC request frame (1 MiB), against a real signer
 * (SoftHSM token): 30,000 revocations, about 1.4 MiB of DER. The chaos soak
 * met this at ~21,000 revocations: the signer could not write the answer,
 * dropped the gateway's link without a word, and the gateway had no signer
 * for the rest of the run (every Issue UNAVAILABLE). Now the answer comes
 * whole on the same link (answers may be up to TC_IPC_MAX_ANSWER_FRAME),
 * the CRL verifies under the intermediate and lists every serial, and the
 * link still answers after it. The times of the first CRL (every entry
 * encoded) and of the next one (the new entry only) are printed.
 * usage: test_signer_big_crl BINDIR */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/signer_client.h"
#include "internal/signer.pb-c.h"
#include "support/signer_harness.h"
#include "unit/cunit_main.h"

#define REVOKED 30000

static const char *bindir;
static struct tc_harness h;

/* data/ca/revocations.log as the signer writes it: "HEX REASON WHEN". */
static int write_revocations(void)
{
	FILE *f = fopen(tc_harness_path(&h, "ca/revocations.log"), "w");
	if (!f)
		return -1;
	long long when = (long long)time(NULL) - 60;
	for (unsigned i = 0; i < REVOKED; i++)
		fprintf(f, "40%030x 1 %lld\n", i + 1, when);
	int rc = fclose(f);
	chmod(tc_harness_path(&h, "ca/revocations.log"), 0600);
	return rc;
}

static int suite_init(void)
{
	return tc_harness_setup(&h, bindir, NULL) == 0 && write_revocations() == 0 &&
			       tc_harness_start_signer(&h, NULL) == 0
		       ? 0
		       : 1;
}

static int suite_cleanup(void)
{
	tc_harness_cleanup(&h);
	return 0;
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The signer's CRL over link gw, checked against the intermediate: it
 * verifies and lists want serials. */
static X509_CRL *get_crl(struct tc_signer_client *gw, int want, double *ms)
{
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetCrlRequest gc = TRUSTCHAIN__INTERNAL__GET_CRL_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL;
	req.get_crl = &gc;
	char err[256] = "";
	double t0 = now_ms();
	Trustchain__Internal__Response *r = tc_signer_call(gw, &req, 60000, err, sizeof(err));
	*ms = now_ms() - t0;
	if (!r)
		fprintf(stderr, "GetCrl: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	CU_ASSERT(r->get_crl->crl.len > TC_IPC_MAX_FRAME);
	const unsigned char *p = r->get_crl->crl.data;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)r->get_crl->crl.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(crl);
	CU_ASSERT(p == r->get_crl->crl.data + r->get_crl->crl.len);
	CU_ASSERT_EQUAL(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), want);
	FILE *f = fopen(tc_harness_path(&h, "ca/intermediate.pem"), "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	X509 *ica = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ica);
	CU_ASSERT_EQUAL(X509_CRL_verify(crl, X509_get0_pubkey(ica)), 1);
	CU_ASSERT_EQUAL(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ica)), 0);
	X509_free(ica);
	printf("\nCRL of %d revocations: %zu bytes on one answer, in %.1f ms\n", want, r->get_crl->crl.len, *ms);
	trustchain__internal__response__free_unpacked(r, NULL);
	return crl;
}

/* Whether crl lists serial with reasonCode reason. */
static int lists(X509_CRL *crl, const unsigned char *serial, size_t len, int reason)
{
	BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);
	ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	X509_REVOKED *rev = NULL;
	int found = sn && X509_CRL_get0_by_serial(crl, &rev, sn) == 1;
	ASN1_ENUMERATED *e = found ? X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL) : NULL;
	int ok = found && e && ASN1_ENUMERATED_get(e) == reason;
	ASN1_ENUMERATED_free(e);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return ok;
}

static void test_big_crl_on_the_gateway_link(void)
{
	int fd = tc_harness_connect(&h, "gateway");
	CU_ASSERT_FATAL(fd >= 0);
	struct tc_signer_client *gw = tc_signer_client_new(fd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gw);
	double first, again;
	X509_CRL *crl = get_crl(gw, REVOKED, &first);
	unsigned char s1[16] = {0x40}, slast[16] = {0x40};
	s1[15] = 1;
	slast[14] = REVOKED >> 8;
	slast[15] = REVOKED & 0xff;
	CU_ASSERT(lists(crl, s1, sizeof(s1), 1));
	CU_ASSERT(lists(crl, slast, sizeof(slast), 1));
	X509_CRL_free(crl);

	/* One more revocation: the CRL is signed again with it, and only the
	 * new entry is encoded (signer/crl_der.h), so it comes quicker. */
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__RevokeRequest rv = TRUSTCHAIN__INTERNAL__REVOKE_REQUEST__INIT;
	unsigned char fresh[16] = {0x41, 0x02, 0x03};
	rv.serial = (ProtobufCBinaryData){.data = fresh, .len = sizeof(fresh)};
	rv.reason = 4;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_REVOKE;
	req.revoke = &rv;
	char err[256] = "";
	Trustchain__Internal__Response *r = tc_signer_call(gw, &req, 10000, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	trustchain__internal__response__free_unpacked(r, NULL);
	crl = get_crl(gw, REVOKED + 1, &again);
	CU_ASSERT(lists(crl, fresh, sizeof(fresh), 4));
	CU_ASSERT(lists(crl, s1, sizeof(s1), 1));
	X509_CRL_free(crl);

	/* The link still answers. */
	Trustchain__Internal__Request ping = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__PingRequest pr = TRUSTCHAIN__INTERNAL__PING_REQUEST__INIT;
	ping.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_PING;
	ping.ping = &pr;
	r = tc_signer_call(gw, &ping, 10000, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	trustchain__internal__response__free_unpacked(r, NULL);
	CU_ASSERT(tc_signer_client_alive(gw));
	tc_signer_client_free(gw);
}

static void test_clean_stop(void)
{
	CU_ASSERT_EQUAL(tc_harness_stop_signer(&h), 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BINDIR\n", argv[0]);
		return 2;
	}
	bindir = argv[1];
	static const struct tc_test tests[] = {
	    {"a CRL over 1 MiB comes whole on the gateway's link", test_big_crl_on_the_gateway_link},
	    {"clean stop", test_clean_stop},
	    {NULL, NULL},
	};
	return tc_run_suite("signer CRL larger than a request frame", tests, suite_init, suite_cleanup);
}
