/* trustchainctl ct loglist: the CT log list file OpenSSL reads
 * (CTLOG_STORE_load_file, `openssl s_client -ct -ctlogfile FILE`), made from
 * the log's published key (<data_dir>/ct/log_public_key.pem), so TLS
 * clients can check the SCTs embedded in TrustChain certificates:
 *
 *   enabled_logs = trustchain
 *
 *   [trustchain]
 *   description = ...
 *   key = <base64 DER SubjectPublicKeyInfo>
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/ct_shard.h"
#include "ctl/ct_monitor.h"
#include "ctl/ctl.h"

static void ct_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl [--config FILE] ct loglist [--data-dir DIR] [--out FILE]\n"
		     "  writes the OpenSSL CT log list (for s_client -ctlogfile) of the log key in\n"
		     "  DIR/ct/log_public_key.pem (DIR defaults to server.data_dir) to FILE or stdout;\n"
		     "  with ct.logs every shard (DIR/ct/keys/NAME.pem) with its notAfter window\n"
		     "       trustchainctl [--config FILE] ct monitor --url URL [--from CHECKPOINT] [--state FILE]\n"
		     "  follows the log's static-ct-api tiles (trustchainctl ct monitor --help)\n");
}

/* The base64 DER SubjectPublicKeyInfo of the PEM public key in path. */
static char *read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		tc_ctl_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	EVP_PKEY *key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	unsigned char *der = NULL;
	int n = key ? i2d_PUBKEY(key, &der) : -1;
	EVP_PKEY_free(key);
	if (n <= 0) {
		tc_ctl_error("%s: no PEM public key", path);
		return NULL;
	}
	char *b64 = tc_base64_encode(der, (size_t)n);
	OPENSSL_free(der);
	if (!b64)
		tc_ctl_error("out of memory");
	return b64;
}

/* A frozen log stays listed: the SCTs it issued still verify. */
static int write_loglist(FILE *out, const char *domain, const char *b64, int frozen)
{
	fprintf(out,
		"# TrustChain CT log, for OpenSSL's CT log store (s_client -ct -ctlogfile).\n"
		"# state: %s\n"
		"enabled_logs = trustchain\n"
		"\n"
		"[trustchain]\n"
		"description = TrustChain CT log (%s)%s\n"
		"key = %s\n",
		frozen ? "frozen (read-only: its SCTs verify, it takes no new entries)" : "usable", domain,
		frozen ? ", frozen" : "", b64);
	return ferror(out) ? -1 : 0;
}

static FILE *open_out(const char *out_path)
{
	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	if (!out)
		tc_ctl_error("%s: %s", out_path, strerror(errno));
	return out;
}

/* The single log of a configuration without ct.logs: one section, as
 * before shards existed. 0, -1 (write failed) or TC_CTL_FAIL (reported). */
static int write_single(struct tc_ctl *ctl, const char *data_dir, const char *out_path, FILE **out)
{
	char key_path[PATH_MAX];
	if (snprintf(key_path, sizeof(key_path), "%s/ct/log_public_key.pem", data_dir) >= (int)sizeof(key_path)) {
		tc_ctl_error("--data-dir is too long");
		return TC_CTL_FAIL;
	}
	char *b64 = read_key(key_path);
	if (!b64 || !(*out = open_out(out_path))) {
		free(b64);
		return TC_CTL_FAIL;
	}
	int rc = write_loglist(*out, ctl->cfg.bootstrap.domain, b64, ctl->cfg.ct.frozen);
	free(b64);
	return rc;
}

/* Temporal shards (ct.logs): one section per shard, named
 * trustchain-<name>, with its notAfter window and state; the single log's
 * key, when one was made before the shards, stays listed as retired (the
 * SCTs it issued still verify). */
