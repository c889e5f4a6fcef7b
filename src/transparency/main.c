/* trustchain-transparency: the RFC 6962 CT log. Opens the log's LevelDB
 * store (only this process does), fetches the log key's public half from
 * the signer, starts the sequencer, the HTTP API and the internal IPC the
 * gateway uses, and runs until SIGTERM; then stops taking requests,
 * sequences what is pending and closes the store. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/child_runtime.h"
#include "common/ct_client.h"
#include "common/log.h"
#include "common/proc_env.h"
#include "transparency/ct_metrics.h"
#include "transparency/chain_check.h"
#include "transparency/ct_api.h"
#include "transparency/ct_ipc.h"
#include "transparency/ct_store.h"
#include "transparency/http_api.h"
#include "transparency/log_signer.h"
#include "transparency/sequencer.h"
#include "transparency/tile_publisher.h"

#define SIGNER_WAIT_S 30 /* at start the signer may still be coming up */

static int ensure_dir(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* The checkpoint origin: the submission prefix without scheme, the log's
 * DNS name (ct.<bootstrap domain>, published by our resolver) and the port
 * of ct.http_listen. */
static int checkpoint_origin(const struct tc_config *cfg, char *out, size_t len)
{
	const char *colon = strrchr(cfg->ct.http_listen, ':');
	int n = snprintf(out, len, "ct.%s:%s", cfg->bootstrap.domain, colon ? colon + 1 : "6962");
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Opens the static-ct-api publisher unless ct.tiles_dir is "off"; *tiles
 * stays NULL then. Fills tiles_dir with the directory used. */
static int open_tiles(const struct tc_config *cfg, const struct tc_log_signer *ls, char *tiles_dir, size_t len,
		      struct tc_tile_publisher **tiles)
{
	char origin[300], err[512] = "checkpoint origin too long";
	*tiles = NULL;
	if (strcmp(cfg->ct.tiles_dir, "off") == 0)
		return 0;
	if (cfg->ct.tiles_dir[0] ? snprintf(tiles_dir, len, "%s", cfg->ct.tiles_dir) >= (int)len
				 : tc_config_data_path(cfg, "ct/tiles", tiles_dir, len) != 0) {
		tc_err("ct.tiles_dir: path too long");
		return -1;
	}
	if (checkpoint_origin(cfg, origin, sizeof(origin)) != 0 ||
	    tc_tile_publisher_open(tiles_dir, origin, ls->log_id, tiles, err, sizeof(err)) != 0) {
		tc_err("ct.tiles_dir: %s", err);
		return -1;
	}
	tc_info("static-ct-api files in %s (origin %s, published tree size %llu)", tiles_dir, origin,
		(unsigned long long)tc_tile_publisher_size(*tiles));
	return 0;
}

/* Waits for the signer to hand out the log key; 0, or -1 on timeout or a
 * stop signal. */
static int init_log_signer(struct tc_child *c, struct tc_log_signer *ls)
{
	char err[256];
	for (int waited = 0; waited < SIGNER_WAIT_S; waited++) {
		if (tc_log_signer_init(ls, c, err, sizeof(err)) == 0)
			return 0;
		if (waited == 0)
			tc_warn("waiting for the CT log key: %s", err);
		int sig = tc_child_wait_signal(c, 1000);
		if (sig == SIGTERM || sig == SIGINT)
			return -1;
	}
	tc_err("no CT log key from the signer: %s", err);
	return -1;
}

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start("transparency", argc, argv);
	const struct tc_config *cfg = tc_child_config(c);
	char ct_dir[TC_CFG_STR + 16], log_dir[TC_CFG_STR + 16], index_dir[TC_CFG_STR + 32];
	char root_pem[TC_CFG_STR + 32], inter_pem[TC_CFG_STR + 32], ipc_path[TC_CFG_STR + 32];
	char err[512], addr[128], what[256], tiles_dir[TC_CFG_STR + 16];
	int rc = 1;
	struct tc_ct_store *st = NULL;
	struct tc_chain_checker *chk = NULL;
	struct tc_sequencer *seq = NULL;
	struct tc_http_api *http = NULL;
	struct tc_ct_ipc *ipc = NULL;
	struct tc_log_signer ls = {0};
	struct tc_tile_publisher *tiles = NULL;

	if (tc_config_data_path(cfg, "ct", ct_dir, sizeof(ct_dir)) != 0 ||
	    tc_config_data_path(cfg, "ct/log", log_dir, sizeof(log_dir)) != 0 ||
	    tc_config_data_path(cfg, "ct/submissions", index_dir, sizeof(index_dir)) != 0 ||
	    tc_config_data_path(cfg, "ca/root.pem", root_pem, sizeof(root_pem)) != 0 ||
	    tc_config_data_path(cfg, "ca/intermediate.pem", inter_pem, sizeof(inter_pem)) != 0 ||
	    tc_config_data_path(cfg, TC_CT_IPC_SOCKET, ipc_path, sizeof(ipc_path)) != 0) {
		tc_err("data directory path too long");
		goto out;
	}
	/* The store's directory is private before LevelDB creates it (with the
	 * umask's mode): ct/ itself is readable by every child for the log's
	 * public key. */
	if (ensure_dir(ct_dir) != 0 || ensure_dir(log_dir) != 0) {
		tc_err("cannot create %s: %s", ct_dir, strerror(errno));
		goto out;
	}
	if (tc_chain_checker_load(root_pem, inter_pem, &chk, err, sizeof(err)) != 0) {
		tc_err("accepted roots: %s", err);
		goto out;
	}
	if (tc_ct_store_open(log_dir, &st, err, sizeof(err)) != 0) {
		tc_err("log store: %s", err);
		goto out;
	}
	if (init_log_signer(c, &ls) != 0)
		goto out;
	if (open_tiles(cfg, &ls, tiles_dir, sizeof(tiles_dir), &tiles) != 0)
		goto out;
	/* A fresh head at least every half MMD, whatever sth_refresh_s says. */
	uint64_t refresh_s = cfg->ct.sth_refresh_s;
	if (refresh_s > cfg->ct.max_merge_delay_s / 2)
		refresh_s = cfg->ct.max_merge_delay_s / 2 ? cfg->ct.max_merge_delay_s / 2 : 1;
	struct tc_sequencer_config scfg = {.interval_ms = cfg->ct.sequence_interval_ms,
					   .batch_max = cfg->ct.batch_max, .sth_refresh_ms = refresh_s * 1000,
					   .legacy_index_path = index_dir, .tiles = tiles, .frozen = cfg->ct.frozen};
	if (cfg->ct.frozen)
		tc_info("ct.frozen: the log is read-only at tree size %llu (submissions refused, reads served)",
			(unsigned long long)tc_ct_store_size(st));
	if (tc_sequencer_start(st, &ls, &scfg, &seq, err, sizeof(err)) != 0) {
		tc_err("sequencer: %s", err);
		goto out;
	}
	struct tc_ct_api api = {.st = st, .seq = seq, .chk = chk, .tiles_dir = tiles ? tiles_dir : NULL};
	if (tc_http_api_start(&api, tc_inherited_fd("CT_HTTP"), cfg->ct.http_listen, cfg, &http,
			      addr, sizeof(addr), err, sizeof(err)) != 0) {
		tc_err("HTTP API: %s", err);
		goto out;
	}
	if (tc_ct_ipc_start(&api, tc_inherited_fd("CT_IPC"), ipc_path, &ipc, err, sizeof(err)) != 0) {
		tc_err("internal IPC: %s", err);
		goto out;
	}
	tc_info("internal IPC on %s", ipc_path);
	snprintf(what, sizeof(what), "CT HTTP %s and IPC, tree size %llu", addr,
		 (unsigned long long)tc_ct_store_size(st));
	tc_child_ready(c, what);
	int sig;
	/* Every second a sample of the figures (ct_metrics.h); SIGHUP is
	 * ignored: the supervisor restarts children to reload. */
	while ((sig = tc_child_wait_signal(c, 1000)) == SIGHUP || sig == 0)
		tc_ct_metrics_sample(st, cfg);
	tc_info("signal %d: stopping", sig);
	rc = 0;
out:
	tc_ct_ipc_stop(ipc);
	tc_http_api_stop(http);
	tc_sequencer_stop(seq); /* sequences (and publishes) what is still pending */
	tc_tile_publisher_close(tiles);
	if (st)
		tc_ct_store_close(st);
	tc_chain_checker_free(chk);
	tc_log_signer_free(&ls);
	tc_child_stop(c);
	return rc;
}
