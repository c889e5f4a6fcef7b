#include "common/sandbox.h"
#include "common/asan_build.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Never needed by a TrustChain child; wanted by an attacker. */
static const int denied_everywhere[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat),
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
	SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
	SCMP_SYS(swapon), SCMP_SYS(swapoff), SCMP_SYS(reboot), SCMP_SYS(acct),
	SCMP_SYS(setns), SCMP_SYS(unshare),
	SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd),
	SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key),
	SCMP_SYS(settimeofday), SCMP_SYS(clock_settime), SCMP_SYS(clock_adjtime),
	SCMP_SYS(adjtimex), SCMP_SYS(sethostname), SCMP_SYS(setdomainname),
	SCMP_SYS(io_uring_setup), SCMP_SYS(open_by_handle_at), SCMP_SYS(name_to_handle_at),
	SCMP_SYS(iopl), SCMP_SYS(ioperm), SCMP_SYS(quotactl),
#if !TC_ASAN_BUILD
	/* LeakSanitizer stops the world with ptrace at exit, so sanitizer
	 * builds (CI, and ops/fuzz.sh's clang builds) keep it; release builds
	 * deny it. */
	SCMP_SYS(ptrace),
#endif
};

/* Socket families the signer keeps: the supervisor's socketpairs and the
 * control socket are AF_UNIX; nothing else. */
static int deny_network(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				SCMP_A0(SCMP_CMP_NE, AF_UNIX));
}

/* No server side, and the families of a client of the network (and of
 * syslog) only. One comparison per rule (libseccomp's rule): so 0, 3..9
 * and above AF_INET6 (10) are refused one by one. */
static int deny_serving(scmp_filter_ctx ctx)
{
	static const int server_calls[] = {SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4)};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(server_calls) / sizeof(server_calls[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), server_calls[i], 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_GT, AF_INET6));
	for (int fam = 0; rc == 0 && fam < AF_INET6; fam++)
		if (fam != AF_UNIX && fam != AF_INET)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
					      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam));
	return rc;
}

int tc_sandbox_apply(enum tc_sandbox_profile profile, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(denied_everywhere) / sizeof(denied_everywhere[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied_everywhere[i], 0);
	if (rc == 0 && profile == TC_SANDBOX_SIGNER)
		rc = deny_network(ctx);
	if (rc == 0 && profile == TC_SANDBOX_CONNECT_ONLY)
		rc = deny_serving(ctx);
	/* The supervisor already set PR_SET_NO_NEW_PRIVS; setting it here too
	 * lets a child started by hand (tests, debugging) load the filter. */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	/* All threads: gRPC or LevelDB may already have started some. */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		snprintf(err, errlen, "cannot install the syscall filter: %s", strerror(-rc));
		return -1;
	}
	return 0;
}
