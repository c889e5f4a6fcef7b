/* trustchainctl agent: keeps one certificate fresh. It issues a new key and
 * certificate over gRPC (token or mTLS, the connection options of issue)
 * when the current one is missing or at 2/3 of its life (with jitter),
 * publishes key (0600) and chain (0644) atomically, runs --reload, and
 * sleeps until the next renewal. A failed renewal is logged and retried
 * with exponential back-off (5 s doubling to 5 min); with --once, or after
 * --max-failures failures in a row, the exit status is 1. Each run is
 * logged as one line: "agent: renewed NAME serial S valid until T".
 * --metrics-file writes the state after every attempt in the Prometheus
 * text format, for node_exporter's textfile collector (atomically, 0644):
 * consecutive failures, the certificate's notAfter, the last success.
 * While waiting, the agent asks the gateway's Validate about the kept
 * certificate every --check-interval seconds (default 300): when the CA
 * says it is revoked (REVOKED), it is renewed at once instead of at 2/3. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/file_read.h"
#include "common/file_replace.h"
#include "ctl/agent.h"
#include "ctl/ctl.h"
#include "ctl/gateway_conn.h"
#include "trustchain/client.h"

#define MAX_NAMES 16
#define BACKOFF_MIN 5
#define BACKOFF_MAX 300

struct agent {
	const char *names[MAX_NAMES];
	size_t n_names;
	enum tc_profile profile;
	uint32_t validity;
	const char *cert_path, *key_path, *reload, *metrics;
	int once, max_failures, check_interval;
};

/* The --metrics-file; a failure to write it is logged, never fatal. */
static void write_metrics(const struct agent *a, int failures, int64_t not_after, int64_t last_ok)
{
	if (!a->metrics)
		return;
	char buf[1024], err[256];
	int n = snprintf(buf, sizeof(buf),
			 "# HELP trustchain_agent_renewal_failures Failed renewals in a row.\n"
			 "# TYPE trustchain_agent_renewal_failures gauge\n"
			 "trustchain_agent_renewal_failures %d\n"
			 "# HELP trustchain_agent_certificate_not_after_seconds notAfter of the kept certificate (0: none).\n"
			 "# TYPE trustchain_agent_certificate_not_after_seconds gauge\n"
			 "trustchain_agent_certificate_not_after_seconds %lld\n"
			 "# HELP trustchain_agent_last_renewal_timestamp_seconds Time of the last successful renewal (0: none yet).\n"
			 "# TYPE trustchain_agent_last_renewal_timestamp_seconds gauge\n"
			 "trustchain_agent_last_renewal_timestamp_seconds %lld\n",
			 failures, (long long)not_after, (long long)last_ok);
	if (n > 0 && (size_t)n < sizeof(buf) &&
	    tc_file_replace(a->metrics, buf, (size_t)n, 0644, err, sizeof(err)) != 0)
		fprintf(stderr, "agent: metrics: %s\n", err);
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s agent: ", ts);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static const char *utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
	return buf;
}

static double jitter(void)
{
	unsigned int r = 0;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	return (double)r / 4294967296.0;
}

/* A fresh P-256 key and a CSR for it (the names go in the request). */
static int new_key_csr(EVP_PKEY **key, unsigned char **csr, size_t *csr_len)
{
	*key = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	int n = *key && req && X509_REQ_set_pubkey(req, *key) && X509_REQ_sign(req, *key, EVP_sha256()) > 0
			? i2d_X509_REQ(req, csr)
			: -1;
	X509_REQ_free(req);
	*csr_len = n > 0 ? (size_t)n : 0;
	return n > 0 ? 0 : -1;
}

static int run_reload(const char *cmd)
{
	if (!cmd)
		return 0;
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		logline("reload command failed (status %d): %s", st, cmd);
		return -1;
	}
	return 0;
}

