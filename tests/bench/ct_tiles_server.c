/* ct_tiles_server DIR PORT: serves a tiles directory on 127.0.0.1:PORT with
 * the log's own static-ct-api read path (tile_http.c under libmicrohttpd,
 * the code behind ct.http_listen), for timing trustchainctl ct monitor
 * against the log's server rather than python's http.server (which, one
 * Python thread at a time, is the slower side of that bench). Runs until
 * SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transparency/tile_http.h"

static int dirfd_tiles = -1;

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **state)
{
	(void)cls, (void)version, (void)upload, (void)upload_len, (void)state;
	if (!tc_tile_http_owns(url)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, r);
		MHD_destroy_response(r);
		return rc;
	}
	return tc_tile_http_serve(conn, dirfd_tiles, method, url);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ct_tiles_server DIR PORT\n");
		return 2;
	}
	if ((dirfd_tiles = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(argv[1]);
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
						handle, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE,
						4u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "cannot listen on 127.0.0.1:%s\n", argv[2]);
		return 1;
	}
	int sig;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	close(dirfd_tiles);
	return 0;
}
