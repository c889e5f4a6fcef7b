/* The RFC 6962 section 4 endpoints as JSON, independent of the HTTP server:
 * a request (method, path, query, body) in, a status and JSON body out. The
 * operations themselves are in ct_ops.c, shared with the internal IPC. */
#ifndef TC_TRANSPARENCY_CT_API_H
#define TC_TRANSPARENCY_CT_API_H

#include <stddef.h>

#include "transparency/ct_ops.h"

/* Looks up a query parameter; NULL when absent. */
typedef const char *(*tc_ct_query_fn)(void *ctx, const char *name);

struct tc_ct_reply {
	unsigned status;   /* HTTP status */
	char *body;        /* malloc'd JSON, or NULL when out of memory */
	const char *allow; /* the Allow header of a 405 */
};

/* Gets the reply (its body is the receiver's to free). */
typedef void (*tc_ct_reply_fn)(void *arg, struct tc_ct_reply *r);

/* Handles a request; fn(arg, ...) gets the reply exactly once: at once for
 * everything but a submission, whose reply comes when its entry is durable
 * and its SCT signed, on a sequencer or signer-link thread (fn must not
 * block). body is not needed after the return. */
void tc_ct_api_handle_async(struct tc_ct_api *api, const char *method, const char *path, tc_ct_query_fn query,
			    void *query_ctx, const char *body, size_t body_len, tc_ct_reply_fn fn, void *arg);

/* The same, waiting for the reply. path is the request path ("/ct/v1/get-sth"); body may be NULL for GET. */
void tc_ct_api_handle(struct tc_ct_api *api, const char *method, const char *path, tc_ct_query_fn query,
		      void *query_ctx, const char *body, size_t body_len, struct tc_ct_reply *out);

#endif
