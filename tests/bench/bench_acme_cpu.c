#define _GNU_SOURCE
#include "bench/bench_acme_cpu.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const BENCH_ROLE_NAMES[BR_N] = {"acme", "validator", "gateway", "signer", "transparency", "other server"};

/* ppid, and utime + stime in seconds, of pid; -1 when it is gone. */
static int read_stat(pid_t pid, pid_t *ppid, double *cpu_s)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The command name may hold spaces and parentheses: fields follow
	 * the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	char state;
	int pp;
	unsigned long ut, st;
	if (sscanf(p + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &state, &pp, &ut, &st) != 4)
		return -1;
	if (ppid)
		*ppid = pp;
	if (cpu_s)
		*cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

/* The socket inode listening on port (IPv4 or IPv6) in this network
 * namespace, or 0. */
static unsigned long listen_inode(unsigned port)
{
	const char *files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");
		if (!f)
			continue;
		char line[512];
		unsigned long found = 0;
		while (!found && fgets(line, sizeof(line), f)) {
			char local[64];
			unsigned st;
			unsigned long inode;
			if (sscanf(line, " %*d: %63s %*s %x %*s %*s %*s %*d %*d %lu", local, &st, &inode) != 3)
				continue;
			const char *colon = strrchr(local, ':');
			if (st == 0x0A && colon && strtoul(colon + 1, NULL, 16) == port)
				found = inode;
		}
		fclose(f);
		if (found)
			return found;
	}
	return 0;
}

/* The role of a process by its program name (argv[0]); -1: not ours. */
static int role_of(pid_t pid)
{
	char path[64], name[256];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(name, 1, sizeof(name) - 1, f);
	fclose(f);
	name[n] = 0;
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	static const char *const progs[BR_OTHER] = {"trustchain-acme", "trustchain-validator", "trustchain-gateway",
						    "trustchain-signer", "trustchain-transparency"};
	for (int r = 0; r < BR_OTHER; r++)
		if (strcmp(base, progs[r]) == 0)
			return r;
	return BR_OTHER;
}

/* The trustchain-acme process holding socket inode, or 0. */
static pid_t socket_owner(unsigned long inode)
{
	char want[64];
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	DIR *proc = opendir("/proc");
	if (!proc)
		return 0;
	pid_t owner = 0;
	struct dirent *e;
	while (!owner && (e = readdir(proc))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0 || role_of(pid) != BR_ACME)
			continue;
		char fddir[64];
		snprintf(fddir, sizeof(fddir), "/proc/%d/fd", (int)pid);
		DIR *fds = opendir(fddir);
		if (!fds)
			continue;
		struct dirent *fe;
		while (!owner && (fe = readdir(fds))) {
			char path[340], target[64];
			snprintf(path, sizeof(path), "%s/%s", fddir, fe->d_name);
			ssize_t n = readlink(path, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = 0;
				if (strcmp(target, want) == 0)
					owner = pid;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return owner;
}

int bench_procs_find(unsigned port, pid_t server_pid, struct bench_procs *p, char *why, size_t whylen)
{
	memset(p, 0, sizeof(*p));
	if (!server_pid) {
		unsigned long inode = listen_inode(port);
		pid_t acme = inode ? socket_owner(inode) : 0;
		if (!acme || read_stat(acme, &server_pid, NULL) != 0) {
			snprintf(why, whylen, "no process found listening on port %u (pass --server-pid)", port);
			return -1;
		}
	}
	p->server = server_pid;
	/* Every process whose ancestry reaches the server; a helper a child
	 * forked counts under that child's role. */
	DIR *proc = opendir("/proc");
	if (!proc) {
		snprintf(why, whylen, "cannot read /proc");
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(proc)) && p->n < BENCH_MAX_PROCS) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0)
			continue;
		/* The chain from pid up to the server (or to init: not ours). */
		pid_t chain[16];
		int len = 0, ours = 0;
		for (pid_t cur = pid; len < 16 && cur > 1; len++) {
			if (cur == server_pid) {
				ours = 1;
				break;
			}
			chain[len] = cur;
			if (read_stat(cur, &cur, NULL) != 0)
				break;
		}
		if (!ours && pid != server_pid)
			continue;
		/* The nearest named process of the chain gives the role. */
		int role = BR_OTHER;
		for (int i = 0; i < len && role == BR_OTHER; i++) {
			int r = role_of(chain[i]);
			if (r >= 0)
				role = r;
		}
		p->pid[p->n] = pid;
		p->role[p->n] = role;
		p->n++;
	}
	closedir(proc);
	if (!p->n) {
		snprintf(why, whylen, "server %d has no processes", (int)server_pid);
		return -1;
	}
	return 0;
}

void bench_procs_cpu(const struct bench_procs *p, double out[BR_N])
{
	for (int r = 0; r < BR_N; r++)
		out[r] = 0;
	for (size_t i = 0; i < p->n; i++) {
		double s;
		if (read_stat(p->pid[i], NULL, &s) == 0)
			out[p->role[i]] += s;
	}
}

double bench_machine_busy_s(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return -1;
	unsigned long long v[8] = {0};
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		       &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return -1;
	/* user nice system idle iowait irq softirq steal */
	unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return (double)busy / (double)sysconf(_SC_CLK_TCK);
}
