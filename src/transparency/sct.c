#include "transparency/sct.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tc_sct_issue(struct tc_log_signer *s, const struct tc_ct_entry *e, unsigned char *out, size_t cap,
		 size_t *out_len, char *err, size_t errlen)
{
	size_t in_len = 0;
	if (tc_ct_encode_sct_signature_input(e, NULL, 0, &in_len) != TC_CT_ERR_SPACE) {
		snprintf(err, errlen, "entry cannot be encoded");
		return -1;
	}
	unsigned char *input = malloc(in_len);
	if (!input) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	unsigned char sig[TC_LOG_SIGNER_MAX_SIG];
	size_t sig_len = 0;
	if (tc_ct_encode_sct_signature_input(e, input, in_len, &in_len) != TC_CT_OK) {
		snprintf(err, errlen, "entry cannot be encoded");
	} else if (tc_log_signer_sign(s, input, in_len, sig, sizeof(sig), &sig_len, err, errlen) == 0) {
		struct tc_ct_sct sct = {.timestamp = e->timestamp, .sig_alg = TC_CT_SIG_ECDSA,
					.signature = sig, .signature_len = sig_len};
		memcpy(sct.log_id, s->log_id, sizeof(sct.log_id));
		int st = tc_ct_encode_sct(&sct, out, cap, out_len);
		if (st == TC_CT_OK)
			rc = 0;
		else
			snprintf(err, errlen, "SCT encoding: %s", tc_ct_strerror(st));
	}
	free(input);
	return rc;
}
