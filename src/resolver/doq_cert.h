/* The DoQ listener's TLS certificate, from our own CA.
 *
 * A thread generates an EC P-256 key in memory (it never touches disk),
 * builds the leaf template for dns.<bootstrap.domain> (the only name the
 * signer lets the resolver have) and has it certified the way every
 * certificate of our CA is (common/ct_issue.h): the signer signs a
 * precertificate, the CT log (<data_dir>/run/transparency.sock) stores it
 * durably and returns an SCT, the signer signs the final certificate with
 * that SCT (and with ct.log_stoq_certificates it is logged too). Then it
 * hands the certificate, the issuing intermediate (ca/intermediate.pem) and
 * the key to the listener as GnuTLS credentials. The leaf is also written
 * to <data_dir>/dns/doq_cert.pem (atomically) for TLSA records and
 * operators. No certificate is installed before its precertificate's
 * entry is durable: while the log is away (it may start after us) DoQ
 * waits, classic DNS does not.
 *
 * It renews at two thirds of the lifetime with a fresh key, through the
 * same flow; connections keep the credentials they started with, new ones
 * get the new certificate. While the signer is unavailable it retries with
 * back-off (1 s doubling to 30 s); while the log does not answer, every
 * second after each call's own wait for it. (Tests set TC_DOQ_RENEW_MS in
 * the environment to renew every few hundred ms.) */
#ifndef TC_RESOLVER_DOQ_CERT_H
#define TC_RESOLVER_DOQ_CERT_H

#include <stddef.h>

#include "common/child_runtime.h"
#include "resolver/quic_tls.h"

/* Called on the certificate thread with fresh credentials; the callee takes
 * its own reference if it keeps them. */
typedef void (*tc_doq_cert_install_fn)(void *arg, struct tc_quic_creds *creds);

struct tc_doq_cert;

int tc_doq_cert_start(struct tc_child *child, const struct tc_config *cfg,
		      tc_doq_cert_install_fn install, void *arg, struct tc_doq_cert **out,
		      char *err, size_t errlen);
void tc_doq_cert_stop(struct tc_doq_cert *m);

#endif
