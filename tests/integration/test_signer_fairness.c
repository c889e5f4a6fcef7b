/* The signer's signing pool against a real signer (SoftHSM token, audit
 * journal): one peer's burst of signing requests is all answered, and
 * another peer's request sent in the middle of that burst is answered
 * before the burst ends (it does not wait behind the other peer's queue).
 * usage: test_signer_fairness BINDIR */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc_frame.h"
#include "common/leaf_template.h"
#include "common/signer_client.h"
#include "internal/signer.pb-c.h"
#include "support/signer_harness.h"
#include "unit/cunit_main.h"

/* Well above the signer's in-flight bound per peer (256): the burst lasts
 * several times what the other peer's one request needs. */
#define BURST 2000

static const char *bindir;
static struct tc_harness h;

struct burst {
	int fd;
	atomic_int answered, ok;
	int send_failed;
};

static void *burst_reader(void *arg)
{
	struct burst *b = arg;
	for (int i = 0; i < BURST; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		if (tc_frame_read(b->fd, &buf, &len, 30000) != 1)
			break;
		Trustchain__Internal__Response *r = trustchain__internal__response__unpack(NULL, len, buf);
		free(buf);
		if (r && r->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK)
			atomic_fetch_add(&b->ok, 1);
		trustchain__internal__response__free_unpacked(r, NULL);
		atomic_fetch_add(&b->answered, 1);
	}
	return NULL;
}

/* One precertificate template for a fresh P-256 key, as DER. */
static uint8_t *precert_tbs(size_t *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	unsigned char *spki = NULL;
	int n = k ? i2d_PUBKEY(k, &spki) : -1;
	const char *names[] = {"burst.svc.hypermesh.online"};
	struct tc_leaf_request rq = {.dns_names = names, .n_dns = 1, .server_auth = 1};
	rq.not_before = time(NULL) - 60;
	rq.not_after = rq.not_before + 3600;
	uint8_t *der = NULL;
	char err[256];
	if (n <= 0 || tc_leaf_tbs_der(&rq, spki, (size_t)n, &der, len, err, sizeof(err)) != 0)
		der = NULL;
	OPENSSL_free(spki);
	EVP_PKEY_free(k);
	return der;
}

static void *burst_writer(void *arg)
{
	struct burst *b = arg;
	size_t tlen = 0;
	uint8_t *tbs = precert_tbs(&tlen);
	if (!tbs) {
		b->send_failed = 1;
		return NULL;
	}
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignCertificateRequest sc = TRUSTCHAIN__INTERNAL__SIGN_CERTIFICATE_REQUEST__INIT;
	sc.tbs.data = tbs;
	sc.tbs.len = tlen;
	sc.precertificate = 1;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE;
	req.sign_certificate = &sc;
	uint8_t frame[8192];
	for (uint64_t id = 1; id <= BURST; id++) {
		req.id = id;
		size_t n = trustchain__internal__request__get_packed_size(&req);
		if (n > sizeof(frame) || (trustchain__internal__request__pack(&req, frame), 0) ||
		    tc_frame_write(b->fd, frame, n) != 0) {
			b->send_failed = 1;
			break;
		}
	}
	free(tbs);
	return NULL;
}

static void test_burst_does_not_hold_other_peers(void)
{
	struct burst b = {.fd = tc_harness_connect(&h, "gateway")};
	CU_ASSERT_FATAL(b.fd >= 0);
	struct tc_signer_client *ct = tc_signer_client_new(tc_harness_connect(&h, "transparency"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	pthread_t rd, wr;
	CU_ASSERT_FATAL(pthread_create(&rd, NULL, burst_reader, &b) == 0);
	CU_ASSERT_FATAL(pthread_create(&wr, NULL, burst_writer, &b) == 0);
	/* In the middle of the burst: some answers out, most still to come. */
	for (int i = 0; i < 3000 && atomic_load(&b.answered) < 20; i++)
		usleep(10000);
	int before = atomic_load(&b.answered);
	unsigned char sth[2 + 8 + 8 + 32] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 7};
	Trustchain__Internal__Request sreq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sd.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG;
	sd.data.data = sth;
	sd.data.len = sizeof(sth);
	sreq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
	sreq.sign_data = &sd;
	char err[256];
	Trustchain__Internal__Response *r = tc_signer_call(ct, &sreq, 30000, err, sizeof(err));
	int after = atomic_load(&b.answered);
	CU_ASSERT_PTR_NOT_NULL(r);
	if (r)
		CU_ASSERT_EQUAL(r->status, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	trustchain__internal__response__free_unpacked(r, NULL);
	pthread_join(wr, NULL);
	pthread_join(rd, NULL);
	printf("\n  burst answers: %d before the other peer's request, %d when it was answered, %d/%d ok\n", before,
	       after, atomic_load(&b.ok), BURST);
	CU_ASSERT(before >= 20);
	/* The other peer's one signature did not wait for the burst's end. */
	CU_ASSERT(after < BURST);
	CU_ASSERT_FALSE(b.send_failed);
	CU_ASSERT_EQUAL(atomic_load(&b.ok), BURST);
	tc_signer_client_free(ct);
	close(b.fd);
}

static int suite_init(void)
{
	return tc_harness_setup(&h, bindir, NULL) == 0 && tc_harness_start_signer(&h, NULL) == 0 ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_harness_cleanup(&h);
	return 0;
}

/* Last: the signer stops cleanly with the pool's threads, and the journal
 * holds every record of the burst in a valid chain. */
static void test_clean_stop(void)
{
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
	    {"a burst from one peer holds no other peer's request", test_burst_does_not_hold_other_peers},
	    {"clean stop", test_clean_stop},
	    {NULL, NULL},
	};
	return tc_run_suite("signer signing pool", tests, suite_init, suite_cleanup);
}
