/* trustchainctl: the operator's command-line tool. main.c parses the global
 * options and dispatches to one subcommand per file (ceremony, journal, ...);
 * this header is what they share. */
#ifndef TC_CTL_CTL_H
#define TC_CTL_CTL_H

#include <stddef.h>

#include "common/config.h"

/* Exit codes of every subcommand. */
enum { TC_CTL_OK = 0, TC_CTL_FAIL = 1, TC_CTL_USAGE = 2 };

struct tc_ctl {
	struct tc_config cfg;
	const char *config_path;     /* NULL: built-in dev defaults, like the server */
	char operator_name[64];      /* --operator, else the invoking user */
};

/* A subcommand gets argv starting at its own name (argv[0] = "ceremony"). */
typedef int (*tc_ctl_cmd_fn)(struct tc_ctl *ctl, int argc, char **argv);

int tc_ctl_cmd_ceremony(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_journal(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_export(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_verify_export(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_issue(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_revoke(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_crl(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_token(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_ct(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_dig(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_dns(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_validate(struct tc_ctl *ctl, int argc, char **argv);
int tc_ctl_cmd_status(struct tc_ctl *ctl, int argc, char **argv);

/* "trustchainctl: error: ..." on stderr. */
void tc_ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
