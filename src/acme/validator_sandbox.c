#include "acme/validator_sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int tc_validator_sandbox_apply(char *why, size_t whylen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(why, whylen, "seccomp_init failed");
		return -1;
	}
	static const int no_server[] = {SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4)};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(no_server) / sizeof(no_server[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), no_server[i], 0);
	/* Families: AF_UNIX (1), AF_INET (2) and AF_INET6 (10) only. One
	 * comparison per rule (libseccomp's rule), so: 0, 3..9, above 10. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, AF_INET6));
	for (int fam = 0; rc == 0 && fam < AF_INET6; fam++)
		if (fam != AF_UNIX && fam != AF_INET)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
					      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam));
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		snprintf(why, whylen, "cannot install the validator's syscall filter: %s", strerror(-rc));
		return -1;
	}
	return 0;
}
