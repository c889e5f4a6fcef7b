/* The gateway's principal files and name patterns without any process:
 * every malformed line is an error naming file and line, tokens are found
 * by their hash only, and patterns cover exactly what they say. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hex.h"
#include "gateway/auth.h"
#include "gateway/secret_file.h"
#include "unit/cunit_main.h"

static char err[512];

static void hash_hex(const char *token, char out[65])
{
	unsigned char md[32];
	SHA256((const unsigned char *)token, strlen(token), md);
	tc_hex_encode(md, 32, out);
}

static struct tc_auth *parse(int tokens, const char *text)
{
	struct tc_auth *a = tc_auth_new();
	err[0] = '\0';
	if (tc_auth_parse(a, tokens, "F", text, err, sizeof(err)) != 0) {
		tc_auth_free(a);
		return NULL;
	}
	return a;
}

static void expect_error(int tokens, const char *text, const char *needle)
{
	struct tc_auth *a = parse(tokens, text);
	CU_ASSERT_PTR_NULL(a);
	if (!strstr(err, needle))
		fprintf(stderr, "\n  expected '%s' in '%s'\n", needle, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
	tc_auth_free(a);
}

static void test_token_file_errors(void)
{
	char h[65], line[256];
	hash_hex("x", h);
	expect_error(1, "abc name *\n", "F:1: the first field must be the SHA-256");
	expect_error(1, "# only the token itself\n\ntc-plain-token name *\n", "F:3:");
	snprintf(line, sizeof(line), "%s name\n", h);
	expect_error(1, line, "F:1: expected SHA256-OF-TOKEN NAME PATTERNS");
	snprintf(line, sizeof(line), "%s name *.hypermesh.online admin\n", h);
	expect_error(1, line, "unknown right 'admin'");
	snprintf(line, sizeof(line), "%s name *.hypermesh.online revoke extra\n", h);
	expect_error(1, line, "too many fields");
	snprintf(line, sizeof(line), "%s name **.x.online\n", h);
	expect_error(1, line, "is not a name pattern");
	snprintf(line, sizeof(line), "%s name a.*.online\n", h);
	expect_error(1, line, "is not a name pattern");
	snprintf(line, sizeof(line), "%s name a..online\n", h);
	expect_error(1, line, "is not a name pattern");
	snprintf(line, sizeof(line), "%s name ,\n", h);
	expect_error(1, line, "no name pattern");
	snprintf(line, sizeof(line), "%s bad/name *\n", h);
	expect_error(1, line, "not a principal name");
	snprintf(line, sizeof(line), "%s one *\n%s two *\n", h, h);
	expect_error(1, line, "F:2: token listed twice");
	expect_error(0, "robot.x r *\nROBOT.X s *\n", "F:2: identity listed twice");
}

static void test_lookup(void)
{
	char h1[65], h2[65], text[512];
	hash_hex("tok-one", h1);
	hash_hex("tok-two", h2);
	snprintf(text, sizeof(text), "%s one *.svc.x.online,API.x.online,10.0.0.1,2001:db8::1 # c\n"
		 "   \t\n%s two * revoke\n", h1, h2);
	struct tc_auth *a = parse(1, text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(tc_auth_token_count(a), 2);
	struct tc_rpc_caller c;
	const char *v = "Bearer tok-one";
	CU_ASSERT_EQUAL(tc_auth_authenticate(a, v, strlen(v), NULL, 0, &c), TC_AUTH_AUTHENTICATED);
	CU_ASSERT_STRING_EQUAL(c.identity, "token:one");
	CU_ASSERT_FALSE(c.principal->can_revoke);
	const struct tc_auth_principal *one = c.principal;
	v = "bearer   tok-two";
	CU_ASSERT_EQUAL(tc_auth_authenticate(a, v, strlen(v), NULL, 0, &c), TC_AUTH_AUTHENTICATED);
	CU_ASSERT_TRUE(c.principal->can_revoke);
	/* Not a prefix, not another scheme, not with trailing junk, not empty. */
	const char *bad[] = {"Bearer tok-on", "Bearer tok-one ", "Basic tok-one", "tok-one", "Bearer ", "Bearer",
			     "Bearer tok\x01one"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(tc_auth_authenticate(a, bad[i], strlen(bad[i]), NULL, 0, &c), TC_AUTH_INVALID_TOKEN);
		CU_ASSERT_FALSE(c.authenticated);
		CU_ASSERT_PTR_NULL(c.principal);
	}
	/* No credential: anonymous. */
	CU_ASSERT_EQUAL(tc_auth_authenticate(a, NULL, 0, NULL, 0, &c), TC_AUTH_ANONYMOUS);
	CU_ASSERT_STRING_EQUAL(c.identity, "anonymous");

	CU_ASSERT_TRUE(tc_auth_name_allowed(one, "a.svc.x.online", 0));
	CU_ASSERT_TRUE(tc_auth_name_allowed(one, "b.a.svc.x.online", 0));
	CU_ASSERT_TRUE(tc_auth_name_allowed(one, "*.svc.x.online", 0));
	CU_ASSERT_TRUE(tc_auth_name_allowed(one, "api.x.online", 0));
	CU_ASSERT_FALSE(tc_auth_name_allowed(one, "svc.x.online", 0));
	CU_ASSERT_FALSE(tc_auth_name_allowed(one, "asvc.x.online", 0));
	CU_ASSERT_FALSE(tc_auth_name_allowed(one, "a.api.x.online", 0));
	CU_ASSERT_FALSE(tc_auth_name_allowed(one, "*.x.online", 0));
	CU_ASSERT_TRUE(tc_auth_name_allowed(one, "10.0.0.1", 1));
	CU_ASSERT_TRUE(tc_auth_name_allowed(one, "2001:DB8:0::1", 1));
	CU_ASSERT_FALSE(tc_auth_name_allowed(one, "10.0.0.2", 1));
	CU_ASSERT_FALSE(tc_auth_name_allowed(one, "10.0.0.1", 0));
	CU_ASSERT_FALSE(tc_auth_name_allowed(NULL, "a.svc.x.online", 0));
	tc_auth_free(a);
}

