/* Issuance with embedded SCTs (DESIGN 3, steps 2 to 5): the signer signs a
 * precertificate, the CT log durably stores it and returns an SCT, the
 * signer signs the final certificate with the SCT list (it checks the
 * final certificate is the precertificate's twin), and with
 * ct.log_stoq_certificates the final certificate is logged too. Any
 * failure of the log means no certificate: never one without an SCT. */
#ifndef TC_GATEWAY_CT_EMBED_H
#define TC_GATEWAY_CT_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/gateway.h"

#define TC_SERIAL_MAX 20

/* An SCT as the log gave it, and where its entry is. */
struct tc_logged {
	unsigned char log_id[32];
	uint64_t timestamp;
	unsigned char *sct; /* TLS-encoded SignedCertificateTimestamp (malloc'd) */
	size_t sct_len;
	unsigned char leaf_hash[32];
	int leaf_index_known;
	uint64_t leaf_index;
};

struct tc_issued_cert {
	unsigned char *der; /* the final certificate (malloc'd) */
	size_t der_len;
	unsigned char serial[TC_SERIAL_MAX];
	size_t serial_len;
	struct tc_logged precert; /* the SCT embedded in der */
	int final_logged;         /* the final certificate's own entry */
	struct tc_logged final;   /* logged without an SCT: sct is NULL */
};

/* Signs the template tbs (DER TBSCertificate) as described above. 0, or
 * -1 with res set to the refusal. */
int tc_gateway_issue_with_scts(struct tc_gateway *gw, const unsigned char *tbs, size_t tbs_len,
			       struct tc_issued_cert *out, struct tc_rpc_result *res);
void tc_issued_cert_free(struct tc_issued_cert *c);

/* The TLS SignedCertificateTimestampList (RFC 6962 3.3) of one SCT into
 * out (cap bytes). Returns the length, or 0 when it does not fit. */
size_t tc_sct_list_encode(const unsigned char *sct, size_t sct_len, unsigned char *out, size_t cap);

#endif
