/* Runs a peer process of the server (trustchain-transparency,
 * trustchain-gateway) the way trustchain-server does: a signer link from
 * the harness's signer (TC_FD_SIGNER) and a supervisor channel
 * (TC_FD_SUPERVISOR) on which it says READY. A transparency run this way
 * gets its HTTP listener from here (a loopback port the kernel picks, so
 * parallel tests never clash on ct.http_listen) and binds its internal IPC
 * socket itself (<data_dir>/run/transparency.sock). */
#ifndef TC_TESTS_PEER_HARNESS_H
#define TC_TESTS_PEER_HARNESS_H

#include <sys/types.h>

#include "common/sup_channel.h"
#include "support/signer_harness.h"

struct tc_peer_proc {
	pid_t pid;   /* 0 when not running */
	int sup_fd;  /* our end of its supervisor channel */
	char ready[TC_SUP_NAME_MAX]; /* what it said it serves */
	int http_port;  /* transparency: its CT HTTP port */
};

/* Starts trustchain-<name> with h's config and waits (up to 60 s) for its
 * READY. 0, or -1 (the process is then stopped). */
int tc_peer_start(struct tc_harness *h, const char *name, struct tc_peer_proc *p);
/* The same with another config file (config NULL: h's), e.g. a second
 * gateway on the same data directory with other settings. */
int tc_peer_start_config(struct tc_harness *h, const char *name, const char *config, struct tc_peer_proc *p);

/* Sends sig and waits for the exit; returns the exit status (0 = clean),
 * 128 + signal when killed, or -1. */
int tc_peer_stop(struct tc_peer_proc *p, int sig);

#endif
