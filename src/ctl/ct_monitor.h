/* trustchainctl ct monitor: follows a static-ct-api log through its tiles
 * (see ct_monitor.c). */
#ifndef TC_CTL_CT_MONITOR_H
#define TC_CTL_CT_MONITOR_H

#include "ctl/ctl.h"

int tc_ctl_ct_monitor(struct tc_ctl *ctl, int argc, char **argv);

#endif
