/* TrustChain peer verification for OpenSSL (and ngtcp2's OpenSSL/quictls
 * backends): an SSL_CTX_set_cert_verify_callback callback that replaces
 * OpenSSL's own chain verification with tc_verifier_check.
 *
 *   tc_openssl_attach(ctx, verifier, "peer.example", TC_PURPOSE_SERVER_AUTH);
 *
 * sets the callback and SSL_VERIFY_PEER (| SSL_VERIFY_FAIL_IF_NO_PEER_CERT
 * for a server asking clients) on ctx. A connection may expect another name
 * (a client reaching several servers): tc_openssl_expect(ssl, ...). After
 * the handshake (failed or not) tc_openssl_verdict(ssl) says why. */
#ifndef TRUSTCHAIN_VERIFY_OPENSSL_H
#define TRUSTCHAIN_VERIFY_OPENSSL_H

#include <openssl/ssl.h>

#include "trustchain/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The verifier must outlive ctx. name may be NULL (no name check). 0, or -1. */
int tc_openssl_attach(SSL_CTX *ctx, struct tc_verifier *v, const char *name, enum tc_purpose purpose);
/* This connection's expected peer name and purpose instead of the ctx's. */
int tc_openssl_expect(SSL *ssl, const char *name, size_t name_len, enum tc_purpose purpose);
/* The last decision on ssl's peer, or NULL when none was made. */
const struct tc_verdict *tc_openssl_verdict(const SSL *ssl);

/* The callback itself, for applications that set it themselves (arg is
 * ignored: the state is attached by tc_openssl_attach). */
int tc_openssl_verify_cb(X509_STORE_CTX *store, void *arg);

#ifdef __cplusplus
}
#endif

#endif
