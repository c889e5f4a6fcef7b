#define _GNU_SOURCE
#include "common/fs_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

struct rule_list {
	struct tc_fs_rule *r;
	size_t n, max;
	int overflow;
};

static struct tc_fs_rule *add(struct rule_list *l, enum tc_fs_access access, const char *what)
{
	if (l->n >= l->max) {
		l->overflow = 1;
		return NULL;
	}
	struct tc_fs_rule *r = &l->r[l->n++];
	memset(r, 0, sizeof(*r));
	r->access = access;
	r->what = what;
	return r;
}

static void add_system(struct rule_list *l, const char *path, enum tc_fs_access access)
{
	struct tc_fs_rule *r = add(l, access, "system");
	if (r) {
		snprintf(r->path, sizeof(r->path), "%s", path);
		r->optional = 1;
	}
}

/* A part of the data directory: rel under server.data_dir. mode is what a
 * missing directory is created with (0 for a file, which is never made). */
static void add_data(struct rule_list *l, const struct tc_config *cfg, const char *rel,
		     enum tc_fs_access access, unsigned mode)
{
	struct tc_fs_rule *r = add(l, access, "server.data_dir");
	if (!r)
		return;
	if (tc_config_data_path(cfg, rel, r->path, sizeof(r->path)) != 0)
		l->overflow = 1;
	r->create_mode = mode;
	r->optional = mode == 0;
}

/* A file the operator named in the configuration ("" = not configured). */
static void add_configured(struct rule_list *l, const char *key, const char *path, int secret)
{
	/* A descriptor's view (the supervisor's sealed copy of the
	 * configuration) is open already: nothing to allow by path. */
	if (!path || !path[0] || strncmp(path, "/proc/self/fd/", 14) == 0)
		return;
	struct tc_fs_rule *r = add(l, TC_FS_READ, key);
	if (!r)
		return;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->configured = 1;
	r->secret = secret;
}

/* ct.tiles_dir, where the log publishes its static-ct-api files: inside
 * <data_dir>/ct the "ct" rule covers it; elsewhere it is the log's own
 * directory, created (0755: the files are public) when missing. */
static void add_tiles_dir(struct rule_list *l, const struct tc_config *cfg)
{
	const char *dir = cfg->ct.tiles_dir;
	char ct[sizeof(((struct tc_fs_rule *)0)->path)];
	if (!dir[0] || strcmp(dir, "off") == 0 || tc_config_data_path(cfg, "ct", ct, sizeof(ct)) != 0)
		return;
	size_t n = strlen(ct);
	if (strncmp(dir, ct, n) == 0 && (dir[n] == '/' || dir[n] == 0))
		return;
	struct tc_fs_rule *r = add(l, TC_FS_WRITE, "ct.tiles_dir");
	if (!r)
		return;
	snprintf(r->path, sizeof(r->path), "%s", dir);
	r->create_mode = 0755; /* made by the child as its user, so not a file checked at start */
}

/* The sanitizers of a test build read their suppression files lazily (at
 * the leak check, when the process exits), long after the sandbox is up. */
static void add_sanitizer_files(struct rule_list *l)
{
	static const char *const vars[] = {"LSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *opts = getenv(vars[i]), *at;
		if (!opts || !(at = strstr(opts, "suppressions=")))
			continue;
		at += strlen("suppressions=");
		/* A value may be quoted (a path with spaces), as their parser allows. */
		const char *quote = (*at == '\'' || *at == '"') ? at++ : NULL;
		size_t len = quote ? strcspn(at, (char[]){*quote, '\0'}) : strcspn(at, ": ");
		struct tc_fs_rule *r = len ? add(l, TC_FS_READ, vars[i]) : NULL;
		if (r) {
			snprintf(r->path, sizeof(r->path), "%.*s", (int)(len < sizeof(r->path) ? len : sizeof(r->path) - 1),
				 at);
			r->optional = 1;
		}
	}
}

int tc_fs_rules_for(const char *child, const struct tc_config *cfg, const char *config_path,
		    struct tc_fs_rule *rules, size_t max)
{
	struct rule_list l = {.r = rules, .max = max};
	/* Libraries, their configuration (OpenSSL, GnuTLS, NSS), /proc for the
	 * allocator and the sanitizers; nothing there is ours to protect: the
	 * data directory is never below these. */
	static const char *const system_read[] = {"/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev"};
	for (size_t i = 0; i < sizeof(system_read) / sizeof(system_read[0]); i++)
		add_system(&l, system_read[i], TC_FS_READ);
	add_system(&l, "/dev/null", TC_FS_WRITE);
	/* Its own program: the sanitizers' symbolizer reads it (suppressions
	 * match function names). Nothing secret, and not writable. */
	add_system(&l, "/proc/self/exe", TC_FS_READ);
	add_sanitizer_files(&l);
	add_configured(&l, "--config", config_path, 0);

