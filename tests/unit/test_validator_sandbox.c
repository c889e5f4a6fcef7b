/* The validator's syscall filters (the children's deny list, then
 * validator_sandbox.c on top), in a forked child: bind, listen and accept
 * fail with EPERM, packet and netlink sockets with EAFNOSUPPORT, and real
 * http-01, tls-alpn-01 and dns-01 checks against the parent's loopback
 * responders still succeed under both filters.
 *
 * The child is forked in main, before the responder threads exist: a fork
 * of a threaded process can take a lock (ASan's allocator) that another
 * thread held, and the child then hangs at its first malloc (seen once in
 * a full run). It waits on a pipe for the responders' ports. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acme/validator_check.h"
#include "common/sandbox.h"
#include "unit/cunit_main.h"
#include "unit/test_validator_responders.h"

static struct tc_vcheck_cfg cfg;
static int go[2] = {-1, -1}; /* the responders' ports, parent to child */
static pid_t child = -1;

struct ports {
	uint16_t http, tls, dns;
};

/* The checker's configuration for the responders at p (in the child). */
static int make_cfg(const struct ports *p)
{
	char why[256], resolver[64];
	if (tc_vcheck_global_init(why, sizeof(why)) != 0)
		return -1;
	snprintf(resolver, sizeof(resolver), "127.0.0.1:%u", p->dns);
	if (tc_vdns_servers_init(resolver, NULL, &cfg.dns, why, sizeof(why)) != 0)
		return -1;
	cfg.rules.allow_loopback = 1;
	cfg.http_port = p->http;
	cfg.tls_port = p->tls;
	cfg.timeout_ms = 3000;
	cfg.max_redirects = 3;
	cfg.max_response_bytes = 4096;
	cfg.concurrency = 1;
	return 0;
}

static int setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	char why[256];
	if (child < 0 || tc_vcheck_global_init(why, sizeof(why)) != 0)
		return 1;
	struct ports p = {.http = tv_http_start(), .tls = tv_tls_start(), .dns = tv_dns_start()};
	tv_http_set_mode(TV_HTTP_OK);
	tv_tls_set_mode(TV_TLS_OK);
	return write(go[1], &p, sizeof(p)) == (ssize_t)sizeof(p) ? 0 : 1;
}

static int teardown(void)
{
	tv_http_stop();
	tv_tls_stop();
	tv_dns_stop();
	return 0;
}

/* Runs in the child: a bit per failed expectation. */
static int sandboxed_checks(void)
{
	char why[256];
	if (tc_sandbox_apply(TC_SANDBOX_PEER, why, sizeof(why)) != 0 || tc_sandbox_apply(TC_SANDBOX_CONNECT_ONLY, why, sizeof(why)) != 0) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	int fails = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		fails |= 2;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EPERM)
		fails |= 4;
	if (listen(fd, 1) == 0 || errno != EPERM)
		fails |= 8;
	if (accept(fd, NULL, NULL) >= 0 || errno != EPERM)
		fails |= 16;
	close(fd);
	if (socket(AF_PACKET, SOCK_RAW, 0) >= 0 || errno != EAFNOSUPPORT)
		fails |= 32;
	if (socket(AF_NETLINK, SOCK_RAW, 0) >= 0 || errno != EAFNOSUPPORT)
		fails |= 32;
	static const enum tc_vtype types[] = {TC_V_HTTP01, TC_V_TLS_ALPN01, TC_V_DNS01};
	for (int i = 0; i < 3; i++) {
		struct tc_vrequest r = {.id = 1, .type = types[i]};
		strcpy(r.identifier, "ok.test");
		r.identifier_len = 7;
		strcpy(r.token, TV_TOKEN);
		strcpy(r.key_authorization, TV_KEYAUTH);
		struct tc_vresult res;
		tc_vcheck_run(&cfg, &r, &res);
		if (!res.valid) {
			fprintf(stderr, "%s under the filter: %s %s\n", tc_vtype_name(types[i]), res.problem_type, res.detail);
			fails |= 64;
		}
	}
	return fails;
}

/* The child forked in main: waits for the ports, then checks under the
 * filters; a bit per failed expectation, 128 when the parent never sent
 * the ports. */
static int child_main(void)
{
	close(go[1]);
	struct ports p;
	size_t got = 0;
	while (got < sizeof(p)) {
		ssize_t n = read(go[0], (char *)&p + got, sizeof(p) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 128;
		got += (size_t)n;
	}
	if (make_cfg(&p) != 0)
		return 1;
	return sandboxed_checks();
}

static void test_filters(void)
{
	CU_ASSERT_FATAL(child > 0);
	int st = 0;
	CU_ASSERT(waitpid(child, &st, 0) == child);
	child = -1;
	CU_ASSERT(WIFEXITED(st));
	if (WIFEXITED(st) && WEXITSTATUS(st))
		fprintf(stderr, "sandboxed child failed: mask %d\n", WEXITSTATUS(st));
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	if (pipe(go) != 0)
		return 1;
	child = fork();
	if (child == 0)
		_exit(child_main());
	close(go[0]);
	static const struct tc_test tests[] = {
		{"filters: no server sockets, checks still work", test_filters},
		{NULL, NULL},
	};
	return tc_run_suite("validator_sandbox", tests, setup, teardown);
}
