#include "transparency/ct_json.h"

#include "common/base64.h"

#include <stdlib.h>
#include <string.h>

json_t *tc_b64_json(const unsigned char *data, size_t len)
{
	char *text = tc_base64_encode(data, len);
	json_t *s = text ? json_string(text) : NULL;
	free(text);
	return s;
}

int tc_parse_u64(const char *text, uint64_t *out)
{
	if (!text || !*text || (text[0] == '0' && text[1]) || strlen(text) > 20)
		return -1;
	uint64_t v = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

char *tc_json_take(json_t *obj)
{
	if (!obj)
		return NULL;
	char *s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return s;
}

char *tc_json_error(const char *msg)
{
	return tc_json_take(json_pack("{s:s, s:b}", "error_message", msg, "success", 0));
}
