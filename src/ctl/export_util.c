/* Helpers shared by the audit exporters and verifiers. */
#include <errno.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hex.h"
#include "ctl/export.h"

int tc_export_read_line(FILE *f, char **line, size_t *cap, size_t *len)
{
	ssize_t n = getline(line, cap, f);
	if (n <= 0)
		return 0;
	if ((*line)[n - 1] != '\n' || (size_t)n > TC_EXPORT_MAX_LINE)
		return -1;
	(*line)[--n] = 0;
	*len = (size_t)n;
	return 1;
}

int tc_export_key_fingerprint(EVP_PKEY *key, char out[65])
{
	unsigned char *der = NULL, digest[SHA256_DIGEST_LENGTH];
	int n = i2d_PUBKEY(key, &der);
	if (n <= 0)
		return -1;
	SHA256(der, (size_t)n, digest);
	OPENSSL_free(der);
	tc_hex_encode(digest, sizeof(digest), out);
	return 0;
}

void tc_export_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int tc_export_write_atomic(const char *path, int (*fn)(FILE *f, void *ctx), void *ctx)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (!tmp) {
		tc_ctl_error("out of memory");
		return TC_CTL_FAIL;
	}
	snprintf(tmp, n, "%s.partial", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		tc_ctl_error("%s: %s", tmp, strerror(errno));
		free(tmp);
		return TC_CTL_FAIL;
	}
	int rc = fn(f, ctx);
	if (rc == TC_CTL_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
		tc_ctl_error("%s: %s", tmp, strerror(errno));
		rc = TC_CTL_FAIL;
	}
	if (fclose(f) != 0 && rc == TC_CTL_OK) {
		tc_ctl_error("%s: %s", tmp, strerror(errno));
		rc = TC_CTL_FAIL;
	}
	if (rc == TC_CTL_OK && rename(tmp, path) != 0) {
		tc_ctl_error("%s: %s", path, strerror(errno));
		rc = TC_CTL_FAIL;
	}
	if (rc != TC_CTL_OK)
		unlink(tmp);
	free(tmp);
	return rc;
}
