/* trustchain-acme: the RFC 8555 server, a registration authority in front
 * of the CA. It opens its LevelDB under <data_dir>/acme, reaches the CA
 * only through the gateway's gRPC API with its own bearer token, hands
 * challenge checks to trustchain-validator over the link the supervisor
 * gives it, gets its own TLS certificate from the CA (renewed at two
 * thirds of its life) and serves HTTPS until SIGTERM. */
#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acme/acme.h"
#include "acme/acme_http.h"
#include "acme/acme_store.h"
#include "acme/acme_tls_cert.h"
#include "acme/ca_link.h"
#include "acme/eab.h"
#include "acme/issuer.h"
#include "acme/key_cache.h"
#include "acme/account_cache.h"
#include "acme/nonce.h"
#include "acme/rate_limit.h"
#include "acme/validator_client.h"
#include "acme/wake.h"
#include "acme/workq.h"
#include "common/child_runtime.h"
#include "common/config_acme.h"
#include "common/config_schema.h"
#include "common/log.h"
#include "common/proc_env.h"
#include "trustchain/client.h"

#define RETRY_S 2
#define RENEW_RETRY_S 30 /* the certificate still has a third of its life */
#define VERDICT_THREADS 8 /* concurrent synced writes of validation verdicts share log syncs */
#define ISSUER_THREADS 64 /* concurrent Issue calls on the one gRPC channel */

static time_t wall_now(void) { return time(NULL); }

static void on_peer_link(void *arg, const char *peer, int fd)
{
	if (strcmp(peer, "validator") != 0) {
		close(fd);
		return;
	}
	tc_vclient_set_link(arg, fd);
	tc_info("linked to the validator");
}

/* "https://host:port" clients use: the listen host, or the first TLS name
 * when listening on a wildcard address. */
