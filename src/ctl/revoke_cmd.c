/* trustchainctl revoke and crl: revoke a certificate by serial through the
 * gateway (the caller needs the revoke right), and fetch the current CRL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/gateway_conn.h"

static const struct {
	const char *name;
	enum tc_revocation_reason code;
} reasons[] = {
	{"unspecified", TC_REVOKE_UNSPECIFIED},
	{"key-compromise", TC_REVOKE_KEY_COMPROMISE},
	{"ca-compromise", TC_REVOKE_CA_COMPROMISE},
	{"affiliation-changed", TC_REVOKE_AFFILIATION_CHANGED},
	{"superseded", TC_REVOKE_SUPERSEDED},
	{"cessation-of-operation", TC_REVOKE_CESSATION_OF_OPERATION},
	{"certificate-hold", TC_REVOKE_CERTIFICATE_HOLD},
	{"privilege-withdrawn", TC_REVOKE_PRIVILEGE_WITHDRAWN},
	{"aa-compromise", TC_REVOKE_AA_COMPROMISE},
};

static void revoke_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl [--config FILE] revoke --serial HEX [--reason REASON] [connection options]\n"
		     "  REASON: ");
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		fprintf(out, "%s%s", i ? ", " : "", reasons[i].name);
	fprintf(out, " (default unspecified)\n");
	tc_ctl_conn_usage(out);
}

static int parse_reason(const char *s, enum tc_revocation_reason *r)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(s, reasons[i].name) == 0) {
			*r = reasons[i].code;
			return 0;
		}
	return -1;
}

int tc_ctl_cmd_revoke(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"serial", required_argument, NULL, 's'},
		{"reason", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		TC_CTL_CONN_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	struct tc_ctl_conn conn = {0};
	const char *serial = NULL;
	enum tc_revocation_reason reason = TC_REVOKE_UNSPECIFIED;
	int c;
	optind = 0; /* glibc: a full reset (main parsed with "+" before) */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (tc_ctl_conn_option(&conn, c, optarg))
			continue;
		switch (c) {
		case 's': serial = optarg; break;
		case 'r':
			if (parse_reason(optarg, &reason) != 0) {
				tc_ctl_error("--reason '%s' is not a revocation reason", optarg);
				revoke_usage(stderr);
				return TC_CTL_USAGE;
			}
			break;
		case 'h':
			revoke_usage(stdout);
			return TC_CTL_OK;
		default:
			revoke_usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	if (optind != argc || !serial) {
		revoke_usage(stderr);
		return TC_CTL_USAGE;
	}
	struct tc_client *client = tc_ctl_conn_open(ctl, &conn);
	if (!client)
		return TC_CTL_FAIL;
	struct tc_status st;
	int64_t when;
	int rc = TC_CTL_FAIL;
	if (tc_revoke(client, serial, reason, &when, &st) != 0) {
		tc_ctl_status_error("revoke", &st);
	} else {
		printf("revoked %s at %lld\n", serial, (long long)when);
		rc = TC_CTL_OK;
	}
	tc_client_close(client);
	return rc;
}

static void crl_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl [--config FILE] crl [--der] [--out FILE] [connection options]\n"
		     "  the CA's current CRL, PEM (or DER with --der) to FILE or stdout\n");
	tc_ctl_conn_usage(out);
}

int tc_ctl_cmd_crl(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"der", no_argument, NULL, 'd'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		TC_CTL_CONN_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	struct tc_ctl_conn conn = {0};
	const char *out = NULL;
	int der = 0, c;
	optind = 0; /* glibc: a full reset (main parsed with "+" before) */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (tc_ctl_conn_option(&conn, c, optarg))
			continue;
		switch (c) {
		case 'd': der = 1; break;
		case 'o': out = optarg; break;
		case 'h':
			crl_usage(stdout);
			return TC_CTL_OK;
		default:
			crl_usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	if (optind != argc) {
		crl_usage(stderr);
		return TC_CTL_USAGE;
	}
	struct tc_client *client = tc_ctl_conn_open(ctl, &conn);
	if (!client)
		return TC_CTL_FAIL;
	struct tc_status st;
	struct tc_crl *crl = NULL;
	int rc = TC_CTL_FAIL;
	if (tc_get_crl(client, &crl, &st) != 0) {
		tc_ctl_status_error("crl", &st);
	} else {
		FILE *f = out ? fopen(out, "wb") : stdout;
		int ok = f && (der ? fwrite(crl->der, 1, crl->der_len, f) == crl->der_len : fputs(crl->pem, f) >= 0);
		if (out && f)
			ok = fclose(f) == 0 && ok;
		if (!ok)
			tc_ctl_error("%s: %s", out ? out : "stdout", strerror(errno));
		else
			rc = TC_CTL_OK;
		fprintf(stderr, "CRL number %llu, next update %lld\n", (unsigned long long)crl->crl_number,
			(long long)crl->next_update);
	}
	tc_crl_free(crl);
	tc_client_close(client);
	return rc;
}
