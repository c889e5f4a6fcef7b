/* The gateway's own TLS identity: a P-256 key generated in this process's
 * memory (a leaf key of the gateway, never a CA key) and a server
 * certificate for it issued by our intermediate the way every certificate
 * is (common/ct_issue.h: precertificate, durable CT entry, final
 * certificate with the SCT), or an operator's certificate and key read
 * from files. */
#ifndef TC_GATEWAY_TLS_CERT_H
#define TC_GATEWAY_TLS_CERT_H

#include <stddef.h>
#include <time.h>

#include "common/config.h"
#include "common/ct_issue.h"

struct tc_tls_identity {
	char *key_pem;     /* PKCS#8 private key; cleansed when freed */
	char *chain_pem;   /* leaf certificate then its intermediates */
	time_t not_before, not_after;
	char names[512];   /* the certificate's names, for logs */
};

/* The names the gateway's certificate is issued for: gateway.tls_names, or
 * ca.<bootstrap.domain> (dev adds localhost and 127.0.0.1). Writes them
 * comma-separated into out. */
void tc_tls_default_names(const struct tc_config *cfg, char *out, size_t outlen);

/* Generates a key and has it certified through iss (with the SCT of its
 * precertificate's CT entry embedded), for the longest validity the policy
 * allows; intermediate_pem is appended to the chain. Returns 0, or with a
 * reason in err -1 when a retry may help (the signer or the log away) or
 * -2 when it will not (a refusal). */
int tc_tls_issue_own(const struct tc_ct_issuer *iss, const struct tc_config *cfg, const char *intermediate_pem,
		     struct tc_tls_identity *out, char *err, size_t errlen);

/* Reads gateway.tls_cert_file and gateway.tls_key_file (the key file must be
 * mode 0600 or stricter and match the certificate). Returns 0 or -1. */
int tc_tls_load_files(const struct tc_config *cfg, struct tc_tls_identity *out, char *err, size_t errlen);

/* When to replace id: two thirds into its lifetime. */
time_t tc_tls_renew_at(const struct tc_tls_identity *id);

void tc_tls_identity_free(struct tc_tls_identity *id);

#endif
