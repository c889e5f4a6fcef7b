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
	{"/trustchain.v1.Transparency/GetSth", tc_gateway_ct_get_sth},
	{"/trustchain.v1.Transparency/GetSthConsistency", tc_gateway_ct_get_sth_consistency},
	{"/trustchain.v1.Transparency/GetProofByHash", tc_gateway_ct_get_proof_by_hash},
	{"/trustchain.v1.Transparency/GetEntries", tc_gateway_ct_get_entries},
	{"/trustchain.v1.Transparency/GetRoots", tc_gateway_ct_get_roots},
	{"/trustchain.v1.Transparency/GetEntryAndProof", tc_gateway_ct_get_entry_and_proof},
	{"/trustchain.v1.Transparency/AddChain", tc_gateway_ct_add_chain},
	{"/trustchain.v1.Transparency/AddPreChain", tc_gateway_ct_add_pre_chain},
};
const size_t tc_gateway_method_count = sizeof(tc_gateway_methods) / sizeof(tc_gateway_methods[0]);
