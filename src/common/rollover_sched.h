/* The CA key rollover schedule files under <data_dir>/ca/rollover/
 * (issue 14 part 8), read the same way by every process that needs them:
 * "next" (`ceremony rollover-intermediate`, one "LABEL CUTOVER" line) and
 * "finalized" (`ceremony finalize-rollover`, such lines oldest first, the
 * last one issuing). The signer (signer/issuers.h) loads the keys; the
 * resolver (DoQ certificate chain, TLSA records) needs only the
 * certificate files. */
#ifndef TC_COMMON_ROLLOVER_SCHED_H
#define TC_COMMON_ROLLOVER_SCHED_H

#include <stddef.h>
#include <time.h>

#include "common/config.h"

/* One "LABEL YYYY-MM-DDTHH:MM:SSZ" line of ca/rollover/next or
 * ca/rollover/finalized (n bytes, trailing newline/spaces allowed; the
 * label a key label, a NUL refused) into label / *when; -1 with why. */
int tc_rollover_parse_line(const char *buf, size_t n, char *label, size_t ll, time_t *when, char *why, size_t wl);

#define TC_ROLLOVER_FILES_MAX 8

/* The certificate files (relative to data_dir) of every intermediate that
 * may have issued a certificate of ours, in issuing order:
 * ca/intermediate.pem, the finalized rollovers oldest first, then the
 * scheduled next one. A rollover's file is ca/rollover/LABEL-chain.pem
 * when it exists (the intermediate, then, under a new root, that root's
 * cross certificate from our root), else ca/rollover/LABEL.pem. Lines that
 * do not parse, repeated labels and files beyond the maximum are left out
 * (the signer ignores them too). */
struct tc_rollover_files {
	int n;
	int next;  /* 1: rel[n - 1] is the scheduled next one (issuing from its cut-over) */
	char rel[TC_ROLLOVER_FILES_MAX][128];
};
void tc_rollover_files_read(const struct tc_config *cfg, struct tc_rollover_files *out);

#endif