static int write_shards(struct tc_ctl *ctl, const char *data_dir, const char *out_path, FILE **out)
{
	struct tc_ct_shard sh[TC_CFG_MAX_CT_LOGS], single = {.name = ""};
	size_t n = tc_ct_shards(&ctl->cfg, sh);
	char *b64[TC_CFG_MAX_CT_LOGS + 1] = {NULL};
	char rel[TC_CT_LOG_NAME_MAX + 32], path[PATH_MAX];
	int rc = TC_CTL_FAIL;
	for (size_t i = 0; i <= n; i++) {
		const struct tc_ct_shard *s = i < n ? &sh[i] : &single;
		if (tc_ct_shard_rel(s, TC_CT_SHARD_PUBLIC_KEY, rel, sizeof(rel)) != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", data_dir, rel) >= (int)sizeof(path)) {
			tc_ctl_error("--data-dir is too long");
			goto out;
		}
		if (i == n && access(path, F_OK) != 0)
			break; /* no log before the shards */
		if (!(b64[i] = read_key(path))) {
			if (i < n)
				tc_ctl_error("log '%s': make its key with 'trustchainctl ceremony create-key ct-log --log %s'",
					     s->name, s->name);
			goto out;
		}
	}
	if (!(*out = open_out(out_path)))
		goto out;
	fprintf(*out, "# TrustChain CT logs (temporal shards, ct.logs), for OpenSSL's CT log store\n"
		      "# (s_client -ct -ctlogfile). A certificate is logged by the shard whose\n"
		      "# notAfter window holds its notAfter.\nenabled_logs = ");
	for (size_t i = 0; i < n; i++)
		fprintf(*out, "%strustchain-%s", i ? "," : "", sh[i].name);
	fprintf(*out, "%s\n", b64[n] ? ",trustchain" : "");
	for (size_t i = 0; i < n; i++) {
		char window[96];
		tc_ct_shard_window(&sh[i], window, sizeof(window));
		fprintf(*out,
			"\n# log %s: notAfter %s, state: %s, URL prefix /%s/\n[trustchain-%s]\n"
			"description = TrustChain CT log %s (%s), notAfter %s%s\nkey = %s\n",
			sh[i].name, window, sh[i].frozen ? "frozen" : "usable", sh[i].name, sh[i].name, sh[i].name,
			ctl->cfg.bootstrap.domain, window, sh[i].frozen ? ", frozen" : "", b64[i]);
	}
	if (b64[n])
		fprintf(*out,
			"\n# log (unnamed): the single log from before ct.logs, state: retired\n[trustchain]\n"
			"description = TrustChain CT log (%s), retired\nkey = %s\n",
			ctl->cfg.bootstrap.domain, b64[n]);
	rc = ferror(*out) ? -1 : 0;
out:
	for (size_t i = 0; i <= n; i++)
		free(b64[i]);
	return rc;
}

static int loglist(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"out", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *data_dir = ctl->cfg.server.data_dir, *out_path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:o:", opts, NULL)) != -1) {
		if (c == 'd')
			data_dir = optarg;
		else if (c == 'o')
			out_path = optarg;
		else {
			ct_usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	if (optind != argc) {
		ct_usage(stderr);
		return TC_CTL_USAGE;
	}
	FILE *out = NULL;
	int rc = ctl->cfg.ct.log_count ? write_shards(ctl, data_dir, out_path, &out) : write_single(ctl, data_dir, out_path, &out);
	if (rc == TC_CTL_FAIL && !out)
		return TC_CTL_FAIL;
	if (out && out != stdout && fclose(out) != 0)
		rc = -1;
	else if (out == stdout && fflush(stdout) != 0)
		rc = -1;
	if (rc != 0 && rc != TC_CTL_FAIL) {
		tc_ctl_error("%s: write failed", out_path ? out_path : "stdout");
		return TC_CTL_FAIL;
	}
	return rc == 0 ? TC_CTL_OK : TC_CTL_FAIL;
}

int tc_ctl_cmd_ct(struct tc_ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		ct_usage(stdout);
		return TC_CTL_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "monitor") == 0)
		return tc_ctl_ct_monitor(ctl, argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "loglist") != 0) {
		ct_usage(stderr);
		return TC_CTL_USAGE;
	}
	return loglist(ctl, argc - 1, argv + 1);
}
