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

#include "common/base64.h"
#include "ctl/ct_monitor.h"
#include "ctl/ctl.h"

static void ct_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl [--config FILE] ct loglist [--data-dir DIR] [--out FILE]\n"
		     "  writes the OpenSSL CT log list (for s_client -ctlogfile) of the log key in\n"
		     "  DIR/ct/log_public_key.pem (DIR defaults to server.data_dir) to FILE or stdout\n"
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
	char key_path[PATH_MAX];
	if (snprintf(key_path, sizeof(key_path), "%s/ct/log_public_key.pem", data_dir) >= (int)sizeof(key_path)) {
		tc_ctl_error("--data-dir is too long");
		return TC_CTL_USAGE;
	}
	char *b64 = read_key(key_path);
	if (!b64)
		return TC_CTL_FAIL;
	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	if (!out) {
		tc_ctl_error("%s: %s", out_path, strerror(errno));
		free(b64);
		return TC_CTL_FAIL;
	}
	int rc = write_loglist(out, ctl->cfg.bootstrap.domain, b64, ctl->cfg.ct.frozen);
	if (out != stdout && fclose(out) != 0)
		rc = -1;
	else if (out == stdout && fflush(stdout) != 0)
		rc = -1;
	free(b64);
	if (rc != 0) {
		tc_ctl_error("%s: write failed", out_path ? out_path : "stdout");
		return TC_CTL_FAIL;
	}
	return TC_CTL_OK;
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
