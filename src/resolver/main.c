/* trustchain-resolver: DNS over QUIC and classic DNS for the bootstrap zone.
 * Until the resolver lands it holds its listeners, keeps its link to the
 * signer alive and reports health. */
#include <stdio.h>

#include "common/child_runtime.h"
#include "common/proc_env.h"

int main(int argc, char **argv)
{
	struct tc_child *c = tc_child_start("resolver", argc, argv);
	const struct tc_config *cfg = tc_child_config(c);
	int udp = tc_inherited_fd("DNS_UDP"), tcp = tc_inherited_fd("DNS_TCP"), doq = tc_inherited_fd("DOQ");
	char err[256], what[TC_CFG_STR * 2 + 128];
	int linked = tc_child_ping_signer(c, err, sizeof(err)) == 0;
	snprintf(what, sizeof(what), "DNS %s:%u, DoQ %s:%u%s (zone pending), signer link %s",
		 cfg->dns.listen_address, cfg->dns.udp_port, cfg->dns.listen_address, cfg->dns.quic_port,
		 udp >= 0 && tcp >= 0 && doq >= 0 ? "" : " (listeners not passed)", linked ? "ok" : "pending");
	tc_child_ready(c, what);
	tc_child_idle_loop(c, 10000);
	tc_child_stop(c);
	return 0;
}
