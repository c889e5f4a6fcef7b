/* See peer.h. The lines a STOQ node adds for TrustChain are marked
 * "TrustChain:"; the rest is ordinary ngtcp2 + GnuTLS set-up. */
#include "peer.h"

#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trustchain/verify_gnutls.h"

const char peer_usage[] =
	"  --cert FILE --key FILE      this node's certificate chain and key (PEM)\n"
	"  --peer-name NAME            the name the peer's certificate must hold\n"
	"  --mode online|local|cafile  verify the peer through the gateway, locally, or\n"
	"                              with a plain CA file (for comparison only)\n"
	"  --gateway HOST:PORT --gateway-ca FILE [--gateway-token FILE]\n"
	"  --root FILE --intermediate FILE --log-key FILE [--crl-url URL]   (local)\n"
	"  --cafile FILE               (cafile mode)\n"
	"  --cache-ttl-ms N --crl-refresh-ms N --crl-max-age-ms N   --quiet\n";

/* GnuTLS priorities for QUIC: TLS 1.3 only, no middlebox compatibility. */
static const char priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:%DISABLE_TLS13_COMPAT_MODE";

int peer_option(struct peer_config *c, int opt, const char *arg)
{
	switch (opt) {
	case 0x200: c->cert_file = arg; break;
	case 0x201: c->key_file = arg; break;
	case 0x202: c->peer_name = arg; break;
	case 0x203: c->mode = arg; break;
	case 0x204: c->gateway = arg; break;
	case 0x205: c->gateway_ca = arg; break;
	case 0x206: c->root = arg; break;
	case 0x207: c->intermediate = arg; break;
	case 0x208: c->log_key = arg; break;
	case 0x209: c->crl_url = arg; break;
	case 0x20a: c->cafile = arg; break;
	case 0x20b: c->cache_ttl_ms = atoi(arg); break;
	case 0x20c: c->crl_refresh_ms = atoi(arg); break;
	case 0x20d: c->crl_max_age_ms = atoi(arg); break;
	case 0x20e: c->quiet = 1; break;
	case 0x20f: c->gateway_token = arg; break;
	default: return 0;
	}
	return 1;
}

