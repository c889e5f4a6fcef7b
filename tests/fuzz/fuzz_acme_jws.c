/* Fuzz target: what trustchain-acme parses from untrusted clients before
 * any signature is checked. The first byte picks the parser:
 *   0: a request body as an outer JWS, then its jwk and payload
 *   1: the same as a keyChange inner JWS, 2: as an EAB binding
 *   3: base64url text   4: an EAB keys file   5: newOrder identifiers
 * and the properties each must keep are checked (abort on violation), not
 * only the absence of crashes: decoded base64url re-encodes to the same
 * text, a parsed JWS has the members its kind requires, a parsed JWK's
 * canonical form parses back to the same thumbprint, accepted identifiers
 * are canonical. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme.h"
#include "acme/b64url.h"
#include "acme/eab.h"
#include "acme/identifiers.h"
#include "acme/jwk.h"
#include "acme/jws.h"
#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_jwk(const json_t *obj)
{
	struct tc_jwk k, again;
	char why[256];
	if (tc_jwk_parse(obj, &k, why, sizeof(why)) != 0)
		return;
	if (strlen(k.thumbprint) != TC_JWK_THUMB_LEN || !k.key || !k.canonical)
		abort();
	if (tc_jwk_parse_text(k.canonical, &again, why, sizeof(why)) != 0 ||
	    strcmp(again.thumbprint, k.thumbprint) != 0)
		abort();
	tc_jwk_free(&again);
	tc_jwk_free(&k);
}

static void jws(const uint8_t *d, size_t n, enum tc_jws_kind kind)
{
	struct tc_jws j;
	const char *type;
	char why[256];
	if (tc_jws_parse((const char *)d, n, kind, &j, &type, why, sizeof(why)) != 0) {
		if (!type)
			abort();
		return;
	}
	if (!j.url || !j.signing_input || strlen(j.signing_input) != j.signing_input_len)
		abort();
	if (kind == TC_JWS_OUTER && (!j.nonce || !!j.jwk == !!j.kid))
		abort();
	if (kind == TC_JWS_KEYCHANGE && (!j.jwk || j.kid || j.nonce))
		abort();
	if (kind == TC_JWS_EAB && (!j.kid || j.jwk || j.nonce || j.alg != TC_JWS_HS256))
		abort();
	if (j.jwk) {
		check_jwk(j.jwk);
		struct tc_jwk k;
		if (tc_jwk_parse(j.jwk, &k, why, sizeof(why)) == 0) {
			tc_jws_verify(&j, &k, why, sizeof(why));
			tc_jwk_free(&k);
		}
	}
	json_decref(tc_jws_payload_json(&j));
	tc_jws_free(&j);
}

static void b64(const uint8_t *d, size_t n)
{
	unsigned char *out;
	size_t len;
	if (tc_b64url_decode((const char *)d, n, &out, &len) != 0)
		return;
	char *again = tc_b64url_encode(out, len);
	if (!again || strlen(again) != n || memcmp(again, d, n) != 0)
		abort();
	free(again);
	free(out);
}

static void eab_file(const uint8_t *d, size_t n)
{
	char *text = malloc(n + 1);
	if (!text)
		return;
	memcpy(text, d, n);
	text[n] = 0;
	static struct tc_eab_key keys[16];
	size_t count;
	char err[256];
	if (tc_acme_eab_parse(text, keys, 16, &count, err, sizeof(err)) == 0)
		for (size_t i = 0; i < count; i++)
			if (!keys[i].kid[0] || keys[i].mac_len < 32)
				abort();
	free(text);
}

static time_t fixed_now(void) { return 1800000000; }

static void identifiers(const uint8_t *d, size_t n)
{
	static struct tc_config cfg;
	static int init;
	if (!init) {
		tc_config_defaults(&cfg, true);
		init = 1;
	}
	struct tc_acme a = {.cfg = &cfg, .now = fixed_now};
	json_t *in = json_loadb((const char *)d, n, 0, NULL), *out = NULL;
	struct tc_acme_resp r = {0};
	if (in && tc_acme_check_identifiers(&a, NULL, in, &out, &r) == 0) {
		size_t i;
		json_t *id;
		json_array_foreach(out, i, id) {
			const char *v = json_string_value(json_object_get(id, "value"));
			for (const char *p = v; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					abort();
		}
	} else if (in && r.status == 0) {
		abort(); /* a refusal always carries a problem */
	}
	json_decref(out);
	json_decref(in);
	tc_acme_resp_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	switch (data[0] % 6) {
	case 0: jws(d, n, TC_JWS_OUTER); break;
	case 1: jws(d, n, TC_JWS_KEYCHANGE); break;
	case 2: jws(d, n, TC_JWS_EAB); break;
	case 3: b64(d, n); break;
	case 4: eab_file(d, n); break;
	default: identifiers(d, n); break;
	}
	return 0;
}
