/* Fuzz the RFC 6962 parsers on arbitrary bytes: MerkleTreeLeaf, a single
 * SCT and an SCT list must either be rejected with an error or parse into
 * something that re-encodes to exactly the input (the parsers are strict,
 * so every accepted encoding is the canonical one). The certificate helpers
 * must reject garbage without crashing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transparency/ct_encode.h"
#include "transparency/ct_precert.h"

static void must_round_trip(const char *what, int rc, const uint8_t *data, size_t size, const unsigned char *again,
			    size_t again_len)
{
	if (rc != TC_CT_OK || again_len != size || memcmp(again, data, size) != 0) {
		fprintf(stderr, "%s: accepted input does not re-encode to itself (%s)\n", what, tc_ct_strerror(rc));
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *again = malloc(size + 1);
	if (!again)
		return 0;
	size_t len;

	struct tc_ct_entry e;
	if (tc_ct_parse_leaf(data, size, &e) == TC_CT_OK) {
		int rc = tc_ct_encode_leaf(&e, again, size + 1, &len);
		must_round_trip("MerkleTreeLeaf", rc, data, size, again, len);
	}

	struct tc_ct_sct sct;
	if (tc_ct_parse_sct(data, size, &sct) == TC_CT_OK) {
		int rc = tc_ct_encode_sct(&sct, again, size + 1, &len);
		must_round_trip("SCT", rc, data, size, again, len);
	}

	struct tc_ct_sct list[8];
	size_t count;
	int rc = tc_ct_parse_sct_list(data, size, list, 8, &count);
	if (rc == TC_CT_OK) {
		rc = tc_ct_encode_sct_list(list, count, again, size + 1, &len);
		must_round_trip("SCT list", rc, data, size, again, len);
	} else if (strlen(tc_ct_strerror(rc)) == 0)
		abort();

	unsigned char *out;
	size_t out_len;
	if (tc_ct_precert_tbs(data, size, &out, &out_len) == TC_CT_OK)
		free(out);
	if (tc_ct_cert_sct_list(data, size, &out, &out_len) == TC_CT_OK)
		free(out);
	free(again);
	return 0;
}
