/* The four children of trustchain-server, their links and their restarts.
 *
 * Links: each peer (transparency, resolver, gateway) talks to the signer over
 * its own socketpair. Whenever a peer starts while the signer runs, it gets
 * its end at exec (TC_FD_SIGNER) and the signer gets the other end on its
 * supervisor channel, named after the peer: the name decides the
 * capabilities the signer grants on that socket. Whenever the signer
 * (re)starts, every running peer gets a fresh pair the same way, so a crash
 * on either side heals without any process reconnecting by path. */
#ifndef TC_SERVER_CHILDREN_H
#define TC_SERVER_CHILDREN_H

#include <stdint.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/sup_channel.h"
#include "server/listeners.h"
#include "server/privdrop.h"

/* The validator comes before acme so that, started in one round, acme
 * finds it running and gets its link at exec. */
/* metrics (trustchain-metrics, /metrics) runs only with
 * server.metrics_listen set; it comes last, so it is stopped first. */
enum tc_child_kind { TC_CHILD_SIGNER, TC_CHILD_TRANSPARENCY, TC_CHILD_RESOLVER, TC_CHILD_GATEWAY,
		     TC_CHILD_VALIDATOR, TC_CHILD_ACME, TC_CHILD_METRICS, TC_CHILD_COUNT };

struct tc_child_proc {
	const char *name;
	int enabled;             /* acme and validator run only with acme.listen set */
	pid_t pid;               /* 0 when not running */
	int sup_fd;              /* our end of its supervisor channel, -1 when none */
	uint64_t started_ms;
	uint64_t restart_at_ms;  /* 0 = no restart scheduled */
	uint32_t backoff_ms;
	unsigned restarts;
	int ready;
	char ready_what[TC_SUP_NAME_MAX];
	uint64_t relinked_ms;    /* last new signer link it asked for (TC_SUP_RELINK) */
};

/* Children start wherever the installation or checkout lies, even below a
 * directory their users cannot traverse (a clone in /root): the supervisor
 * opens, while it is still root, each child's program (run with fexecve),
 * the data directory (handed over as a descriptor: TC_DATA_DIR is
 * /proc/self/fd/N in the child) and the configuration (a sealed copy in a
 * memfd, given as --config /proc/self/fd/N), and no permission on the way
 * there is loosened. */
struct tc_supervisor {
	struct tc_config cfg;
	const char *config_path; /* NULL: built-in dev defaults */
	char bindir[4096];
	struct tc_run_as run_as[TC_CHILD_COUNT];
	int program_fd[TC_CHILD_COUNT]; /* trustchain-<child>, opened at start */
	int ctl_fd;              /* trustchainctl, for the dev ceremony */
	int data_fd;             /* server.data_dir, O_PATH */
	int config_fd;           /* sealed memfd copy of config_path, -1 with none */
	struct tc_listeners listeners;
	struct tc_child_proc child[TC_CHILD_COUNT];
	int stopping;
	int announced;           /* printed the "all ready" summary */
	/* The bearer token trustchain-acme presents to the gateway, made
	 * afresh at every start of the supervisor and never written to disk:
	 * acme gets it, the gateway its SHA-256 (children_token.c). */
	char acme_token[65];
};

uint64_t tc_now_ms(void);

void tc_children_init(struct tc_supervisor *s);

/* Decides from s->cfg which children run (acme and validator only with
 * acme.listen); a child newly enabled (by SIGHUP) is started at the next
 * round, a disabled one is not restarted. */
void tc_children_configure(struct tc_supervisor *s);

/* Starts child kind now. Returns 0, or -1 (logged; a restart is scheduled). */
int tc_children_spawn(struct tc_supervisor *s, enum tc_child_kind kind);

/* A child exited: log how, and schedule its restart with back-off unless the
 * supervisor is stopping. Returns the kind, or -1 for an unknown pid. */
int tc_children_reaped(struct tc_supervisor *s, pid_t pid, int status);

/* Starts every child whose restart time has come. */
void tc_children_run_due(struct tc_supervisor *s);

/* Milliseconds until the next scheduled restart, -1 if none. */
int tc_children_next_timeout(const struct tc_supervisor *s);

/* Reads one message from a child's channel (readiness). */
void tc_children_read_channel(struct tc_supervisor *s, enum tc_child_kind kind);

/* Sends sig to every running child. */
void tc_children_signal_all(struct tc_supervisor *s, int sig);

/* 1 when no child is running. */
int tc_children_none_running(const struct tc_supervisor *s);

/* Opens the children's programs and trustchainctl in bindir, the data
 * directory and a sealed copy of the configuration. Returns 0, or -1 with
 * err set. Called again on SIGHUP for the configuration. */
int tc_children_open_files(struct tc_supervisor *s, char *err, size_t errlen);
int tc_children_snapshot_config(struct tc_supervisor *s, char *err, size_t errlen);

/* Runs trustchainctl with argv as the invoking user (root, when the
 * children drop to theirs: the ceremony writes every part of the data
 * directory, which is repaired afterwards) with no descriptors but stdio
 * and waits for it. Returns its exit status or -1. */
int tc_run_tool(struct tc_supervisor *s, char *const argv[]);

/* trustchain-acme's gateway credential (children_token.c). make_acme_token
 * draws a fresh random token (at start); tc_acme_token_fd returns a sealed
 * memfd holding the token itself (for_acme) or the gateway's tokens-file line
 * for it ("SHA256 trustchain-acme * revoke": any name the CA's policy
 * permits, since acme validates names itself), or -1 with errno set. */
int tc_make_acme_token(struct tc_supervisor *s);
int tc_acme_token_fd(const struct tc_supervisor *s, int for_acme);

/* The figures' relay (metrics_relay.c, design in common/metrics_proc.h):
 * a child's exposition (fd, owned by the call; -1: the child is gone, its
 * figures are dropped) checked unread and passed on to trustchain-metrics,
 * and the supervisor's own figures (restarts) sent every
 * TC_METRICS_PUSH_MS: tick returns the milliseconds until its next call, or
 * -1 when metrics are off. */
void tc_metrics_relay(struct tc_supervisor *s, enum tc_child_kind from, int fd);
int tc_metrics_relay_tick(struct tc_supervisor *s);
void tc_metrics_count_restart(const char *child);

/* Writes <data_dir>/server.status: one "name pid ready restarts" line per child. */
void tc_children_write_status(const struct tc_supervisor *s);

#endif
