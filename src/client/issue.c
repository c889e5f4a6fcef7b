#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "trustchain/v1/ca.pb-c.h"

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

void tc_issue_result_free(struct tc_issue_result *r)
{
	if (!r)
		return;
	free(r->certificate_pem);
	free(r->chain_pem);
	free(r->root_pem);
	free(r->serial);
	for (size_t i = 0; i < r->n_scts; i++)
		free(r->scts[i].sct);
	free(r->scts);
	free(r);
}

static struct tc_issue_result *result_from(const Trustchain__V1__IssueResponse *resp)
{
	struct tc_issue_result *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->certificate_pem = dup_or_empty(resp->certificate_pem);
	r->chain_pem = dup_or_empty(resp->chain_pem);
	r->root_pem = dup_or_empty(resp->root_pem);
	r->serial = dup_or_empty(resp->serial);
	r->not_before = resp->not_before;
	r->not_after = resp->not_after;
	if (resp->n_scts && !(r->scts = calloc(resp->n_scts, sizeof(*r->scts)))) {
		tc_issue_result_free(r);
		return NULL;
	}
	for (size_t i = 0; i < resp->n_scts; i++) {
		const Trustchain__V1__SignedCertificateTimestamp *in = resp->scts[i];
		struct tc_sct *o = &r->scts[r->n_scts++];
		o->timestamp = in->timestamp;
		o->leaf_index_known = in->leaf_index_known;
		o->leaf_index = in->leaf_index;
		if (in->log_id.len == sizeof(o->log_id))
			memcpy(o->log_id, in->log_id.data, sizeof(o->log_id));
		if (in->leaf_hash.len == sizeof(o->leaf_hash))
			memcpy(o->leaf_hash, in->leaf_hash.data, sizeof(o->leaf_hash));
		if (!(o->sct = malloc(in->sct.len ? in->sct.len : 1))) {
			tc_issue_result_free(r);
			return NULL;
		}
		memcpy(o->sct, in->sct.data, in->sct.len);
		o->sct_len = in->sct.len;
	}
	r->certificate_logged = resp->certificate_logged;
	r->certificate_log_index_known = resp->certificate_log_index_known;
	r->certificate_log_index = resp->certificate_log_index;
	if (resp->certificate_leaf_hash.len == sizeof(r->certificate_leaf_hash))
		memcpy(r->certificate_leaf_hash, resp->certificate_leaf_hash.data, sizeof(r->certificate_leaf_hash));
	if (!r->certificate_pem || !r->chain_pem || !r->root_pem || !r->serial) {
		tc_issue_result_free(r);
		return NULL;
	}
	return r;
}

int tc_issue(struct tc_client *c, const struct tc_issue_request *rq,
	     struct tc_issue_result **out, struct tc_status *st)
{
	*out = NULL;
	Trustchain__V1__IssueRequest msg = TRUSTCHAIN__V1__ISSUE_REQUEST__INIT;
	msg.csr.data = (uint8_t *)rq->csr;
	msg.csr.len = rq->csr_len;
	/* protobuf-c wants char **; it only reads them while packing. */
	msg.dns_names = (char **)rq->dns_names;
	msg.n_dns_names = rq->n_dns;
	msg.ip_addresses = (char **)rq->ip_addresses;
	msg.n_ip_addresses = rq->n_ips;
	msg.profile = rq->profile ? (Trustchain__V1__Profile)rq->profile
				  : TRUSTCHAIN__V1__PROFILE__PROFILE_SERVER;
	msg.validity_seconds = rq->validity_seconds;
	msg.idempotency_key = (ProtobufCBinaryData){.data = (uint8_t *)rq->idempotency_key,
						   .len = rq->idempotency_key_len};

	unsigned char *buf;
	size_t len;
	if (tc_unary_call(c, "/trustchain.v1.CertificateAuthority/Issue", &msg.base, &buf, &len, st) != 0)
		return -1;
	Trustchain__V1__IssueResponse *resp = trustchain__v1__issue_response__unpack(NULL, len, buf);
	free(buf);
	if (!resp) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "malformed_response", "undecodable IssueResponse");
		return -1;
	}
	*out = result_from(resp);
	trustchain__v1__issue_response__free_unpacked(resp, NULL);
	if (!*out) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "client_error", "out of memory");
		return -1;
	}
	return 0;
}
