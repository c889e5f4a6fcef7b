/* TLSA records (RFC 6698, RFC 7671) for our own service endpoints, derived
 * at zone build time from the certificates in the data directory:
 *
 *   _<gateway port>._tcp.ca.<domain>   2 1 1 and 2 0 1 of ca/intermediate.pem
 *   _<ct http port>._tcp.ct.<domain>   2 1 1 and 2 0 1 of ca/intermediate.pem
 *   _<quic port>._udp.dns.<domain>     2 1 1 and 2 0 1 of ca/intermediate.pem,
 *                                      3 1 1 of dns/doq_cert.pem (first cert)
 *
 * DANE-TA (usage 2) names our issuing intermediate as the trust anchor for
 * every certificate the CA issues for these services, so a certificate
 * renewal needs no DNS change; DANE-EE (usage 3) pins the DoQ server's own
 * key, so a DoQ client can authenticate it without any CA.
 *
 * During a CA key rollover (ca/rollover/next, "LABEL CUTOVER": see
 * gateway/ca_rollover.h) the next intermediate ca/rollover/LABEL.pem gets
 * the same 2 1 1 and 2 0 1 records beside the configured one's: published
 * from the moment the schedule is seen (at the next zone build), so the
 * certificates renewed after the cut-over, chained with it, match. */
#ifndef TC_RESOLVER_TLSA_H
#define TC_RESOLVER_TLSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/zone.h"

struct tc_config;

#define TC_TLSA_USAGE_DANE_TA 2
#define TC_TLSA_USAGE_DANE_EE 3
#define TC_TLSA_SELECTOR_CERT 0
#define TC_TLSA_SELECTOR_SPKI 1
#define TC_TLSA_MATCH_FULL 0
#define TC_TLSA_MATCH_SHA256 1
#define TC_TLSA_MATCH_SHA512 2

/* Certificate association data of a DER certificate for (selector,
 * matching type). out needs 64 octets for the hashes, the DER length for
 * full data. Returns the length, 0 when the certificate cannot be parsed
 * or out is too small. */
size_t tc_tlsa_association(const uint8_t *der, size_t derlen, uint8_t selector, uint8_t mtype,
			   uint8_t *out, size_t cap);

/* What tc_zone_add_service_tlsa found, for the caller's log. */
struct tc_tlsa_report {
	bool intermediate;      /* DANE-TA records added */
	bool doq_cert;          /* DANE-EE record added */
	char problem[512];      /* a certificate file present but unusable */
};

/* "host:port" (or "[v6]:port") -> port; 0 when there is none. */
uint16_t tc_tlsa_port_of(const char *listen);

/* Adds the records above. Missing certificate files are skipped (the CA may
 * not be set up yet, the DoQ server may not have a certificate yet);
 * an unreadable one is reported in rep->problem and skipped too. -1 only
 * when the zone refuses a record. */
int tc_zone_add_service_tlsa(struct tc_zone *zone, const struct tc_config *cfg,
			     struct tc_tlsa_report *rep, char *err, size_t errlen);

#endif
