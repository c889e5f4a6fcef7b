#define _GNU_SOURCE
#include "server/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int tc_run_as_resolve(const char *base, const char *child, struct tc_run_as *ra, char *err, size_t errlen)
{
	memset(ra, 0, sizeof(*ra));
	if (geteuid() != 0)
		return 0;
	char user[64];
	if (snprintf(user, sizeof(user), "%s%s%s", base, child ? "-" : "", child ? child : "") >= (int)sizeof(user)) {
		snprintf(err, errlen, "server.user '%s': name too long", base);
		return -1;
	}
	/* getpwnam() and getgrnam() answer in static storage: keep what is
	 * needed of one answer before asking the next. */
	struct passwd *shared = getpwnam(base);
	int have_shared = shared != NULL;
	uid_t shared_uid = have_shared ? shared->pw_uid : 0;
	struct group *shared_group = getgrnam(base);
	gid_t group = shared_group ? shared_group->gr_gid : 0;
	struct passwd *pw = getpwnam(user);
	if (!pw || !have_shared || !shared_group) {
		snprintf(err, errlen,
			 "user '%s' (or the shared user and group '%s') does not exist: run ops/setup.sh as root, "
			 "or create them: groupadd --system %s; useradd --system --no-create-home --shell "
			 "/usr/sbin/nologin --gid %s %s; useradd --system --no-create-home --shell /usr/sbin/nologin "
			 "--user-group --groups %s %s",
			 !pw ? user : base, base, base, base, base, base, user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0 || group == 0) {
		snprintf(err, errlen, "user '%s' is root or in group root: children must run unprivileged", user);
		return -1;
	}
	if (child && pw->pw_uid == shared_uid) {
		snprintf(err, errlen, "user '%s' has the uid of '%s': each child needs a uid of its own", user, base);
		return -1;
	}
	ra->drop = 1;
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	ra->group = group;
	/* The validator connects where untrusted ACME clients say: it gets no
	 * group that reads anything of the data directory. */
	ra->no_shared_group = child && (strcmp(child, "validator") == 0 || strcmp(child, "metrics") == 0);
	snprintf(ra->user, sizeof(ra->user), "%s", user);
	return 0;
}

int tc_run_as_enter(const struct tc_run_as *ra, char *err, size_t errlen)
{
	if (ra->drop) {
		if ((ra->no_shared_group ? setgroups(0, NULL) : setgroups(1, &ra->group)) != 0 || setresgid(ra->gid, ra->gid, ra->gid) != 0 ||
		    setresuid(ra->uid, ra->uid, ra->uid) != 0) {
			snprintf(err, errlen, "cannot switch to user %s: %s", ra->user, strerror(errno));
			return -1;
		}
		/* A drop that can be undone is no drop. */
		if (setuid(0) == 0 || seteuid(0) == 0) {
			snprintf(err, errlen, "regained root after dropping to %s", ra->user);
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	if (chdir("/") != 0) {
		snprintf(err, errlen, "chdir /: %s", strerror(errno));
		return -1;
	}
	return 0;
}
