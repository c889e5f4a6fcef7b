/* trustchainctl ceremony <step>: argument parsing for every step, the "dev"
 * run of all of them, and transcript verification. */
#include <getopt.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file_read.h"
#include "common/ct_shard.h"
#include "ctl/ceremony.h"
#include "ctl/files.h"
#include "ctl/transcript.h"

#define MAX_TRANSCRIPT (1 << 20)

static void ceremony_usage(FILE *out)
{
	fprintf(out,
		"usage: trustchainctl [--config FILE] [--operator NAME] ceremony <step>\n"
		"\n"
		"steps:\n"
		"  init-token [--so-pin-file FILE]   initialise the token hsm.token_label (dev: also\n"
		"                                    creates softhsm2.conf, token dir and random PINs;\n"
		"                                    otherwise the SO PIN comes from --so-pin-file)\n"
		"  create-audit-key                  audit key (EC P-256), signs every transcript\n"
		"  create-root                       root CA key (EC P-384) and self-signed certificate\n"
		"  create-intermediate               issuing CA key (EC P-256), certificate signed by the root\n"
		"  create-key ct-log                 CT log key (EC P-256), public key and RFC 6962 log ID\n"
		"  create-key ct-log --log NAME      the same for the temporal shard NAME of ct.logs\n"
		"  create-key dns-zone               DNS zone key (EC P-256), public key, DNSKEY and DS\n"
		"  rollover-root --label L           a new root key (EC P-384), its self-signed certificate\n"
		"                                    and a cross certificate from the current root\n"
		"  rollover-intermediate --label L --cutover YYYY-MM-DDTHH:MM:SSZ [--root ROOT_LABEL]\n"
		"                                    a new issuing key (EC P-256) and its certificate,\n"
		"                                    signed by ROOT_LABEL (default hsm.root_key_label)\n"
		"  finalize-rollover                 after the cut-over of the scheduled rollover: its\n"
		"                                    intermediate issues after every restart (the old one\n"
		"                                    stays loaded and signs its CRL)\n"
		"  list-keys                         every object on the token with its attributes\n"
		"  dev                               (dev config only) init-token and every create step,\n"
		"                                    skipping what exists\n"
		"  verify-transcript FILE [--audit-key PEM]\n"
		"                                    check a transcript's signature (default key:\n"
		"                                    <data_dir>/audit/audit_public_key.pem)\n"
		"\n"
		"exit status: 0 done, 1 failed or refused, 2 usage or configuration error\n");
}

/* Parses "--name VALUE" options of a step; argv[0] is the step name. */
static int step_options(int argc, char **argv, const char *name, const char **value,
			const char **positional, int want_positional)
{
	const struct option opts[] = {{name, required_argument, NULL, 'v'}, {NULL, 0, NULL, 0}};
	int c;
	optind = 0; /* glibc: restart scanning for this argv */
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'v')
			return -1;
		*value = optarg;
	}
	int rest = argc - optind;
	if (rest != want_positional)
		return -1;
	if (want_positional)
		*positional = argv[optind];
	return 0;
}

static int cmd_verify_transcript(struct tc_ctl *ctl, int argc, char **argv)
{
	const char *key_path = NULL, *file = NULL;
	if (step_options(argc, argv, "audit-key", &key_path, &file, 1) != 0) {
		ceremony_usage(stderr);
		return TC_CTL_USAGE;
	}
	char def[PATH_MAX];
	if (!key_path) {
		if (tc_config_data_path(&ctl->cfg, "audit/audit_public_key.pem", def, sizeof(def)) != 0) {
			tc_ctl_error("server.data_dir is too long");
			return TC_CTL_USAGE;
		}
		key_path = def;
	}
	FILE *kf = fopen(key_path, "r");
	EVP_PKEY *pub = kf ? PEM_read_PUBKEY(kf, NULL, NULL, NULL) : NULL;
	if (kf)
		fclose(kf);
	if (!pub) {
		tc_ctl_error("audit key %s: not readable as a PEM public key", key_path);
		return TC_CTL_FAIL;
	}
	char *doc, err[512];
	size_t len;
	if (tc_read_file(file, MAX_TRANSCRIPT, &doc, &len, err, sizeof(err)) != 0) {
		EVP_PKEY_free(pub);
		tc_ctl_error("%s", err);
		return TC_CTL_FAIL;
	}
	struct tc_transcript_info info;
	int rc = tc_transcript_verify(doc, len, pub, &info, err, sizeof(err));
	free(doc);
	EVP_PKEY_free(pub);
	if (rc != 0) {
		/* The reason may quote bytes of a hostile file: keep it printable. */
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		printf("transcript %s: INVALID: %s\n", file, err);
		return TC_CTL_FAIL;
	}
	printf("transcript %s: OK: step %s by %s at %s%s, signed by audit key %s\n", file, info.step,
	       info.operator_name, info.time, info.dev ? " (dev)" : "", info.audit_key_id);
	return TC_CTL_OK;
}

