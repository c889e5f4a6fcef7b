/* The gRPC methods the gateway serves, by full path. */
#include "gateway/gateway.h"

const struct tc_rpc_method tc_gateway_methods[] = {
	{"/trustchain.v1.Health/Check", tc_gateway_health_check},
	{"/grpc.health.v1.Health/Check", tc_gateway_health_check},
	{"/trustchain.v1.CertificateAuthority/Issue", tc_gateway_issue},
	{"/trustchain.v1.CertificateAuthority/Revoke", tc_gateway_revoke},
	{"/trustchain.v1.CertificateAuthority/GetCrl", tc_gateway_get_crl},
	{"/trustchain.v1.CertificateAuthority/GetCACertificates", tc_gateway_get_ca_certificates},
	{"/trustchain.v1.Validation/Validate", tc_gateway_validate},
};
const size_t tc_gateway_method_count = sizeof(tc_gateway_methods) / sizeof(tc_gateway_methods[0]);