/* Issues and publishes; 0 with *not_after set, or -1 (logged). */
static int renew(struct agent *a, struct tc_client *client, int64_t *not_before, int64_t *not_after)
{
	EVP_PKEY *key = NULL;
	unsigned char *csr = NULL;
	size_t csr_len = 0;
	struct tc_issue_result *res = NULL;
	struct tc_status st;
	BIO *kb = NULL;
	char *chain = NULL, err[512];
	int rc = -1;
	if (new_key_csr(&key, &csr, &csr_len) != 0) {
		logline("cannot make a key and CSR");
		goto out;
	}
	struct tc_issue_request rq = {.csr = csr, .csr_len = csr_len, .dns_names = a->names, .n_dns = a->n_names,
				      .profile = a->profile, .validity_seconds = a->validity};
	if (tc_issue(client, &rq, &res, &st) != 0) {
		logline("renewal of %s failed: %s%s%s%s: %s", a->names[0], tc_status_code_name(st.code),
			st.reason[0] ? " (" : "", st.reason, st.reason[0] ? ")" : "", st.message);
		goto out;
	}
	char *data;
	long kn;
	kb = BIO_new(BIO_s_secmem());
	if (!kb || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    (kn = BIO_get_mem_data(kb, &data)) <= 0) {
		logline("cannot encode the new key");
		goto out;
	}
	size_t cl = strlen(res->certificate_pem), chl = res->chain_pem ? strlen(res->chain_pem) : 0;
	if (!(chain = malloc(cl + chl + 1))) {
		logline("out of memory");
		goto out;
	}
	memcpy(chain, res->certificate_pem, cl);
	memcpy(chain + cl, res->chain_pem ? res->chain_pem : "", chl + 1);
	/* Key first: a reload between the two renames then finds the old
	 * certificate with a key that does not match it and fails, rather than
	 * a new certificate served with an old key. The reload runs after both. */
	if (tc_file_replace(a->key_path, data, (size_t)kn, 0600, err, sizeof(err)) != 0 ||
	    tc_file_replace(a->cert_path, chain, cl + chl, 0644, err, sizeof(err)) != 0) {
		logline("cannot publish: %s", err);
		goto out;
	}
	*not_before = res->not_before;
	*not_after = res->not_after;
	char until[32];
	logline("renewed %s serial %s valid until %s", a->names[0], res->serial,
		utc(res->not_after, until, sizeof(until)));
	rc = run_reload(a->reload);
out:
	free(chain);
	BIO_free(kb);
	tc_issue_result_free(res);
	OPENSSL_free(csr);
	EVP_PKEY_free(key);
	return rc;
}

static void sleep_until(int64_t when)
{
	while (!stop && (int64_t)time(NULL) < when)
		sleep(1);
}

/* 1 when the gateway says the kept certificate is revoked; 0 otherwise
 * (trusted, or no answer: then the schedule stands). */
static int revoked_now(struct tc_ctl *ctl, const struct tc_ctl_conn *conn, const struct agent *a)
{
	char *pem = NULL;
	size_t len = 0;
	char err[256];
	if (tc_read_file(a->cert_path, 256 * 1024, &pem, &len, err, sizeof(err)) != 0)
		return 0;
	struct tc_client *client = tc_ctl_conn_open(ctl, conn);
	const unsigned char *chain[1] = {(const unsigned char *)pem};
	struct tc_validate_request rq = {.chain = chain, .chain_lens = &len, .n_chain = 1, .name = a->names[0],
					 .purpose = a->profile == TC_PROFILE_CLIENT ? TC_PURPOSE_CLIENT_AUTH
										    : TC_PURPOSE_SERVER_AUTH};
	struct tc_validate_result *res = NULL;
	struct tc_status st;
	int revoked = client && tc_validate(client, &rq, &res, &st) == 0 && tc_validate_result_has(res, TC_REASON_REVOKED);
	if (revoked)
		logline("%s is revoked (%s): renewing now", a->names[0], res->detail);
	tc_validate_result_free(res);
	tc_client_close(client);
	free(pem);
	return revoked;
}

/* Waits until due, asking every check_interval whether the CA revoked the
 * certificate meanwhile. */
static void wait_due(struct tc_ctl *ctl, const struct tc_ctl_conn *conn, const struct agent *a, int64_t due)
{
	while (!stop && (int64_t)time(NULL) < due) {
		int64_t next = (int64_t)time(NULL) + a->check_interval;
		sleep_until(next < due ? next : due);
		if (!stop && (int64_t)time(NULL) < due && revoked_now(ctl, conn, a))
			return;
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: trustchainctl agent --name NAME [--name ...] --cert FILE --key FILE\n"
		"         [--profile server|client|both] [--validity SECONDS] [--reload CMD]\n"
		"         [--once] [--max-failures N] [--metrics-file FILE] [--check-interval SECONDS]\n"
		"         [connection options]\n");
	tc_ctl_conn_usage(stderr);
	return TC_CTL_USAGE;
}

