/* JOSE as ACME uses it (src/acme/jws.c, jwk.c, b64url.c, nonce.c): real
 * keys from OpenSSL, signatures checked both ways, every refusal typed. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "acme/b64url.h"
#include "acme/jwk.h"
#include "acme/jws.h"
#include "acme/nonce.h"
#include "unit/cunit_main.h"
#include "unit/test_acme_support.h"

static const char *URL = "https://127.0.0.1:14000/acme/new-order";

/* Parses body as an outer JWS with its own jwk and verifies it with that
 * key (or with other when given). Returns 1 valid, 0 invalid, -1 refused
 * at parse with *type set. */
static int check(const char *body, EVP_PKEY *other, const char **type)
{
	struct tc_jws j;
	char why[256];
	*type = NULL;
	if (tc_jws_parse(body, strlen(body), TC_JWS_OUTER, &j, type, why, sizeof(why)) != 0)
		return -1;
	struct tc_jwk k;
	int ok = -1;
	if (other) {
		char *text = tc_jwk_from_key(other);
		CU_ASSERT_FATAL(text != NULL);
		CU_ASSERT_FATAL(tc_jwk_parse_text(text, &k, why, sizeof(why)) == 0);
		free(text);
	} else {
		CU_ASSERT_FATAL(j.jwk != NULL);
		CU_ASSERT_FATAL(tc_jwk_parse(j.jwk, &k, why, sizeof(why)) == 0);
	}
	ok = tc_jws_verify(&j, &k, why, sizeof(why));
	CU_ASSERT_STRING_EQUAL(j.url, URL);
	tc_jwk_free(&k);
	tc_jws_free(&j);
	return ok;
}

static void test_each_key_type(void)
{
	const char *kinds[] = {"P-256", "P-384", "RSA2048", "Ed25519"};
	for (size_t i = 0; i < 4; i++) {
		EVP_PKEY *key = tst_acme_key(kinds[i]), *other = tst_acme_key(kinds[i]);
		CU_ASSERT_FATAL(key && other);
		char *body = tst_acme_jws(key, NULL, NULL, URL, "abc", "{\"x\":1}", NULL);
		const char *type;
		CU_ASSERT_EQUAL(check(body, NULL, &type), 1);
		CU_ASSERT_EQUAL(check(body, other, &type), 0); /* the wrong key */
		free(body);
		/* POST-as-GET: empty payload. */
		body = tst_acme_jws(key, NULL, NULL, URL, "abc", "", NULL);
		CU_ASSERT_EQUAL(check(body, NULL, &type), 1);
		free(body);
		EVP_PKEY_free(key);
		EVP_PKEY_free(other);
	}
}

static void test_tampered_payload(void)
{
	EVP_PKEY *key = tst_acme_key("P-256");
	char *body = tst_acme_jws(key, NULL, NULL, URL, "abc", "{\"x\":1}", NULL);
	/* Re-sign nothing, swap the payload for {"x":2}. */
	json_t *o = json_loads(body, 0, NULL);
	char *p = tc_b64url_encode((const unsigned char *)"{\"x\":2}", 7);
	json_object_set_new(o, "payload", json_string(p));
	char *tampered = json_dumps(o, JSON_COMPACT);
	const char *type;
	CU_ASSERT_EQUAL(check(tampered, NULL, &type), 0);
	free(p);
	free(tampered);
	json_decref(o);
	free(body);
	EVP_PKEY_free(key);
}

