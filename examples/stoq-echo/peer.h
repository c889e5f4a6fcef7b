/* What the stoq-echo client and server share: the command line that says
 * how to verify the peer (TrustChain online, local, or a plain CA file for
 * comparison), the node's own certificate, and a GnuTLS session for QUIC
 * with mutual TLS and the TrustChain hook. */
#ifndef STOQ_ECHO_PEER_H
#define STOQ_ECHO_PEER_H

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <stdint.h>

#include "trustchain/verify.h"

#define STOQ_ALPN "stoq-echo"

struct peer_config {
	const char *cert_file, *key_file;   /* our chain (leaf first) and key, PEM */
	const char *peer_name;              /* the name the peer must hold ("" none) */
	const char *mode;                   /* online | local | cafile */
	const char *gateway, *gateway_ca;   /* host:port and its root */
	const char *gateway_token;          /* bearer token file (optional) */
	const char *root, *intermediate, *log_key, *crl_url;
	const char *cafile;                 /* cafile mode */
	int cache_ttl_ms, crl_refresh_ms, crl_max_age_ms;
	int quiet;
};

struct peer {
	struct peer_config cfg;
	struct tc_client *client;           /* the gateway, online/local */
	struct tc_verifier *verifier;       /* NULL in cafile mode */
	struct peer_creds *creds;           /* the current certificate */
	/* cafile mode: what GnuTLS checks; it keeps a pointer to this for
	 * the life of every session, so it lives here, not on a stack. */
	gnutls_typed_vdata_st vdata[2];
};

/* Credentials shared by the sessions that started with them. */
struct peer_creds {
	gnutls_certificate_credentials_t cred;
	unsigned refs;
};

/* Long options both programs take, and their parsing: 1 when opt was one. */
#define PEER_LONG_OPTIONS                                                       \
	{"cert", 1, 0, 0x200}, {"key", 1, 0, 0x201}, {"peer-name", 1, 0, 0x202},  \
	{"mode", 1, 0, 0x203}, {"gateway", 1, 0, 0x204}, {"gateway-ca", 1, 0, 0x205}, \
	{"root", 1, 0, 0x206}, {"intermediate", 1, 0, 0x207}, {"log-key", 1, 0, 0x208}, \
	{"crl-url", 1, 0, 0x209}, {"cafile", 1, 0, 0x20a}, {"cache-ttl-ms", 1, 0, 0x20b}, \
	{"crl-refresh-ms", 1, 0, 0x20c}, {"crl-max-age-ms", 1, 0, 0x20d}, {"quiet", 0, 0, 0x20e}, \
	{"gateway-token", 1, 0, 0x20f}
int peer_option(struct peer_config *c, int opt, const char *arg);
extern const char peer_usage[];

/* Opens the gateway client and verifier; 0 or -1 (printed). */
int peer_open(struct peer *p);
void peer_close(struct peer *p);
/* Re-reads cert_file/key_file: new sessions get the new certificate,
 * sessions in progress keep theirs. 0 or -1 (printed). */
int peer_load_cert(struct peer *p);

/* A QUIC TLS session: server or client, with our certificate, demanding
 * the peer's and verifying it as peer_name for purpose. ref is ngtcp2's.
 * *creds_out gets the credentials the session holds (peer_session_free). */
int peer_session(struct peer *p, int server, ngtcp2_crypto_conn_ref *ref, gnutls_session_t *out,
		 struct peer_creds **creds_out);
void peer_session_free(gnutls_session_t s, struct peer_creds *creds);
/* Why the session's peer was refused (verdict reasons), or "". */
void peer_refusal(gnutls_session_t s, char *out, size_t outlen);

uint64_t peer_now_ns(void);
void peer_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx);

#endif
