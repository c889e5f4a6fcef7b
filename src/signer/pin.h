/* Reads the token user PIN from hsm.pin_file or hsm.pin_env. The PIN is never
 * logged; callers wipe it with tc_pin_wipe() as soon as login is done. */
#ifndef TC_SIGNER_PIN_H
#define TC_SIGNER_PIN_H

#include <stddef.h>

#include "common/config.h"

#define TC_PIN_MAX 128

/* Returns 0 and the PIN in out, or -1 with a reason in err. A PIN file must
 * be a regular file owned by us with no group/other permission bits. */
int tc_pin_read(const struct tc_config *cfg, char out[TC_PIN_MAX], char *err, size_t errlen);
void tc_pin_wipe(char pin[TC_PIN_MAX]);

#endif