static void test_refusals(void)
{
	EVP_PKEY *key = tst_acme_key("P-256");
	const char *type;
	char *body;
	/* alg none and HS256: badSignatureAlgorithm before any key is looked at. */
	body = tst_acme_jws(key, "none", NULL, URL, "abc", "{}", NULL);
	CU_ASSERT_EQUAL(check(body, NULL, &type), -1);
	CU_ASSERT_STRING_EQUAL(type, "badSignatureAlgorithm");
	free(body);
	body = tst_acme_jws(key, "HS256", NULL, URL, "abc", "{}", NULL);
	CU_ASSERT_EQUAL(check(body, NULL, &type), -1);
	CU_ASSERT_STRING_EQUAL(type, "badSignatureAlgorithm");
	free(body);
	/* An ES384 claim over a P-256 key parses but never verifies. */
	body = tst_acme_jws(key, "ES384", NULL, URL, "abc", "{}", NULL);
	CU_ASSERT_EQUAL(check(body, NULL, &type), 0);
	free(body);
	/* No nonce: badNonce. */
	body = tst_acme_jws(key, NULL, NULL, URL, NULL, "{}", NULL);
	CU_ASSERT_EQUAL(check(body, NULL, &type), -1);
	CU_ASSERT_STRING_EQUAL(type, "badNonce");
	free(body);
	/* Both jwk and kid. */
	body = tst_acme_jws(key, NULL, NULL, URL, "abc", "{}", "\"kid\":\"https://x/acme/acct/1\"");
	CU_ASSERT_EQUAL(check(body, NULL, &type), -1);
	CU_ASSERT_STRING_EQUAL(type, "malformed");
	free(body);
	/* Critical extensions are not understood. */
	body = tst_acme_jws(key, NULL, NULL, URL, "abc", "{}", "\"crit\":[\"exp\"],\"exp\":1");
	CU_ASSERT_EQUAL(check(body, NULL, &type), -1);
	free(body);
	/* A repeated header member. */
	body = tst_acme_jws(key, NULL, NULL, URL, "abc", "{}", "\"url\":\"https://evil/\"");
	CU_ASSERT_EQUAL(check(body, NULL, &type), -1);
	CU_ASSERT_STRING_EQUAL(type, "malformed");
	free(body);
	/* Unprotected header, general serialization, garbage. */
	const char *bad[] = {"{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"\",\"header\":{}}",
			     "{\"payload\":\"\",\"signatures\":[]}", "not json", "[]", "{\"protected\":1}",
			     "{\"protected\":\"e30=\",\"payload\":\"\",\"signature\":\"\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(check(bad[i], NULL, &type), -1);
		CU_ASSERT_STRING_EQUAL(type, "malformed");
	}
	EVP_PKEY_free(key);
}

