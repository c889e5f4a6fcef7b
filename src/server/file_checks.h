/* Before any child is forked (and for --check-config): every file a
 * child's configuration names can be read by that child's user, and no
 * secret among them (PIN, bearer tokens, TLS key) can be read by other
 * users. Each problem is reported with the file, the key that names it, the
 * user, and the command that fixes it, instead of a child failing later
 * with a bare "Permission denied" (or crash-looping). */
#ifndef TC_SERVER_FILE_CHECKS_H
#define TC_SERVER_FILE_CHECKS_H

#include <stdio.h>

#include "server/children.h"

/* Writes one line per problem to out. Returns the number of problems. */
int tc_check_child_files(const struct tc_supervisor *s, FILE *out);

#endif
