/* trustchain-transparency: the RFC 6962 CT log. Until the log's HTTP API and
 * sequencer land it holds its listener, keeps its link to the signer alive
 * and reports health. */
#include <stdio.h>

#include "common/child_runtime.h"
#include "common/proc_env.h"

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start("transparency", argc, argv);
	int http_fd = tc_inherited_fd("CT_HTTP");
	char err[256], what[TC_CFG_STR * 2 + 128];
	int linked = tc_child_ping_signer(c, err, sizeof(err)) == 0;
	snprintf(what, sizeof(what), "CT HTTP %s%s (log pending), signer link %s",
		 tc_child_config(c)->ct.http_listen, http_fd >= 0 ? "" : " not passed",
		 linked ? "ok" : "pending");
	tc_child_ready(c, what);
	tc_child_idle_loop(c, 10000);
	tc_child_stop(c);
	return 0;
}