static int base_url(const struct tc_config *cfg, char *out, size_t len)
{
	char host[256];
	uint16_t port = 0;
	if (tc_split_hostport(cfg->acme.listen, host, sizeof(host), &port) != 0)
		return -1;
	if (!host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "%s", cfg->acme.tls_names.count ? cfg->acme.tls_names.items[0] : "localhost");
	int n = snprintf(out, len, strchr(host, ':') ? "https://[%s]:%u" : "https://%s:%u", host, port);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Waits for the CA to issue our certificate; -1 on a stop signal. */
static int first_certificate(struct tc_child *c, struct tc_client *ca, const struct tc_config *cfg,
			     struct tc_acme_tls *tls)
{
	char err[768];
	for (int tries = 0;; tries++) {
		if (tc_acme_tls_issue(ca, &cfg->acme.tls_names, tls, err, sizeof(err)) == 0)
			return 0;
		if (tries == 0 || tries % 30 == 0)
			tc_warn("waiting for our TLS certificate from the CA: %s", err);
		int sig = tc_child_wait_signal(c, RETRY_S * 1000);
		if (sig == SIGTERM || sig == SIGINT)
			return -1;
	}
}

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start_opts("acme", argc, argv, TC_CHILD_NO_SIGNER);
	const struct tc_config *cfg = tc_child_config(c);
	struct tc_acme a = {.cfg = cfg, .now = wall_now};
	struct tc_acme_http *http = NULL;
	struct tc_acme_tls tls = {0};
	char dir[TC_CFG_STR + 16], db[TC_CFG_STR + 16], err[768], addr[128], what[512];
	char token[160] = "";
	int rc = 1;

	if (!tc_config_acme_enabled(cfg)) {
		tc_err("acme.listen is off: nothing to serve");
		goto out;
	}
	if (tc_config_data_path(cfg, "acme", dir, sizeof(dir)) != 0 ||
	    tc_config_data_path(cfg, "acme/db", db, sizeof(db)) != 0 ||
	    tc_config_data_path(cfg, "ca/root.pem", a.root_pem_path, sizeof(a.root_pem_path)) != 0 ||
	    tc_config_data_path(cfg, "ca/intermediate.pem", a.inter_pem_path, sizeof(a.inter_pem_path)) != 0 ||
	    base_url(cfg, a.base, sizeof(a.base)) != 0) {
		tc_err("data directory path or acme.listen too long");
		goto out;
	}
	/* The supervisor creates acme/ (0700, ours); standalone we do. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		tc_err("cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (tc_acme_read_token(token, sizeof(token), err, sizeof(err)) != 0) {
		tc_err("%s", err);
		goto out;
	}
	a.ca = tc_acme_ca_open(cfg, token, err, sizeof(err));
	OPENSSL_cleanse(token, sizeof(token)); /* the client keeps its own copy */
	if (!a.ca) {
		tc_err("gateway client: %s", err);
		goto out;
	}
	if (tc_acme_store_open(db, &a.store, err, sizeof(err)) != 0) {
		tc_err("%s", err);
		goto out;
	}
	a.nonces = tc_nonces_new(0);
	a.rate = tc_acme_rate_new();
	a.eab = tc_acme_eab_new(cfg->acme.eab_keys_file);
	a.vc = tc_vclient_new();
	a.wq = tc_acme_workq_new(VERDICT_THREADS);
	a.keys = tc_key_cache_new();
	a.accounts = tc_acct_cache_new(0);
	a.wake = tc_acme_wake_new();
	a.issuer = tc_acme_issuer_new(&a, ISSUER_THREADS);
	if (!a.nonces || !a.rate || !a.eab || !a.vc || !a.wq || !a.keys || !a.accounts || !a.wake || !a.issuer) {
		tc_err("out of memory");
		goto out;
	}
	/* Finalizations answered before a stop or a kill: issued now, once. */
	size_t resumed = tc_acme_issuer_resume(a.issuer);
	if (resumed)
		tc_info("resuming the issuance of %zu finalized orders", resumed);
	tc_child_on_peer_link(c, on_peer_link, a.vc);
	if (first_certificate(c, a.ca, cfg, &tls) != 0) {
		rc = 0;
		goto out;
	}
	if (tc_acme_http_start(&a, tc_inherited_fd("ACME_HTTPS"), cfg->acme.listen, tls.key_pem, tls.cert_pem,
			       cfg->acme.max_connections, &http, addr, sizeof(addr), err, sizeof(err)) != 0) {
		tc_err("HTTPS: %s", err);
		goto out;
	}
	snprintf(what, sizeof(what), "acme %s/acme/directory", a.base);
	printf("%s\n", what);
	fflush(stdout);
	tc_info("listening on %s; directory %s/acme/directory", addr, a.base);
	tc_child_ready(c, what);
	time_t next_try = 0;
	for (;;) {
		int sig = tc_child_wait_signal(c, 1000);
		if (sig == SIGTERM || sig == SIGINT) {
			tc_info("signal %d: stopping", sig);
			break;
		}
		if (time(NULL) < tc_acme_tls_renew_at(&tls) || time(NULL) < next_try)
			continue;
		struct tc_acme_tls fresh;
		if (tc_acme_tls_issue(a.ca, &cfg->acme.tls_names, &fresh, err, sizeof(err)) != 0) {
			tc_warn("TLS certificate renewal: %s (the current one serves; retried in %d s)", err, RENEW_RETRY_S);
			next_try = time(NULL) + RENEW_RETRY_S;
			continue;
		}
		if (tc_acme_http_renew(http, fresh.key_pem, fresh.cert_pem, err, sizeof(err)) != 0) {
			tc_warn("TLS certificate switch: %s", err);
			tc_acme_tls_free(&fresh);
			continue;
		}
		tc_acme_tls_free(&tls);
		tls = fresh;
		tc_info("TLS certificate renewed (valid until %lld)", (long long)tls.not_after);
	}
	rc = 0;
out:
	tc_acme_http_stop(http);
	tc_vclient_free(a.vc);    /* no more verdicts ... */
	tc_acme_workq_free(a.wq); /* ... and the queued ones stored */
	tc_acme_issuer_free(a.issuer); /* the running Issue calls end; the rest resume at start */
	tc_acme_wake_free(a.wake);
	tc_acme_store_close(a.store);
	tc_key_cache_free(a.keys);
	tc_acct_cache_free(a.accounts);
	tc_acme_eab_free(a.eab);
	tc_acme_rate_free(a.rate);
	tc_nonces_free(a.nonces);
	if (a.ca)
		tc_client_close(a.ca);
	tc_acme_tls_free(&tls);
	tc_child_stop(c);
	return rc;
}
