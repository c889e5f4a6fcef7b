/* trustchainctl status: every child's health from <data_dir>/server.status
 * (written by the supervisor), then the figures an operator checks first,
 * each asked of the running service over its public protocol: the CT log's
 * tree size, tree head and checkpoint age (per temporal shard: status_ct.c),
 * the expiry of the root, intermediate, DoQ and gateway certificates, the zone's SOA serial. Exit 0 when all is well, 1
 * with every problem listed otherwise (for a monitoring check). */
#define _GNU_SOURCE
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "ctl/status_ct.h"
#include "ctl/status_metrics.h"
#include "ctl/status_probe.h"

/* Thresholds for a problem: leaf certificates (24 h by default) are renewed
 * at 2/3 of their life, so one hour left means renewal is failing; CA
 * certificates need a ceremony, which takes planning. */
#define LEAF_MIN_LEFT_S 3600
#define CA_MIN_LEFT_S (30 * 86400)

struct status {
	int problems;
	time_t now;
};

static void problem(struct status *st, const char *what)
{
	st->problems++;
	printf("  PROBLEM: %s\n", what);
}

static int pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* server.status: "supervisor PID", then "name pid ready|starting restarts what". */
static void children(struct tc_ctl *ctl, struct status *st)
{
	char path[TC_CFG_STR + 32];
	FILE *f = NULL;
	if (tc_config_data_path(&ctl->cfg, "server.status", path, sizeof(path)) == 0)
		f = fopen(path, "r");
	if (!f) {
		printf("%-14s %s: %s\n", "supervisor", path, strerror(errno));
		problem(st, "no server.status: trustchain-server is not running on this data directory "
			    "(or it is not readable: run as root or a member of the server.user group)");
		return;
	}
	char line[512];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char name[32], state[16], what[256] = "";
		long pid;
		unsigned restarts = 0;
		if (sscanf(line, "supervisor %ld", &pid) == 1) {
			int up = pid_alive(pid);
			printf("%-14s pid %-7ld %s\n", "supervisor", pid, up ? "running" : "NOT RUNNING");
			if (!up)
				problem(st, "the supervisor named in server.status is not running");
			continue;
		}
		int k = sscanf(line, "%31s %ld %15s %u %255[^\n]", name, &pid, state, &restarts, what);
		if (k < 4)
			continue;
		n++;
		int up = pid_alive(pid), ready = up && strcmp(state, "ready") == 0;
		printf("%-14s pid %-7ld %-9s restarts %-3u %s\n", name, pid, up ? state : "down", restarts, what);
		if (!ready) {
			char msg[96];
			snprintf(msg, sizeof(msg), "%s is not ready", name);
			problem(st, msg);
		}
	}
	fclose(f);
	if (n == 0)
		problem(st, "server.status lists no child");
}

static void expiry_line(struct status *st, const char *label, time_t not_after, long min_left)
{
	char when[32], msg[128];
	struct tm tm;
	gmtime_r(&not_after, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
	double left = difftime(not_after, st->now);
	if (left >= 86400)
		printf("  %-14s expires %s (%.0f days)\n", label, when, left / 86400);
	else
		printf("  %-14s expires %s (%.1f hours)\n", label, when, left / 3600);
	if (left < min_left) {
		snprintf(msg, sizeof(msg), "%s certificate %s", label, left <= 0 ? "has expired" : "expires soon");
		problem(st, msg);
	}
}

static void cert_file(struct tc_ctl *ctl, struct status *st, const char *label, const char *rel, long min_left)
{
	char path[TC_CFG_STR + 32];
	FILE *f = NULL;
	if (tc_config_data_path(&ctl->cfg, rel, path, sizeof(path)) == 0)
		f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	struct tm tm;
	if (!x || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
		char msg[TC_CFG_STR + 64];
		printf("  %-14s %s: unreadable\n", label, path);
		snprintf(msg, sizeof(msg), "%s certificate %s unreadable", label, path);
		problem(st, msg);
	} else {
		expiry_line(st, label, timegm(&tm), min_left);
	}
	X509_free(x);
}

static void certificates(struct tc_ctl *ctl, struct status *st)
{
	printf("certificates\n");
	cert_file(ctl, st, "root", "ca/root.pem", CA_MIN_LEFT_S);
	cert_file(ctl, st, "intermediate", "ca/intermediate.pem", CA_MIN_LEFT_S);
	cert_file(ctl, st, "doq", "dns/doq_cert.pem", LEAF_MIN_LEFT_S);
	if (!ctl->cfg.gateway.tls) {
		printf("  %-14s (gateway.tls is false)\n", "gateway");
		return;
	}
	char addr[300], sni[300], err[512];
	time_t not_after;
	tc_status_local_addr(ctl->cfg.gateway.listen, addr, sizeof(addr));
	snprintf(sni, sizeof(sni), "ca.%s", ctl->cfg.bootstrap.domain);
	if (tc_status_tls_not_after(addr, sni, &not_after, err, sizeof(err)) != 0) {
		printf("  %-14s %s\n", "gateway", err);
		problem(st, "the gateway's certificate could not be read");
	} else {
		expiry_line(st, "gateway", not_after, LEAF_MIN_LEFT_S);
	}
}

static void ct_problem(void *arg, const char *what)
{
	problem(arg, what);
}

static void dns_zone(struct tc_ctl *ctl, struct status *st)
{
	char listen[300], addr[300], err[512];
	uint32_t serial;
	snprintf(listen, sizeof(listen), strchr(ctl->cfg.dns.listen_address, ':') ? "[%s]:%u" : "%s:%u",
		 ctl->cfg.dns.listen_address, ctl->cfg.dns.udp_port);
	tc_status_local_addr(listen, addr, sizeof(addr));
	if (tc_status_soa_serial(addr, ctl->cfg.bootstrap.domain, &serial, err, sizeof(err)) != 0) {
		printf("%-14s %s\n", "DNS zone", err);
		problem(st, "no SOA from the resolver");
		return;
	}
	printf("%-14s %s serial %u (%s)\n", "DNS zone", ctl->cfg.bootstrap.domain, serial, addr);
}

int tc_ctl_cmd_status(struct tc_ctl *ctl, int argc, char **argv)
{
	if (argc > 1) {
		FILE *out = strcmp(argv[1], "help") == 0 ? stdout : stderr;
		fprintf(out, "usage: trustchainctl [--config FILE] status\n"
			     "  every child's health, CT tree size, tree head and checkpoint age (every shard of\n"
			     "  ct.logs with its window and state), certificate expiry\n"
			     "  (root, intermediate, DoQ, gateway), zone serial; exit 0 healthy, 1 problems\n");
		return out == stdout ? TC_CTL_OK : TC_CTL_USAGE;
	}
	struct status st = {.now = time(NULL)};
	children(ctl, &st);
	tc_status_ct(ctl, ct_problem, &st);
	certificates(ctl, &st);
	dns_zone(ctl, &st);
	char merr[256];
	if (ctl->cfg.server.metrics_listen[0] && strcmp(ctl->cfg.server.metrics_listen, "off") != 0 &&
	    tc_status_metrics_line(ctl->cfg.server.metrics_listen, merr, sizeof(merr)) != 0)
		printf("%-14s %s\n", "metrics", merr); /* figures only: not a problem of the CA */
	if (st.problems) {
		printf("%d problem(s)\n", st.problems);
		return TC_CTL_FAIL;
	}
	printf("healthy\n");
	return TC_CTL_OK;
}
