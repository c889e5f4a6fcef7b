#include "transparency/sct.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tc_sct_leaf_index_ext(uint64_t index, unsigned char out[TC_SCT_LEAF_INDEX_EXT_LEN])
{
	if (index > TC_SCT_MAX_LEAF_INDEX)
		return -1;
	out[0] = 0; /* leaf_index */
	out[1] = 0;
	out[2] = 5; /* extension_data length */
	for (int i = 0; i < 5; i++)
		out[3 + i] = (unsigned char)(index >> (32 - 8 * i));
	return 0;
}

int tc_sct_find_leaf_index(const unsigned char *ext, size_t len, uint64_t *index)
{
	int found = 0;
	size_t p = 0;
	while (p < len) {
		if (len - p < 3)
			return -1;
		unsigned type = ext[p];
		size_t dlen = ((size_t)ext[p + 1] << 8) | ext[p + 2];
		p += 3;
		if (len - p < dlen)
			return -1;
		if (type == 0) {
			/* duplicates MUST NOT appear (static-ct-api) */
			if (found || dlen != 5)
				return -1;
			uint64_t v = 0;
			for (size_t i = 0; i < 5; i++)
				v = (v << 8) | ext[p + i];
			*index = v;
			found = 1;
		}
		p += dlen;
	}
	return found;
}

int tc_sct_signature_input(const struct tc_ct_entry *e, unsigned char **input, size_t *len, char *err,
			   size_t errlen)
{
	size_t in_len = 0;
	*input = NULL;
	if (tc_ct_encode_sct_signature_input(e, NULL, 0, &in_len) != TC_CT_ERR_SPACE) {
		snprintf(err, errlen, "entry cannot be encoded");
		return -1;
	}
	if (!(*input = malloc(in_len))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (tc_ct_encode_sct_signature_input(e, *input, in_len, len) != TC_CT_OK) {
		free(*input);
		*input = NULL;
		snprintf(err, errlen, "entry cannot be encoded");
		return -1;
	}
	return 0;
}

int tc_sct_assemble(const unsigned char log_id[TC_CT_LOG_ID_LEN], const struct tc_ct_entry *e,
		    const unsigned char *sig, size_t sig_len, unsigned char *out, size_t cap, size_t *out_len,
		    char *err, size_t errlen)
{
	struct tc_ct_sct sct = {.timestamp = e->timestamp, .sig_alg = TC_CT_SIG_ECDSA,
				.extensions = e->extensions, .extensions_len = e->extensions_len,
				.signature = sig, .signature_len = sig_len};
	memcpy(sct.log_id, log_id, sizeof(sct.log_id));
	int st = tc_ct_encode_sct(&sct, out, cap, out_len);
	if (st == TC_CT_OK)
		return 0;
	snprintf(err, errlen, "SCT encoding: %s", tc_ct_strerror(st));
	return -1;
}

int tc_sct_issue(struct tc_log_signer *s, const struct tc_ct_entry *e, unsigned char *out, size_t cap,
		 size_t *out_len, char *err, size_t errlen)
{
	unsigned char *input;
	size_t in_len = 0;
	if (tc_sct_signature_input(e, &input, &in_len, err, errlen) != 0)
		return -1;
	int rc = -1;
	unsigned char sig[TC_LOG_SIGNER_MAX_SIG];
	size_t sig_len = 0;
	if (tc_log_signer_sign(s, input, in_len, sig, sizeof(sig), &sig_len, err, errlen) == 0)
		rc = tc_sct_assemble(s->log_id, e, sig, sig_len, out, cap, out_len, err, errlen);
	free(input);
	return rc;
}
