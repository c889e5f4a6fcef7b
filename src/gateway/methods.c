/* The gRPC methods the gateway serves, by full path, and the worker pool
 * each runs on (rpc.h: TC_RPC_BACKEND when it waits on the signer or the
 * CT log). */
#include "gateway/gateway.h"
#include "trustchain/v1/ca.pb-c.h"
#include "trustchain/v1/health.pb-c.h"
#include "trustchain/v1/transparency.pb-c.h"
#include "trustchain/v1/validation.pb-c.h"

const struct tc_rpc_method tc_gateway_methods[] = {
	{"/trustchain.v1.Health/Check", tc_gateway_health_check, TC_RPC_BACKEND,
	 &trustchain__v1__health_check_request__descriptor, NULL},
	{"/grpc.health.v1.Health/Check", tc_gateway_health_check, TC_RPC_BACKEND,
	 &trustchain__v1__health_check_request__descriptor, NULL},
	/* Issue waits on the signer and the log without holding a thread:
	 * its checks and template run on the fast pool, and each answer of
	 * the signer or the log moves it on (common/ct_issue.h,
	 * tc_ct_issue_async). */
	{"/trustchain.v1.CertificateAuthority/Issue", tc_gateway_issue, TC_RPC_FAST,
	 &trustchain__v1__issue_request__descriptor, tc_gateway_issue_async},
	{"/trustchain.v1.CertificateAuthority/Revoke", tc_gateway_revoke, TC_RPC_BACKEND,
	 &trustchain__v1__revoke_request__descriptor, NULL},
	{"/trustchain.v1.CertificateAuthority/GetCrl", tc_gateway_get_crl, TC_RPC_BACKEND,
	 &trustchain__v1__get_crl_request__descriptor, NULL},
	{"/trustchain.v1.CertificateAuthority/GetCACertificates", tc_gateway_get_ca_certificates, TC_RPC_FAST,
	 &trustchain__v1__get_cacertificates_request__descriptor, NULL},
	{"/trustchain.v1.Validation/Validate", tc_gateway_validate, TC_RPC_FAST,
	 &trustchain__v1__validate_request__descriptor, NULL},
	{"/trustchain.v1.Transparency/GetSth", tc_gateway_ct_get_sth, TC_RPC_BACKEND,
	 &trustchain__v1__get_sth_request__descriptor, NULL},
	{"/trustchain.v1.Transparency/GetSthConsistency", tc_gateway_ct_get_sth_consistency, TC_RPC_BACKEND,
	 &trustchain__v1__get_sth_consistency_request__descriptor, NULL},
	{"/trustchain.v1.Transparency/GetProofByHash", tc_gateway_ct_get_proof_by_hash, TC_RPC_BACKEND,
	 &trustchain__v1__get_proof_by_hash_request__descriptor, NULL},
	{"/trustchain.v1.Transparency/GetEntries", tc_gateway_ct_get_entries, TC_RPC_BACKEND,
	 &trustchain__v1__get_entries_request__descriptor, NULL},
	{"/trustchain.v1.Transparency/GetRoots", tc_gateway_ct_get_roots, TC_RPC_BACKEND,
	 &trustchain__v1__get_roots_request__descriptor, NULL},
	{"/trustchain.v1.Transparency/GetEntryAndProof", tc_gateway_ct_get_entry_and_proof, TC_RPC_BACKEND,
	 &trustchain__v1__get_entry_and_proof_request__descriptor, NULL},
	{"/trustchain.v1.Transparency/AddChain", tc_gateway_ct_add_chain, TC_RPC_BACKEND,
	 &trustchain__v1__add_chain_request__descriptor, NULL},
	{"/trustchain.v1.Transparency/AddPreChain", tc_gateway_ct_add_pre_chain, TC_RPC_BACKEND,
	 &trustchain__v1__add_chain_request__descriptor, NULL},
};
const size_t tc_gateway_method_count = sizeof(tc_gateway_methods) / sizeof(tc_gateway_methods[0]);
