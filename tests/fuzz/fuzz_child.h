/* A server child's runtime (common/child_runtime.h) inside a fuzz process:
 * a real signer (signer_harness: dev ceremony on a SoftHSM token) linked
 * under a peer name, so handlers run exactly as in trustchain-gateway or
 * trustchain-transparency, without the child's sandbox (fuzz_child.c
 * replaces it: libFuzzer must write its corpus and crash files). */
#ifndef TC_TESTS_FUZZ_CHILD_H
#define TC_TESTS_FUZZ_CHILD_H

#include "common/child_runtime.h"
#include "support/peer_harness.h"
#include "support/signer_harness.h"

/* The harness the child is linked to (set up by tc_fuzz_child_start). */
extern struct tc_harness tc_fuzz_harness;

/* Sets up the harness (extra_yaml appended to its config, may be NULL),
 * starts the signer and, when with_log, trustchain-transparency on the
 * same data directory (its IPC socket under data/run), then the child
 * runtime named name linked to the signer as peer. Aborts on failure;
 * everything is stopped and removed at exit. The programs are looked up
 * in $TC_FUZZ_BINDIR, else TC_FUZZ_DEFAULT_BINDIR (set by the build). */
struct tc_child *tc_fuzz_child_start(const char *name, const char *peer, const char *extra_yaml, int with_log);

#endif
