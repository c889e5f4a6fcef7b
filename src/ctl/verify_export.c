/* trustchainctl verify-export BUNDLE: recognises the bundle's kind from its
 * header line and verifies it offline with the one public key that kind
 * needs (--log-key for CT bundles, --audit-key for journal bundles). */
#include <errno.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/export.h"

static void verify_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl verify-export BUNDLE [--log-key PEM] [--audit-key PEM]\n"
		     "  a CT bundle needs --log-key (ct/log_public_key.pem), a journal bundle\n"
		     "  --audit-key (audit/audit_public_key.pem), each from a trusted source\n"
		     "  exit status: 0 verified, 1 verification failed, 2 usage error\n");
}

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		tc_ctl_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k)
		tc_ctl_error("%s: not a PEM public key", path);
	return k;
}

int tc_ctl_cmd_verify_export(struct tc_ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	static const struct option opts[] = {
		{"log-key", required_argument, NULL, 'l'},
		{"audit-key", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *log_key = NULL, *audit_key = NULL;
	int c;
	optind = 0; /* glibc: a full reset (main parsed with "+" before) */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			log_key = optarg;
			break;
		case 'a':
			audit_key = optarg;
			break;
		case 'h':
			verify_usage(stdout);
			return TC_CTL_OK;
		default:
			verify_usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	if (optind != argc - 1) {
		verify_usage(stderr);
		return TC_CTL_USAGE;
	}
	const char *path = argv[optind];
	FILE *f = fopen(path, "r");
	if (!f) {
		tc_ctl_error("%s: %s", path, strerror(errno));
		return TC_CTL_FAIL;
	}
	char *line = NULL;
	size_t cap = 0, len = 0;
	json_t *hdr = NULL;
	int rc = TC_CTL_FAIL;
	if (tc_export_read_line(f, &line, &cap, &len) == 1)
		hdr = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	free(line);
	const char *kind = json_string_value(json_object_get(hdr, "kind"));
	json_t *version = json_object_get(hdr, "version");
	int is_ct = kind && strcmp(kind, TC_EXPORT_CT_KIND) == 0;
	int is_journal = kind && strcmp(kind, TC_EXPORT_JOURNAL_KIND) == 0;
	if (!is_ct && !is_journal) {
		printf("bundle %s: FAILED: not a TrustChain export (no header line with a known \"kind\")\n", path);
	} else if (!json_is_integer(version) || json_integer_value(version) != TC_EXPORT_VERSION) {
		printf("bundle %s: FAILED: unsupported bundle version\n", path);
	} else if ((is_ct && !log_key) || (is_journal && !audit_key)) {
		tc_ctl_error("%s is a %s bundle: give %s", path, kind, is_ct ? "--log-key PEM" : "--audit-key PEM");
		rc = TC_CTL_USAGE;
	} else {
		EVP_PKEY *key = load_key(is_ct ? log_key : audit_key);
		if (!key)
			rc = TC_CTL_USAGE;
		else if (is_ct)
			rc = tc_ctl_verify_ct_bundle(f, hdr, key, path);
		else
			rc = tc_ctl_verify_journal_bundle(f, hdr, key, path);
		EVP_PKEY_free(key);
	}
	json_decref(hdr);
	fclose(f);
	return rc;
}
