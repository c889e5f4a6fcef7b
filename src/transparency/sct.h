/* Signed certificate timestamps (RFC 6962 3.2): the log's promise to
 * include an entry. The signature covers the same TimestampedEntry the
 * sequencer later stores as the leaf, timestamp included. */
#ifndef TC_TRANSPARENCY_SCT_H
#define TC_TRANSPARENCY_SCT_H

#include <stddef.h>
#include <stdint.h>

#include "transparency/ct_encode.h"
#include "transparency/log_signer.h"

/* static-ct-api's CtExtensions with only the leaf_index extension:
 * extension_type leaf_index(0), extension_data<0..2^16-1> holding the
 * 0-based index as a big-endian uint40. The same bytes are the extensions
 * of the entry's TimestampedEntry (so of its leaf and leaf hash) and of
 * its SCT, which covers them. */
#define TC_SCT_LEAF_INDEX_EXT_LEN 8
#define TC_SCT_MAX_LEAF_INDEX ((1ull << 40) - 1)
/* 0, or -1 when index does not fit 40 bits. */
int tc_sct_leaf_index_ext(uint64_t index, unsigned char out[TC_SCT_LEAF_INDEX_EXT_LEN]);
/* Finds the leaf_index extension in a CtExtensions value: 1 with *index
 * set, 0 when there is none, -1 when ext is not a well-formed extension
 * list (bad lengths, a repeated type, a leaf_index not 5 bytes). */
int tc_sct_find_leaf_index(const unsigned char *ext, size_t len, uint64_t *index);

/* Signs entry e (its timestamp is the SCT's, its extensions too) and writes the serialized v1
 * SignedCertificateTimestamp into out. 0, or -1 with err set. */
int tc_sct_issue(struct tc_log_signer *s, const struct tc_ct_entry *e, unsigned char *out, size_t cap,
		 size_t *out_len, char *err, size_t errlen);

/* tc_sct_issue in two halves for a signature asked asynchronously: the
 * bytes to sign (malloc'd into *input), then the SCT from the log ID, the
 * entry and the signature. 0, or -1 with err set. */
int tc_sct_signature_input(const struct tc_ct_entry *e, unsigned char **input, size_t *len, char *err,
			   size_t errlen);
int tc_sct_assemble(const unsigned char log_id[TC_CT_LOG_ID_LEN], const struct tc_ct_entry *e,
		    const unsigned char *sig, size_t sig_len, unsigned char *out, size_t cap, size_t *out_len,
		    char *err, size_t errlen);

#endif
