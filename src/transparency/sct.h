/* Signed certificate timestamps (RFC 6962 3.2): the log's promise to
 * include an entry. The signature covers the same TimestampedEntry the
 * sequencer later stores as the leaf, timestamp included. */
#ifndef TC_TRANSPARENCY_SCT_H
#define TC_TRANSPARENCY_SCT_H

#include <stddef.h>

#include "transparency/ct_encode.h"
#include "transparency/log_signer.h"

/* Signs entry e (its timestamp is the SCT's) and writes the serialized v1
 * SignedCertificateTimestamp into out. 0, or -1 with err set. */
int tc_sct_issue(struct tc_log_signer *s, const struct tc_ct_entry *e, unsigned char *out, size_t cap,
		 size_t *out_len, char *err, size_t errlen);

#endif
