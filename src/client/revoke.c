/* CertificateAuthority.Revoke and GetCrl. */
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "common/der_pem.h"
#include "trustchain/v1/ca.pb-c.h"

int tc_revoke(struct tc_client *c, const char *serial_hex, enum tc_revocation_reason reason,
	      int64_t *revocation_time, struct tc_status *st)
{
	Trustchain__V1__RevokeRequest msg = TRUSTCHAIN__V1__REVOKE_REQUEST__INIT;
	msg.serial = (char *)(serial_hex ? serial_hex : "");
	msg.reason = (Trustchain__V1__RevocationReason)reason;
	unsigned char *buf;
	size_t len;
	if (tc_unary_call(c, "/trustchain.v1.CertificateAuthority/Revoke", &msg.base, &buf, &len, st) != 0)
		return -1;
	Trustchain__V1__RevokeResponse *resp = trustchain__v1__revoke_response__unpack(NULL, len, buf);
	free(buf);
	if (!resp) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "malformed_response", "undecodable RevokeResponse");
		return -1;
	}
	if (revocation_time)
		*revocation_time = resp->revocation_time;
	trustchain__v1__revoke_response__free_unpacked(resp, NULL);
	return 0;
}

void tc_crl_free(struct tc_crl *crl)
{
	if (!crl)
		return;
	free(crl->der);
	free(crl->pem);
	free(crl);
}

int tc_get_crl(struct tc_client *c, struct tc_crl **out, struct tc_status *st)
{
	*out = NULL;
	Trustchain__V1__GetCrlRequest msg = TRUSTCHAIN__V1__GET_CRL_REQUEST__INIT;
	unsigned char *buf;
	size_t len;
	if (tc_unary_call(c, "/trustchain.v1.CertificateAuthority/GetCrl", &msg.base, &buf, &len, st) != 0)
		return -1;
	Trustchain__V1__GetCrlResponse *resp = trustchain__v1__get_crl_response__unpack(NULL, len, buf);
	free(buf);
	if (!resp) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "malformed_response", "undecodable GetCrlResponse");
		return -1;
	}
	struct tc_crl *crl = calloc(1, sizeof(*crl));
	if (crl) {
		crl->der = malloc(resp->crl_der.len ? resp->crl_der.len : 1);
		/* The gateway leaves the PEM out of a CRL over 1 MiB (ca.proto):
		 * made here instead, so that pem is always the CRL. */
		crl->pem = resp->crl_pem && resp->crl_pem[0] ? strdup(resp->crl_pem)
							     : tc_der_to_pem(PEM_STRING_X509_CRL, resp->crl_der.data, resp->crl_der.len);
		if (crl->der)
			memcpy(crl->der, resp->crl_der.data, resp->crl_der.len);
		crl->der_len = resp->crl_der.len;
		crl->crl_number = resp->crl_number;
		crl->this_update = resp->this_update;
		crl->next_update = resp->next_update;
	}
	trustchain__v1__get_crl_response__free_unpacked(resp, NULL);
	if (!crl || !crl->der || !crl->pem) {
		tc_crl_free(crl);
		tc_status_set(st, GRPC_STATUS_INTERNAL, "client_error", "out of memory");
		return -1;
	}
	*out = crl;
	return 0;
}