/* A skipped step whose files are gone is a half-finished ceremony: say so. */
static void warn_missing_files(const struct tc_config *cfg, enum ceremony_key k)
{
	static const char *const files[CEREMONY_KEY_COUNT][2] = {
		[CEREMONY_AUDIT] = {"audit/audit_public_key.pem"},
		[CEREMONY_ROOT] = {"ca/root.pem"},
		[CEREMONY_INTERMEDIATE] = {"ca/intermediate.pem", "ca/chain.pem"},
		[CEREMONY_CT_LOG] = {"ct/log_public_key.pem", "ct/log_id.txt"},
		[CEREMONY_DNS_ZONE] = {"dns/zone_key.pem"},
	};
	for (int i = 0; i < 2 && files[k][i]; i++) {
		char path[PATH_MAX];
		if (tc_config_data_path(cfg, files[k][i], path, sizeof(path)) == 0 &&
		    !tc_ctl_file_exists(path))
			fprintf(stderr, "trustchainctl: warning: key '%s' exists but %s is missing\n",
				ceremony_key_label(cfg, k), path);
	}
}

static int cmd_dev(struct ceremony_session *s)
{
	const struct tc_config *cfg = s->cfg;
	char err[1024];
	if (!cfg->dev) {
		tc_ctl_error("'ceremony dev' needs a development configuration (server.dev: true); "
			     "run the steps one by one for a production token");
		return TC_CTL_USAGE;
	}
	s->dev = 1;
	if (ceremony_dev_hsm_files(cfg, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		return TC_CTL_FAIL;
	}
	int token = ceremony_token_exists(cfg, err, sizeof(err));
	if (token < 0) {
		tc_ctl_error("%s", err);
		return TC_CTL_FAIL;
	}
	unsigned present = 0, all = (1u << CEREMONY_KEY_COUNT) - 1;
	if (token && ceremony_existing_keys(s, &present) != 0)
		return TC_CTL_FAIL;
	if (token && ceremony_dev_ct_shards(s) != 0)
		return TC_CTL_FAIL;
	if (token && present == all) {
		/* Nothing to do, so the journal (which a running signer holds) stays untouched. */
		for (int k = 0; k < CEREMONY_KEY_COUNT; k++)
			warn_missing_files(cfg, (enum ceremony_key)k);
		printf("dev: token '%s' and all %d keys exist; nothing to do\n", cfg->hsm.token_label,
		       CEREMONY_KEY_COUNT);
		return TC_CTL_OK;
	}
	if (ceremony_open_journal(s) != 0)
		return TC_CTL_FAIL;
	if (!token && ceremony_init_token(s, NULL) != 0)
		return TC_CTL_FAIL;
	if (token)
		printf("dev: token '%s' exists, skipped init-token\n", cfg->hsm.token_label);
	for (int k = 0; k < CEREMONY_KEY_COUNT; k++) {
		if (present & (1u << k)) {
			printf("dev: key '%s' exists, skipped %s\n",
			       ceremony_key_label(cfg, (enum ceremony_key)k),
			       ceremony_key_step((enum ceremony_key)k));
			warn_missing_files(cfg, (enum ceremony_key)k);
			continue;
		}
		if (ceremony_create(s, (enum ceremony_key)k) != 0)
			return TC_CTL_FAIL;
	}
	if (!token && ceremony_dev_ct_shards(s) != 0)
		return TC_CTL_FAIL;
	printf("dev: ceremony complete (DEVELOPMENT token; never use these keys in production)\n");
	return TC_CTL_OK;
}

/* rollover-root --label L | rollover-intermediate --label L --cutover
 * RFC3339 [--root ROOT_LABEL] (default hsm.root_key_label). */
static int cmd_rollover(struct ceremony_session *s, int argc, char **argv)
{
	int root = strcmp(argv[0], "rollover-root") == 0;
	const char *label = NULL, *cutover = NULL, *issuer = s->cfg->hsm.root_key_label;
	const struct option opts[] = {{"label", required_argument, NULL, 'l'},
				      {"cutover", required_argument, NULL, 'c'},
				      {"root", required_argument, NULL, 'r'},
				      {NULL, 0, NULL, 0}};
	int c;
	optind = 0;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			label = optarg;
		else if (c == 'c' && !root)
			cutover = optarg;
		else if (c == 'r' && !root)
			issuer = optarg;
		else {
			ceremony_usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	int y, mo, d, h, mi, sec, used = 0;
	int time_ok = cutover && sscanf(cutover, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &used) == 6 &&
		      used == 20 && cutover[used] == '\0' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 &&
		      mi < 60 && sec < 60;
	if (optind != argc || !label || (!root && !time_ok)) {
		tc_ctl_error("%s: --label LABEL%s", argv[0],
			     root ? "" : " --cutover YYYY-MM-DDTHH:MM:SSZ [--root ROOT_LABEL]");
		return TC_CTL_USAGE;
	}
	return ceremony_rollover(s, root, label, root ? NULL : issuer, cutover) == 0 ? TC_CTL_OK : TC_CTL_FAIL;
}

static int run_step(struct ceremony_session *s, int argc, char **argv)
{
	const char *step = argv[0];
	const char *unused = NULL;
	if (strcmp(step, "init-token") == 0) {
		const char *so_pin_file = NULL;
		if (step_options(argc, argv, "so-pin-file", &so_pin_file, &unused, 0) != 0) {
			ceremony_usage(stderr);
			return TC_CTL_USAGE;
		}
		if (!so_pin_file && !s->cfg->dev) {
			tc_ctl_error("init-token: --so-pin-file FILE is required outside dev mode");
			return TC_CTL_USAGE;
		}
		if (s->cfg->dev) {
			char err[1024];
			if (ceremony_dev_hsm_files(s->cfg, err, sizeof(err)) != 0) {
				tc_ctl_error("%s", err);
				return TC_CTL_FAIL;
			}
		}
		return ceremony_init_token(s, so_pin_file) == 0 ? TC_CTL_OK : TC_CTL_FAIL;
	}
	enum ceremony_key k;
	if (strcmp(step, "create-key") == 0 && argc == 4 && strcmp(argv[1], "ct-log") == 0 &&
	    strcmp(argv[2], "--log") == 0) {
		/* a temporal shard's key (ct.logs) */
		struct tc_ct_shard sh[TC_CFG_MAX_CT_LOGS];
		size_t n = s->cfg->ct.log_count ? tc_ct_shards(s->cfg, sh) : 0;
		int i = tc_ct_shard_find(sh, n, argv[3]);
		if (i < 0) {
			tc_ctl_error("create-key ct-log --log %s: no such log in ct.logs", argv[3]);
			return TC_CTL_USAGE;
		}
		return ceremony_create_ct_shard(s, &sh[i]) == 0 ? TC_CTL_OK : TC_CTL_FAIL;
	}
	if (strcmp(step, "create-key") == 0) {
		if (argc != 2) {
			ceremony_usage(stderr);
			return TC_CTL_USAGE;
		}
		if (strcmp(argv[1], "ct-log") == 0) {
			k = CEREMONY_CT_LOG;
		} else if (strcmp(argv[1], "dns-zone") == 0) {
			k = CEREMONY_DNS_ZONE;
		} else {
			tc_ctl_error("create-key: unknown key '%s' (expected ct-log or dns-zone)", argv[1]);
			return TC_CTL_USAGE;
		}
	} else if (strcmp(step, "rollover-root") == 0 || strcmp(step, "rollover-intermediate") == 0) {
		return cmd_rollover(s, argc, argv);
	} else if (argc != 1) {
		ceremony_usage(stderr);
		return TC_CTL_USAGE;
	} else if (strcmp(step, "create-audit-key") == 0) {
		k = CEREMONY_AUDIT;
	} else if (strcmp(step, "create-root") == 0) {
		k = CEREMONY_ROOT;
	} else if (strcmp(step, "finalize-rollover") == 0) {
		return ceremony_finalize_rollover(s) == 0 ? TC_CTL_OK : TC_CTL_FAIL;
	} else if (strcmp(step, "create-intermediate") == 0) {
		k = CEREMONY_INTERMEDIATE;
	} else if (strcmp(step, "list-keys") == 0) {
		return ceremony_list_keys(s) == 0 ? TC_CTL_OK : TC_CTL_FAIL;
	} else if (strcmp(step, "dev") == 0) {
		return cmd_dev(s);
	} else {
		tc_ctl_error("ceremony: unknown step '%s'", step);
		ceremony_usage(stderr);
		return TC_CTL_USAGE;
	}
	return ceremony_create(s, k) == 0 ? TC_CTL_OK : TC_CTL_FAIL;
}

int tc_ctl_cmd_ceremony(struct tc_ctl *ctl, int argc, char **argv)
{
	if (argc < 2) {
		ceremony_usage(stderr);
		return TC_CTL_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		ceremony_usage(stdout);
		return TC_CTL_OK;
	}
	if (strcmp(argv[1], "verify-transcript") == 0)
		return cmd_verify_transcript(ctl, argc - 1, argv + 1);
	struct ceremony_session s;
	ceremony_session_begin(&s, ctl);
	int rc = run_step(&s, argc - 1, argv + 1);
	ceremony_session_end(&s);
	return rc;
}
