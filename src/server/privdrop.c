#define _GNU_SOURCE
#include "server/privdrop.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

int tc_run_as_resolve(const char *user, struct tc_run_as *ra, char *err, size_t errlen)
{
	memset(ra, 0, sizeof(*ra));
	if (geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen,
			 "server.user '%s' does not exist; create it (useradd --system --no-create-home "
			 "--shell /usr/sbin/nologin %s) or set server.user",
			 user, user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "server.user '%s' is root: children must run unprivileged", user);
		return -1;
	}
	ra->drop = 1;
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	snprintf(ra->user, sizeof(ra->user), "%s", user);
	return 0;
}

static uid_t walk_uid;
static gid_t walk_gid;

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (st->st_uid == walk_uid && st->st_gid == walk_gid)
		return 0;
	return lchown(path, walk_uid, walk_gid) == 0 ? 0 : -1;
}

int tc_run_as_own_tree(const struct tc_run_as *ra, const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!ra->drop)
		return 0;
	walk_uid = ra->uid;
	walk_gid = ra->gid;
	if (nftw(dir, chown_entry, 16, FTW_PHYS) != 0) {
		snprintf(err, errlen, "cannot hand %s to user %s: %s", dir, ra->user, strerror(errno));
		return -1;
	}
	return 0;
}

int tc_run_as_enter(const struct tc_run_as *ra, char *err, size_t errlen)
{
	if (ra->drop) {
		if (setgroups(0, NULL) != 0 || setresgid(ra->gid, ra->gid, ra->gid) != 0 ||
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
