#include <stdio.h>
#include <string.h>

#include "signer/signer.h"

int tc_peer_identity_for(const struct tc_config *cfg, const char *name, struct tc_peer_identity *id)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "%s", name);
	if (strcmp(name, "gateway") == 0)
		id->caps = TC_CAP_SIGN_CERT | TC_CAP_PUBLIC | TC_CAP_RANDOM | TC_CAP_REVOKE | TC_CAP_CRL | TC_CAP_PING;
	else if (strcmp(name, "transparency") == 0)
		id->caps = TC_CAP_SIGN_CT | TC_CAP_PUBLIC | TC_CAP_PING;
	else if (strcmp(name, "resolver") == 0) {
		id->caps = TC_CAP_SIGN_CERT | TC_CAP_SIGN_DNS | TC_CAP_PUBLIC | TC_CAP_PING;
		snprintf(id->only_name, sizeof(id->only_name), "dns.%s", cfg->bootstrap.domain);
	} else if (strcmp(name, "control") == 0)
		id->caps = TC_CAP_PUBLIC | TC_CAP_PING;
	else
		return -1;
	return 0;
}