static void test_client_identities(void)
{
	struct tc_auth *a = parse(0, "robot.x.online robot *.robot.x.online revoke\nCN-Style-Name other api.x.online\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(tc_auth_client_count(a), 2);
	struct tc_rpc_caller c;
	const char *ids[] = {"unmapped.x.online", "Robot.X.Online"};
	CU_ASSERT_EQUAL(tc_auth_authenticate(a, NULL, 0, ids, 2, &c), TC_AUTH_AUTHENTICATED);
	CU_ASSERT_STRING_EQUAL(c.identity, "cert:robot");
	const char *none[] = {"unmapped.x.online"};
	CU_ASSERT_EQUAL(tc_auth_authenticate(a, NULL, 0, none, 1, &c), TC_AUTH_ANONYMOUS);
	/* A token where no token file exists is invalid, even with a mapped
	 * certificate: what is presented must be right. */
	const char *v = "Bearer whatever";
	CU_ASSERT_EQUAL(tc_auth_authenticate(a, v, strlen(v), ids, 2, &c), TC_AUTH_INVALID_TOKEN);
	tc_auth_free(a);
}

/* Principal files are refused unless private to us. */
static void test_file_modes(void)
{
	char dir[] = "/tmp/tc-test-authfile-XXXXXX";
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	char path[128], h[65];
	snprintf(path, sizeof(path), "%s/tokens", dir);
	hash_hex("t", h);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "%s n *\n", h);
	fclose(f);
	struct tc_config cfg;
	tc_config_defaults(&cfg, true);
	snprintf(cfg.gateway.tokens_file, sizeof(cfg.gateway.tokens_file), "%s", path);
	chmod(path, 0644);
	struct tc_auth *a = tc_auth_load(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mode 0600 or stricter"));
	chmod(path, 0600);
	a = tc_auth_load(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_EQUAL(tc_auth_token_count(a), 1);
	tc_auth_free(a);
	/* Identities without a CA to verify them are a configuration error. */
	snprintf(cfg.gateway.clients_file, sizeof(cfg.gateway.clients_file), "%s", path);
	CU_ASSERT_PTR_NULL(tc_auth_load(&cfg, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "gateway.client_ca_file"));
	/* A symlink is not followed. */
	char link[160];
	snprintf(link, sizeof(link), "%s/link", dir);
	CU_ASSERT_EQUAL(symlink(path, link), 0);
	char *data;
	size_t len;
	CU_ASSERT_EQUAL(tc_read_secret_file("k", link, 1024, &data, &len, err, sizeof(err)), -1);
	unlink(link);
	unlink(path);
	rmdir(dir);
}

/* Patterns and identities are whole names. A NUL anywhere refuses the
 * whole file ("*.a.x.online\0.evil.com" is never read as "*.a.x.online");
 * a control byte in a pattern or an identity refuses its line. */
static void test_nul_and_control_bytes(void)
{
	char dir[] = "/tmp/tc-test-authnul-XXXXXX";
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	char path[128], h[65], line[256];
	snprintf(path, sizeof(path), "%s/principals", dir);
	hash_hex("t", h);
	int n = snprintf(line, sizeof(line), "%s n *.a.x.online", h);
	memcpy(line + n, "\0.evil.com\n", 11);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(line, 1, (size_t)n + 11, f), (size_t)n + 11);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	struct tc_config cfg;
	tc_config_defaults(&cfg, true);
	snprintf(cfg.gateway.tokens_file, sizeof(cfg.gateway.tokens_file), "%s", path);
	CU_ASSERT_PTR_NULL(tc_auth_load(&cfg, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL"));
	/* The same line as a client identity's: refused as well. */
	cfg.gateway.tokens_file[0] = '\0';
	snprintf(cfg.gateway.clients_file, sizeof(cfg.gateway.clients_file), "%s", path);
	snprintf(cfg.gateway.client_ca_file, sizeof(cfg.gateway.client_ca_file), "%s", path);
	CU_ASSERT_PTR_NULL(tc_auth_load(&cfg, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL"));
	unlink(path);
	rmdir(dir);

	snprintf(line, sizeof(line), "%s n *.a\x01b.x.online\n", h);
	expect_error(1, line, "is not a name pattern");
	snprintf(line, sizeof(line), "%s n a.x.online\x0b\n", h);
	expect_error(1, line, "is not a name pattern");
	snprintf(line, sizeof(line), "%s n a.x.online,\x7f.x.online\n", h);
	expect_error(1, line, "is not a name pattern");
	expect_error(0, "robot\x1b.x.online r *\n", "identity with a control character");
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"token file: malformed lines name file and line", test_token_file_errors},
		{"tokens: found by hash, patterns match exactly", test_lookup},
		{"client identities: first mapped one, token decides", test_client_identities},
		{"files: private to us, no symlinks", test_file_modes},
		{"files: a NUL refuses the file, control bytes their line", test_nul_and_control_bytes},
		{NULL, NULL},
	};
	return tc_run_suite("gateway_auth_file", tests, NULL, NULL);
}