	if (strcmp(child, "signer") == 0) {
		add_data(&l, cfg, "hsm", TC_FS_WRITE, 0700);
		add_data(&l, cfg, "journal", TC_FS_WRITE, 0700);
		add_data(&l, cfg, "ca", TC_FS_WRITE, 0750);
		add_data(&l, cfg, "dns", TC_FS_READ, 0); /* dns/roll.state: the DNS keys it may use (dns_keys.h) */
		add_configured(&l, "hsm.module", cfg->hsm.module, 0);
		if (!cfg->hsm.pin_env[0])
			add_configured(&l, "hsm.pin_file", cfg->hsm.pin_file, 1);
		add_configured(&l, "hsm.softhsm_conf", cfg->hsm.softhsm_conf, 0);
	} else if (strcmp(child, "transparency") == 0) {
		add_data(&l, cfg, "ct", TC_FS_WRITE, 0750);
		add_data(&l, cfg, "run", TC_FS_WRITE, 0750);
		add_data(&l, cfg, "ca", TC_FS_READ, 0);
		add_tiles_dir(&l, cfg);
	} else if (strcmp(child, "resolver") == 0) {
		add_data(&l, cfg, "dns", TC_FS_WRITE, 0750);
		add_data(&l, cfg, "ca", TC_FS_READ, 0);
		add_configured(&l, "dns.zone_file", cfg->dns.zone_file, 0);
		add_configured(&l, "dns.tsig_keys_file", cfg->dns.tsig_keys_file, 1);
	} else if (strcmp(child, "gateway") == 0) {
		add_data(&l, cfg, "ca", TC_FS_READ, 0);
		add_data(&l, cfg, "ct/log_public_key.pem", TC_FS_READ, 0);
		add_data(&l, cfg, "ct/keys", TC_FS_READ, 0); /* temporal shards' keys (common/ct_shard.h) */
		add_configured(&l, "gateway.tokens_file", cfg->gateway.tokens_file, 1);
		add_configured(&l, "gateway.clients_file", cfg->gateway.clients_file, 0);
		add_configured(&l, "gateway.client_ca_file", cfg->gateway.client_ca_file, 0);
		add_configured(&l, "gateway.tls_cert_file", cfg->gateway.tls_cert_file, 0);
		add_configured(&l, "gateway.tls_key_file", cfg->gateway.tls_key_file, 1);
	} else if (strcmp(child, "acme") == 0) {
		char own[TC_CFG_STR + 8];
		add_data(&l, cfg, "acme", TC_FS_WRITE, 0700);
		add_data(&l, cfg, "ca", TC_FS_READ, 0);
		/* Under acme/ the rule above covers it (and it may not exist yet). */
		if (tc_config_data_path(cfg, "acme/", own, sizeof(own)) != 0 ||
		    strncmp(cfg->acme.eab_keys_file, own, strlen(own)) != 0)
			add_configured(&l, "acme.eab_keys_file", cfg->acme.eab_keys_file, 1);
	} else if (strcmp(child, "validator") == 0 || strcmp(child, "metrics") == 0) {
		/* Connects where untrusted clients say: the system files it needs
		 * to resolve and speak TLS, nothing of ours. */
	} else {
		return -1;
	}
	return l.overflow ? -1 : (int)l.n;
}

/* Landlock's access rights, as far as the running kernel knows them. */
#define RIGHTS_V1                                                                                            \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |           \
	 LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |       \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |           \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |        \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)
#define FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE)
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

static __u64 handled_rights(int abi)
{
	__u64 h = RIGHTS_V1;
	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		h |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return h;
}

static __u64 rights_of(const struct tc_fs_rule *r, int is_dir, __u64 handled)
{
	__u64 read = LANDLOCK_ACCESS_FS_READ_FILE | (is_dir ? LANDLOCK_ACCESS_FS_READ_DIR : 0);
	if (r->access == TC_FS_READ)
		return read;
	__u64 write = read | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
	if (is_dir)
		write |= LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |
			 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
			 LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER;
	else
		write &= FILE_RIGHTS | LANDLOCK_ACCESS_FS_TRUNCATE;
	return write & handled;
}

static int add_rule(int ruleset, const struct tc_fs_rule *r, __u64 handled, char *err, size_t errlen)
{
	if (r->create_mode && mkdir(r->path, r->create_mode) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s (%s): cannot create: %s", r->path, r->what, strerror(errno));
		return -1;
	}
	int fd = open(r->path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (r->optional || errno == ENOENT)
			return 0; /* nothing there to allow: opening it later fails anyway */
		snprintf(err, errlen, "%s (%s): %s", r->path, r->what, strerror(errno));
		return -1;
	}
	struct stat st;
	int rc = fstat(fd, &st);
	struct landlock_path_beneath_attr pb = {
	    .allowed_access = rights_of(r, rc == 0 && S_ISDIR(st.st_mode), handled),
	    .parent_fd = fd,
	};
	if (rc == 0)
		rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	if (rc != 0)
		snprintf(err, errlen, "landlock rule for %s (%s): %s", r->path, r->what, strerror(errno));
	close(fd);
	return rc;
}

int tc_fs_sandbox_apply(const char *child, const struct tc_config *cfg, const char *config_path, char *err,
			size_t errlen)
{
	struct tc_fs_rule rules[TC_FS_MAX_RULES];
	int n = tc_fs_rules_for(child, cfg, config_path, rules, TC_FS_MAX_RULES);
	if (n < 0) {
		snprintf(err, errlen, "file-system sandbox: no rules for '%s' (or paths too long)", child);
		return -1;
	}
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		tc_info("kernel without Landlock (%s): file-system sandbox off, per-child users still apply",
			strerror(errno));
		return 0;
	}
	struct landlock_ruleset_attr attr = {.handled_access_fs = handled_rights(abi)};
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0) {
		snprintf(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = add_rule(ruleset, &rules[i], attr.handled_access_fs, err, errlen);
	/* Landlock requires it (or CAP_SYS_ADMIN); the supervisor set it too. */
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		rc = -1;
	}
	if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		snprintf(err, errlen, "landlock_restrict_self: %s", strerror(errno));
		rc = -1;
	}
	close(ruleset);
	return rc == 0 ? 1 : -1;
}
