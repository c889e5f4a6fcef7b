/* The issuing intermediates the gateway hands out and chains leaves with
 * during a CA key rollover (signer/issuers.h is the signing side): the
 * configured one (ca/intermediate.pem, key hsm.keys.intermediate) and the
 * next one named by ca/rollover/next ("LABEL CUTOVER", written by
 * `ceremony rollover-intermediate`), whose certificate is
 * ca/rollover/LABEL.pem. The file is re-read when it changes, at most once
 * a second, so a rollover scheduled while the server runs is picked up
 * without a restart. The rollovers `ceremony finalize-rollover` made
 * durable (ca/rollover/finalized, "LABEL CUTOVER" a line, oldest first)
 * are in the first snapshot, the last one issuing; /crl/intermediate.crl
 * and /ca/intermediate.crt keep serving the configured intermediate (the
 * URLs its leaves carry), each later one at /crl/LABEL.crl. Snapshots are immutable and kept until the gateway
 * stops, so a handler may use one without a lock. */
#ifndef TC_GATEWAY_CA_ROLLOVER_H
#define TC_GATEWAY_CA_ROLLOVER_H

#include <stddef.h>
#include <time.h>

#include "gateway/gateway.h"

#define TC_CA_ISSUERS_MAX 8

struct tc_ca_issuer {
	char label[64];          /* its HSM key label: the signer's GetCrl names it so */
	char *pem;               /* its certificate, PEM (then, under a new root, that root's cross
				    certificate from our root) */
	unsigned char *der;      /* its certificate, DER */
	size_t der_len;
	unsigned char *cross_der; /* the cross certificate, DER; NULL under our root */
	size_t cross_der_len;
	const unsigned char *subject; /* its subject Name (inside der) */
	size_t subject_len;
	struct tc_gateway *gw;   /* whose signer serves its CRL */
};

struct tc_ca_set {
	int n;                   /* [0] the configured intermediate, [1..] later ones */
	int pending;             /* 1: is[n-1] is scheduled, issuing from cutover on */
	struct tc_ca_issuer is[TC_CA_ISSUERS_MAX];
	char *chain_pem[2];      /* every intermediate, PEM: [0] the one issuing before cutover first,
				    [1] the last first */
	time_t cutover;          /* of is[n-1] when n > 1 */
};

/* Every intermediate, the one issuing at now first (GetCACertificates). */
const char *tc_ca_set_chain(const struct tc_ca_set *set, time_t now);

/* The current snapshot (re-reading a changed schedule first); NULL before
 * tc_gateway_load_ca. */
const struct tc_ca_set *tc_ca_rollover_get(struct tc_gateway *gw);

/* The intermediate whose subject is the issuer of the certificate der, or
 * NULL. */
const struct tc_ca_issuer *tc_ca_rollover_issuer_of(struct tc_gateway *gw, const unsigned char *der, size_t len);

/* The intermediate with this CRL/certificate file name ("intermediate" is
 * the configured one, else a key label), or NULL. */
const struct tc_ca_issuer *tc_ca_rollover_by_name(struct tc_gateway *gw, const char *name, size_t len);

/* For common/ct_issue.h's issuer_of (arg: the gateway): DER of the
 * intermediate that issued cert, NULL when none matches. */
const unsigned char *tc_ca_rollover_issuer_der(void *gw, const unsigned char *cert, size_t len, size_t *der_len);
/* For common/ct_issue.h's cross_of: the cross certificate (our root ->
 * a new root) after cert's intermediate in the chains the CT log gets,
 * NULL when that intermediate is under our root. */
const unsigned char *tc_ca_rollover_cross_der(void *gw, const unsigned char *cert, size_t len, size_t *der_len);
/* The chain_pem an Issue answer carries for cert: its own intermediate
 * (gw->chain_pem when none matches). */
const char *tc_ca_rollover_chain_of(struct tc_gateway *gw, const unsigned char *cert, size_t len);

/* Makes gw->validator trust every intermediate of the current snapshot
 * (each with its own CRL from the signer); Validate calls it first. */
void tc_ca_rollover_sync_validator(struct tc_gateway *gw);

/* Set up from gw->chain_pem (tc_gateway_load_ca) and freed with it. */
int tc_ca_rollover_init(struct tc_gateway *gw, char *err, size_t errlen);
void tc_ca_rollover_fini(void);

#endif
