/* The SoftHSM configuration as this signer must see it.
 *
 * The dev token's softhsm2.conf names its token directory by the data
 * directory's real absolute path (SoftHSM resolves a relative one against
 * the cwd). Under trustchain-server the signer reaches its data directory
 * through a descriptor the supervisor opened (/proc/self/fd/N: the data
 * directory may lie below a directory its user cannot traverse, e.g. a
 * checkout in /root), so that real path may be unreachable for it. The
 * signer then hands SoftHSM a private copy of the configuration (a memfd)
 * in which a token directory inside the data directory is named through
 * the descriptor. Any other configuration is used as written. */
#ifndef TC_SIGNER_SOFTHSM_VIEW_H
#define TC_SIGNER_SOFTHSM_VIEW_H

#include <stddef.h>

#include "common/config.h"

/* Sets SOFTHSM2_CONF for the module about to be loaded (nothing when
 * hsm.softhsm_conf is empty). Returns 0, or -1 with err set. */
int tc_softhsm_view_setup(const struct tc_config *cfg, char *err, size_t errlen);

#endif
