/* trustchain-gateway: the gRPC API (issuance, revocation, STOQ validation).
 * Until the API lands it keeps its link to the signer alive and reports
 * health, so the supervisor, privilege separation and restarts are exercised
 * end to end. */
#include <stdio.h>

#include "common/child_runtime.h"

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start("gateway", argc, argv);
	char err[256], what[TC_CFG_STR * 2 + 128];
	int linked = tc_child_ping_signer(c, err, sizeof(err)) == 0;
	snprintf(what, sizeof(what), "gRPC %s (API pending), signer link %s",
		 tc_child_config(c)->gateway.listen, linked ? "ok" : "pending");
	tc_child_ready(c, what);
	tc_child_idle_loop(c, 10000);
	tc_child_stop(c);
	return 0;
}
