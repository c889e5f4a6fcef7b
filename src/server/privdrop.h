/* Who the children run as. Started as root, trustchain-server runs every
 * child as a system user of its own, `<server.user>-<child>`
 * (trustchain-signer, trustchain-transparency, trustchain-resolver,
 * trustchain-gateway), each with the group `<server.user>` as its only
 * supplementary group: the group reads the public files of the data
 * directory (certificates, the log's public key), the owner alone its
 * private part (DESIGN.md section 1). Otherwise the children keep the
 * invoking user (development) and only their Landlock rules separate them. */
#ifndef TC_SERVER_PRIVDROP_H
#define TC_SERVER_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct tc_run_as {
	int drop;        /* 1 when started as root */
	uid_t uid;
	gid_t gid;       /* the user's own primary group */
	gid_t group;     /* the shared <server.user> group (supplementary) */
	int no_shared_group; /* run without it (the validator reads none of our files) */
	char user[64];
};

/* Resolves `<base>-<child>` (child NULL: base itself, the shared group's
 * user) when running as root. Returns -1 with err set, naming the command
 * that creates the user, when it does not exist or is root. */
int tc_run_as_resolve(const char *base, const char *child, struct tc_run_as *ra, char *err, size_t errlen);

/* In a freshly forked child: set the supplementary group, gid and uid (and
 * check root cannot be regained), set PR_SET_NO_NEW_PRIVS and move to "/".
 * Returns -1 with err set on any failure: the child must then exit. */
int tc_run_as_enter(const struct tc_run_as *ra, char *err, size_t errlen);

#endif
