/* Small helpers for the RFC 6962 section 4 JSON API: strict base64, query
 * integers and error bodies. */
#ifndef TC_TRANSPARENCY_CT_JSON_H
#define TC_TRANSPARENCY_CT_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Standard base64 with padding; a json string, or NULL when out of memory. */
json_t *tc_b64_json(const unsigned char *data, size_t len);


/* A non-negative decimal integer without sign, spaces or leading zeros
 * (other than "0"). 0, or -1 when text is NULL or not such a number. */
int tc_parse_u64(const char *text, uint64_t *out);

/* {"success": false, "error_message": msg} as a malloc'd string. */
char *tc_json_error(const char *msg);

/* json_dumps of obj (compact), consuming obj; NULL when out of memory. */
char *tc_json_take(json_t *obj);

#endif
