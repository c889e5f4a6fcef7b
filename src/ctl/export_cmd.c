/* trustchainctl export ct|journal: audit bundles (docs/AUDIT_EXPORT.md). */
#include <string.h>

#include "ctl/export.h"

static void export_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl export ct [--url URL] [--from A] [--to B] [--since-sth FILE]... --out BUNDLE\n"
		     "       trustchainctl export journal [--data-dir DIR] --out BUNDLE\n"
		     "verify a bundle offline with: trustchainctl verify-export BUNDLE --log-key PEM | --audit-key PEM\n");
}

int tc_ctl_cmd_export(struct tc_ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		export_usage(stdout);
		return TC_CTL_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "ct") == 0)
		return tc_ctl_export_ct(ctl, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "journal") == 0)
		return tc_ctl_export_journal(ctl, argc - 1, argv + 1);
	export_usage(stderr);
	return TC_CTL_USAGE;
}
