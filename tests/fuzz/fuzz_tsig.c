/* TSIG parsing on arbitrary input: the key file parser, and the TSIG
 * record reader + MAC check of tc_tsig_verify on an arbitrary message
 * (against a fixed keyring, so the key lookup and HMAC paths run), then
 * the refusal answer built from whatever it found. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "resolver/tsig.h"
#include "resolver/tsig_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_tsig_keyring ring, parsed;
	static int ready;
	char err[256];
	if (!ready) {
		static const char keys[] =
			"key \"xfr-knot\" { algorithm hmac-sha256; secret \"CEyjM9jajM8IHMS8d+Zez6u7+7sdUl/E3VhglRaJJgw=\"; };"
			"key \"k\" { algorithm hmac-sha512; secret \"AAAA\"; };";
		if (tc_tsig_keys_parse(keys, sizeof(keys) - 1, &ring, err, sizeof(err)) != 0)
			__builtin_trap();
		ready = 1;
	}
	tc_tsig_keys_parse((const char *)data, size, &parsed, err, sizeof(err));

	struct tc_tsig_request req;
	enum tc_tsig_status st = tc_tsig_verify(data, size, &ring, 1796500000, &req);
	if (st == TC_TSIG_BAD || st == TC_TSIG_VALID) {
		if (req.unsigned_len > size || req.unsigned_len < 12)
			__builtin_trap();
		static uint8_t out[65535 + 1024];
		memcpy(out, data, req.unsigned_len);
		tc_dns_put16(out + 10, 0);
		tc_tsig_finish_refusal(out, req.unsigned_len, sizeof(out), &req, 1796500000);
	}
	return 0;
}
