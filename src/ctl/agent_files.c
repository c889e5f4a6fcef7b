/* The agent's pure parts; see agent.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/asn1_time.h"
#include "ctl/agent.h"

int64_t tc_agent_renew_at(int64_t not_before, int64_t not_after, double jitter_unit)
{
	int64_t life = not_after > not_before ? not_after - not_before : 0;
	if (jitter_unit < 0 || jitter_unit >= 1)
		jitter_unit = 0;
	return not_before + life * 2 / 3 - (int64_t)((double)(life / 15) * jitter_unit);
}

int tc_agent_cert_window(const char *path, int64_t *not_before, int64_t *not_after)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	int rc = x && tc_asn1_time_unix(X509_get0_notBefore(x), not_before) == 0 &&
			 tc_asn1_time_unix(X509_get0_notAfter(x), not_after) == 0
		 ? 0
		 : -1;
	X509_free(x);
	return rc;
}
