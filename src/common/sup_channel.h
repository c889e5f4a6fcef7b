/* The channel between trustchain-server and each child it runs: a
 * SOCK_SEQPACKET socketpair carrying small fixed-size messages, some with one
 * descriptor attached (SCM_RIGHTS). It is how the supervisor hands the signer
 * a fresh connection for a restarted peer, and a peer a fresh connection to a
 * restarted signer, so every process keeps knowing who is on the other end of
 * each socket without any path-based rendezvous. Children report readiness on
 * it. The supervisor treats what children send as untrusted. */
#ifndef TC_COMMON_SUP_CHANNEL_H
#define TC_COMMON_SUP_CHANNEL_H

#include <stdint.h>

enum tc_sup_msg_type {
	TC_SUP_PEER_FD = 1,   /* supervisor -> signer: fd is a connection to peer `name` */
	TC_SUP_SIGNER_FD = 2, /* supervisor -> peer: fd is a new connection to the signer */
	TC_SUP_READY = 3,     /* child -> supervisor: serving; `name` says what (free text) */
	TC_SUP_CONFIG = 4,    /* supervisor -> child: fd is a sealed memfd of the new, checked configuration */
	TC_SUP_METRICS = 5,   /* child -> supervisor: fd is a sealed memfd of its exposition (metrics_proc.h);
			       * supervisor -> trustchain-metrics: the same, `name` the child it came from */
	TC_SUP_RELINK = 6,    /* child -> supervisor: its signer link ended while the signer runs (the
			       * signer dropped a peer that stopped reading, or the stream broke); the
			       * answer is a TC_SUP_SIGNER_FD, at most one a second */
};

/* Room for a READY line such as the gateway's listen address, TLS names and
 * thread count; a longer text is cut, never an error. */
#define TC_SUP_NAME_MAX 256

struct tc_sup_msg {
	uint32_t type;
	char name[TC_SUP_NAME_MAX];
};

/* Sends msg, with fd attached when fd >= 0. Returns 0 or -1 (errno set). */
int tc_sup_send(int chan, uint32_t type, const char *name, int fd);

/* Receives one message. *fd is the attached descriptor or -1. Returns 1 on a
 * message, 0 when the other side closed, -1 on error or a malformed message
 * (wrong size, unknown type, unterminated name, more than one descriptor):
 * any descriptors that came with a malformed message are closed. */
int tc_sup_recv(int chan, struct tc_sup_msg *msg, int *fd);

#endif
