/* stoq_openssl_probe: one TLS 1.3 handshake between two OpenSSL endpoints
 * in memory (a BIO pair), each verifying the other through
 * tc_openssl_attach, for stoq_echo_test.sh: the OpenSSL hook against the
 * same running gateway and certificates as the GnuTLS one.
 *
 *   stoq_openssl_probe MODE GATEWAY ROOT INTERMEDIATE LOGKEY SRV.pem SRV.key CLI.pem CLI.key
 *                      SERVER_NAME CLIENT_NAME
 * MODE is online or local. Prints each side's verdict; exit 0 when both
 * trusted the other and the handshake finished, 1 when refused, 2 on
 * set-up errors. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "trustchain/verify_openssl.h"

static SSL_CTX *ctx_for(int server, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void print_verdict(const char *who, const SSL *ssl)
{
	const struct tc_verdict *vd = tc_openssl_verdict(ssl);
	if (!vd) {
		printf("%s: no verdict\n", who);
		return;
	}
	printf("%s: %s", who, tc_decision_name(vd->decision));
	for (size_t i = 0; i < vd->n_reasons; i++)
		printf(" %s", tc_reason_name(vd->reasons[i]));
	printf("%s%s\n", vd->detail[0] ? " -- " : "", vd->detail);
}

int main(int argc, char **argv)
{
	if (argc != 12) {
		fprintf(stderr, "usage: see the comment at the top of stoq_openssl_probe.c\n");
		return 2;
	}
	char err[512];
	struct tc_client_options co = {.root_ca_file = argv[3]};
	struct tc_client *client = tc_client_open_opts(argv[2], &co, err, sizeof(err));
	const char *keys[1] = {argv[5]};
	int local = strcmp(argv[1], "local") == 0;
	struct tc_verifier_options vo = {.mode = local ? TC_VERIFY_LOCAL : TC_VERIFY_ONLINE,
					 .client = client,
					 .root_file = local ? argv[3] : NULL,
					 .intermediate_file = argv[4],
					 .log_key_files = keys,
					 .n_log_key_files = 1};
	struct tc_verifier *v = client ? tc_verifier_new(&vo, err, sizeof(err)) : NULL;
	SSL_CTX *sctx = ctx_for(1, argv[6], argv[7]), *cctx = ctx_for(0, argv[8], argv[9]);
	if (!v || !sctx || !cctx || tc_openssl_attach(sctx, v, argv[11], TC_PURPOSE_CLIENT_AUTH) != 0 ||
	    tc_openssl_attach(cctx, v, argv[10], TC_PURPOSE_SERVER_AUTH) != 0) {
		fprintf(stderr, "set-up: %s\n", v ? "TLS contexts" : err);
		return 2;
	}
	SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
	BIO *sb = NULL, *cb = NULL;
	if (!s || !c || BIO_new_bio_pair(&sb, 0, &cb, 0) != 1)
		return 2;
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	int sdone = 0, cdone = 0, failed = 0;
	for (int i = 0; i < 100 && !(sdone && cdone) && !failed; i++) {
		int r;
		if (!cdone && (r = SSL_do_handshake(c)) != 1) {
			int e = SSL_get_error(c, r);
			failed = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
		} else {
			cdone = 1;
		}
		if (!sdone && !failed && (r = SSL_do_handshake(s)) != 1) {
			int e = SSL_get_error(s, r);
			failed = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
		} else if (!failed) {
			sdone = 1;
		}
	}
	/* TLS 1.3: the client is done before the server has seen its
	 * certificate; one read on the server side processes it. */
	if (!failed && sdone && cdone) {
		char buf[1];
		int r = SSL_read(s, buf, sizeof(buf));
		failed = r <= 0 && SSL_get_error(s, r) != SSL_ERROR_WANT_READ;
	}
	print_verdict("client verdict on the server", c);
	print_verdict("server verdict on the client", s);
	const struct tc_verdict *sv = tc_openssl_verdict(s), *cv = tc_openssl_verdict(c);
	int ok = !failed && sv && cv && sv->decision == TC_TRUSTED && cv->decision == TC_TRUSTED;
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	tc_verifier_free(v);
	tc_client_close(client);
	return ok ? 0 : 1;
}
