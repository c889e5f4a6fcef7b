/* Fuzz target: the CT log's request handlers, both doors: the RFC 6962
 * HTTP API (ct_api.c: method, path, query and JSON body, as http_api.c
 * hands them over) and the internal IPC from the gateway (ct_ipc.c: a
 * serialized Ct.Request). Behind them is the real log: a LevelDB store in
 * a temporary directory holding a tree of 300 leaves, the sequencer, and
 * tree heads and SCTs signed by a real signer (SoftHSM), with the dev
 * CA's chain checker.
 *
 * Input: byte 0 even: HTTP. The rest is "METHOD PATH[?QUERY]\n" then the
 * body. Byte 0 odd: the rest is an internal Ct.Request.
 * Invariants: no crash, leak or hang; HTTP answers are JSON objects with a
 * status from RFC 6962's set (200, 400, 404, 405 with Allow, 413, 503)
 * and 200 only with "success"-free data (never an error_message); IPC
 * answers always decode, with a status and a message when not OK. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fuzz_child.h"
#include "internal/transparency.pb-c.h"
#include "transparency/ct_api.h"
#include "transparency/ct_ipc.h"
#include "transparency/log_signer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tc_ct_api api;
static struct tc_log_signer ls;

static void die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_ct_api: %s: %s\n", what, err);
	abort();
}

static void stop_log(void)
{
	tc_sequencer_stop(api.seq);
	tc_ct_store_close(api.st);
	tc_chain_checker_free(api.chk);
	tc_log_signer_free(&ls);
}

/* 300 leaves straight into the store, so reads have a tree to walk. */
static void grow_tree(struct tc_ct_store *st)
{
	static unsigned char leaves[300][64];
	struct tc_ct_store_entry e[300];
	for (int i = 0; i < 300; i++) {
		memset(leaves[i], i & 0xff, sizeof(leaves[i]));
		leaves[i][0] = (unsigned char)(i >> 8);
		e[i] = (struct tc_ct_store_entry){.leaf_input = leaves[i], .leaf_len = sizeof(leaves[i]),
						   .extra_data = leaves[i], .extra_len = 3};
	}
	uint64_t first;
	if (tc_ct_store_size(st) == 0 && tc_ct_store_append_batch(st, e, 300, &first) != TC_CT_STORE_OK)
		die("store", "cannot append");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	struct tc_child *c = tc_fuzz_child_start("transparency", "transparency", NULL, 0);
	const struct tc_config *cfg = tc_child_config(c);
	char err[512], root[600], inter[600], dir[600];
	snprintf(root, sizeof(root), "%s", tc_harness_path(&tc_fuzz_harness, "ca/root.pem"));
	snprintf(inter, sizeof(inter), "%s", tc_harness_path(&tc_fuzz_harness, "ca/intermediate.pem"));
	snprintf(dir, sizeof(dir), "%s", tc_harness_path(&tc_fuzz_harness, "fuzz-ct-store"));
	if (tc_chain_checker_load(root, inter, &api.chk, err, sizeof(err)) != 0)
		die("roots", err);
	if (tc_ct_store_open(dir, &api.st, err, sizeof(err)) != 0)
		die("store", err);
	grow_tree(api.st);
	if (tc_log_signer_init(&ls, c, err, sizeof(err)) != 0)
		die("log key", err);
	struct tc_sequencer_config scfg = {.interval_ms = 20, .batch_max = cfg->ct.batch_max, .sth_refresh_ms = 0};
	if (tc_sequencer_start(api.st, &ls, &scfg, &api.seq, err, sizeof(err)) != 0)
		die("sequencer", err);
	atexit(stop_log);
	/* The first tree head covers the 300 leaves. */
	struct tc_ct_sth sth;
	for (int i = 0; i < 500 && (tc_ct_store_latest_sth(api.st, &sth) != TC_CT_STORE_OK || sth.tree_size < 300); i++) {
		/* The sequencer signs a head at its first tick. */
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return 0;
}

struct query {
	const char *text; /* "a=1&b=2", NUL-terminated */
	char value[256];
};

static const char *lookup(void *ctx, const char *name)
{
	struct query *q = ctx;
	size_t nlen = strlen(name);
	for (const char *p = q->text; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = len - nlen - 1;
			if (vlen >= sizeof(q->value))
				vlen = sizeof(q->value) - 1;
			memcpy(q->value, p + nlen + 1, vlen);
			q->value[vlen] = '\0';
			return q->value;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static void http(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl || nl - data > 512)
		return;
	char line[513];
	memcpy(line, data, (size_t)(nl - data));
	line[nl - data] = '\0';
	if (strlen(line) != (size_t)(nl - data))
		return; /* the HTTP layer refuses a NUL in the request line */
	char *sp = strchr(line, ' ');
	if (!sp)
		return;
	*sp = '\0';
	char *path = sp + 1, *qm = strchr(path, '?');
	struct query q = {.text = ""};
	if (qm) {
		*qm = '\0';
		q.text = qm + 1;
	}
	size_t body_len = size - (size_t)(nl + 1 - data);
	/* An exact-size copy: reads past the body are ASan's to see. */
	char *body = malloc(body_len ? body_len : 1);
	if (!body)
		return;
	memcpy(body, nl + 1, body_len);
	struct tc_ct_reply r;
	tc_ct_api_handle(&api, line, path, lookup, &q, body_len ? body : NULL, body_len, &r);
	free(body);
	if (!r.body)
		return; /* out of memory is the server's to answer 500 */
	json_error_t jerr;
	json_t *j = json_loads(r.body, 0, &jerr);
	switch (r.status) {
	case 200: case 400: case 404: case 405: case 413: case 503:
		break;
	default:
		fprintf(stderr, "status %u body %s\n", r.status, r.body);
		die("HTTP", "status outside RFC 6962's set");
	}
	if (!json_is_object(j) || (r.status == 405 && !r.allow) ||
	    (r.status == 200) != (json_object_get(j, "error_message") == NULL))
		die("HTTP", r.body);
	json_decref(j);
	free(r.body);
}

static void ipc(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	if (tc_ct_ipc_handle(&api, data, size, &out, &out_len) != 0)
		return;
	Trustchain__Internal__Ct__Response *resp = trustchain__internal__ct__response__unpack(NULL, out_len, out);
	if (!resp)
		die("IPC", "answer does not decode");
	if (resp->status != TRUSTCHAIN__INTERNAL__CT__STATUS__STATUS_OK && (!resp->error || !resp->error[0]))
		die("IPC", "a refusal without a message");
	trustchain__internal__ct__response__free_unpacked(resp, NULL);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		ipc(data + 1, size - 1);
	else
		http(data + 1, size - 1);
	return 0;
}
