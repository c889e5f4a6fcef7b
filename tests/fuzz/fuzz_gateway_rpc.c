/* Fuzz target: every gRPC method of the gateway, from the serialized
 * request on: the string walk the RPC layer runs first (rpc_server.c's
 * check_strings: no NUL in a string field), then the method's handler, as
 * trustchain-gateway runs it, against a real signer (SoftHSM) and a real
 * CT log (trustchain-transparency), both started once per process.
 *
 * Input: byte 0 picks the method (tc_gateway_methods, modulo their number),
 * byte 1 the caller (0 anonymous; 1 authenticated for "*.fuzz.hypermesh.online"
 * with the revoke right; 2 authenticated for "*.other.hypermesh.online" without);
 * the rest is the request message.
 * Invariants: no crash, leak or hang; every refusal has a message and a
 * reason; a request with a NUL in a string never reaches a handler; an
 * Issue that succeeds returns a certificate with at least one SCT (a
 * certificate is never returned without its log entry). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pb_strings.h"
#include "fuzz_child.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "trustchain/v1/ca.pb-c.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tc_gateway gw;
static char fuzz_patterns[1][TC_AUTH_PATTERN_MAX] = {"*.fuzz.hypermesh.online"};
static char other_patterns[1][TC_AUTH_PATTERN_MAX] = {"*.other.hypermesh.online"};
static struct tc_auth_principal fuzz_principal, other_principal;
static unsigned long calls, answered_ok, issued;

/* Shows the inputs reach the handlers' success paths, not only refusals. */
static void report(void)
{
	fprintf(stderr, "fuzz_gateway_rpc: %lu calls, %lu answered OK, %lu certificates issued\n", calls,
		answered_ok, issued);
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_gateway_rpc: %s: %s\n", what, err);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	struct tc_child *c = tc_fuzz_child_start("gateway", "gateway", NULL, 1);
	gw.child = c;
	gw.cfg = tc_child_config(c);
	char err[512];
	if (tc_gateway_load_ca(&gw, err, sizeof(err)) != 0)
		die("CA files", err);
	if (tc_gateway_ct_open(&gw, err, sizeof(err)) != 0)
		die("CT link", err);
	if (tc_gateway_validation_start(&gw, err, sizeof(err)) != 0)
		die("validator", err);
	snprintf(fuzz_principal.name, sizeof(fuzz_principal.name), "fuzz");
	fuzz_principal.patterns = fuzz_patterns;
	fuzz_principal.n_patterns = 1;
	fuzz_principal.can_revoke = 1;
	snprintf(other_principal.name, sizeof(other_principal.name), "other");
	other_principal.patterns = other_patterns;
	other_principal.n_patterns = 1;
	atexit(report);
	return 0;
}

static void check_issued(const struct tc_rpc_result *res)
{
	Trustchain__V1__IssueResponse *r = trustchain__v1__issue_response__unpack(NULL, res->body_len, res->body);
	if (!r || !r->certificate_pem || !strstr(r->certificate_pem, "BEGIN CERTIFICATE") || r->n_scts == 0)
		die("Issue", "answered OK without a certificate and its SCTs");
	trustchain__v1__issue_response__free_unpacked(r, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const struct tc_rpc_method *m = &tc_gateway_methods[data[0] % tc_gateway_method_count];
	struct tc_rpc_caller caller;
	memset(&caller, 0, sizeof(caller));
	snprintf(caller.peer, sizeof(caller.peer), "ipv4:127.0.0.1:1");
	snprintf(caller.identity, sizeof(caller.identity), "anonymous");
	if (data[1] % 3) {
		caller.authenticated = 1;
		caller.principal = data[1] % 3 == 1 ? &fuzz_principal : &other_principal;
		snprintf(caller.identity, sizeof(caller.identity), "token:%s", caller.principal->name);
	}
	const uint8_t *req = data + 2;
	size_t len = size - 2;
	/* As the RPC layer: a message with a NUL in a string, or one the
	 * walk cannot read, is refused before any handler sees it. */
	if (tc_pb_strings_check(m->request, req, len, NULL) != TC_PB_STRINGS_OK)
		return 0;
	struct tc_rpc_result res;
	memset(&res, 0, sizeof(res));
	res.code = GRPC_STATUS_OK;
	m->handler(&gw, &caller, req, len, &res);
	calls++;
	answered_ok += res.code == GRPC_STATUS_OK;
	issued += res.code == GRPC_STATUS_OK && m->handler == tc_gateway_issue;
	if (res.code != GRPC_STATUS_OK && (!res.message[0] || !res.reason[0]))
		die(m->path, "a refusal without a message or reason");
	if (res.code == GRPC_STATUS_OK && m->handler == tc_gateway_issue)
		check_issued(&res);
	free(res.body);
	return 0;
}
