/* Who the children run as. When trustchain-server starts as root, every
 * child switches to the unprivileged server.user before exec; otherwise the
 * children keep the invoking user (development). */
#ifndef TC_SERVER_PRIVDROP_H
#define TC_SERVER_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct tc_run_as {
	int drop;      /* 1 when started as root */
	uid_t uid;
	gid_t gid;
	char user[64];
};

/* Resolves the user when running as root. Returns -1 with err set when the
 * user does not exist or is root itself. */
int tc_run_as_resolve(const char *user, struct tc_run_as *ra, char *err, size_t errlen);

/* Makes dir (created 0700 if needed) and everything below it belong to the
 * run-as user, so children can use the data directory after dropping root. */
int tc_run_as_own_tree(const struct tc_run_as *ra, const char *dir, char *err, size_t errlen);

/* In a freshly forked child: drop supplementary groups, gid and uid (and
 * check they cannot be regained), set PR_SET_NO_NEW_PRIVS and move to "/".
 * Returns -1 with err set on any failure: the child must then exit. */
int tc_run_as_enter(const struct tc_run_as *ra, char *err, size_t errlen);

#endif
