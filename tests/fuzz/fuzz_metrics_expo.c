/* The exposition reader of trustchain-metrics (common/metrics_expo.c) on
 * arbitrary text, as a taken-over child could send it: refused or taken,
 * never a crash; what is taken renders, and a second source merged with it
 * still renders; trustchainctl status's reading of one figure copes too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/metrics_expo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char other[] = "# HELP a A.\n# TYPE a counter\na{x=\"1\"} 2\n";
	struct tc_expo *e = tc_expo_new();
	if (!e)
		return 0;
	char err[256], *out = NULL;
	size_t len;
	tc_expo_update(e, "gateway", other, sizeof(other) - 1, err, sizeof(err));
	tc_expo_update(e, "signer", (const char *)data, size, err, sizeof(err));
	volatile double sum = tc_expo_sum((const char *)data, size, "a");
	(void)sum;
	if (tc_expo_render(e, &out, &len) == 0)
		free(out);
	tc_expo_free(e);
	return 0;
}
