#define _GNU_SOURCE
#include "server/file_checks.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fs_sandbox.h"

/* Mode and ownership of a secret (PIN, bearer tokens, TLS key): the child
 * reading it refuses anything but its own file with mode 0600 or stricter
 * (signer/pin.c, gateway/secret_file.c), so say so now, with the fix,
 * rather than let the child crash-loop. */
static int check_secret(const struct tc_fs_rule *r, const struct tc_run_as *ra, FILE *out)
{
	struct stat st;
	if (stat(r->path, &st) != 0)
		return 0; /* missing: reported by the read check */
	uid_t owner = ra->drop ? ra->uid : geteuid();
	if (st.st_uid == owner && (st.st_mode & 077) == 0)
		return 0;
	struct passwd *pw = getpwuid(owner);
	char who[64];
	snprintf(who, sizeof(who), "%s", ra->drop ? ra->user : pw ? pw->pw_name : "the invoking user");
	fprintf(out,
		"%s %s: a secret: must belong to %s with mode 0600 or stricter (owner uid %u, mode %04o): run "
		"chown %s '%s' && chmod 600 '%s'\n",
		r->what, r->path, who, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), who, r->path, r->path);
	return 1;
}

/* In a child process as the user of ra: tries to open every configured file
 * and writes a line to fd for each that fails. Never returns. */
static void probe_as(const struct tc_supervisor *s, const struct tc_run_as *ra, const struct tc_fs_rule *rules,
		     int n, int fd)
{
	size_t data_len = strlen(s->cfg.server.data_dir);
	if (ra->drop && (setgroups(1, &ra->group) != 0 || setresgid(ra->gid, ra->gid, ra->gid) != 0 ||
			 setresuid(ra->uid, ra->uid, ra->uid) != 0)) {
		dprintf(fd, "cannot switch to user %s to check its files: %s\n", ra->user, strerror(errno));
		_exit(1);
	}
	for (int i = 0; i < n; i++) {
		if (!rules[i].configured)
			continue;
		/* A file in the data directory is reached through the descriptor
		 * the child gets, as the child will. */
		const char *path = rules[i].path;
		int in_data = strncmp(path, s->cfg.server.data_dir, data_len) == 0 && path[data_len] == '/';
		if (in_data && s->data_fd < 0)
			continue; /* no data directory yet: the first start makes it */
		int f = in_data ? openat(s->data_fd, path + data_len + 1, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
				: open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (f >= 0) {
			close(f);
			continue;
		}
		int e = errno;
		if (e == ENOENT && in_data)
			continue; /* made by the ceremony or the child itself, which says so if not */
		if (e == ENOENT) {
			dprintf(fd, "%s %s: does not exist\n", rules[i].what, rules[i].path);
		} else if (ra->drop) {
			dprintf(fd,
				"%s %s: user %s cannot read it (%s): let it, e.g. chgrp %s '%s' && chmod g+r '%s' "
				"(and make every directory above it searchable by that user)\n",
				rules[i].what, rules[i].path, ra->user, strerror(e), ra->user, rules[i].path, rules[i].path);
		} else {
			dprintf(fd, "%s %s: cannot read it: %s\n", rules[i].what, rules[i].path, strerror(e));
		}
	}
	_exit(0);
}

static int read_problems(int fd, FILE *out)
{
	char buf[4096];
	int lines = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, out);
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
	return lines;
}

static int check_child(const struct tc_supervisor *s, enum tc_child_kind k, FILE *out)
{
	struct tc_fs_rule rules[TC_FS_MAX_RULES];
	/* No --config rule: the children read the supervisor's sealed copy. */
	int n = tc_fs_rules_for(s->child[k].name, &s->cfg, NULL, rules, TC_FS_MAX_RULES);
	if (n < 0) {
		fprintf(out, "%s: configured paths too long\n", s->child[k].name);
		return 1;
	}
	const struct tc_run_as *ra = &s->run_as[k];
	int problems = 0;
	for (int i = 0; i < n; i++)
		if (rules[i].configured && rules[i].secret)
			problems += check_secret(&rules[i], ra, out);
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		fprintf(out, "pipe: %s\n", strerror(errno));
		return problems + 1;
	}
	fflush(out);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		probe_as(s, ra, rules, n, p[1]);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		fprintf(out, "fork: %s\n", strerror(errno));
		return problems + 1;
	}
	problems += read_problems(p[0], out);
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return problems;
}

int tc_check_child_files(const struct tc_supervisor *s, FILE *out)
{
	int problems = 0;
	for (int k = 0; k < TC_CHILD_COUNT; k++)
		if (s->child[k].enabled)
			problems += check_child(s, (enum tc_child_kind)k, out);
	return problems;
}
