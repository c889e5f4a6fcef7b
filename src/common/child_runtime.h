/* What every unprivileged child of trustchain-server (transparency, resolver,
 * gateway) needs before doing its own job: arguments, configuration, logging,
 * signal handling, and a link to the signer that survives signer restarts
 * (the supervisor pushes a fresh connection on the supervisor channel). */
#ifndef TC_COMMON_CHILD_RUNTIME_H
#define TC_COMMON_CHILD_RUNTIME_H

#include <signal.h>

#include "common/config.h"
#include "common/signer_client.h"

struct tc_child;

/* Parses `--config FILE`, loads the configuration (exit 2 with the loader's
 * message on error), sets up logging as `name`, blocks SIGTERM/SIGINT/SIGHUP
 * for tc_child_wait_signal(), connects to the signer named by TC_FD_SIGNER
 * and starts listening on TC_FD_SUPERVISOR. Exits the process on failure. */
struct tc_child *tc_child_start(const char *name, int argc, char **argv);

/* Flags of tc_child_start_opts. */
#define TC_CHILD_NO_SIGNER 1u /* acme and the validator: no signer link at all */

/* tc_child_start with flags. */
struct tc_child *tc_child_start_opts(const char *name, int argc, char **argv, unsigned flags);

/* Links to peers other than the signer (trustchain-acme <-> its validator).
 * cb runs on the runtime's supervisor-channel thread each time the
 * supervisor hands over a fresh connected socket (AF_UNIX SOCK_STREAM) to
 * `peer` ("validator" in acme, "acme" in the validator): at start (passed
 * at exec as TC_FD_PEER_<NAME>) and after either side restarts. cb owns fd
 * (closing the previous link is the caller's business). A link that came
 * before registration is delivered at registration, on the caller's thread. */
typedef void (*tc_child_peer_cb)(void *arg, const char *peer, int fd);
void tc_child_on_peer_link(struct tc_child *c, tc_child_peer_cb cb, void *arg);

const struct tc_config *tc_child_config(const struct tc_child *c);

/* A configuration the supervisor handed over on SIGHUP (TC_SUP_CONFIG: it
 * was read and checked there, and the child is not restarted): a sealed
 * memfd the caller reads as /proc/self/fd/N and closes, or -1 when none
 * came. Its arrival raises SIGHUP, which tc_child_wait_signal returns. */
int tc_child_take_config(struct tc_child *c);

/* Calls the signer over the current connection (see tc_signer_call). Fails
 * with an error while the signer is down or restarting. */
Trustchain__Internal__Response *tc_child_signer_call(struct tc_child *c,
						     Trustchain__Internal__Request *req,
						     int timeout_ms, char *err, size_t errlen);

/* tc_child_signer_call without waiting (signer_client.h,
 * tc_signer_call_async): 0 when done will get the answer, -1 with err set
 * (no signer connection, or it is closed). */
int tc_child_signer_call_async(struct tc_child *c, Trustchain__Internal__Request *req, int timeout_ms,
			       tc_ipc_done_fn done, void *arg, char *err, size_t errlen);

/* Pings the signer; 0 when it answered OK. */
int tc_child_ping_signer(struct tc_child *c, char *err, size_t errlen);

/* Tells the supervisor this child is serving; what says what, e.g. the
 * addresses it listens on. */
void tc_child_ready(struct tc_child *c, const char *what);

/* Waits for SIGTERM/SIGINT (returns the signal) or SIGHUP (returned too:
 * the caller decides). With period_ms > 0 returns 0 after that long
 * without a signal, so callers can do periodic work. */
int tc_child_wait_signal(struct tc_child *c, int period_ms);

/* For a child with no event loop of its own yet: pings the signer every
 * period_ms, logging when the link is lost or back, until SIGTERM/SIGINT
 * (SIGHUP is ignored: the supervisor restarts children to reload). */
void tc_child_idle_loop(struct tc_child *c, int period_ms);

void tc_child_stop(struct tc_child *c);

#endif