static void test_inner_kinds(void)
{
	EVP_PKEY *key = tst_acme_key("P-256");
	struct tc_jws j;
	const char *type;
	char why[256];
	/* keyChange inner: jwk, no nonce. */
	char *inner = tst_acme_jws(key, NULL, NULL, URL, NULL, "{}", NULL);
	CU_ASSERT_EQUAL(tc_jws_parse(inner, strlen(inner), TC_JWS_KEYCHANGE, &j, &type, why, sizeof(why)), 0);
	tc_jws_free(&j);
	free(inner);
	inner = tst_acme_jws(key, NULL, NULL, URL, "n", "{}", NULL);
	CU_ASSERT_EQUAL(tc_jws_parse(inner, strlen(inner), TC_JWS_KEYCHANGE, &j, &type, why, sizeof(why)), -1);
	free(inner);
	/* EAB: HS256 only. */
	unsigned char mac[32] = {1, 2, 3};
	inner = tst_acme_jws_hs256(mac, sizeof(mac), "kid1", URL, "{}");
	CU_ASSERT_EQUAL(tc_jws_parse(inner, strlen(inner), TC_JWS_EAB, &j, &type, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(j.kid, "kid1");
	CU_ASSERT_EQUAL(j.alg, TC_JWS_HS256);
	tc_jws_free(&j);
	CU_ASSERT_EQUAL(tc_jws_parse(inner, strlen(inner), TC_JWS_OUTER, &j, &type, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(type, "badSignatureAlgorithm");
	free(inner);
	EVP_PKEY_free(key);
}

static void test_jwk(void)
{
	/* RFC 7638 section 3.1's example key and thumbprint. */
	const char *rfc =
		"{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
	struct tc_jwk k;
	char why[256];
	CU_ASSERT_FATAL(tc_jwk_parse_text(rfc, &k, why, sizeof(why)) == 0);
	CU_ASSERT_STRING_EQUAL(k.thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	char t2[TC_JWK_THUMB_LEN + 1];
	CU_ASSERT_EQUAL(tc_jwk_thumbprint_of_key(k.key, t2), 0);
	CU_ASSERT_STRING_EQUAL(t2, k.thumbprint);
	tc_jwk_free(&k);
	/* Private material, small RSA, a point off the curve, unknown kty. */
	EVP_PKEY *small = EVP_RSA_gen(1024);
	char *text = tc_jwk_from_key(small);
	CU_ASSERT_EQUAL(tc_jwk_parse_text(text, &k, why, sizeof(why)), -1);
	free(text);
	EVP_PKEY_free(small);
	const char *bad[] = {
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}",
		"{\"kty\":\"oct\",\"k\":\"AAAA\"}", "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}", "[]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(tc_jwk_parse_text(bad[i], &k, why, sizeof(why)), -1);
}

static void test_b64url(void)
{
	unsigned char *out;
	size_t n;
	CU_ASSERT_EQUAL(tc_b64url_decode("AA", 2, &out, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	free(out);
	CU_ASSERT_EQUAL(tc_b64url_decode("", 0, &out, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	free(out);
	const char *bad[] = {"AB", "AA==", "A", "A+", "A/", "A A"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(tc_b64url_decode(bad[i], strlen(bad[i]), &out, &n), -1);
	CU_ASSERT_EQUAL(tc_b64url_decode("AA\0A", 4, &out, &n), -1);
	char *e = tc_b64url_encode((const unsigned char *)"\xfb\xff", 2);
	CU_ASSERT_STRING_EQUAL(e, "-_8");
	free(e);
}

static void test_nonces(void)
{
	struct tc_nonces *ns = tc_nonces_new(64);
	CU_ASSERT_FATAL(ns != NULL);
	char a[TC_NONCE_TEXT], b[TC_NONCE_TEXT];
	CU_ASSERT_EQUAL(tc_nonce_issue(ns, a), 0);
	CU_ASSERT_EQUAL(tc_nonce_issue(ns, b), 0);
	CU_ASSERT(strcmp(a, b) != 0);
	CU_ASSERT_EQUAL(tc_nonce_redeem(ns, b, strlen(b)), 1);
	CU_ASSERT_EQUAL(tc_nonce_redeem(ns, b, strlen(b)), 0); /* replay */
	/* Flip one character: the MAC no longer matches. */
	char c[TC_NONCE_TEXT];
	memcpy(c, a, sizeof(c));
	c[5] = c[5] == 'A' ? 'B' : 'A';
	CU_ASSERT_EQUAL(tc_nonce_redeem(ns, c, strlen(c)), 0);
	CU_ASSERT_EQUAL(tc_nonce_redeem(ns, "short", 5), 0);
	/* Another instance (a restart) does not know our nonces. */
	struct tc_nonces *other = tc_nonces_new(64);
	CU_ASSERT_EQUAL(tc_nonce_redeem(other, a, strlen(a)), 0);
	tc_nonces_free(other);
	/* a slides out of the window after 64 more. */
	for (int i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(tc_nonce_issue(ns, c), 0);
	CU_ASSERT_EQUAL(tc_nonce_redeem(ns, a, strlen(a)), 0);
	CU_ASSERT_EQUAL(tc_nonce_redeem(ns, c, strlen(c)), 1);
	tc_nonces_free(ns);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"each key type, wrong key, POST-as-GET", test_each_key_type},
		{"tampered payload", test_tampered_payload},
		{"refusals and their types", test_refusals},
		{"keyChange and EAB inner JWS", test_inner_kinds},
		{"JWK parsing and RFC 7638 thumbprint", test_jwk},
		{"base64url strictness", test_b64url},
		{"nonces: single use, window, forgery", test_nonces},
		{NULL, NULL},
	};
	return tc_run_suite("acme_jws", tests, NULL, NULL);
}
