/* The DoQ listener's TLS certificate, from our own CA.
 *
 * A thread generates an EC P-256 key in memory (it never touches disk),
 * builds the leaf template for dns.<bootstrap.domain> (the only name the
 * signer lets the resolver have), has the signer sign it, and hands the
 * certificate, the issuing intermediate (ca/intermediate.pem) and the key
 * to the listener as GnuTLS credentials. The leaf is also written to
 * <data_dir>/dns/doq_cert.pem (atomically) for TLSA records and operators.
 *
 * It renews at two thirds of the lifetime with a fresh key; connections
 * keep the credentials they started with, new ones get the new certificate.
 * While the signer is unavailable it retries with back-off (1 s doubling
 * to 30 s); classic DNS never waits for any of this. (Tests set
 * TC_DOQ_RENEW_MS in the environment to renew every few hundred ms.)
 *
 * The certificate is not submitted to the CT log: the resolver has no
 * precertificate capability at the signer, and a listener certificate
 * renewed every few hours would flood the log; clients pin our root
 * instead (trustchainctl dig +quic verifies against ca/root.pem). */
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
