/* GnuTLS for the DoQ listener (RFC 9250 over ngtcp2's GnuTLS glue).
 *
 * The certificate credentials are reference counted so the certificate can
 * be renewed while connections run: each connection holds a reference to
 * the credentials its handshake used, new connections take the newest.
 *
 * Every server session is TLS 1.3 only with the QUIC cipher suites, insists
 * on the ALPN "doq" (a ClientHello offering anything else, or nothing, fails
 * the handshake with no_application_protocol), and never accepts early data:
 * 0-RTT is off (see doq_server.h for why); session resumption by ticket is
 * on. */
#ifndef TC_RESOLVER_QUIC_TLS_H
#define TC_RESOLVER_QUIC_TLS_H

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <stddef.h>

#define TC_DOQ_ALPN "doq"

struct tc_quic_creds;

/* Credentials from a PEM certificate chain (leaf first) and its PEM private
 * key; NULL with err on failure. The caller owns the one reference. */
struct tc_quic_creds *tc_quic_creds_new(const char *chain_pem, size_t chain_len,
					const char *key_pem, size_t key_len, char *err,
					size_t errlen);
/* Thread-safe (atomic) reference counting. */
void tc_quic_creds_ref(struct tc_quic_creds *c);
void tc_quic_creds_unref(struct tc_quic_creds *c);

/* A server session for one QUIC connection: ngtcp2's GnuTLS hooks
 * installed, ref as the session pointer (ngtcp2 finds the connection
 * through it), creds as certificate. With ticket_key (from
 * gnutls_session_ticket_key_generate; GnuTLS rotates the keys it derives
 * from it) the session sends a ticket and accepts resumption; NULL: none.
 * Returns 0 or -1 with err. */
int tc_quic_tls_server_session(gnutls_session_t *out, struct tc_quic_creds *creds,
			       const gnutls_datum_t *ticket_key, ngtcp2_crypto_conn_ref *ref, char *err,
			       size_t errlen);

/* The priority string both ends use: TLS 1.3 and the AEADs QUIC defines. */
extern const char tc_quic_tls_priority[];

#endif
