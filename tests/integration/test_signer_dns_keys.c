/* The signer's DNS keys across many rolls in one run (signer/dns_keys.c):
 * a real signer on a real SoftHSM token, keys made by
 * `trustchainctl dns-roll start zsk` (C_GenerateKeyPair in the token), the
 * roll state rewritten between rolls as a finished roll leaves it. Before,
 * the signer kept every DNS key it had loaded in a table of 8 and refused
 * the ninth "until a restart"; the zone could then not be signed with a
 * new key. Now keys the state no longer names are evicted, and a key
 * named again is loaded again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/signer_client.h"
#include "support/signer_harness.h"
#include "unit/cunit_main.h"

#define ROLLS 12 /* more than the table's 8 */
#define DNS_LABEL "tc-dns-zone" /* hsm.keys.dns_zone's default */

static const char *bindir;
static struct tc_harness h;
static struct tc_signer_client *resolver;

typedef Trustchain__Internal__Response Response;
typedef Trustchain__Internal__Request Request;

static int suite_init(void)
{
	if (tc_harness_setup(&h, bindir, NULL) != 0 || tc_harness_start_signer(&h, NULL) != 0)
		return 1;
	resolver = tc_signer_client_new(tc_harness_connect(&h, "resolver"));
	return resolver ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_signer_client_free(resolver);
	tc_harness_cleanup(&h);
	return 0;
}

/* Replaces the roll state with keys (lines "key LABEL ROLE PHASE") and
 * no roll under way, as a finished roll leaves it. */
static int write_state(const char *const *keys, size_t n)
{
	char tmp[600];
	const char *path = tc_harness_path(&h, "dns/roll.state");
	snprintf(tmp, sizeof(tmp), "%s.test", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "trustchain-dns-roll 1\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "key %s %lld\n", keys[i], (long long)time(NULL) - 100);
	int rc = fclose(f);
	return rc == 0 ? rename(tmp, path) : -1;
}

/* The NEW label of the roll line in the state file, into out. */
static int rolled_label(char *out, size_t outlen)
{
	FILE *f = fopen(tc_harness_path(&h, "dns/roll.state"), "r");
	if (!f)
		return -1;
	char line[512], kind[8], label[128];
	int rc = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "roll %7s %127s", kind, label) == 2) {
			snprintf(out, outlen, "%s", label);
			rc = 0;
		}
	fclose(f);
	return rc;
}

/* GetPublicInfo of the DNS key label as the resolver: its status, and
 * the DER public key in pub (up to 200 bytes) when OK. */
static int public_key_of(const char *label, unsigned char *pub, size_t *pub_len)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetPublicInfoRequest gi = TRUSTCHAIN__INTERNAL__GET_PUBLIC_INFO_REQUEST__INIT;
	gi.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE;
	gi.dns_key = (char *)label;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_PUBLIC_INFO;
	req.get_public_info = &gi;
	char err[256];
	Response *r = tc_signer_call(resolver, &req, 10000, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "signer call failed: %s\n", err);
		return -1;
	}
	int status = r->status;
	*pub_len = 0;
	if (status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK && r->get_public_info &&
	    r->get_public_info->public_key.len <= 200) {
		memcpy(pub, r->get_public_info->public_key.data, r->get_public_info->public_key.len);
		*pub_len = r->get_public_info->public_key.len;
	} else if (status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK) {
		fprintf(stderr, "%s: status %d: %s\n", label, status, r->error ? r->error : "");
	}
	trustchain__internal__response__free_unpacked(r, NULL);
	return status;
}

static void test_many_rolls_in_one_run(void)
{
	static char labels[ROLLS][128];
	static unsigned char pubs[ROLLS][200];
	static size_t pub_lens[ROLLS];
	const char *csk_only[] = {DNS_LABEL " csk active"};
	for (int i = 0; i < ROLLS; i++) {
		CU_ASSERT_EQUAL_FATAL(write_state(csk_only, 1), 0);
		if (i)
			sleep(1); /* the new key's label carries the second */
		CU_ASSERT_EQUAL_FATAL(tc_harness_ctl(&h, "dns-roll start zsk > /dev/null"), 0);
		CU_ASSERT_EQUAL_FATAL(rolled_label(labels[i], sizeof(labels[i])), 0);
		int st = public_key_of(labels[i], pubs[i], &pub_lens[i]);
		if (st != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK)
			fprintf(stderr, "roll %d: key %s not served\n", i + 1, labels[i]);
		CU_ASSERT_EQUAL_FATAL(st, TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
		CU_ASSERT(pub_lens[i] > 0);
		for (int j = 0; j < i; j++) {
			CU_ASSERT_STRING_NOT_EQUAL(labels[j], labels[i]);
			CU_ASSERT(pub_lens[j] != pub_lens[i] || memcmp(pubs[j], pubs[i], pub_lens[i]) != 0);
		}
	}
	/* A key of an earlier roll, no longer in the state: refused. */
	unsigned char pub[200];
	size_t pub_len = 0;
	CU_ASSERT_EQUAL_FATAL(write_state(csk_only, 1), 0);
	CU_ASSERT_EQUAL(public_key_of(labels[0], pub, &pub_len), TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST);
	/* Named again (evicted from the table by now): loaded again from the
	 * token, the same public key as before. */
	char line[200];
	snprintf(line, sizeof(line), "%s zsk active", labels[0]);
	const char *again[] = {DNS_LABEL " ksk active", line};
	CU_ASSERT_EQUAL_FATAL(write_state(again, 2), 0);
	CU_ASSERT_EQUAL_FATAL(public_key_of(labels[0], pub, &pub_len), TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK);
	CU_ASSERT_EQUAL(pub_len, pub_lens[0]);
	CU_ASSERT(memcmp(pub, pubs[0], pub_len) == 0);
	/* Every other label stays refused. */
	CU_ASSERT_EQUAL(public_key_of(labels[ROLLS - 1], pub, &pub_len), TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BINDIR\n", argv[0]);
		return 2;
	}
	bindir = argv[1];
	static const struct tc_test tests[] = {
	    {"DNS keys of 12 rolls in one signer run", test_many_rolls_in_one_run},
	    {NULL, NULL},
	};
	return tc_run_suite("signer_dns_keys", tests, suite_init, suite_cleanup);
}
