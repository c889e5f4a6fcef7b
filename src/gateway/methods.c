/* The gRPC methods the gateway serves, by full path, and the worker pool
 * each runs on (rpc.h: TC_RPC_BACKEND when it waits on the signer or the
 * CT log). */
#include "gateway/gateway.h"

const struct tc_rpc_method tc_gateway_methods[] = {
	{"/trustchain.v1.Health/Check", tc_gateway_health_check, TC_RPC_BACKEND},
	{"/grpc.health.v1.Health/Check", tc_gateway_health_check, TC_RPC_BACKEND},
	{"/trustchain.v1.CertificateAuthority/Issue", tc_gateway_issue, TC_RPC_BACKEND},
	{"/trustchain.v1.CertificateAuthority/Revoke", tc_gateway_revoke, TC_RPC_BACKEND},
	{"/trustchain.v1.CertificateAuthority/GetCrl", tc_gateway_get_crl, TC_RPC_BACKEND},
	{"/trustchain.v1.CertificateAuthority/GetCACertificates", tc_gateway_get_ca_certificates, TC_RPC_FAST},
	{"/trustchain.v1.Validation/Validate", tc_gateway_validate, TC_RPC_FAST},
	{"/trustchain.v1.Transparency/GetSth", tc_gateway_ct_get_sth, TC_RPC_BACKEND},
	{"/trustchain.v1.Transparency/GetSthConsistency", tc_gateway_ct_get_sth_consistency, TC_RPC_BACKEND},
	{"/trustchain.v1.Transparency/GetProofByHash", tc_gateway_ct_get_proof_by_hash, TC_RPC_BACKEND},
	{"/trustchain.v1.Transparency/GetEntries", tc_gateway_ct_get_entries, TC_RPC_BACKEND},
	{"/trustchain.v1.Transparency/GetRoots", tc_gateway_ct_get_roots, TC_RPC_BACKEND},
	{"/trustchain.v1.Transparency/GetEntryAndProof", tc_gateway_ct_get_entry_and_proof, TC_RPC_BACKEND},
	{"/trustchain.v1.Transparency/AddChain", tc_gateway_ct_add_chain, TC_RPC_BACKEND},
	{"/trustchain.v1.Transparency/AddPreChain", tc_gateway_ct_add_pre_chain, TC_RPC_BACKEND},
};
const size_t tc_gateway_method_count = sizeof(tc_gateway_methods) / sizeof(tc_gateway_methods[0]);
