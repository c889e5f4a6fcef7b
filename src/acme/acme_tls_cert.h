/* The ACME server's own TLS certificate: a P-256 key generated in memory
 * (never written anywhere) and a certificate for acme.tls_names issued by
 * our CA through the gateway, so it has a precertificate in our CT log like
 * every other (DESIGN.md section 3) and clients trust it with our root. */
#ifndef TC_ACME_TLS_CERT_H
#define TC_ACME_TLS_CERT_H

#include <stddef.h>
#include <time.h>

#include "common/config.h"

struct tc_client;

struct tc_acme_tls {
	char *key_pem;   /* PKCS#8 PEM */
	char *cert_pem;  /* leaf then intermediates */
	time_t not_before, not_after;
};

/* 0, or -1 with err. */
int tc_acme_tls_issue(struct tc_client *ca, const struct tc_string_list *names, struct tc_acme_tls *out, char *err,
		      size_t errlen);

/* When to renew: two thirds into the validity. */
time_t tc_acme_tls_renew_at(const struct tc_acme_tls *t);

void tc_acme_tls_free(struct tc_acme_tls *t);

#endif
