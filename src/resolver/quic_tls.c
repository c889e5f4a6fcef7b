/* GnuTLS server sessions and replaceable credentials: see quic_tls.h. */
#include "resolver/quic_tls.h"

#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_quic_creds {
	gnutls_certificate_credentials_t cred;
	unsigned refs;
};

const char tc_quic_tls_priority[] =
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
	"+CHACHA20-POLY1305:+AES-128-CCM:%DISABLE_TLS13_COMPAT_MODE";

struct tc_quic_creds *tc_quic_creds_new(const char *chain_pem, size_t chain_len,
					const char *key_pem, size_t key_len, char *err,
					size_t errlen)
{
	struct tc_quic_creds *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int rv = gnutls_certificate_allocate_credentials(&c->cred);
	if (rv == 0) {
		gnutls_datum_t cert = {(unsigned char *)chain_pem, (unsigned)chain_len};
		gnutls_datum_t key = {(unsigned char *)key_pem, (unsigned)key_len};
		rv = gnutls_certificate_set_x509_key_mem2(c->cred, &cert, &key, GNUTLS_X509_FMT_PEM,
							  NULL, 0);
		/* Returns the index of the key pair (0) on success. */
		if (rv > 0)
			rv = 0;
	}
	if (rv != 0) {
		snprintf(err, errlen, "TLS credentials: %s", gnutls_strerror(rv));
		if (c->cred)
			gnutls_certificate_free_credentials(c->cred);
		free(c);
		return NULL;
	}
	c->refs = 1;
	return c;
}

void tc_quic_creds_ref(struct tc_quic_creds *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
}

void tc_quic_creds_unref(struct tc_quic_creds *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	gnutls_certificate_free_credentials(c->cred);
	free(c);
}

/* After the ClientHello is parsed: GNUTLS_ALPN_MANDATORY only fails when
 * the client offered ALPN without "doq"; a ClientHello without any ALPN
 * must fail too (RFC 9250 §4.1.1). */
static int client_hello_done(gnutls_session_t session, unsigned htype, unsigned when,
			     unsigned incoming, const gnutls_datum_t *msg)
{
	(void)htype;
	(void)when;
	(void)incoming;
	(void)msg;
	gnutls_datum_t alpn;
	if (gnutls_alpn_get_selected_protocol(session, &alpn) != 0 ||
	    alpn.size != strlen(TC_DOQ_ALPN) || memcmp(alpn.data, TC_DOQ_ALPN, alpn.size) != 0)
		return GNUTLS_E_NO_APPLICATION_PROTOCOL;
	return 0;
}

int tc_quic_tls_server_session(gnutls_session_t *out, struct tc_quic_creds *creds,
			       const gnutls_datum_t *ticket_key, ngtcp2_crypto_conn_ref *ref, char *err,
			       size_t errlen)
{
	gnutls_session_t s = NULL;
	/* No GNUTLS_ENABLE_EARLY_DATA: 0-RTT stays off (doq_server.h). With a
	 * ticket key, a NewSessionTicket follows the handshake, so a client
	 * that comes back resumes (RFC 8446 §2.2): no certificate sent, no
	 * signature made (the round trips stay the same without 0-RTT). */
	int rv = gnutls_init(&s, GNUTLS_SERVER | (ticket_key ? 0 : GNUTLS_NO_AUTO_SEND_TICKET));
	const char *what = "gnutls_init";
	if (rv == 0 && ticket_key) {
		what = "tickets";
		rv = gnutls_session_ticket_enable_server(s, ticket_key);
	}
	if (rv == 0 && (what = "priority", rv = gnutls_priority_set_direct(s, tc_quic_tls_priority,
									      NULL)) == 0 &&
	    (what = "credentials",
	     rv = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds->cred)) == 0) {
		gnutls_datum_t alpn = {(unsigned char *)TC_DOQ_ALPN, (unsigned)strlen(TC_DOQ_ALPN)};
		what = "alpn";
		rv = gnutls_alpn_set_protocols(s, &alpn, 1, GNUTLS_ALPN_MANDATORY);
	}
	if (rv == 0) {
		what = "ngtcp2 glue";
		rv = ngtcp2_crypto_gnutls_configure_server_session(s) == 0 ? 0 : GNUTLS_E_INTERNAL_ERROR;
	}
	if (rv != 0) {
		snprintf(err, errlen, "TLS session (%s): %s", what, gnutls_strerror(rv));
		if (s)
			gnutls_deinit(s);
		return -1;
	}
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST,
					   client_hello_done);
	gnutls_session_set_ptr(s, ref);
	*out = s;
	return 0;
}
