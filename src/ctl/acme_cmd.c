/* trustchainctl acme eab new --patterns P[,P...] [--name LABEL]
 *
 * Makes an external account binding key (RFC 8555 7.3.4) for
 * trustchain-acme: appends "<kid> <base64url HMAC key> <patterns> [label]"
 * to acme.eab_keys_file (created 0600 with a header comment, owned like
 * its directory so trustchain-acme's user reads it; the server re-reads it
 * on change) and prints the key id and HMAC key the way ACME clients take
 * them (lego --eab --kid --hmac, certbot --eab-kid --eab-hmac-key). An
 * account bound with it may order only names its patterns cover: "*",
 * "*.suffix", an exact DNS name or an IP address (as gateway tokens). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/config_schema.h"
#include "common/name_pattern.h"
#include "ctl/ctl.h"

#define KEY_BYTES 32
#define KID_BYTES 12
#define PATTERNS_MAX 1000 /* the server's limit is 1023 */
#define LABEL_MAX 64

static const char HEADER[] =
	"# trustchain-acme external account binding keys (trustchainctl acme eab new).\n"
	"# One key per line: <kid> <base64url HMAC-SHA256 key> <pattern>[,<pattern>...] [label]\n"
	"# Patterns: * | *.suffix | exact DNS name | IP address; an account bound with\n"
	"# the key may order only the names they cover. Delete a line to retire a key\n"
	"# for new accounts. Keep this file 0600: the keys are secrets.\n";

static void usage(void)
{
	fprintf(stderr, "usage: trustchainctl acme eab new --patterns P[,P...] [--name LABEL]\n"
			"  appends a new external account binding key to acme.eab_keys_file and\n"
			"  prints its key id and HMAC key (lego --eab --kid ID --hmac KEY;\n"
			"  certbot --eab-kid ID --eab-hmac-key KEY)\n");
}

static int pattern_ok(const char *p, size_t len)
{
	char one[256];
	if (len == 0 || len >= sizeof(one))
		return 0;
	memcpy(one, p, len);
	one[len] = 0;
	if (strcmp(one, "*") == 0 || tc_name_is_ip(one))
		return 1;
	return tc_valid_dns_name(strncmp(one, "*.", 2) == 0 ? one + 2 : one) && !strchr(one + 1, '*');
}

static int patterns_ok(const char *list)
{
	if (!*list || strlen(list) > PATTERNS_MAX)
		return 0;
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (!pattern_ok(p, len))
			return 0;
		if (!comma)
			return 1;
		p = comma + 1;
	}
}

static int label_ok(const char *l)
{
	size_t n = strlen(l);
	if (n == 0 || n > LABEL_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = l[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == '@'))
			return 0;
	}
	return 1;
}

static char *b64url_random(size_t n)
{
	unsigned char raw[64];
	if (n > sizeof(raw) || getrandom(raw, n, 0) != (ssize_t)n)
		return NULL;
	char *s = tc_base64_encode(raw, n);
	memset(raw, 0, sizeof(raw));
	if (!s)
		return NULL;
	size_t len = strlen(s);
	while (len && s[len - 1] == '=')
		s[--len] = 0;
	for (char *p = s; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return s;
}

/* Opens the keys file for appending; a new file gets mode 0600, the
 * header, and the owner of its directory (trustchain-acme's user when the
 * supervisor made acme/). */
static int open_keys_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
			tc_ctl_error("%s: not a regular file of mode 0600 or stricter", path);
			close(fd);
			return -1;
		}
		return fd;
	}
	if (errno != ENOENT) {
		tc_ctl_error("%s: %s", path, strerror(errno));
		return -1;
	}
	char dir[TC_CFG_STR];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			tc_ctl_error("cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		tc_ctl_error("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat ds;
	if (slash && geteuid() == 0 && stat(dir, &ds) == 0 && fchown(fd, ds.st_uid, ds.st_gid) != 0) {
		tc_ctl_error("cannot hand %s to the owner of %s: %s", path, dir, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (write(fd, HEADER, sizeof(HEADER) - 1) != (ssize_t)(sizeof(HEADER) - 1)) {
		tc_ctl_error("cannot write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int eab_new(struct tc_ctl *ctl, int argc, char **argv)
{
	const char *patterns = NULL, *label = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--patterns") == 0 && i + 1 < argc) {
			patterns = argv[++i];
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
			label = argv[++i];
		} else {
			usage();
			return TC_CTL_USAGE;
		}
	}
	if (!patterns || !patterns_ok(patterns)) {
		tc_ctl_error("--patterns: a comma-separated list of *, *.suffix, DNS names or IP addresses");
		return TC_CTL_USAGE;
	}
	if (label && !label_ok(label)) {
		tc_ctl_error("--name: 1 to %d characters of [A-Za-z0-9._@-]", LABEL_MAX);
		return TC_CTL_USAGE;
	}
	/* With acme off the configuration leaves the default unfilled; the
	 * key goes where the server will look once it is on. */
	char path[TC_CFG_STR];
	if (ctl->cfg.acme.eab_keys_file[0])
		snprintf(path, sizeof(path), "%s", ctl->cfg.acme.eab_keys_file);
	else if (tc_config_data_path(&ctl->cfg, "acme/eab_keys", path, sizeof(path)) != 0) {
		tc_ctl_error("data directory path too long");
		return TC_CTL_FAIL;
	}
	char *kid = b64url_random(KID_BYTES), *key = b64url_random(KEY_BYTES);
	if (!kid || !key) {
		free(kid);
		free(key);
		tc_ctl_error("no randomness");
		return TC_CTL_FAIL;
	}
	int rc = TC_CTL_FAIL;
	int fd = open_keys_file(path);
	if (fd >= 0) {
		char line[PATTERNS_MAX + LABEL_MAX + 128];
		int n = snprintf(line, sizeof(line), "%s %s %s%s%s\n", kid, key, patterns, label ? " " : "",
				 label ? label : "");
		/* One write under an exclusive lock: concurrent runs never
		 * interleave lines. */
		if (flock(fd, LOCK_EX) != 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
			tc_ctl_error("cannot append to %s: %s", path, strerror(errno));
		} else {
			printf("kid: %s\nhmac: %s\npatterns: %s\n", kid, key, patterns);
			printf("lego:    --eab --kid %s --hmac %s\n", kid, key);
			printf("certbot: --eab-kid %s --eab-hmac-key %s\n", kid, key);
			rc = TC_CTL_OK;
		}
		memset(line, 0, sizeof(line));
		close(fd);
	}
	memset(key, 0, strlen(key));
	free(kid);
	free(key);
	return rc;
}

int tc_ctl_cmd_acme(struct tc_ctl *ctl, int argc, char **argv);

int tc_ctl_cmd_acme(struct tc_ctl *ctl, int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "eab") == 0 && strcmp(argv[2], "new") == 0)
		return eab_new(ctl, argc - 3, argv + 3);
	usage();
	return argc >= 2 && strcmp(argv[1], "help") == 0 ? TC_CTL_OK : TC_CTL_USAGE;
}
