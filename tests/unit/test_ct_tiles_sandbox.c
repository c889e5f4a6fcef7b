/* The transparency child's Landlock rules follow ct.tiles_dir: a directory
 * outside <data_dir>/ct gets a read-write rule of its own (created 0755 by
 * the child when missing); the default, a path inside ct/, and "off" add
 * nothing beyond the ct/ rule. */
#include <string.h>

#include "common/config.h"
#include "common/fs_sandbox.h"
#include "unit/cunit_main.h"

static struct tc_config cfg;

/* The rule named ct.tiles_dir, or NULL. */
static const struct tc_fs_rule *tiles_rule(struct tc_fs_rule *rules, int n)
{
	for (int i = 0; i < n; i++)
		if (rules[i].what && strcmp(rules[i].what, "ct.tiles_dir") == 0)
			return &rules[i];
	return NULL;
}

static void test_tiles_dir_rules(void)
{
	struct tc_fs_rule rules[TC_FS_MAX_RULES];
	tc_config_defaults(&cfg, true);
	snprintf(cfg.server.data_dir, sizeof(cfg.server.data_dir), "/var/lib/trustchain");

	int n = tc_fs_rules_for("transparency", &cfg, NULL, rules, TC_FS_MAX_RULES);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_PTR_NULL(tiles_rule(rules, n)); /* default: inside ct/ */

	snprintf(cfg.ct.tiles_dir, sizeof(cfg.ct.tiles_dir), "/var/lib/trustchain/ct/tiles2");
	n = tc_fs_rules_for("transparency", &cfg, NULL, rules, TC_FS_MAX_RULES);
	CU_ASSERT_PTR_NULL(tiles_rule(rules, n));

	snprintf(cfg.ct.tiles_dir, sizeof(cfg.ct.tiles_dir), "off");
	n = tc_fs_rules_for("transparency", &cfg, NULL, rules, TC_FS_MAX_RULES);
	CU_ASSERT_PTR_NULL(tiles_rule(rules, n));

	/* "ctx" only shares a prefix with ct/ */
	snprintf(cfg.ct.tiles_dir, sizeof(cfg.ct.tiles_dir), "/var/lib/trustchain/ctx");
	n = tc_fs_rules_for("transparency", &cfg, NULL, rules, TC_FS_MAX_RULES);
	CU_ASSERT_PTR_NOT_NULL(tiles_rule(rules, n));

	snprintf(cfg.ct.tiles_dir, sizeof(cfg.ct.tiles_dir), "/srv/ct-tiles");
	n = tc_fs_rules_for("transparency", &cfg, NULL, rules, TC_FS_MAX_RULES);
	const struct tc_fs_rule *r = tiles_rule(rules, n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->path, "/srv/ct-tiles");
	CU_ASSERT_EQUAL(r->access, TC_FS_WRITE);
	CU_ASSERT_EQUAL(r->create_mode, 0755);
	/* no other child gets it */
	n = tc_fs_rules_for("gateway", &cfg, NULL, rules, TC_FS_MAX_RULES);
	CU_ASSERT_PTR_NULL(tiles_rule(rules, n));
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"ct.tiles_dir Landlock rule", test_tiles_dir_rules},
		{NULL, NULL},
	};
	return tc_run_suite("ct_tiles_sandbox", tests, NULL, NULL);
}
