#include "support/gateway_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/sup_channel.h"
#include "support/child_spawn.h"

int tc_free_tcp_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int tc_gateway_proc_start(struct tc_gateway_proc *g, struct tc_harness *h, char *ready, size_t readylen)
{
	g->pid = -1;
	g->sup_fd = -1;
	int signer_fd = tc_harness_connect(h, "gateway");
	int chan[2];
	if (signer_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) != 0)
		return -1;
	char path[600];
	snprintf(path, sizeof(path), "%s/trustchain-gateway", h->bindir);
	char *argv[] = {path, "--config", (char *)h->config, NULL};
	struct tc_spawn_fd fds[] = {{"TC_FD_SIGNER", signer_fd}, {"TC_FD_SUPERVISOR", chan[1]}};
	g->pid = tc_spawn_with_fds(path, argv, fds, 2, NULL);
	close(signer_fd);
	close(chan[1]);
	if (g->pid < 0) {
		close(chan[0]);
		return -1;
	}
	g->sup_fd = chan[0];
	struct tc_sup_msg msg;
	int fd;
	if (tc_sup_recv(g->sup_fd, &msg, &fd) != 1 || msg.type != TC_SUP_READY)
		return -1;
	if (ready)
		snprintf(ready, readylen, "%s", msg.name);
	return 0;
}

int tc_gateway_proc_stop(struct tc_gateway_proc *g)
{
	int status = -1;
	if (g->pid > 0) {
		kill(g->pid, SIGTERM);
		int i;
		for (i = 0; i < 100 && waitpid(g->pid, &status, WNOHANG) != g->pid; i++)
			usleep(100 * 1000);
		if (i == 100) {
			kill(g->pid, SIGKILL);
			waitpid(g->pid, &status, 0);
		}
		g->pid = -1;
	}
	if (g->sup_fd >= 0)
		close(g->sup_fd);
	g->sup_fd = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
