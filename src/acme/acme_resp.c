#include "acme/acme_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tc_acme_resp_free(struct tc_acme_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

int tc_acme_resp_text(struct tc_acme_resp *r, unsigned status, const char *content_type, const char *text,
		      size_t len)
{
	free(r->body);
	r->body = malloc(len + 1);
	r->body_len = 0;
	r->status = status;
	r->content_type = content_type;
	if (!r->body) {
		r->status = 500;
		r->content_type = NULL;
		return -1;
	}
	memcpy(r->body, text, len);
	r->body[len] = 0;
	r->body_len = len;
	return 0;
}

void tc_acme_resp_link(struct tc_acme_resp *r, const char *url, const char *rel)
{
	if (r->n_links < TC_ACME_MAX_LINKS)
		snprintf(r->links[r->n_links++], sizeof(r->links[0]), "<%s>;rel=\"%s\"", url, rel);
}
