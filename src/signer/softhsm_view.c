#define _GNU_SOURCE
#include "signer/softhsm_view.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/file_read.h"

#define MAX_CONF (64 * 1024)
#define FD_VIEW_PREFIX "/proc/self/fd/"

/* The real path behind a /proc/self/fd/N data directory, or -1. */
static int data_dir_real_path(const char *view, char *out, size_t outlen)
{
	if (strncmp(view, FD_VIEW_PREFIX, strlen(FD_VIEW_PREFIX)) != 0)
		return -1;
	ssize_t n = readlink(view, out, outlen - 1);
	if (n <= 0 || (size_t)n >= outlen - 1)
		return -1;
	out[n] = '\0';
	return out[0] == '/' ? 0 : -1;
}

/* conf with "directories.tokendir = <real>/..." rewritten to "<view>/...";
 * NULL when there is nothing to rewrite (or no memory). */
static char *rewrite_tokendir(const char *conf, size_t len, const char *real, const char *view, size_t *out_len)
{
	size_t real_len = strlen(real), cap = len + strlen(view) + 32; /* one line grows by at most that */
	char *out = malloc(cap), *w = out;
	int changed = 0;
	if (!out)
		return NULL;
	for (const char *line = conf; line < conf + len;) {
		const char *end = memchr(line, '\n', (size_t)(conf + len - line));
		size_t line_len = end ? (size_t)(end - line) + 1 : (size_t)(conf + len - line);
		const char *p = line;
		while (p < line + line_len && (*p == ' ' || *p == '\t'))
			p++;
		const char *key = "directories.tokendir";
		const char *eq = memchr(p, '=', line_len - (size_t)(p - line));
		if (!changed && eq && strncmp(p, key, strlen(key)) == 0) {
			const char *v = eq + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (strncmp(v, real, real_len) == 0 && (v[real_len] == '/' || v[real_len] == '\n' ||
								 v[real_len] == '\0' || v[real_len] == ' ')) {
				int k = snprintf(w, cap - (size_t)(w - out), "directories.tokendir = %s", view);
				w += k;
				size_t rest = line_len - (size_t)(v + real_len - line);
				memcpy(w, v + real_len, rest);
				w += rest;
				changed = 1;
				line += line_len;
				continue;
			}
		}
		memcpy(w, line, line_len);
		w += line_len;
		line += line_len;
	}
	if (!changed) {
		free(out);
		return NULL;
	}
	*out_len = (size_t)(w - out);
	return out;
}

int tc_softhsm_view_setup(const struct tc_config *cfg, char *err, size_t errlen)
{
	const char *path = cfg->hsm.softhsm_conf;
	if (!path[0])
		return 0;
	char real[PATH_MAX];
	if (data_dir_real_path(cfg->server.data_dir, real, sizeof(real)) != 0)
		goto as_written;
	char *conf = NULL, why[256];
	size_t len = 0, view_len = 0;
	if (tc_read_file(path, MAX_CONF, &conf, &len, why, sizeof(why)) != 0)
		goto as_written; /* SoftHSM says what is wrong with it */
	char *view = rewrite_tokendir(conf, len, real, cfg->server.data_dir, &view_len);
	free(conf);
	if (!view)
		goto as_written;
	int fd = memfd_create("softhsm2.conf", MFD_CLOEXEC);
	int ok = fd >= 0 && write(fd, view, view_len) == (ssize_t)view_len;
	free(view);
	if (!ok) {
		snprintf(err, errlen, "SoftHSM configuration view: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* The memfd stays open for the life of the process: SoftHSM reads it
	 * at C_Initialize, and again if the module is reinitialised. */
	char fd_path[64];
	snprintf(fd_path, sizeof(fd_path), FD_VIEW_PREFIX "%d", fd);
	return setenv("SOFTHSM2_CONF", fd_path, 1) == 0 ? 0 : -1;
as_written:
	if (setenv("SOFTHSM2_CONF", path, 1) != 0) {
		snprintf(err, errlen, "cannot set SOFTHSM2_CONF");
		return -1;
	}
	return 0;
}
