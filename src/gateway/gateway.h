/* State shared by the gateway's RPC handlers. Read-only after start-up, so
 * handlers on any worker thread use it without locking (the signer link in
 * child does its own). */
#ifndef TC_GATEWAY_GATEWAY_H
#define TC_GATEWAY_GATEWAY_H

#include <stdatomic.h>

#include "common/child_runtime.h"
#include "gateway/rpc.h"

struct tc_ct_client;
struct tc_validator;

struct tc_gateway {
	struct tc_child *child;
	const struct tc_config *cfg;
	char *root_pem;          /* ca/root.pem */
	char *chain_pem;         /* ca/intermediate.pem */
	struct tc_ct_client *ct; /* the CT log (transparency process), ct_link.c */
	unsigned char *intermediate_der; /* chain_pem's first certificate, for add-pre-chain */
	size_t intermediate_der_len;
	struct tc_validator *validator; /* Validate's state (validator.h); locks for itself */
	struct tc_crl_http *crl_http;   /* plain HTTP CRL/CA listener (crl_http.h), NULL when off */
	atomic_uint_fast64_t crl_generation; /* bumped by each revocation: crl_http asks the signer afresh */
};

/* Reads the CA certificates from the data directory into gw. Returns 0, or
 * -1 with a reason in err. */
int tc_gateway_load_ca(struct tc_gateway *gw, char *err, size_t errlen);
void tc_gateway_free_ca(struct tc_gateway *gw);

/* Sets up the link to the CT log (connected on first use) from the data
 * directory; call after tc_gateway_load_ca. 0, or -1 with err set. */
int tc_gateway_ct_open(struct tc_gateway *gw, char *err, size_t errlen);
void tc_gateway_ct_close(struct tc_gateway *gw);
/* Sets up (after tc_gateway_load_ca) and frees gw->validator. */
int tc_gateway_validation_start(struct tc_gateway *gw, char *err, size_t errlen);
void tc_gateway_validation_stop(struct tc_gateway *gw);

/* A certificate was just revoked through this gateway: the next Validate
 * fetches the signer's CRL afresh, so revoke-then-validate is immediate. */
void tc_gateway_revocation_invalidate(struct tc_gateway *gw);

/* The method table served by the gateway. */
extern const struct tc_rpc_method tc_gateway_methods[];
extern const size_t tc_gateway_method_count;

/* Handlers (ctx is the struct tc_gateway). */
void tc_gateway_health_check(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);
void tc_gateway_issue(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);
/* Issue without a waiting thread (rpc.h, tc_rpc_async_handler). */
void tc_gateway_issue_async(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			    struct tc_rpc_pending *p);
void tc_gateway_revoke(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);
void tc_gateway_get_crl(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			struct tc_rpc_result *res);
void tc_gateway_get_ca_certificates(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);
void tc_gateway_validate(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);
/* The Transparency service (transparency.c). */
void tc_gateway_ct_get_sth(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);
void tc_gateway_ct_get_sth_consistency(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
	size_t len, struct tc_rpc_result *res);
void tc_gateway_ct_get_proof_by_hash(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
	size_t len, struct tc_rpc_result *res);
void tc_gateway_ct_get_entries(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);
void tc_gateway_ct_get_roots(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);
void tc_gateway_ct_get_entry_and_proof(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req,
	size_t len, struct tc_rpc_result *res);
void tc_gateway_ct_add_chain(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);
void tc_gateway_ct_add_pre_chain(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
	struct tc_rpc_result *res);

#endif
