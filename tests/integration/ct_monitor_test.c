/* trustchainctl ct monitor against a plain static server: the real log
 * takes 1,500 submissions, its ct.tiles_dir is copied and served by
 * `/usr/bin/python3 -m http.server`, and the monitor must
 *   - rebuild the tree from the tiles and accept the checkpoint (the same
 *     tree head as get-sth), then resume from its state after 300 more;
 *   - refuse a tampered data tile, a truncated data tile and a checkpoint
 *     signed by another key, naming what is wrong;
 *   - report a split view (both notes) when the server goes back to an
 *     older tree than the one it verified;
 *   - accept a --from checkpoint the tiles are consistent with. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "common/http_client.h"
#include "support/ct_log_fixture.h"
#include "transparency/checkpoint.h"
#include "unit/cunit_main.h"

#define CERTS 1800
#define FIRST 1500

static const char *bindir;
static struct tc_ct_fixture f;
static unsigned char *certs[CERTS];
static size_t cert_lens[CERTS];
static char work[64];
static pid_t server_pid = -1;
static int server_port;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void stop_server(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = -1;
	}
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Serves work/<name> with python's http.server; returns once it answers. */
static int serve(const char *name)
{
	stop_server();
	char dir[128], port[16];
	snprintf(dir, sizeof(dir), "%s/%s", work, name);
	server_port = free_port();
	snprintf(port, sizeof(port), "%d", server_port);
	server_pid = fork();
	if (server_pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl("/usr/bin/python3", "python3", "-m", "http.server", port, "--bind", "127.0.0.1", "--directory", dir,
		      (char *)NULL);
		_exit(127);
	}
	char url[64], err[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", server_port);
	uint64_t end = now_ms() + 10000;
	while (now_ms() < end) {
		struct tc_http_client *c = NULL;
		struct tc_http_response r;
		if (tc_http_client_new(url, 2000, &c, err, sizeof(err)) == 0 &&
		    tc_http_request(c, "GET", "/checkpoint", NULL, 0, &r, err, sizeof(err)) == 0) {
			int ok = r.status == 200;
			tc_http_response_free(&r);
			tc_http_client_free(c);
			if (ok)
				return 0;
		} else {
			tc_http_client_free(c);
		}
		usleep(20000);
	}
	return -1;
}

/* Runs the monitor on the python server; its exit status, output in out. */
static int monitor(const char *state, const char *extra, char *out, size_t cap)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "'%s/trustchainctl' --config '%s' ct monitor --url http://127.0.0.1:%d --state '%s/%s' --once %s 2>&1",
		 bindir, f.h.config, server_port, work, state, extra ? extra : "");
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, cap - 1, p) : 0;
	out[n] = 0;
	int st = p ? pclose(p) : -1;
	printf("\n    $ ct monitor %s%s -> %d\n%s", state, extra ? extra : "", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	       out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void submit_all(int first, int last)
{
	char sig[200];
	struct tc_ct_entry e;
	for (int i = first; i < last; i++)
		CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_submit(&f, f.http, certs[i], cert_lens[i], &e, sig, sizeof(sig)), 0);
	struct tc_ct_head head;
	CU_ASSERT_EQUAL_FATAL(tc_ct_fixture_wait_sth(&f, (uint64_t)last, 20000, &head), 0);
	/* the checkpoint file follows the tree head */
	char cp_path[600];
	snprintf(cp_path, sizeof(cp_path), "%s", tc_harness_path(&f.h, "ct/tiles/checkpoint"));
	uint64_t end = now_ms() + 5000;
	int ok = 0;
	while (!ok && now_ms() < end) {
		FILE *fp = fopen(cp_path, "r");
		char buf[4096];
		size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
		if (fp)
			fclose(fp);
		buf[n] = 0;
		struct tc_checkpoint cp;
		char err[200];
		ok = tc_checkpoint_verify(buf, n, NULL, f.log_key, &cp, err, sizeof(err)) == 0 && cp.tree_size >= (uint64_t)last;
		if (!ok)
			usleep(10000);
	}
	CU_ASSERT_FATAL(ok);
}

