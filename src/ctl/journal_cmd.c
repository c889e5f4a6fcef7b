/* trustchainctl journal verify [FILE]: checks the audit journal's hash chain
 * offline. Reading needs no lock, so a journal the running signer appends to
 * can be verified too (its last line may then be in flight). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/hex.h"
#include "common/journal_format.h"
#include "ctl/ctl.h"

static void journal_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl [--config FILE] journal verify [JOURNAL]\n"
		     "  JOURNAL defaults to <server.data_dir>/journal/audit.jsonl\n");
}

static int journal_verify(struct tc_ctl *ctl, const char *path)
{
	char def[PATH_MAX];
	if (!path) {
		if (tc_config_data_path(&ctl->cfg, "journal/audit.jsonl", def, sizeof(def)) != 0) {
			tc_ctl_error("server.data_dir is too long");
			return TC_CTL_USAGE;
		}
		path = def;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		tc_ctl_error("journal %s: %s", path, strerror(errno));
		return TC_CTL_FAIL;
	}
	struct tc_journal_verify_result res;
	int rc = tc_journal_verify(f, &res);
	fclose(f);
	if (rc != 0) {
		/* problem starts with "line N:", the first damaged line. */
		printf("journal %s: FAILED: %s (%llu valid record%s before it)\n", path, res.problem,
		       (unsigned long long)res.records, res.records == 1 ? "" : "s");
		return TC_CTL_FAIL;
	}
	char head[2 * TC_JOURNAL_HASH_LEN + 1];
	tc_hex_encode(res.head, sizeof(res.head), head);
	printf("journal %s: OK, %llu record%s, head %s\n", path, (unsigned long long)res.records,
	       res.records == 1 ? "" : "s", head);
	if (res.truncated_tail)
		printf("journal %s: note: the last line is incomplete (a write in progress or "
		       "interrupted; the signer cuts it off when it opens the journal)\n",
		       path);
	return TC_CTL_OK;
}

int tc_ctl_cmd_journal(struct tc_ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		journal_usage(stdout);
		return TC_CTL_OK;
	}
	if (argc < 2 || strcmp(argv[1], "verify") != 0 || argc > 3) {
		journal_usage(stderr);
		return TC_CTL_USAGE;
	}
	return journal_verify(ctl, argc == 3 ? argv[2] : NULL);
}
