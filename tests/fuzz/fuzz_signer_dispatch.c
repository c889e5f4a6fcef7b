/* Fuzz target: the signer's request handler (src/signer/dispatch.c), every
 * operation under every peer name, in-process with the real HSM (a SoftHSM
 * token from the dev ceremony), journal and revocation store, as the
 * signer's IPC workers call it on a decoded frame.
 *
 * Input: byte 0 picks the peer (gateway, transparency, resolver, control);
 * the rest is a serialized internal Request (api/internal/signer.proto).
 * Invariants: no crash or leak; every decoded request gets a response with
 * its id; OK only for an operation within the peer's capabilities, with a
 * result of that operation; an error always says why; a certificate signed
 * on request is never a CA certificate and always carries the precert
 * poison or an SCT list (no final certificate without log entries).
 *
 * The signer's state grows with what it accepts (revocations, whose CRL is
 * rebuilt and signed on every GetCrl; journal records; idempotency keys):
 * one run slowed from 16,000 to 900 executions a second after 1.3 million.
 * Every RESET_EVERY inputs the signer is stopped, its data directory put
 * back as the dev ceremony left it, and started again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fuzz_child.h"
#include "signer/signer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tc_signer signer;
static struct tc_config cfg;
static unsigned long inputs;

#define RESET_EVERY 20000
static struct tc_peer_identity peers[4];
static const char *const peer_names[4] = {"gateway", "transparency", "resolver", "control"};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_signer_dispatch: %s\n", what);
	abort();
}

static void fini(void)
{
	tc_signer_fini(&signer);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *bindir = getenv("TC_FUZZ_BINDIR");
	if (tc_harness_setup(&tc_fuzz_harness, bindir ? bindir : TC_FUZZ_DEFAULT_BINDIR, NULL) != 0)
		die("dev ceremony failed");
	char err[512];
	if (tc_config_load(&cfg, tc_fuzz_harness.config, err, sizeof(err)) != 0)
		die(err);
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "cp -a '%s/data' '%s/data.ceremony'", tc_fuzz_harness.dir, tc_fuzz_harness.dir);
	if (system(cmd) != 0)
		die("cannot keep a copy of the data directory");
	if (tc_signer_init(&signer, &cfg, err, sizeof(err)) != 0)
		die(err);
	atexit(fini);
	for (int i = 0; i < 4; i++)
		if (tc_peer_identity_for(&signer.cfg, peer_names[i], &peers[i]) != 0)
			die("unknown peer name");
	return 0;
}

/* The capability an operation needs, 0 when it depends on the request. */
static unsigned needed(Trustchain__Internal__Request__OpCase op)
{
	switch (op) {
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE: return TC_CAP_SIGN_CERT;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA: return TC_CAP_SIGN_CT | TC_CAP_SIGN_DNS;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_PUBLIC_INFO: return TC_CAP_PUBLIC;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_RANDOM: return TC_CAP_RANDOM;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_REVOKE: return TC_CAP_REVOKE;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL: return TC_CAP_CRL;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_PING: return TC_CAP_PING;
	default: return 0;
	}
}

static void check_certificate(const ProtobufCBinaryData *der)
{
	const unsigned char *p = der->data;
	X509 *x = d2i_X509(NULL, &p, (long)der->len);
	if (!x || p != der->data + der->len)
		die("signed certificate does not parse");
	int poison = X509_get_ext_by_NID(x, NID_ct_precert_poison, -1) >= 0;
	int scts = X509_get_ext_by_NID(x, NID_ct_precert_scts, -1) >= 0;
	if (X509_check_ca(x) != 0 || poison == scts)
		die("signed a CA certificate, or a certificate neither precert nor with SCTs");
	X509_free(x);
}

/* The signer again on the data directory of the ceremony. */
static void reset_signer(void)
{
	tc_signer_fini(&signer);
	char cmd[1400], err[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/data' && cp -a '%s/data.ceremony' '%s/data'", tc_fuzz_harness.dir,
		 tc_fuzz_harness.dir, tc_fuzz_harness.dir);
	if (system(cmd) != 0)
		die("cannot put the data directory back");
	if (tc_signer_init(&signer, &cfg, err, sizeof(err)) != 0)
		die(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (++inputs % RESET_EVERY == 0)
		reset_signer();
	if (size < 1)
		return 0;
	const struct tc_peer_identity *peer = &peers[data[0] % 4];
	Trustchain__Internal__Request *req = trustchain__internal__request__unpack(NULL, size - 1, data + 1);
	if (!req)
		return 0;
	uint8_t *out = NULL;
	size_t out_len = 0;
	if (tc_signer_handle(&signer, peer, req, &out, &out_len) != 0)
		die("no response (out of memory?)");
	Trustchain__Internal__Response *resp = trustchain__internal__response__unpack(NULL, out_len, out);
	if (!resp || resp->id != req->id)
		die("response undecodable or for another id");
	if (resp->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK) {
		unsigned cap = needed(req->op_case);
		if (!cap || !(peer->caps & cap))
			die("OK for an operation outside the peer's capabilities");
		if (resp->result_case == TRUSTCHAIN__INTERNAL__RESPONSE__RESULT__NOT_SET)
			die("OK without a result");
		if (resp->result_case == TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_CERTIFICATE)
			check_certificate(&resp->sign_certificate->certificate);
	} else if (!resp->error || !resp->error[0]) {
		die("a refusal that does not say why");
	}
	trustchain__internal__response__free_unpacked(resp, NULL);
	trustchain__internal__request__free_unpacked(req, NULL);
	free(out);
	return 0;
}
