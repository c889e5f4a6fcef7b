#include "signer/pin.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void trim_newline(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

int tc_pin_read(const struct tc_config *cfg, char out[TC_PIN_MAX], char *err, size_t errlen)
{
	memset(out, 0, TC_PIN_MAX);
	if (cfg->hsm.pin_env[0]) {
		const char *v = getenv(cfg->hsm.pin_env);
		if (!v || !*v) {
			snprintf(err, errlen, "hsm.pin_env: environment variable %s is not set", cfg->hsm.pin_env);
			return -1;
		}
		if (strlen(v) >= TC_PIN_MAX) {
			snprintf(err, errlen, "hsm.pin_env: PIN too long");
			return -1;
		}
		memcpy(out, v, strlen(v));
		return 0;
	}
	int fd = open(cfg->hsm.pin_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "hsm.pin_file %s: %s", cfg->hsm.pin_file, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "hsm.pin_file %s: not a regular file", cfg->hsm.pin_file);
		return -1;
	}
	/* A PIN readable by anyone else is a leaked PIN: refuse rather than warn.
	 * Root (trustchainctl's ceremonies) may read the signer user's own: the
	 * supervisor hands the dev PIN to trustchain-signer at every start. */
	if ((st.st_mode & 077) != 0 || (st.st_uid != geteuid() && geteuid() != 0)) {
		close(fd);
		snprintf(err, errlen, "hsm.pin_file %s: must be owned by uid %u with mode 0600 or stricter",
			 cfg->hsm.pin_file, (unsigned)geteuid());
		return -1;
	}
	ssize_t n = read(fd, out, TC_PIN_MAX - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "hsm.pin_file %s: empty or unreadable", cfg->hsm.pin_file);
		return -1;
	}
	out[n] = '\0';
	trim_newline(out);
	if (!out[0]) {
		snprintf(err, errlen, "hsm.pin_file %s: empty", cfg->hsm.pin_file);
		return -1;
	}
	return 0;
}

void tc_pin_wipe(char pin[TC_PIN_MAX]) { OPENSSL_cleanse(pin, TC_PIN_MAX); }
