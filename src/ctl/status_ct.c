#include "ctl/status_ct.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/ct_shard.h"
#include "common/http_client.h"
#include "ctl/status_probe.h"
#include "transparency/checkpoint.h"

#define PROBE_TIMEOUT_MS 3000

static double now_s(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (double)now.tv_sec + now.tv_nsec / 1e9;
}

/* GET <base>/checkpoint, verified with the public key at key_path: the
 * checkpoint's signature timestamp (ms). 0, or -1 with err. */
static int checkpoint_time(const char *base, const char *key_path, uint64_t *ts_ms, char *err, size_t errlen)
{
	FILE *f = fopen(key_path, "r");
	EVP_PKEY *key = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!key) {
		snprintf(err, errlen, "no public key in %s", key_path);
		return -1;
	}
	struct tc_http_client *c = NULL;
	struct tc_http_response r = {0};
	int rc = -1;
	if (tc_http_client_new(base, PROBE_TIMEOUT_MS, &c, err, errlen) == 0 &&
	    tc_http_request(c, "GET", "/checkpoint", NULL, 0, &r, err, errlen) == 0) {
		struct tc_checkpoint cp;
		char why[256];
		if (r.status != 200)
			snprintf(err, errlen, "checkpoint: HTTP %d", r.status);
		else if (tc_checkpoint_verify(r.body, r.body_len, NULL, key, &cp, why, sizeof(why)) != 0)
			snprintf(err, errlen, "checkpoint does not verify: %s", why);
		else {
			*ts_ms = cp.timestamp;
			rc = 0;
		}
	}
	tc_http_response_free(&r);
	tc_http_client_free(c);
	EVP_PKEY_free(key);
	return rc;
}

/* One log: "CT log <name> <window> <state> tree size N, tree head age A s,
 * checkpoint age C s (url)". A usable log whose tree head or checkpoint is
 * older than the MMD is a problem; a frozen one signs nothing new, so only
 * its being unreachable is. */
static void one_log(const struct tc_ctl *ctl, const char *base, const struct tc_ct_shard *s, const char *state,
		    int alone, void (*problem)(void *, const char *), void *arg)
{
	char url[400], err[512], msg[160], key[TC_CFG_STR + 64], rel[TC_CT_LOG_NAME_MAX + 32];
	const char *label = s->name[0] ? s->name : "(single)";
	char window[96] = "", head[200];
	if (s->name[0])
		tc_ct_shard_window(s, window, sizeof(window));
	/* the one log of a configuration without ct.logs: the line as before
	 * shards existed ("CT log  tree size N, ...") */
	if (alone)
		snprintf(head, sizeof(head), "%-14s", "CT log");
	else
		snprintf(head, sizeof(head), "%-14s %s %s%s%s", "CT log", label, window, window[0] ? " " : "", state);
	snprintf(url, sizeof(url), "%s%s%s", base, s->name[0] ? "/" : "", s->name);
	uint64_t size, ts, cp_ts;
	if (tc_status_ct_sth(url, &size, &ts, err, sizeof(err)) != 0) {
		printf("%s %s\n", head, err);
		snprintf(msg, sizeof(msg), "no tree head from CT log %s", label);
		problem(arg, msg);
		return;
	}
	double age = now_s() - (double)ts / 1000.0;
	printf("%s tree size %llu, tree head age %.1f s, ", head, (unsigned long long)size, age);
	int frozen = strcmp(state, "usable") != 0;
	if (strcmp(ctl->cfg.ct.tiles_dir, "off") == 0) { /* no static-ct-api files: no checkpoint to age */
		printf("no checkpoint (ct.tiles_dir: off) (%s)\n", url);
		if (!frozen && age > (double)ctl->cfg.ct.max_merge_delay_s) {
			snprintf(msg, sizeof(msg), "CT log %s: the newest tree head is older than the MMD", label);
			problem(arg, msg);
		}
		return;
	}
	if (tc_ct_shard_rel(s, TC_CT_SHARD_PUBLIC_KEY, rel, sizeof(rel)) != 0 ||
	    tc_config_data_path(&ctl->cfg, rel, key, sizeof(key)) != 0 ||
	    checkpoint_time(url, key, &cp_ts, err, sizeof(err)) != 0) {
		printf("checkpoint: %s (%s)\n", err, url);
		snprintf(msg, sizeof(msg), "no verified checkpoint from CT log %s", label);
		problem(arg, msg);
		return;
	}
	double cp_age = now_s() - (double)cp_ts / 1000.0;
	printf("checkpoint age %.1f s (%s)\n", cp_age, url);
	/* RFC 6962 3.5 / static-ct-api: monitors must see a tree head younger
	 * than the MMD; a frozen log has stopped signing on purpose. */
	if (!frozen && (age > (double)ctl->cfg.ct.max_merge_delay_s || cp_age > (double)ctl->cfg.ct.max_merge_delay_s)) {
		snprintf(msg, sizeof(msg), "CT log %s: the newest tree head or checkpoint is older than the MMD", label);
		problem(arg, msg);
	}
}

void tc_status_ct(const struct tc_ctl *ctl, void (*problem)(void *arg, const char *what), void *arg)
{
	char addr[300], base[320];
	tc_status_local_addr(ctl->cfg.ct.http_listen, addr, sizeof(addr));
	snprintf(base, sizeof(base), "http://%s", addr);
	struct tc_ct_shard sh[TC_CFG_MAX_CT_LOGS];
	if (!ctl->cfg.ct.log_count) {
		struct tc_ct_shard single = {.name = ""};
		one_log(ctl, base, &single, ctl->cfg.ct.frozen ? "frozen" : "usable", 1, problem, arg);
		return;
	}
	size_t n = tc_ct_shards(&ctl->cfg, sh);
	for (size_t i = 0; i < n; i++)
		one_log(ctl, base, &sh[i], sh[i].frozen ? "frozen" : "usable", 0, problem, arg);
	/* The single log from before ct.logs is served, frozen, at the root
	 * when its key exists (as `ct loglist` decides). */
	char key[TC_CFG_STR + 64];
	FILE *f = NULL;
	if (tc_config_data_path(&ctl->cfg, "ct/log_public_key.pem", key, sizeof(key)) == 0 && (f = fopen(key, "r"))) {
		fclose(f);
		struct tc_ct_shard single = {.name = ""};
		one_log(ctl, base, &single, "retired", 0, problem, arg);
	}
}
