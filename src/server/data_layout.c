#define _GNU_SOURCE
#include "server/data_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define ROOT_OWNED (-1)

struct part {
	const char *rel;
	int owner;  /* a child kind, or ROOT_OWNED */
	mode_t mode;
	int repair_only;  /* the child makes it (its existence means something) */
};

/* Parents before children: a part's walk hands everything below it to its
 * owner, then a more specific part below takes its own back. */
static const struct part parts[] = {
    {"hsm", TC_CHILD_SIGNER, 0700, 0},
    {"journal", TC_CHILD_SIGNER, 0700, 0},
    {"ca", TC_CHILD_SIGNER, 0750, 0},
    {"ct", TC_CHILD_TRANSPARENCY, 0750, 0},
    {"ct/log", TC_CHILD_TRANSPARENCY, 0700, 1},
    {"ct/submissions", TC_CHILD_TRANSPARENCY, 0700, 1},
    {"dns", TC_CHILD_RESOLVER, 0750, 0},
    {"acme", TC_CHILD_ACME, 0700, 0},
    {"run", ROOT_OWNED, 0750, 0},
};

static uid_t walk_uid;
static gid_t walk_gid;

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (st->st_uid == walk_uid && st->st_gid == walk_gid)
		return 0;
	/* A second name of a file (a hard link a child made to something
	 * outside, where the kernel allows it) must not hand that file to the
	 * child: nothing of ours has one. */
	if (!S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode) && st->st_nlink > 1) {
		tc_warn("%s has %lu names (a hard link): left as it is; remove it", path,
			(unsigned long)st->st_nlink);
		return 0;
	}
	/* lchown: a symbolic link a child left here is re-owned itself, never
	 * what it points to. */
	return lchown(path, walk_uid, walk_gid) == 0 ? 0 : -1;
}

/* dir made (if missing) and set to uid:gid mode, through a descriptor
 * opened without following a symbolic link. */
static int own_dir(const char *dir, int drop, uid_t uid, gid_t gid, mode_t mode, char *err, size_t errlen)
{
	if (mkdir(dir, mode) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!drop)
		return 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, uid, gid) != 0 || fchmod(fd, mode) != 0) {
		snprintf(err, errlen, "cannot set owner and mode of %s: %s%s", dir, strerror(errno),
			 errno == ELOOP || errno == ENOTDIR ? " (not a directory: move it away)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int tc_data_layout_repair(const struct tc_supervisor *s, char *err, size_t errlen)
{
	const char *data = s->cfg.server.data_dir;
	const struct tc_run_as *signer = &s->run_as[TC_CHILD_SIGNER];
	int drop = signer->drop;
	gid_t group = signer->group;
	if (own_dir(data, drop, 0, group, drop ? 0750 : 0700, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		char dir[TC_CFG_STR + 32];
		if (tc_config_data_path(&s->cfg, parts[i].rel, dir, sizeof(dir)) != 0) {
			snprintf(err, errlen, "server.data_dir is too long");
			return -1;
		}
		/* A child that does not run (acme without acme.listen) has no
		 * user to hand its part to: left as it is. */
		if (parts[i].owner != ROOT_OWNED && !s->child[parts[i].owner].enabled)
			continue;
		uid_t uid = parts[i].owner == ROOT_OWNED ? 0 : s->run_as[parts[i].owner].uid;
		struct stat st;
		if (parts[i].repair_only && lstat(dir, &st) != 0)
			continue;
		if (own_dir(dir, drop, uid, group, parts[i].mode, err, errlen) != 0)
			return -1;
		if (!drop)
			continue;
		walk_uid = uid;
		walk_gid = group;
		if (nftw(dir, chown_entry, 16, FTW_PHYS) != 0) {
			snprintf(err, errlen, "cannot hand %s to %s: %s", dir,
				 parts[i].owner == ROOT_OWNED ? "root" : s->run_as[parts[i].owner].user, strerror(errno));
			return -1;
		}
	}
	return 0;
}