/* copies the live tiles directory to work/name. The log prunes partial
 * tiles a newer checkpoint made obsolete while cp runs: those vanish
 * (cp says so and fails), and the copy's checkpoint needs none of them. */
static void snapshot(const char *name)
{
	CU_ASSERT_EQUAL_FATAL(sh("rm -rf '%s/%s' && { cp -a '%s' '%s/%s' 2>/dev/null; test -s '%s/%s/checkpoint'; }",
				 work, name, tc_harness_path(&f.h, "ct/tiles"), work, name, work, name), 0);
}

static int suite_init(void)
{
	strcpy(work, "/tmp/tc_ct_monitor_XXXXXX");
	if (!mkdtemp(work) || tc_ct_fixture_setup(&f, bindir, NULL) != 0)
		return 1;
	for (int i = 0; i < CERTS; i++)
		if (!(certs[i] = tc_ct_fixture_issue(&f, &cert_lens[i])))
			return 1;
	return tc_ct_fixture_start_log(&f) == 0 ? 0 : 1;
}

static int suite_cleanup(void)
{
	stop_server();
	for (int i = 0; i < CERTS; i++)
		free(certs[i]);
	tc_ct_fixture_cleanup(&f);
	sh("rm -rf '%s'", work);
	return 0;
}

static char out[1 << 16];

static void test_follows_and_resumes(void)
{
	submit_all(0, FIRST);
	snapshot("v1");
	CU_ASSERT_EQUAL_FATAL(serve("v1"), 0);
	CU_ASSERT_EQUAL(monitor("good.state", NULL, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "size 1500 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "1500 new entries verified"));
	/* and that tree is get-sth's */
	struct tc_ct_head head;
	CU_ASSERT_EQUAL(tc_ct_fixture_sth(&f, f.http, &head), 0);
	CU_ASSERT_EQUAL(head.size, FIRST);
	CU_ASSERT_EQUAL(sh("grep -q '^size 1500$' %s/good.state", work), 0);

	submit_all(FIRST, CERTS);
	snapshot("v2");
	CU_ASSERT_EQUAL_FATAL(serve("v2"), 0);
	CU_ASSERT_EQUAL(monitor("good.state", NULL, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "size 1800 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "300 new entries verified")); /* resumed, not from 0 */
	CU_ASSERT_EQUAL(monitor("good.state", NULL, out, sizeof(out)), 0); /* nothing new */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, " 0 new entries verified"));
}

static void test_tampered_tile(void)
{
	snapshot("tampered");
	/* one byte inside an entry of a full data tile */
	CU_ASSERT_EQUAL_FATAL(sh("printf 'X' | dd of=%s/tampered/tile/data/002 bs=1 seek=500 conv=notrunc 2>/dev/null",
				 work), 0);
	CU_ASSERT_EQUAL_FATAL(serve("tampered"), 0);
	CU_ASSERT_EQUAL(monitor("tampered.state", NULL, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "tile/data/002"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "tampered"));
}

static void test_truncated_tile(void)
{
	snapshot("truncated");
	CU_ASSERT_EQUAL_FATAL(sh("truncate -s 3000 %s/truncated/tile/data/001", work), 0);
	CU_ASSERT_EQUAL_FATAL(serve("truncated"), 0);
	CU_ASSERT_EQUAL(monitor("truncated.state", NULL, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "tile/data/001"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "truncated"));
	/* a truncated hash tile too */
	snapshot("truncated0");
	CU_ASSERT_EQUAL_FATAL(sh("truncate -s 8000 %s/truncated0/tile/0/003", work), 0);
	CU_ASSERT_EQUAL_FATAL(serve("truncated0"), 0);
	CU_ASSERT_EQUAL(monitor("truncated0.state", NULL, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "tile/0/003"));
}

static void test_checkpoint_of_another_key(void)
{
	snapshot("forged");
	char path[256];
	snprintf(path, sizeof(path), "%s/forged/checkpoint", work);
	FILE *fp = fopen(path, "r");
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	struct tc_checkpoint cp;
	char err[200];
	CU_ASSERT_EQUAL_FATAL(tc_checkpoint_verify(buf, n, NULL, f.log_key, &cp, err, sizeof(err)), 0);
	/* the same tree head, signed by another P-256 key under the log's name
	 * and the log's key ID */
	EVP_PKEY *other = EVP_EC_gen("P-256");
	unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN], sig[128], log_id[32];
	tc_ct_encode_sth_signature_input(cp.timestamp, cp.tree_size, cp.root, input);
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	CU_ASSERT_EQUAL_FATAL(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, other), 1);
	CU_ASSERT_EQUAL_FATAL(EVP_DigestSign(md, sig, &sig_len, input, sizeof(input)), 1);
	EVP_MD_CTX_free(md);
	CU_ASSERT_EQUAL_FATAL(tc_checkpoint_log_id(f.log_key, log_id), 0);
	char *note = NULL;
	size_t len = 0;
	CU_ASSERT_EQUAL_FATAL(
		tc_checkpoint_format(cp.origin, log_id, cp.tree_size, cp.timestamp, cp.root, sig, sig_len, &note, &len), 0);
	fp = fopen(path, "w");
	fwrite(note, 1, len, fp);
	fclose(fp);
	CU_ASSERT_EQUAL_FATAL(serve("forged"), 0);
	CU_ASSERT_EQUAL(monitor("forged.state", NULL, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "checkpoint refused"));
	/* and with the other key's own ID: no signature by the log at all */
	unsigned char other_id[32];
	tc_checkpoint_log_id(other, other_id);
	free(note);
	CU_ASSERT_EQUAL_FATAL(tc_checkpoint_format(cp.origin, other_id, cp.tree_size, cp.timestamp, cp.root, sig, sig_len,
						   &note, &len), 0);
	fp = fopen(path, "w");
	fwrite(note, 1, len, fp);
	fclose(fp);
	CU_ASSERT_EQUAL(monitor("forged.state", NULL, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "no signature by the log key"));
	free(note);
	EVP_PKEY_free(other);
}

