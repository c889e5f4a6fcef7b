/* trustchain-transparency: the RFC 6962 CT log, or several (temporal
 * shards, ct.logs, common/ct_shard.h). Opens each log's LevelDB store
 * (only this process does), fetches each log key's public half from the
 * signer, starts one sequencer per log, the HTTP API (a shard's URLs under
 * /<name>/) and the internal IPC the gateway uses, and runs until SIGTERM;
 * then stops taking requests, sequences what is pending and closes the
 * stores. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/child_runtime.h"
#include "common/ct_client.h"
#include "common/ct_shard.h"
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

/* One log of the process and what it owns. */
struct log_run {
	struct tc_ct_shard shard;
	struct tc_ct_store *st;
	struct tc_sequencer *seq;
	struct tc_log_signer ls;
	struct tc_tile_publisher *tiles;
	char index_dir[TC_CFG_STR + 64];
	char tiles_dir[TC_CFG_STR + 64];
	struct tc_sequencer_config scfg;
};

static int ensure_dir(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* The checkpoint origin: the submission prefix without scheme, the log's
 * DNS name (ct.<bootstrap domain>, published by our resolver), the port
 * of ct.http_listen and, for a temporal shard, "/<name>". */
static int checkpoint_origin(const struct tc_config *cfg, const struct tc_ct_shard *sh, char *out, size_t len)
{
	const char *colon = strrchr(cfg->ct.http_listen, ':');
	int n = snprintf(out, len, "ct.%s:%s%s%s", cfg->bootstrap.domain, colon ? colon + 1 : "6962",
			 sh->name[0] ? "/" : "", sh->name);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Opens the static-ct-api publisher unless ct.tiles_dir is "off"; tiles
 * stays NULL then. A shard's files are in <tiles_dir>/<name>/, as its URLs. */
static int open_tiles(const struct tc_config *cfg, struct log_run *l)
{
	char origin[300], err[512] = "checkpoint origin too long", base[TC_CFG_STR + 16];
	l->tiles = NULL;
	if (strcmp(cfg->ct.tiles_dir, "off") == 0)
		return 0;
	if (cfg->ct.tiles_dir[0] ? snprintf(base, sizeof(base), "%s", cfg->ct.tiles_dir) >= (int)sizeof(base)
				 : tc_config_data_path(cfg, "ct/tiles", base, sizeof(base)) != 0) {
		tc_err("ct.tiles_dir: path too long");
		return -1;
	}
	if (snprintf(l->tiles_dir, sizeof(l->tiles_dir), "%s%s%s", base, l->shard.name[0] ? "/" : "",
		     l->shard.name) >= (int)sizeof(l->tiles_dir)) {
		tc_err("ct.tiles_dir: path too long");
		return -1;
	}
	if (l->shard.name[0] && ensure_dir(base) != 0) {
		tc_err("cannot create %s: %s", base, strerror(errno));
		return -1;
	}
	if (checkpoint_origin(cfg, &l->shard, origin, sizeof(origin)) != 0 ||
	    tc_tile_publisher_open(l->tiles_dir, origin, l->ls.log_id, &l->tiles, err, sizeof(err)) != 0) {
		tc_err("ct.tiles_dir: %s", err);
		return -1;
	}
	tc_info("static-ct-api files in %s (origin %s, published tree size %llu)", l->tiles_dir, origin,
		(unsigned long long)tc_tile_publisher_size(l->tiles));
	return 0;
}

/* Waits for the signer to hand out the log key; 0, or -1 on timeout or a
 * stop signal. */
static int init_log_signer(struct tc_child *c, struct log_run *l)
{
	char err[256];
	for (int waited = 0; waited < SIGNER_WAIT_S; waited++) {
		if (tc_log_signer_init_shard(&l->ls, c, l->shard.name, err, sizeof(err)) == 0)
			return 0;
		if (waited == 0)
			tc_warn("waiting for the CT log key%s%s: %s", l->shard.name[0] ? " of " : "", l->shard.name,
				err);
		int sig = tc_child_wait_signal(c, 1000);
		if (sig == SIGTERM || sig == SIGINT)
			return -1;
	}
	tc_err("no CT log key%s%s from the signer: %s", l->shard.name[0] ? " of " : "", l->shard.name, err);
	return -1;
}

/* Opens one log: its directories, store, key, tiles and sequencer. */
static int open_log(struct tc_child *c, const struct tc_config *cfg, struct log_run *l)
{
	char log_dir[TC_CFG_STR + 64], parent[TC_CFG_STR + 64], err[512];
	if (tc_ct_shard_path(cfg, &l->shard, TC_CT_SHARD_STORE, log_dir, sizeof(log_dir)) != 0 ||
	    tc_ct_shard_path(cfg, &l->shard, TC_CT_SHARD_SUBMISSIONS, l->index_dir, sizeof(l->index_dir)) != 0) {
		tc_err("data directory path too long");
		return -1;
	}
	/* <data_dir>/ct/logs/<name>/ for a shard, private like the store. */
	snprintf(parent, sizeof(parent), "%s", log_dir);
	char *slash = strrchr(parent, '/');
	if (l->shard.name[0] && slash) {
		*slash = '\0';
		char *up = strrchr(parent, '/');
		if (up) {
			*up = '\0';
			int bad = ensure_dir(parent) != 0;
			*up = '/';
			if (bad || ensure_dir(parent) != 0) {
				tc_err("cannot create %s: %s", parent, strerror(errno));
				return -1;
			}
		}
	}
	if (ensure_dir(log_dir) != 0) {
		tc_err("cannot create %s: %s", log_dir, strerror(errno));
		return -1;
	}
	if (tc_ct_store_open(log_dir, &l->st, err, sizeof(err)) != 0) {
		tc_err("log store %s: %s", log_dir, err);
		return -1;
	}
	if (init_log_signer(c, l) != 0 || open_tiles(cfg, l) != 0)
		return -1;
	/* A fresh head at least every half MMD, whatever sth_refresh_s says. */
	uint64_t refresh_s = cfg->ct.sth_refresh_s;
	if (refresh_s > cfg->ct.max_merge_delay_s / 2)
		refresh_s = cfg->ct.max_merge_delay_s / 2 ? cfg->ct.max_merge_delay_s / 2 : 1;
	l->scfg = (struct tc_sequencer_config){.interval_ms = cfg->ct.sequence_interval_ms,
					       .batch_max = cfg->ct.batch_max, .sth_refresh_ms = refresh_s * 1000,
					       .legacy_index_path = l->index_dir, .tiles = l->tiles,
					       .frozen = l->shard.frozen};
	char window[96];
	tc_ct_shard_window(&l->shard, window, sizeof(window));
	if (l->shard.frozen)
		tc_info("log '%s' frozen: read-only at tree size %llu (submissions refused, reads served)",
			l->shard.name, (unsigned long long)tc_ct_store_size(l->st));
	if (tc_sequencer_start(l->st, &l->ls, &l->scfg, &l->seq, err, sizeof(err)) != 0) {
		tc_err("sequencer of log '%s': %s", l->shard.name, err);
		return -1;
	}
	tc_info("log '%s': notAfter %s, tree size %llu", l->shard.name, window,
		(unsigned long long)tc_ct_store_size(l->st));
	return 0;
}

/* 1 when the single log's store (ct/log) holds a LevelDB database. */
static int single_log_exists(const struct tc_config *cfg)
{
	struct tc_ct_shard single = {.name = ""};
	char dir[TC_CFG_STR + 64], current[TC_CFG_STR + 80];
	struct stat st;
	return tc_ct_shard_path(cfg, &single, TC_CT_SHARD_STORE, dir, sizeof(dir)) == 0 &&
	       snprintf(current, sizeof(current), "%s/CURRENT", dir) < (int)sizeof(current) &&
	       stat(current, &st) == 0;
}

static void close_log(struct log_run *l)
{
	tc_sequencer_stop(l->seq); /* sequences (and publishes) what is still pending */
	tc_tile_publisher_close(l->tiles);
	if (l->st)
		tc_ct_store_close(l->st);
	tc_log_signer_free(&l->ls);
}

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start("transparency", argc, argv);
	const struct tc_config *cfg = tc_child_config(c);
	char ct_dir[TC_CFG_STR + 16];
	char root_pem[TC_CFG_STR + 32], inter_pem[TC_CFG_STR + 32], ipc_path[TC_CFG_STR + 32];
	char err[512], addr[128], what[256];
	int rc = 1;
	struct tc_chain_checker *chk = NULL;
	struct tc_http_api *http = NULL;
	struct tc_ct_ipc *ipc = NULL;
	static struct log_run logs[TC_CFG_MAX_CT_LOGS];
	struct tc_ct_api apis[TC_CFG_MAX_CT_LOGS];
	size_t n_logs = 0, opened = 0;
	struct tc_ct_shard shards[TC_CFG_MAX_CT_LOGS];

	if (tc_config_data_path(cfg, "ct", ct_dir, sizeof(ct_dir)) != 0 ||
	    tc_config_data_path(cfg, "ca/root.pem", root_pem, sizeof(root_pem)) != 0 ||
	    tc_config_data_path(cfg, "ca/intermediate.pem", inter_pem, sizeof(inter_pem)) != 0 ||
	    tc_config_data_path(cfg, TC_CT_IPC_SOCKET, ipc_path, sizeof(ipc_path)) != 0) {
		tc_err("data directory path too long");
		goto out;
	}
	/* The stores' directories are private before LevelDB creates them
	 * (with the umask's mode): ct/ itself is readable by every child for
	 * the logs' public keys. */
	if (ensure_dir(ct_dir) != 0) {
		tc_err("cannot create %s: %s", ct_dir, strerror(errno));
		goto out;
	}
	if (tc_chain_checker_load(root_pem, inter_pem, &chk, err, sizeof(err)) != 0) {
		tc_err("accepted roots: %s", err);
		goto out;
	}
	n_logs = tc_ct_shards(cfg, shards);
	if (cfg->ct.log_count > 0 && n_logs < TC_CFG_MAX_CT_LOGS && single_log_exists(cfg)) {
		/* The single log from before ct.logs stays served, frozen, at the
		 * root (and its tiles at the tiles directory's root): its SCTs and
		 * entries stay verifiable, it takes nothing new. */
		memset(&shards[n_logs], 0, sizeof(shards[n_logs]));
		shards[n_logs].not_after_start = INT64_MIN;
		shards[n_logs].not_after_end = INT64_MAX;
		shards[n_logs].frozen = true;
		snprintf(shards[n_logs].key_label, sizeof(shards[n_logs].key_label), "%s", cfg->hsm.ct_key_label);
		n_logs++;
	}
	memset(apis, 0, sizeof(apis));
	for (opened = 0; opened < n_logs; opened++) {
		struct log_run *l = &logs[opened];
		memset(l, 0, sizeof(*l));
		l->shard = shards[opened];
		if (open_log(c, cfg, l) != 0) {
			opened++; /* closed below with the others */
			goto out;
		}
		apis[opened] = (struct tc_ct_api){.st = l->st, .seq = l->seq, .chk = chk,
						  .tiles_dir = l->tiles ? l->tiles_dir : NULL, .name = l->shard.name,
						  .windowed = cfg->ct.log_count > 0 && l->shard.name[0],
						  .not_after_start = l->shard.not_after_start,
						  .not_after_end = l->shard.not_after_end};
	}
	if (cfg->ct.log_count > 0)
		for (size_t i = 0; i < n_logs; i++) {
			apis[i].all = apis;
			apis[i].n_all = n_logs;
		}
	if (tc_http_api_start(&apis[0], tc_inherited_fd("CT_HTTP"), cfg->ct.http_listen, cfg, &http, addr,
			      sizeof(addr), err, sizeof(err)) != 0) {
		tc_err("HTTP API: %s", err);
		goto out;
	}
	if (tc_ct_ipc_start(&apis[0], tc_inherited_fd("CT_IPC"), ipc_path, &ipc, err, sizeof(err)) != 0) {
		tc_err("internal IPC: %s", err);
		goto out;
	}
	tc_info("internal IPC on %s", ipc_path);
	snprintf(what, sizeof(what), "CT HTTP %s and IPC, %zu log%s, tree size %llu%s", addr, n_logs,
		 n_logs == 1 ? "" : "s", (unsigned long long)tc_ct_store_size(logs[0].st),
		 n_logs == 1 ? "" : " (first)");
	tc_child_ready(c, what);
	int sig;
	/* Every second a sample of the figures (ct_metrics.h: the first log's
	 * unlabelled, each shard's with log="<name>"); SIGHUP is ignored: the
	 * supervisor restarts children to reload. */
	while ((sig = tc_child_wait_signal(c, 1000)) == SIGHUP || sig == 0) {
		tc_ct_metrics_sample(logs[0].st, cfg);
		for (size_t i = 0; i < n_logs; i++)
			if (logs[i].shard.name[0])
				tc_ct_metrics_sample_log(logs[i].st, cfg, logs[i].shard.name);
	}
	tc_info("signal %d: stopping", sig);
	rc = 0;
out:
	tc_ct_ipc_stop(ipc);
	tc_http_api_stop(http);
	for (size_t i = 0; i < opened; i++)
		close_log(&logs[i]);
	tc_chain_checker_free(chk);
	tc_child_stop(c);
	return rc;
}
