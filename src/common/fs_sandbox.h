/* The file-system half of each child's sandbox: which files and directories
 * a child may read, and which it may change, derived from the configuration
 * in one place. The child restricts itself to exactly these with Landlock
 * (DESIGN.md section 1), and the supervisor uses the same list to check,
 * before forking, that each child's user can read what it must (and that
 * nobody else can read what is secret).
 *
 * Landlock limits a process whatever its uid: even a child that runs as the
 * same user as another (a start without root, or an exploit that gained a
 * sibling's uid) cannot open the other's files. The per-child users and the
 * modes of the data directory are the other half (server/data_layout.c). */
#ifndef TC_COMMON_FS_SANDBOX_H
#define TC_COMMON_FS_SANDBOX_H

#include <stddef.h>

#include "common/config.h"

enum tc_fs_access {
	TC_FS_READ,   /* read files, list directories */
	TC_FS_WRITE,  /* that, plus create, write, rename and remove below it */
};

struct tc_fs_rule {
	char path[TC_CFG_STR + 64];
	enum tc_fs_access access;
	const char *what;  /* the config key or role, for messages ("gateway.tokens_file") */
	int secret;        /* must not be readable by other users */
	int optional;      /* may be missing (created later, or not configured in this mode) */
	int configured;    /* a path the operator chose in the configuration */
	unsigned create_mode; /* a directory of the child's own, made with this mode when missing */
};

#define TC_FS_MAX_RULES 32

/* The rules of child ("signer", "transparency", "resolver", "gateway"):
 * the system directories every process reads (libraries, /etc, /proc), its
 * own part of server.data_dir, the public files it reads from the others'
 * parts, and the files its configuration names. Returns the number of
 * rules, or -1 for an unknown child. */
int tc_fs_rules_for(const char *child, const struct tc_config *cfg, const char *config_path,
		    struct tc_fs_rule *rules, size_t max);

/* Restricts this process (and every thread it creates later) to the rules
 * of child. Returns 1 when applied, 0 when the kernel has no Landlock
 * (logged once; the per-child users still separate), -1 with err set on a
 * failure that must stop the child. */
int tc_fs_sandbox_apply(const char *child, const struct tc_config *cfg, const char *config_path, char *err,
			size_t errlen);

#endif
