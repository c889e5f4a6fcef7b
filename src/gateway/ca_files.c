/* The CA certificates the gateway hands out with every issued certificate,
 * read at start; a next intermediate scheduled by a CA key rollover is
 * picked up while running (ca_rollover.h). */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/asn1_time.h"
#include "common/file_read.h"
#include "common/metrics_proc.h"
#include "gateway/ca_rollover.h"
#include "gateway/gateway.h"

#define MAX_PEM_FILE (256 * 1024)

/* Reads a PEM file that must hold at least one certificate. */
static char *read_pem(const struct tc_config *cfg, const char *rel, char *err, size_t errlen)
{
	char path[TC_CFG_STR + 64];
	if (tc_config_data_path(cfg, rel, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "%s: path too long", rel);
		return NULL;
	}
	char *buf;
	size_t n;
	if (tc_read_file(path, MAX_PEM_FILE, &buf, &n, err, errlen) != 0)
		return NULL;
	if (n == 0) {
		snprintf(err, errlen, "%s: empty", path);
		free(buf);
		return NULL;
	}
	BIO *b = BIO_new_mem_buf(buf, (int)n);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!x) {
		snprintf(err, errlen, "%s: no PEM certificate", path);
		free(buf);
		return NULL;
	}
	int64_t na;
	if (tc_asn1_time_unix(X509_get0_notAfter(x), &na) == 0)
		tc_pm_cert_expiry(strstr(rel, "root") ? "root" : "intermediate", (long long)na);
	X509_free(x);
	return buf;
}

int tc_gateway_load_ca(struct tc_gateway *gw, char *err, size_t errlen)
{
	gw->root_pem = read_pem(gw->cfg, "ca/root.pem", err, errlen);
	if (!gw->root_pem)
		return -1;
	gw->chain_pem = read_pem(gw->cfg, "ca/intermediate.pem", err, errlen);
	if (!gw->chain_pem || tc_ca_rollover_init(gw, err, errlen) != 0) {
		tc_gateway_free_ca(gw);
		return -1;
	}
	return 0;
}

void tc_gateway_free_ca(struct tc_gateway *gw)
{
	tc_ca_rollover_fini();
	free(gw->root_pem);
	free(gw->chain_pem);
	gw->root_pem = gw->chain_pem = NULL;
}