static void test_split_view_and_from(void)
{
	/* good.state verified 1,800 entries; a server now showing 1,500 */
	CU_ASSERT_EQUAL_FATAL(serve("v1"), 0);
	CU_ASSERT_EQUAL(monitor("good.state", NULL, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "SPLIT VIEW"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n1800\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n1500\n"));
	/* a fresh monitor pinned to the 1,500 checkpoint follows the 1,800 tree */
	char from[200];
	snprintf(from, sizeof(from), "--from %s/v1/checkpoint", work);
	CU_ASSERT_EQUAL_FATAL(serve("v2"), 0);
	CU_ASSERT_EQUAL(monitor("from.state", from, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "size 1800 "));
	/* a --from that is not a checkpoint of this log: refused */
	snprintf(from, sizeof(from), "--from %s/forged/checkpoint", work);
	CU_ASSERT_EQUAL(monitor("from2.state", from, out, sizeof(out)), 1);
}

int main(int argc, char **argv)
{
	bindir = argc > 1 ? argv[1] : "bin";
	static const struct tc_test tests[] = {
		{"follows the log through python http.server, resumes", test_follows_and_resumes},
		{"tampered data tile detected", test_tampered_tile},
		{"truncated tiles detected", test_truncated_tile},
		{"checkpoint signed by another key refused", test_checkpoint_of_another_key},
		{"split view reported; --from honoured", test_split_view_and_from},
		{NULL, NULL},
	};
	int rc = tc_run_suite("ct_monitor", tests, suite_init, suite_cleanup);
	stop_server();
	return rc;
}
