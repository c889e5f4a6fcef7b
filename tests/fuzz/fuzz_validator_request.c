/* Fuzz target: the frames on the acme <-> validator link. Each input is
 * decoded as a request (what the validator does with trustchain-acme's
 * bytes) and as a response (what trustchain-acme does with the validator's,
 * the less trusted side). Whatever decodes must encode and decode again to
 * the same fields: the bounds hold both ways. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/validator_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[160];
	struct tc_vrequest req, again;
	if (tc_vrequest_decode(data, size, &req, why, sizeof(why)) == 0) {
		uint8_t *buf;
		size_t len;
		if (tc_vrequest_encode(&req, &buf, &len) != 0)
			abort();
		if (tc_vrequest_decode(buf, len, &again, why, sizeof(why)) != 0 || again.id != req.id ||
		    again.identifier_len != req.identifier_len ||
		    memcmp(again.identifier, req.identifier, req.identifier_len) != 0 ||
		    strcmp(again.key_authorization, req.key_authorization) != 0)
			abort();
		free(buf);
	}
	uint64_t id;
	struct tc_vresult res, res2;
	if (tc_vresponse_decode(data, size, &id, &res, why, sizeof(why)) == 0) {
		/* Everything handed to trustchain-acme is printable ASCII. */
		for (const char *p = res.detail; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				abort();
		uint8_t *buf;
		size_t len;
		uint64_t id2;
		if (tc_vresponse_encode(id, &res, &buf, &len) != 0)
			abort();
		if (tc_vresponse_decode(buf, len, &id2, &res2, why, sizeof(why)) != 0 || id2 != id ||
		    res2.valid != res.valid || strcmp(res2.detail, res.detail) != 0)
			abort();
		free(buf);
	}
	return 0;
}
