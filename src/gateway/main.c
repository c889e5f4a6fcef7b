/* trustchain-gateway: the public gRPC API (api/trustchain/v1). It owns no
 * key and no database: it checks requests, asks the signer, and answers. */
#include <grpc/grpc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "gateway/auth.h"
#include "gateway/credentials.h"
#include "gateway/ct_embed.h"
#include "gateway/crl_http.h"
#include "gateway/gateway.h"
#include "gateway/rpc_server.h"

/* How often the main thread looks at its periodic work: every second, so a
 * step of the wall clock (NTP) that leaves our certificate outside its
 * validity is seen at once (a look costs one time() and a compare). */
#define TICK_MS 1000

/* Says who can do what, and warns about setups that lock everyone out or
 * let everyone in. */
static void log_auth_setup(const struct tc_config *cfg, const struct tc_auth *auth)
{
	size_t tokens = tc_auth_token_count(auth), clients = tc_auth_client_count(auth);
	tc_info("callers: %zu bearer token(s), %zu client certificate identities%s", tokens, clients,
		cfg->gateway.require_auth ? "" : "; anonymous callers may issue (gateway.require_auth: false)");
	if (cfg->gateway.require_auth && tokens + clients == 0)
		tc_warn("gateway.require_auth is true but no gateway.tokens_file or gateway.clients_file "
			"principal exists: every Issue and Revoke call will be refused");
	if (!cfg->gateway.require_auth && !cfg->dev)
		tc_warn("gateway.require_auth is false outside dev mode: ANYONE who reaches %s may obtain "
			"certificates for any name the CA policy permits", cfg->gateway.listen);
	if (cfg->gateway.client_ca_file[0] && clients == 0)
		tc_warn("gateway.client_ca_file is set but no gateway.clients_file identity exists: client "
			"certificates are verified but grant nothing");
}

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start("gateway", argc, argv);
	struct tc_gateway gw = {.child = c, .cfg = tc_child_config(c)};
	char err[512];
	if (tc_gateway_load_ca(&gw, err, sizeof(err)) != 0) {
		tc_err("CA certificates: %s", err);
		tc_child_stop(c);
		return 1;
	}
	if (tc_gateway_ct_open(&gw, err, sizeof(err)) != 0) {
		tc_err("CT log link: %s", err);
		tc_gateway_free_ca(&gw);
		tc_child_stop(c);
		return 1;
	}
	if (tc_gateway_validation_start(&gw, err, sizeof(err)) != 0) {
		tc_err("validation: %s", err);
		tc_gateway_ct_close(&gw);
		tc_gateway_free_ca(&gw);
		tc_child_stop(c);
		return 1;
	}
	/* CRLs and CA certificates over plain HTTP for standard relying
	 * parties. A listener that cannot start is reported, not fatal: the
	 * API (GetCrl included) still serves. */
	char http_addr[TC_CFG_STR + 16] = "";
	if (tc_crl_http_start(&gw, &gw.crl_http, http_addr, sizeof(http_addr), err, sizeof(err)) != 0)
		tc_err("gateway.http_listen: %s: relying parties cannot fetch the CRL", err);
	else if (gw.crl_http)
		tc_info("CRL and CA certificates on %s", http_addr);
	/* gRPC starts threads of its own: only after the supervisor's fork and
	 * exec, and nothing here forks after it. */
	grpc_init();
	struct tc_auth *auth = tc_auth_load(gw.cfg, err, sizeof(err));
	if (!auth) {
		tc_err("%s", err);
		grpc_shutdown();
		tc_gateway_validation_stop(&gw);
		tc_gateway_ct_close(&gw);
		tc_gateway_free_ca(&gw);
		tc_child_stop(c);
		return 2;
	}
	log_auth_setup(gw.cfg, auth);
	char what[768];
	struct tc_gateway_tls *tls = NULL;
	struct tc_ct_issuer issuer; /* our own certificate is issued and logged as every other */
	tc_gateway_ct_issuer(&gw, &issuer);
	grpc_server_credentials *creds = tc_gateway_credentials(&issuer, gw.cfg, gw.root_pem, gw.chain_pem, &tls, what,
								sizeof(what), err, sizeof(err));
	if (!creds) {
		tc_err("%s", err);
		tc_auth_free(auth);
		grpc_shutdown();
		tc_gateway_validation_stop(&gw);
		tc_gateway_ct_close(&gw);
		tc_gateway_free_ca(&gw);
		tc_child_stop(c);
		return 2;
	}
	struct tc_rpc_conn_limits conn_limits = {.max_concurrent_streams = gw.cfg->gateway.max_concurrent_streams,
						 .max_connection_idle_s = gw.cfg->gateway.max_connection_idle_s,
						 .keepalive_s = gw.cfg->gateway.keepalive_s,
						 .memory_limit_mb = gw.cfg->gateway.memory_limit_mb,
						 .max_connections = gw.cfg->gateway.max_connections,
						 .max_per_source = gw.cfg->gateway.max_per_source,
						 .max_async_in_flight = gw.cfg->gateway.max_inflight_issues};
	struct tc_rpc_server *srv = tc_rpc_server_start(gw.cfg->gateway.listen, creds, auth, &conn_limits,
							gw.cfg->gateway.threads, gw.cfg->gateway.backend_threads,
							tc_gateway_methods, tc_gateway_method_count, &gw,
							err, sizeof(err));
	if (!srv) {
		tc_err("%s", err);
		grpc_shutdown();
		tc_gateway_tls_free(tls);
		tc_auth_free(auth);
		tc_gateway_validation_stop(&gw);
		tc_gateway_ct_close(&gw);
		tc_gateway_free_ca(&gw);
		tc_child_stop(c);
		return 1;
	}
	char ready[TC_CFG_STR + sizeof(what) + 64];
	snprintf(ready, sizeof(ready), "gRPC %s (%s, %u + %u backend threads)", gw.cfg->gateway.listen, what,
		 gw.cfg->gateway.threads, gw.cfg->gateway.backend_threads);
	tc_child_ready(c, ready);

	/* Periodic work: renewing our own TLS certificate. SIGHUP renews it at
	 * once (the supervisor reloads by restarting children, so it never
	 * sends one; an operator may). */
	int sig;
	while ((sig = tc_child_wait_signal(c, TICK_MS)) == 0 || sig == SIGHUP)
		tc_gateway_tls_tick(tls, sig == SIGHUP);
	tc_info("signal %d: stopping", sig);
	tc_rpc_server_stop(srv);
	grpc_shutdown_blocking();
	tc_gateway_tls_free(tls);
	tc_auth_free(auth);
	tc_crl_http_stop(gw.crl_http);
	tc_gateway_validation_stop(&gw);
	tc_gateway_ct_close(&gw);
	tc_gateway_free_ca(&gw);
	tc_child_stop(c);
	return 0;
}
