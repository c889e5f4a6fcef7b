#include "transparency/log_signer.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/child_runtime.h"

typedef Trustchain__Internal__Request Request;
typedef Trustchain__Internal__Response Response;

#define SIGNER_TIMEOUT_MS 10000

/* Turns a missing or refused answer into err; NULL means the call failed. */
static Response *checked(Response *r, char *err, size_t errlen)
{
	if (!r)
		return NULL;
	if (r->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK) {
		snprintf(err, errlen, "signer refused (status %d): %s", (int)r->status,
			 r->error ? r->error : "no reason");
		trustchain__internal__response__free_unpacked(r, NULL);
		return NULL;
	}
	return r;
}

int tc_log_signer_init(struct tc_log_signer *s, struct tc_child *child, char *err, size_t errlen)
{
	return tc_log_signer_init_shard(s, child, "", err, errlen);
}

int tc_log_signer_init_shard(struct tc_log_signer *s, struct tc_child *child, const char *ct_log, char *err,
			     size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->child = child;
	if (strlen(ct_log) >= sizeof(s->ct_log)) {
		snprintf(err, errlen, "CT log name too long");
		return -1;
	}
	snprintf(s->ct_log, sizeof(s->ct_log), "%s", ct_log);
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetPublicInfoRequest gp = TRUSTCHAIN__INTERNAL__GET_PUBLIC_INFO_REQUEST__INIT;
	gp.key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG;
	gp.ct_log = s->ct_log;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_PUBLIC_INFO;
	req.get_public_info = &gp;
	Response *r = checked(tc_child_signer_call(child, &req, SIGNER_TIMEOUT_MS, err, errlen), err, errlen);
	if (!r)
		return -1;
	int rc = -1;
	if (r->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_PUBLIC_INFO ||
	    r->get_public_info->public_key.len == 0) {
		snprintf(err, errlen, "signer sent no CT log public key");
	} else if (!(s->spki = malloc(r->get_public_info->public_key.len))) {
		snprintf(err, errlen, "out of memory");
	} else {
		s->spki_len = r->get_public_info->public_key.len;
		memcpy(s->spki, r->get_public_info->public_key.data, s->spki_len);
		SHA256(s->spki, s->spki_len, s->log_id);
		rc = 0;
	}
	trustchain__internal__response__free_unpacked(r, NULL);
	return rc;
}

void tc_log_signer_free(struct tc_log_signer *s)
{
	free(s->spki);
	s->spki = NULL;
}

/* Fills req/sd for a SignData with the log key over data. */
static void sign_request(struct tc_log_signer *s, const unsigned char *data, size_t len, Request *req,
			 Trustchain__Internal__SignDataRequest *sd)
{
	sd->key = TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG;
	sd->ct_log = s->ct_log;
	sd->data.data = (uint8_t *)data;
	sd->data.len = len;
	req->op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA;
	req->sign_data = sd;
}

/* The signature in a SignData answer, or NULL with err set. */
static const ProtobufCBinaryData *signature_of(const Response *r, size_t cap, char *err, size_t errlen)
{
	if (r->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_DATA ||
	    r->sign_data->signature.len == 0 || r->sign_data->signature.len > cap) {
		snprintf(err, errlen, "signer sent no usable signature");
		return NULL;
	}
	return &r->sign_data->signature;
}

struct async_sign {
	tc_log_signer_done_fn done;
	void *arg;
};

static void sign_answered(void *arg, ProtobufCMessage *msg, const char *why)
{
	struct async_sign *a = arg;
	char err[256];
	Response *r = msg ? checked((Response *)msg, err, sizeof(err)) : NULL;
	const ProtobufCBinaryData *sig = r ? signature_of(r, TC_LOG_SIGNER_MAX_SIG, err, sizeof(err)) : NULL;
	if (!msg)
		snprintf(err, sizeof(err), "%s", why ? why : "signer link closed");
	if (sig)
		a->done(a->arg, sig->data, sig->len, NULL);
	else
		a->done(a->arg, NULL, 0, err);
	if (r)
		trustchain__internal__response__free_unpacked(r, NULL);
	free(a);
}

int tc_log_signer_sign_async(struct tc_log_signer *s, const unsigned char *data, size_t len,
			     tc_log_signer_done_fn done, void *arg, char *err, size_t errlen)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sign_request(s, data, len, &req, &sd);
	struct async_sign *a = malloc(sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*a = (struct async_sign){.done = done, .arg = arg};
	if (tc_child_signer_call_async(s->child, &req, SIGNER_TIMEOUT_MS, sign_answered, a, err, errlen) != 0) {
		free(a);
		return -1;
	}
	return 0;
}

int tc_log_signer_sign(struct tc_log_signer *s, const unsigned char *data, size_t len, unsigned char *sig,
		       size_t cap, size_t *sig_len, char *err, size_t errlen)
{
	Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__SignDataRequest sd = TRUSTCHAIN__INTERNAL__SIGN_DATA_REQUEST__INIT;
	sign_request(s, data, len, &req, &sd);
	Response *r = checked(tc_child_signer_call(s->child, &req, SIGNER_TIMEOUT_MS, err, errlen), err, errlen);
	if (!r)
		return -1;
	int rc = -1;
	const ProtobufCBinaryData *got = signature_of(r, cap, err, errlen);
	if (got) {
		memcpy(sig, got->data, got->len);
		*sig_len = got->len;
		rc = 0;
	}
	trustchain__internal__response__free_unpacked(r, NULL);
	return rc;
}
