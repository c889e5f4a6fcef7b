/* TrustChain peer verification for GnuTLS (and ngtcp2's GnuTLS backend):
 * a gnutls_session_set_verify_function hook that decides with
 * tc_verifier_check instead of GnuTLS's own trust list.
 *
 *   tc_gnutls_attach(session, verifier, "peer.example", len, TC_PURPOSE_SERVER_AUTH);
 *
 * The session pointer (gnutls_session_set_ptr) stays the application's:
 * ngtcp2 keeps its connection there. The hook's per-session state lives in
 * a table of its own until tc_gnutls_detach (call it before
 * gnutls_deinit). A server asking for client certificates still calls
 * gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE). */
#ifndef TRUSTCHAIN_VERIFY_GNUTLS_H
#define TRUSTCHAIN_VERIFY_GNUTLS_H

#include <gnutls/gnutls.h>

#include "trustchain/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The verifier must outlive the session. 0, or -1 (out of memory). */
int tc_gnutls_attach(gnutls_session_t session, struct tc_verifier *v, const char *name, size_t name_len,
		     enum tc_purpose purpose);
void tc_gnutls_detach(gnutls_session_t session);
/* Copies the last decision on session's peer into out: 0, or -1 when none. */
int tc_gnutls_verdict(gnutls_session_t session, struct tc_verdict *out);

#ifdef __cplusplus
}
#endif

#endif
