/* trustchainctl validate: asks a gateway for the STOQ trust decision on a
 * chain file, as a STOQ node would, and prints the decision, every reason
 * and the verified path. Exit status: 0 TRUSTED, 1 UNTRUSTED, 2 when no
 * decision was made (usage, unreadable file, gateway unreachable). */
#define _XOPEN_SOURCE 700 /* strptime */
#define _DEFAULT_SOURCE /* timegm */
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/file_read.h"
#include "ctl/ctl.h"
#include "ctl/gateway_conn.h"
#include "trustchain/client.h"

#define MAX_CHAIN_FILE (1024 * 1024)
#define MAX_CERTS 16

static void validate_usage(FILE *out)
{
	fprintf(out,
		"usage: trustchainctl validate [--name NAME] [--time T] [--purpose server|client]\n"
		"                              [--timeout MS] [connection options] CHAIN\n"
		"  CHAIN         PEM file (leaf first, then intermediates) or one DER certificate\n"
		"  --name NAME   DNS name or IP address the peer should have (default: not checked)\n"
		"  --time T      unix seconds or YYYY-MM-DDTHH:MM:SSZ to validate at (default: now)\n"
		"  --purpose P   server (default) or client\n"
		"  --timeout MS  call deadline\n"
		"connection options (Validate needs no credential; the target defaults to\n"
		"stoq_integration.certificate_validation_endpoint, then gateway.listen):\n");
	tc_ctl_conn_usage(out);
	fprintf(out, "exit status: 0 TRUSTED, 1 UNTRUSTED, 2 no decision\n");
}

static int parse_time(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*s && !*end) {
		*out = v;
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

struct chain {
	unsigned char *der[MAX_CERTS];
	size_t len[MAX_CERTS];
	size_t n;
};

static void chain_free(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		OPENSSL_free(c->der[i]);
	c->n = 0;
}

/* Every certificate of a PEM file, or the file itself as one DER
 * certificate. The gateway judges the bytes; this only splits them. */
static int read_chain(const char *path, struct chain *c)
{
	char err[512];
	char *data;
	size_t len;
	if (tc_read_file(path, MAX_CHAIN_FILE, &data, &len, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		return -1;
	}
	int rc = 0;
	if (strstr(data, "-----BEGIN")) {
		BIO *b = BIO_new_mem_buf(data, (int)len);
		X509 *x;
		while (b && c->n < MAX_CERTS && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
			unsigned char *der = NULL;
			int n = i2d_X509(x, &der);
			X509_free(x);
			if (n <= 0)
				break;
			c->der[c->n] = der;
			c->len[c->n++] = (size_t)n;
		}
		BIO_free(b);
		ERR_clear_error();
		if (c->n == 0) {
			tc_ctl_error("%s: no PEM certificate could be read", path);
			rc = -1;
		}
	} else if (len > 0 && (c->der[0] = OPENSSL_malloc(len))) {
		memcpy(c->der[0], data, len);
		c->len[0] = len;
		c->n = 1;
	} else {
		tc_ctl_error("%s: empty file", path);
		rc = -1;
	}
	free(data);
	return rc;
}

static void print_cert(const char *label, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	char subject[512] = "(undecodable)";
	if (x)
		X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
	printf("  %s %s\n", label, subject);
	X509_free(x);
}

static void print_result(const struct tc_validate_result *r)
{
	printf("decision: %s\n", tc_decision_name(r->decision));
	printf("reasons:");
	for (size_t i = 0; i < r->n_reasons; i++)
		printf(" %s", tc_reason_name(r->reasons[i]));
	printf("\n");
	if (r->detail[0])
		printf("detail: %s\n", r->detail);
	if (r->n_verified_chain) {
		printf("verified chain:\n");
		for (size_t i = 0; i < r->n_verified_chain; i++)
			print_cert(i == 0 ? "leaf" : i + 1 == r->n_verified_chain ? "root" : "ca  ",
				   r->verified_chain[i], r->verified_chain_lens[i]);
	}
}

int tc_ctl_cmd_validate(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},    {"time", required_argument, NULL, 'T'},
		{"purpose", required_argument, NULL, 'p'}, {"timeout", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},          TC_CTL_CONN_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	struct tc_ctl_conn conn = {0};
	if (ctl->cfg.stoq_integration.certificate_validation_endpoint[0])
		conn.target = ctl->cfg.stoq_integration.certificate_validation_endpoint;
	struct tc_validate_request rq = {.purpose = TC_PURPOSE_SERVER_AUTH};
	int timeout_ms = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:T:p:w:h", opts, NULL)) != -1) {
		if (tc_ctl_conn_option(&conn, c, optarg))
			continue;
		switch (c) {
		case 'n': rq.name = optarg; break;
		case 'T':
			if (parse_time(optarg, &rq.time) != 0) {
				tc_ctl_error("--time: expected unix seconds or YYYY-MM-DDTHH:MM:SSZ, got '%s'", optarg);
				return TC_CTL_USAGE;
			}
			break;
		case 'p':
			if (strcmp(optarg, "server") == 0) {
				rq.purpose = TC_PURPOSE_SERVER_AUTH;
			} else if (strcmp(optarg, "client") == 0) {
				rq.purpose = TC_PURPOSE_CLIENT_AUTH;
			} else {
				tc_ctl_error("--purpose: expected server or client, got '%s'", optarg);
				return TC_CTL_USAGE;
			}
			break;
		case 'w': timeout_ms = atoi(optarg); break;
		case 'h': validate_usage(stdout); return TC_CTL_OK;
		default: validate_usage(stderr); return TC_CTL_USAGE;
		}
	}
	if (optind != argc - 1) {
		validate_usage(stderr);
		return TC_CTL_USAGE;
	}
	struct chain chain = {0};
	if (read_chain(argv[optind], &chain) != 0)
		return TC_CTL_USAGE;
	rq.chain = (const unsigned char *const *)chain.der;
	rq.chain_lens = chain.len;
	rq.n_chain = chain.n;

	struct tc_client *client = tc_ctl_conn_open(ctl, &conn);
	if (!client) {
		chain_free(&chain);
		return TC_CTL_USAGE;
	}
	if (timeout_ms > 0)
		tc_client_set_timeout(client, timeout_ms);
	struct tc_validate_result *r = NULL;
	struct tc_status st;
	int rc = TC_CTL_USAGE;
	if (tc_validate(client, &rq, &r, &st) != 0) {
		tc_ctl_status_error("Validate", &st);
	} else {
		print_result(r);
		rc = r->decision == TC_TRUSTED ? TC_CTL_OK : TC_CTL_FAIL;
	}
	tc_validate_result_free(r);
	tc_client_close(client);
	chain_free(&chain);
	return rc;
}
