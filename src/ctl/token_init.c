/* init-token: the development token's files (SoftHSM configuration, token
 * directory, random PINs) and the initialisation of the token itself. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hex.h"
#include "ctl/ceremony.h"
#include "ctl/files.h"
#include "signer/hsm.h"
#include "signer/pkcs11_keys.h"

#define DEV_PIN_BYTES 16

static int write_random_pin(const char *path, char *err, size_t errlen)
{
	unsigned char raw[DEV_PIN_BYTES];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(raw)) {
		snprintf(err, errlen, "cannot read /dev/urandom");
		return -1;
	}
	char pin[2 * DEV_PIN_BYTES + 2];
	tc_hex_encode(raw, sizeof(raw), pin);
	strcat(pin, "\n");
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	int rc = tc_ctl_mkdirs(dirname(dir), 0700, err, errlen);
	if (rc == 0)
		rc = tc_ctl_write_new_file(path, pin, strlen(pin), 0600, err, errlen);
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(pin, sizeof(pin));
	return rc;
}

int ceremony_dev_hsm_files(const struct tc_config *cfg, char *err, size_t errlen)
{
	char tokens[PATH_MAX], abs_data[PATH_MAX];
	if (tc_ctl_mkdirs(cfg->server.data_dir, 0755, err, errlen) != 0)
		return -1;
	if (tc_config_data_path(cfg, "hsm/tokens", tokens, sizeof(tokens)) != 0 ||
	    tc_ctl_mkdirs(tokens, 0700, err, errlen) != 0)
		return -1;
	if (cfg->hsm.softhsm_conf[0] && !tc_ctl_file_exists(cfg->hsm.softhsm_conf)) {
		/* SoftHSM resolves a relative tokendir against the cwd of whoever
		 * loads it, and the server may run elsewhere: write it absolute. */
		if (!realpath(cfg->server.data_dir, abs_data)) {
			snprintf(err, errlen, "%s: %s", cfg->server.data_dir, strerror(errno));
			return -1;
		}
		char conf[PATH_MAX + 256];
		snprintf(conf, sizeof(conf),
			 "# SoftHSMv2 configuration of the TrustChain DEVELOPMENT token,\n"
			 "# written by 'trustchainctl ceremony'. Not for production keys.\n"
			 "directories.tokendir = %s/hsm/tokens\n"
			 "objectstore.backend = file\n"
			 "log.level = ERROR\n"
			 "slots.removable = false\n",
			 abs_data);
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", cfg->hsm.softhsm_conf);
		if (tc_ctl_mkdirs(dirname(dir), 0700, err, errlen) != 0 ||
		    tc_ctl_write_new_file(cfg->hsm.softhsm_conf, conf, strlen(conf), 0644, err, errlen) != 0)
			return -1;
		printf("init-token: wrote %s\n", cfg->hsm.softhsm_conf);
	}
	if (!cfg->hsm.pin_env[0] && !tc_ctl_file_exists(cfg->hsm.pin_file)) {
		if (write_random_pin(cfg->hsm.pin_file, err, errlen) != 0)
			return -1;
		printf("init-token: generated a random user PIN in %s (mode 0600)\n", cfg->hsm.pin_file);
	}
	char so[PATH_MAX];
	if (ceremony_so_pin_path(cfg, so, sizeof(so)) != 0) {
		snprintf(err, errlen, "server.data_dir is too long");
		return -1;
	}
	if (!tc_ctl_file_exists(so)) {
		if (write_random_pin(so, err, errlen) != 0)
			return -1;
		printf("init-token: generated a random SO PIN in %s (mode 0600)\n", so);
	}
	return 0;
}

int ceremony_token_exists(const struct tc_config *cfg, char *err, size_t errlen)
{
	struct tc_p11 *p = tc_p11_load(cfg->hsm.module, err, errlen);
	if (!p)
		return -1;
	int exists = tc_p11_token_exists(p, cfg->hsm.token_label);
	tc_p11_unload(p);
	return exists;
}

/* The SO PIN goes through the same strict reader as the user PIN (regular
 * file, ours, mode 0600 or stricter). */
static int read_so_pin(const struct tc_config *cfg, const char *path, char pin[TC_PIN_MAX])
{
	struct tc_config *tmp = malloc(sizeof(*tmp));
	if (!tmp) {
		tc_ctl_error("out of memory");
		return -1;
	}
	*tmp = *cfg;
	tmp->hsm.pin_env[0] = '\0';
	char err[512];
	int rc = -1;
	if (strlen(path) >= sizeof(tmp->hsm.pin_file))
		snprintf(err, sizeof(err), "%s: path too long", path);
	else {
		memcpy(tmp->hsm.pin_file, path, strlen(path) + 1);
		rc = tc_pin_read(tmp, pin, err, sizeof(err));
	}
	free(tmp);
	if (rc != 0)
		tc_ctl_error("SO PIN: %s", err);
	return rc;
}

int ceremony_init_token(struct ceremony_session *s, const char *so_pin_file)
{
	const struct tc_config *cfg = s->cfg;
	char so_path[PATH_MAX], err[1024];
	if (!so_pin_file) {
		if (ceremony_so_pin_path(cfg, so_path, sizeof(so_path)) != 0) {
			tc_ctl_error("server.data_dir is too long");
			return -1;
		}
		so_pin_file = so_path;
	}
	if (ceremony_read_pin(s) != 0 || ceremony_open_journal(s) != 0)
		return -1;
	char so_pin[TC_PIN_MAX];
	if (read_so_pin(cfg, so_pin_file, so_pin) != 0)
		return -1;

	struct tc_p11 *p = tc_p11_load(cfg->hsm.module, err, sizeof(err));
	int rc = -1;
	if (!p) {
		tc_ctl_error("%s", err);
	} else if (tc_p11_token_exists(p, cfg->hsm.token_label)) {
		tc_ctl_error("token '%s' exists already; refusing to initialise it again",
			     cfg->hsm.token_label);
	} else if (tc_p11_init_token(p, cfg->hsm.token_label, so_pin, s->pin, err, sizeof(err)) != 0) {
		tc_ctl_error("initialising token '%s': %s", cfg->hsm.token_label, err);
	} else {
		rc = 0;
	}
	tc_p11_unload(p);
	tc_pin_wipe(so_pin);
	if (rc != 0)
		return -1;

	/* Log in through libp11 as the signer will: proves the user PIN works
	 * and gives the token description for the record. */
	struct tc_hsm *h = tc_hsm_open(cfg->hsm.module, cfg->hsm.token_label, s->pin, err, sizeof(err));
	if (!h) {
		tc_ctl_error("token '%s' was initialised but %s", cfg->hsm.token_label, err);
		return -1;
	}
	char desc[512];
	tc_hsm_describe(h, desc, sizeof(desc));
	tc_hsm_close(h);

	/* No audit key exists yet, so this step has no signed transcript; its
	 * journal record is the evidence. */
	json_t *rec = ceremony_transcript_base(s, "init-token");
	char *data = NULL;
	if (rec && json_object_set_new(rec, "token", json_string(desc)) == 0)
		data = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(rec);
	unsigned long long seq = 0;
	if (!data)
		tc_ctl_error("cannot build the init-token record");
	rc = data ? ceremony_journal(s, "init-token", "", data, desc, &seq) : -1;
	free(data);
	if (rc != 0)
		return -1;
	printf("init-token: initialised token %s (journal record %llu)\n", desc, seq);
	return 0;
}
