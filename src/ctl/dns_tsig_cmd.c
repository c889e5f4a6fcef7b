/* trustchainctl dns tsig new NAME [--algorithm hmac-sha256|hmac-sha512]:
 * prints a new TSIG key (RFC 8945) as a BIND key clause, the format of
 * dns.tsig_keys_file, tsig-keygen, nsupdate -k, knot and nsd. The secret is
 * as long as the hash (32 or 64 octets, RFC 8945 §6) from the kernel CSPRNG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/base64.h"
#include "common/config_schema.h"
#include "ctl/ctl.h"

int tc_ctl_dns_tsig_new(int argc, char **argv);

int tc_ctl_dns_tsig_new(int argc, char **argv)
{
	const char *name = NULL, *alg = "hmac-sha256";
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--algorithm") == 0 && i + 1 < argc)
			alg = argv[++i];
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			name = NULL, i = argc;
	}
	size_t len = strcmp(alg, "hmac-sha256") == 0 ? 32 : strcmp(alg, "hmac-sha512") == 0 ? 64 : 0;
	if (!name || len == 0) {
		tc_ctl_error("usage: trustchainctl dns tsig new NAME [--algorithm hmac-sha256|hmac-sha512]");
		return TC_CTL_USAGE;
	}
	if (!tc_valid_dns_name(name)) {
		tc_ctl_error("'%s' is not a valid key name (a DNS name)", name);
		return TC_CTL_USAGE;
	}
	unsigned char secret[64];
	if (getrandom(secret, len, 0) != (ssize_t)len) {
		tc_ctl_error("getrandom failed");
		return TC_CTL_FAIL;
	}
	char *b64 = tc_base64_encode(secret, len);
	memset(secret, 0, sizeof(secret));
	if (!b64) {
		tc_ctl_error("out of memory");
		return TC_CTL_FAIL;
	}
	printf("key \"%s\" {\n\talgorithm %s;\n\tsecret \"%s\";\n};\n", name, alg, b64);
	free(b64);
	return TC_CTL_OK;
}
