#include "gateway/credentials.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/file_read.h"
#include "common/log.h"
#include "gateway/tls_cert.h"

#define MAX_CA_FILE (1024 * 1024)
/* A failed renewal is retried this often (the signer may be restarting);
 * every URGENT_RETRY_S while the certificate served is not valid at the
 * current time (the clock stepped past either end): clients refuse it. */
#define RETRY_S 30
#define URGENT_RETRY_S 2
/* At start-up the signer may still be coming up after a restart, and the
 * CT log too (each attempt waits up to TC_CT_ISSUE_LOG_TIMEOUT_MS for it). */
#define START_ATTEMPTS 15

struct tc_gateway_tls {
	pthread_mutex_t lock;
	struct tc_tls_identity current;  /* what new handshakes get */
	struct tc_tls_identity next;     /* renewed, not yet handed to gRPC */
	int have_next;
	int own;                         /* issued by us, so we renew it */
	char *client_ca_pem;             /* NULL: no client certificates */
	const char *placeholder_roots;   /* see credentials.h */
	time_t next_attempt;
	struct tc_ct_issuer issuer;      /* signer and CT log links */
	const struct tc_config *cfg;
	const char *intermediate_pem;
};

/* gRPC asks on every new connection: answer "unchanged" cheaply unless a
 * renewed certificate is waiting. The config returned is gRPC's to free;
 * it copies the PEM strings. */
static grpc_ssl_certificate_config_reload_status fetch_config(void *user_data,
							      grpc_ssl_server_certificate_config **config)
{
	struct tc_gateway_tls *t = user_data;
	grpc_ssl_certificate_config_reload_status st = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
	pthread_mutex_lock(&t->lock);
	if (t->have_next) {
		grpc_ssl_pem_key_cert_pair pair = {.private_key = t->next.key_pem, .cert_chain = t->next.chain_pem};
		*config = grpc_ssl_server_certificate_config_create(
			t->client_ca_pem ? t->client_ca_pem : t->placeholder_roots, &pair, 1);
		if (*config) {
			tc_tls_identity_free(&t->current);
			t->current = t->next;
			memset(&t->next, 0, sizeof(t->next));
			t->have_next = 0;
			st = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
		} else {
			st = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_FAIL;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return st;
}

static int issue_with_retries(struct tc_gateway_tls *t, struct tc_tls_identity *id, char *err, size_t errlen)
{
	for (int i = 0; i < START_ATTEMPTS; i++) {
		int rc = tc_tls_issue_own(&t->issuer, t->cfg, t->intermediate_pem, id, err, errlen);
		if (rc == 0)
			return 0;
		if (rc == -2)
			return -1; /* a refusal: retrying will not help */
		tc_warn("gateway certificate: %s; retrying", err);
		struct timespec ts = {.tv_sec = 1};
		nanosleep(&ts, NULL);
	}
	return -1;
}

void tc_gateway_tls_tick(struct tc_gateway_tls *t, int force)
{
	if (!t || !t->own)
		return;
	time_t now = time(NULL);
	pthread_mutex_lock(&t->lock);
	const struct tc_tls_identity *newest = t->have_next ? &t->next : &t->current;
	time_t due = tc_tls_renew_at(newest);
	/* The clock stepped back before the certificate's notBefore, or
	 * forward past its notAfter: clients with that clock refuse it, so it
	 * is replaced now (a retry time set by the other clock does not hold
	 * that back) and retried within seconds until it is. */
	int invalid_now = now < newest->not_before || now >= newest->not_after;
	pthread_mutex_unlock(&t->lock);
	if (invalid_now && t->next_attempt > now + URGENT_RETRY_S)
		t->next_attempt = 0;
	if (!force && ((now < due && !invalid_now) || now < t->next_attempt))
		return;
	struct tc_tls_identity id;
	char err[512] = "";
	if (tc_tls_issue_own(&t->issuer, t->cfg, t->intermediate_pem, &id, err, sizeof(err)) != 0) {
		int retry = invalid_now ? URGENT_RETRY_S : RETRY_S;
		t->next_attempt = now + retry;
		tc_warn("gateway certificate renewal failed (retry in %d s): %s", retry, err);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (t->have_next)
		tc_tls_identity_free(&t->next);
	t->next = id;
	t->have_next = 1;
	pthread_mutex_unlock(&t->lock);
	tc_info("gateway certificate renewed for %s, valid until %lld", id.names, (long long)id.not_after);
}

void tc_gateway_tls_free(struct tc_gateway_tls *t)
{
	if (!t)
		return;
	tc_tls_identity_free(&t->current);
	tc_tls_identity_free(&t->next);
	free(t->client_ca_pem);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static grpc_server_credentials *plaintext(const struct tc_config *cfg, char *what, size_t whatlen, char *err,
					  size_t errlen)
{
	if (cfg->gateway.client_ca_file[0]) {
		snprintf(err, errlen, "gateway.client_ca_file needs TLS (gateway.tls is false)");
		return NULL;
	}
	if (!cfg->dev)
		tc_warn("gateway.tls is false: the gRPC API is served WITHOUT TRANSPORT SECURITY; bearer tokens "
			"and certificates cross the network in clear. Only behind a TLS-terminating proxy on a "
			"private network.");
	snprintf(what, whatlen, "plaintext");
	return grpc_insecure_server_credentials_create();
}

grpc_server_credentials *tc_gateway_credentials(const struct tc_ct_issuer *iss, const struct tc_config *cfg,
						const char *root_pem, const char *intermediate_pem, struct tc_gateway_tls **tls,
						char *what, size_t whatlen, char *err, size_t errlen)
{
	*tls = NULL;
	if (!cfg->gateway.tls)
		return plaintext(cfg, what, whatlen, err, errlen);
	struct tc_gateway_tls *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->issuer = *iss;
	t->cfg = cfg;
	t->intermediate_pem = intermediate_pem;
	t->placeholder_roots = root_pem;
	size_t len;
	if (cfg->gateway.client_ca_file[0] &&
	    tc_read_file(cfg->gateway.client_ca_file, MAX_CA_FILE, &t->client_ca_pem, &len, err, errlen) != 0) {
		tc_gateway_tls_free(t);
		return NULL;
	}
	int rc;
	if (cfg->gateway.tls_cert_file[0]) {
		rc = tc_tls_load_files(cfg, &t->next, err, errlen);
	} else {
		t->own = 1;
		rc = issue_with_retries(t, &t->next, err, errlen);
	}
	if (rc != 0) {
		tc_gateway_tls_free(t);
		return NULL;
	}
	t->have_next = 1; /* the first fetch, while the port is added, takes it */
	snprintf(what, whatlen, "TLS as %s%s%s", t->next.names, t->own ? " (issued by our CA)" : "",
		 t->client_ca_pem ? ", client certificates verified" : "");
	grpc_ssl_server_credentials_options *o = grpc_ssl_server_credentials_create_options_using_config_fetcher(
		t->client_ca_pem ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
		fetch_config, t);
	grpc_server_credentials *creds = o ? grpc_ssl_server_credentials_create_with_options(o) : NULL;
	if (!creds) {
		snprintf(err, errlen, "cannot create the TLS server credentials");
		tc_gateway_tls_free(t);
		return NULL;
	}
	*tls = t;
	return creds;
}
