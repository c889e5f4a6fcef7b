#include "support/peer_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/sup_channel.h"
#include "support/child_spawn.h"

/* A listening TCP socket on 127.0.0.1, port chosen by the kernel. */
static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int tc_peer_start(struct tc_harness *h, const char *name, struct tc_peer_proc *p)
{
	return tc_peer_start_config(h, name, NULL, p);
}

int tc_peer_start_config(struct tc_harness *h, const char *name, const char *config, struct tc_peer_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->sup_fd = -1;
	int http_fd = -1;
	if (strcmp(name, "transparency") == 0 && (http_fd = listen_loopback(&p->http_port)) < 0)
		return -1;
	int signer_fd = tc_harness_connect(h, name);
	int chan[2];
	if (signer_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) != 0) {
		if (signer_fd >= 0)
			close(signer_fd);
		if (http_fd >= 0)
			close(http_fd);
		return -1;
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/trustchain-%s", h->bindir, name);
	char *argv[] = {path, "--config", (char *)(config ? config : h->config), NULL};
	struct tc_spawn_fd fds[] = {{"TC_FD_SIGNER", signer_fd}, {"TC_FD_SUPERVISOR", chan[1]}, {"TC_FD_CT_HTTP", http_fd}};
	pid_t pid = tc_spawn_with_fds(path, argv, fds, http_fd >= 0 ? 3 : 2, NULL);
	close(signer_fd);
	close(chan[1]);
	if (http_fd >= 0)
		close(http_fd);
	if (pid < 0) {
		close(chan[0]);
		return -1;
	}
	p->pid = pid;
	p->sup_fd = chan[0];
	struct pollfd pfd = {.fd = p->sup_fd, .events = POLLIN};
	struct tc_sup_msg msg;
	int fd = -1;
	if (poll(&pfd, 1, 60000) != 1 || tc_sup_recv(p->sup_fd, &msg, &fd) != 1 || msg.type != TC_SUP_READY) {
		if (fd >= 0)
			close(fd);
		tc_peer_stop(p, SIGKILL);
		return -1;
	}
	snprintf(p->ready, sizeof(p->ready), "%s", msg.name);
	return 0;
}

int tc_peer_stop(struct tc_peer_proc *p, int sig)
{
	int rc = -1;
	if (p->pid > 0) {
		kill(p->pid, sig);
		int st;
		pid_t w;
		while ((w = waitpid(p->pid, &st, 0)) < 0 && errno == EINTR)
			;
		if (w == p->pid)
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		p->pid = 0;
	}
	if (p->sup_fd >= 0)
		close(p->sup_fd);
	p->sup_fd = -1;
	return rc;
}
