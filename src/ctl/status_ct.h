/* trustchainctl status: the CT log section. Without ct.logs the single
 * log's tree size and tree head age; with temporal shards one line per
 * shard: its name, notAfter window, state (usable or frozen), tree size,
 * tree head age and the age of its last published checkpoint (verified
 * with the shard's public key), and the retired single log when it is
 * still served at the root. */
#ifndef TC_CTL_STATUS_CT_H
#define TC_CTL_STATUS_CT_H

#include "ctl/ctl.h"

/* Prints the section; calls problem(arg, what) for each problem found. */
void tc_status_ct(const struct tc_ctl *ctl, void (*problem)(void *arg, const char *what), void *arg);

#endif
