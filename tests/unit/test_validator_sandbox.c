/* The validator's syscall filters (the children's deny list, then
 * validator_sandbox.c on top), in a forked child: bind, listen and accept
 * fail with EPERM, packet and netlink sockets with EAFNOSUPPORT, and real
 * http-01, tls-alpn-01 and dns-01 checks against the parent's loopback
 * responders still succeed under both filters. */
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

static int setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	char why[256];
	if (tc_vcheck_global_init(why, sizeof(why)) != 0)
		return 1;
	uint16_t hp = tv_http_start(), tp = tv_tls_start(), dp = tv_dns_start();
	char resolver[64];
	snprintf(resolver, sizeof(resolver), "127.0.0.1:%u", dp);
	if (tc_vdns_servers_init(resolver, NULL, &cfg.dns, why, sizeof(why)) != 0)
		return 1;
	cfg.rules.allow_loopback = 1;
	cfg.http_port = hp;
	cfg.tls_port = tp;
	cfg.timeout_ms = 3000;
	cfg.max_redirects = 3;
	cfg.max_response_bytes = 4096;
	cfg.concurrency = 1;
	tv_http_set_mode(TV_HTTP_OK);
	tv_tls_set_mode(TV_TLS_OK);
	return 0;
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

static void test_filters(void)
{
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		_exit(sandboxed_checks());
	int st = 0;
	CU_ASSERT(waitpid(pid, &st, 0) == pid);
	CU_ASSERT(WIFEXITED(st));
	if (WIFEXITED(st) && WEXITSTATUS(st))
		fprintf(stderr, "sandboxed child failed: mask %d\n", WEXITSTATUS(st));
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"filters: no server sockets, checks still work", test_filters},
		{NULL, NULL},
	};
	return tc_run_suite("validator_sandbox", tests, setup, teardown);
}
