/* Builds the gateway's validator at start: the CA certificates it already
 * loaded, the CT log key from the data directory, and the signer's GetCrl
 * as the revocation source. */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct_shard_keys.h"
#include "common/log.h"
#include "gateway/gateway.h"
#include "gateway/validator.h"

#define CRL_TIMEOUT_MS 2000

static int fetch_crl(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err, size_t errlen)
{
	struct tc_gateway *gw = arg;
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetCrlRequest gc = TRUSTCHAIN__INTERNAL__GET_CRL_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL;
	/* The configured intermediate's CRL, the one the validator checks
	 * against, also after a rollover's cut-over made another current. */
	gc.issuer = (char *)gw->cfg->hsm.intermediate_key_label;
	req.get_crl = &gc;
	char terr[256];
	Trustchain__Internal__Response *resp = tc_child_signer_call(gw->child, &req, CRL_TIMEOUT_MS, terr, sizeof(terr));
	int rc = -1;
	if (!resp) {
		snprintf(err, errlen, "signer: %s", terr);
	} else if (resp->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK ||
		   resp->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_CRL) {
		snprintf(err, errlen, "signer refused GetCrl: %s", resp->error ? resp->error : "no reason");
	} else if (!(*der = malloc(resp->get_crl->crl.len ? resp->get_crl->crl.len : 1))) {
		snprintf(err, errlen, "out of memory");
	} else {
		memcpy(*der, resp->get_crl->crl.data, resp->get_crl->crl.len);
		*len = resp->get_crl->crl.len;
		*number = resp->get_crl->crl_number;
		rc = 0;
	}
	if (resp)
		trustchain__internal__response__free_unpacked(resp, NULL);
	return rc;
}

int tc_gateway_validation_start(struct tc_gateway *gw, char *err, size_t errlen)
{
	/* every CT log's key: the single log's and each shard's (ct.logs) */
	EVP_PKEY *log_keys[TC_CT_KEYS_MAX];
	size_t n_log_keys = tc_ct_keys_load(gw->cfg, log_keys);
	struct tc_validator_config vc = {
		.root_pem = gw->root_pem,
		.intermediate_pem = gw->chain_pem,
		.log_keys = log_keys,
		.n_log_keys = n_log_keys,
		.require_sct = gw->cfg->gateway.require_sct,
		.fetch_crl = fetch_crl,
		.fetch_arg = gw,
	};
	gw->validator = tc_validator_new(&vc, err, errlen);
	tc_ct_keys_free(log_keys, n_log_keys);
	return gw->validator ? 0 : -1;
}

void tc_gateway_validation_stop(struct tc_gateway *gw)
{
	tc_validator_free(gw->validator);
	gw->validator = NULL;
}
