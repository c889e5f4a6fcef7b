/* trustchainctl entry point: global options, then one subcommand from the
 * table below. New subcommands (issue, validate, dig, export, ...) live in
 * their own files and only add a row here. */
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "ctl/backup.h"
#include "ctl/ctl.h"

struct command {
	const char *name;
	tc_ctl_cmd_fn run;
	const char *summary;
};

int tc_ctl_cmd_acme(struct tc_ctl *ctl, int argc, char **argv); /* acme_cmd.c */
int tc_ctl_cmd_agent(struct tc_ctl *ctl, int argc, char **argv); /* agent.c */
int tc_ctl_cmd_dns_roll(struct tc_ctl *ctl, int argc, char **argv); /* dns_roll_cmd.c */
static const struct command commands[] = {
	{"agent", tc_ctl_cmd_agent, "keep a certificate fresh: renew at 2/3 of its life, publish, reload"},
	{"ceremony", tc_ctl_cmd_ceremony, "HSM key ceremonies (init-token, create-*, list-keys, dev, verify-transcript)"},
	{"journal", tc_ctl_cmd_journal, "audit journal tools (verify)"},
	{"export", tc_ctl_cmd_export, "audit bundles: export ct (from the log's HTTP API), export journal"},
	{"verify-export", tc_ctl_cmd_verify_export, "verify an audit bundle offline with a public key"},
	{"issue", tc_ctl_cmd_issue, "obtain a certificate from the gateway (--csr or --new-key)"},
	{"revoke", tc_ctl_cmd_revoke, "revoke a certificate by serial through the gateway"},
	{"crl", tc_ctl_cmd_crl, "fetch the CA's current CRL from the gateway"},
	{"token", tc_ctl_cmd_token, "make a gateway bearer token (token new)"},
	{"ct", tc_ctl_cmd_ct, "CT log tools (loglist: OpenSSL CT log list file)"},
	{"dig", tc_ctl_cmd_dig, "one DNS query over UDP, TCP or QUIC (+quic), printed like dig"},
	{"dns", tc_ctl_cmd_dns, "DNSSEC records of the zone key (ds [--anchor])"},
	{"dns-roll", tc_ctl_cmd_dns_roll, "DNSSEC key rollover ceremonies (status, start zsk|ksk, advance)"},
	{"acme", tc_ctl_cmd_acme, "ACME external account binding keys (acme eab new --patterns ...)"},
	{"validate", tc_ctl_cmd_validate, "ask a gateway for the STOQ trust decision on a chain"},
	{"status", tc_ctl_cmd_status, "health of every child, CT tree head age, certificate expiry, zone serial"},
	{"backup", tc_ctl_cmd_backup, "online snapshot of the data directory, signed by the audit key"},
	{"restore", tc_ctl_cmd_restore, "restore a backup into the data directory of a stopped server"},
};

void tc_ctl_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "trustchainctl: error: %s\n", msg);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: trustchainctl [--config FILE] [--operator NAME] <command> [args]\n"
		"\n"
		"  --config FILE     trustchain.yaml (default: built-in dev defaults, like the server)\n"
		"  --operator NAME   who performs a ceremony (default: the invoking user)\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nrun 'trustchainctl <command> help' for a command's usage\n");
}

/* The operator recorded in transcripts: sudo's caller when there is one,
 * because "root" says nothing about who ran the ceremony. */
static void default_operator(char *out, size_t outlen)
{
	const char *name = getenv("SUDO_USER");
	if (!name || !*name) {
		struct passwd *pw = getpwuid(geteuid());
		name = pw ? pw->pw_name : NULL;
	}
	snprintf(out, outlen, "%s", name && *name ? name : "unknown");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"operator", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct tc_ctl ctl; /* struct tc_config is large: keep it off the stack */
	const char *operator_arg = NULL;
	int c;
	/* Line by line, so progress and errors interleave in order and nothing
	 * is lost if the process dies mid-ceremony. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	tc_log_init("trustchainctl", TC_LOG_WARN, 0);
	/* "+": stop at the command name so subcommands parse their own options. */
	while ((c = getopt_long(argc, argv, "+c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl.config_path = optarg;
			break;
		case 'o':
			operator_arg = optarg;
			break;
		case 'h':
			usage(stdout);
			return TC_CTL_OK;
		default:
			usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return TC_CTL_USAGE;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		tc_ctl_error("unknown command '%s'", argv[optind]);
		usage(stderr);
		return TC_CTL_USAGE;
	}
	if (operator_arg) {
		if (!*operator_arg || strlen(operator_arg) >= sizeof(ctl.operator_name)) {
			tc_ctl_error("--operator: expected a name of 1 to %zu characters",
				     sizeof(ctl.operator_name) - 1);
			return TC_CTL_USAGE;
		}
		snprintf(ctl.operator_name, sizeof(ctl.operator_name), "%s", operator_arg);
	} else {
		default_operator(ctl.operator_name, sizeof(ctl.operator_name));
	}

	char err[1024];
	if (tc_config_load(&ctl.cfg, ctl.config_path, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		return TC_CTL_USAGE;
	}
	enum tc_log_level level;
	if (tc_log_level_parse(ctl.cfg.server.log_level, &level) == 0)
		tc_log_set_level(level);
	/* SoftHSM finds its token directory only through this variable; set it
	 * before any subcommand loads the module. */
	if (ctl.cfg.hsm.softhsm_conf[0] && setenv("SOFTHSM2_CONF", ctl.cfg.hsm.softhsm_conf, 1) != 0) {
		tc_ctl_error("cannot set SOFTHSM2_CONF");
		return TC_CTL_FAIL;
	}
	return cmd->run(&ctl, argc - optind, argv + optind);
}
