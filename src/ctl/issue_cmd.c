/* trustchainctl issue: asks the gateway for a certificate, for a CSR the
 * caller has or for a new P-256 key made here (written 0600, never over an
 * existing file), and writes the certificate and its chain as PEM. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/file_read.h"
#include "ctl/files.h"
#include "ctl/gateway_conn.h"

#define MAX_NAMES 64
#define MAX_CSR (64 * 1024)

static void issue_usage(FILE *out)
{
	fprintf(out,
		"usage: trustchainctl [--config FILE] issue --name DNS... [--ip ADDR...] (--csr FILE | --new-key FILE)\n"
		"         [--profile server|client|both] [--validity N[s|m|h|d]] [--out FILE] [--chain-out FILE]\n"
		"         [connection options]\n"
		"  --csr FILE        PKCS#10 request (PEM or DER) whose key is certified\n"
		"  --new-key FILE    make a P-256 key, write it to FILE (mode 0600, must not exist)\n"
		"  --out FILE        the certificate (default: certificate then chain on stdout)\n"
		"  --chain-out FILE  the issuing chain without the root\n");
	tc_ctl_conn_usage(out);
}

static int parse_profile(const char *s, enum tc_profile *p)
{
	if (strcmp(s, "server") == 0)
		*p = TC_PROFILE_SERVER;
	else if (strcmp(s, "client") == 0)
		*p = TC_PROFILE_CLIENT;
	else if (strcmp(s, "both") == 0)
		*p = TC_PROFILE_SERVER_AND_CLIENT;
	else
		return -1;
	return 0;
}

static int parse_duration(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned long long mul = 1;
	if (end == s || errno)
		return -1;
	if (*end == 'm')
		mul = 60;
	else if (*end == 'h')
		mul = 3600;
	else if (*end == 'd')
		mul = 86400;
	else if (*end && *end != 's')
		return -1;
	if (*end && end[1])
		return -1;
	if (v == 0 || v * mul > UINT32_MAX)
		return -1;
	*out = (uint32_t)(v * mul);
	return 0;
}

/* A CSR for key (names go in the request, not the CSR), DER. */
static unsigned char *csr_for(EVP_PKEY *key, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	int n = req && X509_REQ_set_pubkey(req, key) && X509_REQ_sign(req, key, EVP_sha256()) > 0
			? i2d_X509_REQ(req, &der)
			: -1;
	X509_REQ_free(req);
	*len = n > 0 ? (size_t)n : 0;
	return n > 0 ? der : NULL;
}

static int write_key(const char *path, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *data, err[512];
	long n;
	int rc = -1;
	if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) && (n = BIO_get_mem_data(b, &data)) > 0) {
		rc = tc_ctl_write_new_file(path, data, (size_t)n, 0600, err, sizeof(err));
		if (rc != 0)
			tc_ctl_error("--new-key: %s", err);
	}
	BIO_free(b);
	return rc;
}

static int write_text(const char *path, const char *a, const char *b)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(a, f) < 0 || (b && fputs(b, f) < 0) || fclose(f) != 0) {
		tc_ctl_error("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int tc_ctl_cmd_issue(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"ip", required_argument, NULL, 'i'},
		{"profile", required_argument, NULL, 'p'},
		{"validity", required_argument, NULL, 'v'},
		{"csr", required_argument, NULL, 'r'},
		{"new-key", required_argument, NULL, 'k'},
		{"out", required_argument, NULL, 'o'},
		{"chain-out", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		TC_CTL_CONN_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	struct tc_ctl_conn conn = {0};
	const char *names[MAX_NAMES], *ips[MAX_NAMES], *csr_path = NULL, *key_path = NULL, *out = NULL,
		   *chain_out = NULL;
	size_t n_names = 0, n_ips = 0;
	struct tc_issue_request rq = {.profile = TC_PROFILE_SERVER};
	int c;
	optind = 0; /* glibc: a full reset (main parsed with "+" before) */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (tc_ctl_conn_option(&conn, c, optarg))
			continue;
		switch (c) {
		case 'n':
		case 'i':
			if (n_names + n_ips == MAX_NAMES) {
				tc_ctl_error("at most %d names", MAX_NAMES);
				return TC_CTL_USAGE;
			}
			if (c == 'n')
				names[n_names++] = optarg;
			else
				ips[n_ips++] = optarg;
			break;
		case 'p':
			if (parse_profile(optarg, &rq.profile) != 0) {
				tc_ctl_error("--profile: server, client or both");
				return TC_CTL_USAGE;
			}
			break;
		case 'v':
			if (parse_duration(optarg, &rq.validity_seconds) != 0) {
				tc_ctl_error("--validity: a positive duration like 3600, 90m, 12h or 1d");
				return TC_CTL_USAGE;
			}
			break;
		case 'r': csr_path = optarg; break;
		case 'k': key_path = optarg; break;
		case 'o': out = optarg; break;
		case 'c': chain_out = optarg; break;
		case 'h':
			issue_usage(stdout);
			return TC_CTL_OK;
		default:
			issue_usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	if (optind != argc || !csr_path == !key_path || n_names + n_ips == 0) {
		if (n_names + n_ips == 0)
			tc_ctl_error("give at least one --name or --ip");
		else if (optind == argc)
			tc_ctl_error("give exactly one of --csr and --new-key");
		issue_usage(stderr);
		return TC_CTL_USAGE;
	}
	if (key_path && tc_ctl_file_exists(key_path)) {
		tc_ctl_error("--new-key %s exists; a key is never overwritten", key_path);
		return TC_CTL_FAIL;
	}
	char err[512];
	char *csr_file = NULL;
	unsigned char *csr_der = NULL;
	EVP_PKEY *key = NULL;
	if (csr_path) {
		size_t len;
		if (tc_read_file(csr_path, MAX_CSR, &csr_file, &len, err, sizeof(err)) != 0) {
			tc_ctl_error("--csr: %s", err);
			return TC_CTL_FAIL;
		}
		rq.csr = (const unsigned char *)csr_file;
		rq.csr_len = len;
	} else {
		key = EVP_EC_gen("P-256");
		if (!key || !(csr_der = csr_for(key, &rq.csr_len))) {
			tc_ctl_error("cannot make a key and its request");
			EVP_PKEY_free(key);
			return TC_CTL_FAIL;
		}
		rq.csr = csr_der;
	}
	rq.dns_names = names;
	rq.n_dns = n_names;
	rq.ip_addresses = ips;
	rq.n_ips = n_ips;

	int rc = TC_CTL_FAIL;
	struct tc_client *client = tc_ctl_conn_open(ctl, &conn);
	struct tc_issue_result *r = NULL;
	struct tc_status st;
	if (client && tc_issue(client, &rq, &r, &st) != 0)
		tc_ctl_status_error("issue", &st);
	else if (client && (!key || write_key(key_path, key) == 0) &&
		 (!out || write_text(out, r->certificate_pem, NULL) == 0) &&
		 (!chain_out || write_text(chain_out, r->chain_pem, NULL) == 0)) {
		if (!out)
			printf("%s%s", r->certificate_pem, chain_out ? "" : r->chain_pem);
		char until[32];
		time_t na = (time_t)r->not_after;
		strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", gmtime(&na));
		fprintf(stderr, "issued serial %s, valid until %s\n", r->serial, until);
		rc = TC_CTL_OK;
	}
	tc_issue_result_free(r);
	tc_client_close(client);
	free(csr_file);
	OPENSSL_free(csr_der);
	EVP_PKEY_free(key);
	return rc;
}
