/* Runs a real trustchain-signer for tests and benches: a dev key ceremony
 * in a fresh temp data directory (real SoftHSM token), then the signer
 * process with the caller acting as its supervisor, so the caller can hand it
 * peer connections under any name. */
#ifndef TC_TESTS_SIGNER_HARNESS_H
#define TC_TESTS_SIGNER_HARNESS_H

#include <sys/types.h>

struct tc_harness {
	char bindir[512];
	char dir[256];         /* temp data directory */
	char config[320];      /* its trustchain.yaml */
	pid_t signer_pid;
	int sup_fd;            /* our end of the signer's supervisor channel */
};

/* Creates the data dir and config (extra_yaml appended under the defaults,
 * may be NULL) and runs `trustchainctl ceremony dev`. Returns 0 or -1. */
int tc_harness_setup(struct tc_harness *h, const char *bindir, const char *extra_yaml);

/* Starts trustchain-signer; returns 0 once it is ready. */
int tc_harness_start_signer(struct tc_harness *h, const char *extra_args);

/* A new connection to the signer under peer name; returns our end or -1. */
int tc_harness_connect(struct tc_harness *h, const char *peer);

/* SIGTERM and wait; returns the signer's exit status (0 = clean) or -1. */
int tc_harness_stop_signer(struct tc_harness *h);

/* Runs trustchainctl with args against this data dir; returns its exit code. */
int tc_harness_ctl(struct tc_harness *h, const char *args);

void tc_harness_cleanup(struct tc_harness *h);

/* "<dir>/<rel>" */
const char *tc_harness_path(struct tc_harness *h, const char *rel);

#endif