static void log_line(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

static char *read_token(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[512];
	char *tok = f && fgets(buf, sizeof(buf), f) ? strdup(buf) : NULL;
	if (f)
		fclose(f);
	if (tok)
		tok[strcspn(tok, "\r\n")] = '\0';
	return tok;
}

int peer_open(struct peer *p)
{
	struct peer_config *c = &p->cfg;
	char err[512];
	if (!c->cert_file || !c->key_file || !c->mode) {
		fprintf(stderr, "--cert, --key and --mode are required\n");
		return -1;
	}
	if (peer_load_cert(p) != 0)
		return -1;
	if (strcmp(c->mode, "cafile") == 0) {
		if (!c->cafile) {
			fprintf(stderr, "--mode cafile needs --cafile\n");
			return -1;
		}
		return 0;
	}
	enum tc_verify_mode mode = strcmp(c->mode, "online") == 0  ? TC_VERIFY_ONLINE
				   : strcmp(c->mode, "local") == 0 ? TC_VERIFY_LOCAL
								   : 0;
	if (!mode) {
		fprintf(stderr, "--mode: online, local or cafile\n");
		return -1;
	}
	if (c->gateway) {
		char *token = c->gateway_token ? read_token(c->gateway_token) : NULL;
		struct tc_client_options co = {.root_ca_file = c->gateway_ca, .bearer_token = token};
		p->client = tc_client_open_opts(c->gateway, &co, err, sizeof(err));
		free(token);
		if (!p->client) {
			fprintf(stderr, "gateway: %s\n", err);
			return -1;
		}
		tc_client_set_timeout(p->client, 2000);
	}
	/* TrustChain: one verifier per process, shared by every connection. */
	const char *log_keys[1] = {c->log_key};
	struct tc_verifier_options vo = {
		.mode = mode,
		.client = p->client,
		.cache_ttl_ms = c->cache_ttl_ms,
		.root_file = c->root,
		.intermediate_file = c->intermediate,
		.log_key_files = log_keys,
		.n_log_key_files = c->log_key ? 1 : 0,
		.crl_url = c->crl_url,
		.crl_refresh_ms = c->crl_refresh_ms,
		.crl_max_age_ms = c->crl_max_age_ms,
		.log = c->quiet ? NULL : log_line,
	};
	if (!(p->verifier = tc_verifier_new(&vo, err, sizeof(err)))) {
		fprintf(stderr, "verifier: %s\n", err);
		return -1;
	}
	return 0;
}

static void creds_unref(struct peer_creds *c)
{
	if (c && --c->refs == 0) {
		gnutls_certificate_free_credentials(c->cred);
		free(c);
	}
}

int peer_load_cert(struct peer *p)
{
	struct peer_creds *c = calloc(1, sizeof(*c));
	int rv = c ? gnutls_certificate_allocate_credentials(&c->cred) : GNUTLS_E_MEMORY_ERROR;
	if (rv == 0)
		rv = gnutls_certificate_set_x509_key_file(c->cred, p->cfg.cert_file, p->cfg.key_file,
							  GNUTLS_X509_FMT_PEM);
	if (rv == 0 && strcmp(p->cfg.mode ? p->cfg.mode : "", "cafile") == 0) {
		rv = gnutls_certificate_set_x509_trust_file(c->cred, p->cfg.cafile, GNUTLS_X509_FMT_PEM);
		rv = rv > 0 ? 0 : rv == 0 ? GNUTLS_E_FILE_ERROR : rv;
	}
	if (rv != 0) {
		fprintf(stderr, "%s / %s: %s\n", p->cfg.cert_file, p->cfg.key_file, gnutls_strerror(rv));
		if (c && c->cred)
			gnutls_certificate_free_credentials(c->cred);
		free(c);
		return -1;
	}
	c->refs = 1;
	creds_unref(p->creds);
	p->creds = c;
	return 0;
}

void peer_close(struct peer *p)
{
	tc_verifier_free(p->verifier);
	tc_client_close(p->client);
	creds_unref(p->creds);
	memset(p, 0, sizeof(*p));
}

int peer_session(struct peer *p, int server, ngtcp2_crypto_conn_ref *ref, gnutls_session_t *out,
		 struct peer_creds **creds_out)
{
	gnutls_session_t s = NULL;
	const char *name = p->cfg.peer_name ? p->cfg.peer_name : "";
	/* The peer is a client when we serve, a server when we connect. */
	enum tc_purpose purpose = server ? TC_PURPOSE_CLIENT_AUTH : TC_PURPOSE_SERVER_AUTH;
	gnutls_datum_t alpn = {(unsigned char *)STOQ_ALPN, sizeof(STOQ_ALPN) - 1};
	int rv = gnutls_init(&s, server ? GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET : GNUTLS_CLIENT);
	if (rv == 0)
		rv = gnutls_priority_set_direct(s, priority, NULL);
	if (rv == 0)
		rv = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, p->creds->cred);
	if (rv == 0)
		rv = gnutls_alpn_set_protocols(s, &alpn, 1, GNUTLS_ALPN_MANDATORY);
	if (rv == 0 && !server && *name)
		rv = gnutls_server_name_set(s, GNUTLS_NAME_DNS, name, strlen(name));
	if (rv == 0 && (server ? ngtcp2_crypto_gnutls_configure_server_session(s)
			       : ngtcp2_crypto_gnutls_configure_client_session(s)) != 0)
		rv = GNUTLS_E_INTERNAL_ERROR;
	if (rv != 0) {
		fprintf(stderr, "TLS session: %s\n", gnutls_strerror(rv));
		if (s)
			gnutls_deinit(s);
		return -1;
	}
	if (server) /* mutual TLS: a client without a certificate is refused */
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
	if (p->verifier) {
		/* TrustChain: the peer must be `name`, acting as `purpose`. */
		if (tc_gnutls_attach(s, p->verifier, name, strlen(name), purpose) != 0) {
			gnutls_deinit(s);
			return -1;
		}
	} else {
		/* cafile mode: GnuTLS's own verification against the CA file. */
		p->vdata[0] = (gnutls_typed_vdata_st){
			.type = GNUTLS_DT_KEY_PURPOSE_OID,
			.data = (unsigned char *)(server ? GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER)};
		p->vdata[1] = (gnutls_typed_vdata_st){.type = GNUTLS_DT_DNS_HOSTNAME, .data = (unsigned char *)name};
		gnutls_session_set_verify_cert2(s, p->vdata, *name ? 2 : 1, 0);
	}
	gnutls_session_set_ptr(s, ref);
	p->creds->refs++;
	*creds_out = p->creds;
	*out = s;
	return 0;
}

void peer_session_free(gnutls_session_t s, struct peer_creds *creds)
{
	if (s) {
		tc_gnutls_detach(s); /* TrustChain: before gnutls_deinit */
		gnutls_deinit(s);
	}
	creds_unref(creds);
}

void peer_refusal(gnutls_session_t s, char *out, size_t outlen)
{
	struct tc_verdict vd;
	out[0] = '\0';
	if (!s || tc_gnutls_verdict(s, &vd) != 0 || vd.decision == TC_TRUSTED)
		return;
	size_t k = 0;
	for (size_t i = 0; i < vd.n_reasons && k < outlen; i++)
		if (vd.reasons[i] >= TC_REASON_CHAIN_EMPTY)
			k += (size_t)snprintf(out + k, outlen - k, "%s%s", k ? "," : "", tc_reason_name(vd.reasons[i]));
	if (k < outlen)
		snprintf(out + k, outlen - k, "%s(%s)", k ? " " : "", vd.detail);
}

uint64_t peer_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

void peer_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, dest, len) != 0)
		memset(dest, 0, len);
}
