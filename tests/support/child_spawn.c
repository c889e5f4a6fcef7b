#include "support/child_spawn.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* 1 if entry ("NAME=value") sets the variable that set ("NAME=...") sets. */
static int same_name(const char *entry, const char *set)
{
	const char *eq = strchr(set, '=');
	size_t n = eq ? (size_t)(eq - set) : strlen(set);
	return strncmp(entry, set, n) == 0 && entry[n] == '=';
}

static void free_strings(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* environ with every variable of sets replaced by its new value. */
static char **build_env(char **sets, size_t nsets)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **env = calloc(n + nsets + 1, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int replaced = 0;
		for (size_t j = 0; j < nsets && !replaced; j++)
			replaced = same_name(environ[i], sets[j]);
		if (!replaced && !(env[k++] = strdup(environ[i]))) {
			free_strings(env);
			return NULL;
		}
	}
	for (size_t j = 0; j < nsets; j++)
		if (!(env[k++] = strdup(sets[j]))) {
			free_strings(env);
			return NULL;
		}
	return env;
}

pid_t tc_spawn_with_fds(const char *path, char *const argv[], const struct tc_spawn_fd *fds, size_t nfds,
			const char *const *extra_env)
{
	size_t nextra = 0;
	while (extra_env && extra_env[nextra])
		nextra++;
	char **sets = calloc(nfds + nextra + 1, sizeof(*sets));
	if (!sets)
		return -1;
	pid_t pid = -1;
	char **env = NULL;
	for (size_t i = 0; i < nfds; i++) {
		char buf[128];
		if (fds[i].fd < 0 || snprintf(buf, sizeof(buf), "%s=%d", fds[i].env, fds[i].fd) >= (int)sizeof(buf) ||
		    !(sets[i] = strdup(buf)))
			goto out;
	}
	for (size_t i = 0; i < nextra; i++)
		if (!(sets[nfds + i] = strdup(extra_env[i])))
			goto out;
	if (!(env = build_env(sets, nfds + nextra)))
		goto out;
	pid = fork();
	if (pid == 0) {
		/* Async-signal-safe calls only from here on. */
		for (size_t i = 0; i < nfds; i++)
			if (fcntl(fds[i].fd, F_SETFD, 0) != 0)
				_exit(126);
		execve(path, argv, env);
		_exit(127);
	}
out:
	free_strings(env);
	free_strings(sets);
	return pid;
}
