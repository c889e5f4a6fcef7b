/* trustchainctl status: the few figures from /metrics an operator reads
 * first (issuances, refusals, restarts, refused expositions). */
#ifndef TC_CTL_STATUS_METRICS_H
#define TC_CTL_STATUS_METRICS_H

#include <stddef.h>

/* Scrapes http://<listen>/metrics and prints one line; 0, or -1 with err. */
int tc_status_metrics_line(const char *listen, char *err, size_t errlen);

#endif