int tc_ctl_cmd_agent(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},     {"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},      {"profile", required_argument, NULL, 'p'},
		{"validity", required_argument, NULL, 'v'}, {"reload", required_argument, NULL, 'r'},
		{"once", no_argument, NULL, 'o'},           {"max-failures", required_argument, NULL, 'm'},
		{"metrics-file", required_argument, NULL, 'M'},
		{"check-interval", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},           TC_CTL_CONN_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	struct agent a = {.profile = TC_PROFILE_SERVER, .check_interval = 300};
	struct tc_ctl_conn conn = {0};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		/* --cert/--key of the connection are the agent's own files here;
		 * mTLS to the gateway uses the certificate being kept. */
		if (c != 0x103 && c != 0x104 && tc_ctl_conn_option(&conn, c, optarg))
			continue;
		switch (c) {
		case 'n':
			if (a.n_names == MAX_NAMES)
				return usage();
			a.names[a.n_names++] = optarg;
			break;
		case 'c': case 0x103: a.cert_path = optarg; break;
		case 'k': case 0x104: a.key_path = optarg; break;
		case 'p':
			a.profile = strcmp(optarg, "client") == 0 ? TC_PROFILE_CLIENT
				    : strcmp(optarg, "both") == 0 ? TC_PROFILE_SERVER_AND_CLIENT
								  : TC_PROFILE_SERVER;
			break;
		case 'v': a.validity = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'r': a.reload = optarg; break;
		case 'o': a.once = 1; break;
		case 'm': a.max_failures = atoi(optarg); break;
		case 'M': a.metrics = optarg; break;
		case 'C': a.check_interval = atoi(optarg); break;
		default: return usage();
		}
	}
	if (a.n_names == 0 || !a.cert_path || !a.key_path || a.check_interval <= 0)
		return usage();
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int failures = 0, backoff = BACKOFF_MIN;
	int64_t jitter_for = -1; /* the notAfter the jitter below was drawn for */
	int64_t last_ok = 0;
	double j = 0;
	while (!stop) {
		int64_t nb = 0, na = 0;
		int have = tc_agent_cert_window(a.cert_path, &nb, &na) == 0;
		if (have && na != jitter_for) { /* one draw per certificate */
			j = jitter();
			jitter_for = na;
		}
		int64_t due = have ? tc_agent_renew_at(nb, na, j) : 0;
		if (have && (int64_t)time(NULL) < due) {
			write_metrics(&a, failures, na, last_ok);
			if (a.once)
				return TC_CTL_OK;
			char t1[32], t2[32];
			logline("%s valid until %s; next renewal at %s", a.names[0], utc(na, t1, sizeof(t1)),
				utc(due, t2, sizeof(t2)));
			wait_due(ctl, &conn, &a, due);
			if (stop || (int64_t)time(NULL) >= due)
				continue;
			/* Revoked before it was due: renewed now. */
		}
		/* A client per attempt: the mTLS certificate may be the one just renewed. */
		if (!conn.cert && !conn.token_file && have) {
			conn.cert = a.cert_path;
			conn.key = a.key_path;
		}
		struct tc_client *client = tc_ctl_conn_open(ctl, &conn);
		int ok = client && renew(&a, client, &nb, &na) == 0;
		tc_client_close(client);
		if (ok) {
			failures = 0;
			backoff = BACKOFF_MIN;
			last_ok = (int64_t)time(NULL);
			write_metrics(&a, failures, na, last_ok);
			if (a.once)
				return TC_CTL_OK;
			continue;
		}
		failures++;
		write_metrics(&a, failures, have ? na : 0, last_ok);
		if (a.once || (a.max_failures > 0 && failures >= a.max_failures)) {
			logline("giving up after %d failed renewal(s)%s", failures,
				have && (int64_t)time(NULL) > na ? "; the certificate has EXPIRED" : "");
			return TC_CTL_FAIL;
		}
		logline("retrying in %d s (failure %d)%s", backoff, failures,
			have && (int64_t)time(NULL) > na ? "; the certificate has EXPIRED" : "");
		sleep_until((int64_t)time(NULL) + backoff);
		backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
	}
	return TC_CTL_OK;
}
