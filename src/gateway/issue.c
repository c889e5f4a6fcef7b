/* CertificateAuthority.Issue: check the CSR and the requested names, build
 * the leaf template, have it signed with embedded SCTs (ct_embed.c), return
 * it with its chain and SCTs.
 * Everything here is re-checked by the signer; the gateway's job is to
 * refuse early with a precise reason and to never forward garbage. */
#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/asn1_time.h"
#include "common/cert_der.h"
#include "common/config_schema.h"
#include "common/der_pem.h"
#include "common/hex.h"
#include "common/leaf_template.h"
#include "gateway/auth.h"
#include "gateway/ca_rollover.h"
#include "gateway/csr.h"
#include "gateway/ct_embed.h"
#include "gateway/gateway.h"
#include "trustchain/v1/ca.pb-c.h"

#define MAX_NAMES 64
/* notBefore is set slightly in the past so a client with a clock a little
 * behind ours can use the certificate at once (the signer allows 1 h). */
#define BACKDATE_S 60

struct names {
	char *dns[MAX_NAMES];
	size_t n_dns;
	char *ips[MAX_NAMES];
	size_t n_ips;
};

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n_dns; i++)
		free(nm->dns[i]);
	for (size_t i = 0; i < nm->n_ips; i++)
		free(nm->ips[i]);
}

/* The request's names, or the CSR's requested subjectAltName when the
 * request lists none. */
static int collect_names(const Trustchain__V1__IssueRequest *rq, const struct tc_csr *csr, struct names *nm,
			 struct tc_rpc_result *res)
{
	if (rq->n_dns_names + rq->n_ip_addresses > MAX_NAMES)
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "too_many_names",
				   "at most %d names per certificate", MAX_NAMES);
	for (size_t i = 0; i < rq->n_dns_names; i++)
		if (!(nm->dns[nm->n_dns++] = strdup(rq->dns_names[i])))
			return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "out of memory");
	for (size_t i = 0; i < rq->n_ip_addresses; i++)
		if (!(nm->ips[nm->n_ips++] = strdup(rq->ip_addresses[i])))
			return tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "out of memory");
	int from_csr = nm->n_dns + nm->n_ips == 0
			       ? tc_csr_requested_names(&csr->view, nm->dns, &nm->n_dns, nm->ips, &nm->n_ips, MAX_NAMES)
			       : 0;
	if (from_csr == TC_CSR_NAME_INVALID)
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "name_invalid",
				   "the CSR's subjectAltName holds a dNSName with a NUL byte or over 253 bytes, or an "
				   "iPAddress of neither 4 nor 16 bytes");
	if (from_csr != 0)
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "too_many_names",
				   "the CSR's subjectAltName is undecodable or lists more than %d names", MAX_NAMES);
	if (nm->n_dns + nm->n_ips == 0)
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "no_names",
				   "no DNS name or IP address in the request or the CSR");
	if (nm->n_dns + nm->n_ips > MAX_NAMES)
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "too_many_names",
				   "at most %d names per certificate", MAX_NAMES);
	return 0;
}

/* Lower-cases DNS names, drops a final dot, and checks their syntax (a
 * leading "*." is left for the signer's wildcard policy). IPs must parse. */
static int check_names(struct names *nm, struct tc_rpc_result *res)
{
	for (size_t i = 0; i < nm->n_dns; i++) {
		char *n = nm->dns[i];
		size_t len = strlen(n);
		if (len > 1 && n[len - 1] == '.')
			n[--len] = '\0';
		for (size_t k = 0; k < len; k++)
			n[k] = (char)tolower((unsigned char)n[k]);
		const char *base = strncmp(n, "*.", 2) == 0 ? n + 2 : n;
		if (!tc_valid_dns_name(base) || base[strlen(base) - 1] == '.')
			return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "name_invalid",
					   "'%.253s' is not a valid DNS name", n);
	}
	for (size_t i = 0; i < nm->n_ips; i++) {
		unsigned char buf[16];
		if (inet_pton(AF_INET, nm->ips[i], buf) != 1 && inet_pton(AF_INET6, nm->ips[i], buf) != 1)
			return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "name_invalid",
					   "'%.64s' is not an IPv4 or IPv6 address", nm->ips[i]);
	}
	return 0;
}

/* An authenticated caller gets only the names its principal covers (an
 * anonymous one, where allowed at all, what the CA policy allows). */
static int authorize_names(const struct tc_rpc_caller *caller, const struct names *nm, struct tc_rpc_result *res)
{
	if (!caller->authenticated)
		return 0;
	for (size_t i = 0; i < nm->n_dns + nm->n_ips; i++) {
		int is_ip = i >= nm->n_dns;
		const char *n = is_ip ? nm->ips[i - nm->n_dns] : nm->dns[i];
		if (!tc_auth_name_allowed(caller->principal, n, is_ip))
			return tc_rpc_fail(res, GRPC_STATUS_PERMISSION_DENIED, "name_not_authorized",
					   "'%.253s' is outside the names %s may request", n, caller->identity);
	}
	return 0;
}

static int validity_window(const struct tc_config *cfg, uint32_t requested, time_t *nb, time_t *na,
			   struct tc_rpc_result *res)
{
	uint64_t max = (uint64_t)cfg->ca.cert_validity_hours * 3600u;
	if (requested > max)
		return tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "validity_exceeds_policy",
				   "validity of %u s exceeds the policy maximum of %llu s", requested,
				   (unsigned long long)max);
	*nb = time(NULL) - BACKDATE_S;
	*na = *nb + (time_t)(requested ? requested : max);
	return 0;
}

/* Packs the issued certificate, its chain and its SCTs into the response.
 * The validity is read from the certificate: one given back for an
 * idempotency key was signed from the first attempt's template, not this
 * call's. */
static void reply_issued(struct tc_gateway *gw, const struct tc_issued_cert *ic, struct tc_rpc_result *res)
{
	struct tc_cert_view view;
	char err[128];
	int64_t not_before, not_after;
	if (tc_cert_view_parse(ic->der, ic->der_len, &view, err, sizeof(err)) != 0 ||
	    tc_der_time_unix(&view.tbs.not_before, &not_before) != 0 ||
	    tc_der_time_unix(&view.tbs.not_after, &not_after) != 0) {
		tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "the signer's certificate is unreadable");
		return;
	}
	char *pem = tc_der_to_pem(PEM_STRING_X509, ic->der, ic->der_len);
	if (!pem) {
		tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "cannot encode the certificate");
		return;
	}
	char serial[2 * TC_SERIAL_MAX + 1];
	tc_hex_encode(ic->serial, ic->serial_len, serial);
	Trustchain__V1__SignedCertificateTimestamp sct = TRUSTCHAIN__V1__SIGNED_CERTIFICATE_TIMESTAMP__INIT;
	Trustchain__V1__SignedCertificateTimestamp *scts[1] = {&sct};
	sct.log_id = (ProtobufCBinaryData){.data = (uint8_t *)ic->precert.log_id, .len = sizeof(ic->precert.log_id)};
	sct.timestamp = ic->precert.timestamp;
	sct.sct = (ProtobufCBinaryData){.data = ic->precert.sct, .len = ic->precert.sct_len};
	sct.leaf_index_known = ic->precert.leaf_index_known;
	sct.leaf_index = ic->precert.leaf_index;
	sct.leaf_hash = (ProtobufCBinaryData){.data = (uint8_t *)ic->precert.leaf_hash,
					      .len = sizeof(ic->precert.leaf_hash)};
	Trustchain__V1__IssueResponse out = TRUSTCHAIN__V1__ISSUE_RESPONSE__INIT;
	out.certificate_pem = pem;
	out.chain_pem = (char *)tc_ca_rollover_chain_of(gw, ic->der, ic->der_len); /* its issuer's */
	out.root_pem = gw->root_pem;
	out.serial = serial;
	out.not_before = not_before;
	out.not_after = not_after;
	out.n_scts = 1;
	out.scts = scts;
	if (ic->final_logged) {
		out.certificate_logged = 1;
		out.certificate_log_index_known = ic->final.leaf_index_known;
		out.certificate_log_index = ic->final.leaf_index;
		out.certificate_leaf_hash = (ProtobufCBinaryData){.data = (uint8_t *)ic->final.leaf_hash,
								  .len = sizeof(ic->final.leaf_hash)};
	}
	tc_rpc_reply(res, &out.base);
	free(pem);
}

/* The leaf's SubjectPublicKeyInfo: an EC key's as the CSR encodes it
 * (tc_csr_parse accepted only the named-curve form, which is what
 * re-encoding would give); any other key re-encoded as before. */
static unsigned char *leaf_spki(const struct tc_csr *csr, size_t *len, int *copied)
{
	*copied = EVP_PKEY_is_a(csr->key, "EC");
	if (*copied) {
		*len = csr->view.spki.tlv_len;
		return (unsigned char *)csr->view.spki.tlv;
	}
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(csr->key, &der);
	*len = n > 0 ? (size_t)n : 0;
	return n > 0 ? der : NULL;
}

/* An issuance in flight without a thread (tc_gateway_issue_async): what the
 * answer needs once the certificate is signed and logged. */
struct issue_job {
	struct tc_gateway *gw;
	struct tc_rpc_pending *pending;
};

static void issued(void *arg, const struct tc_issued_cert *ic, const struct tc_ct_issue_error *e)
{
	struct issue_job *j = arg;
	struct tc_rpc_result res;
	memset(&res, 0, sizeof(res));
	if (ic)
		reply_issued(j->gw, ic, &res);
	else
		tc_gateway_issue_refusal(e, &res);
	tc_rpc_finish(j->pending, &res);
	free(j);
}

/* Signs the template and answers: at once in res, or, with pending, later
 * from the links' threads; returns 1 when the answer comes later. */
static int sign_and_reply(struct tc_gateway *gw, const struct tc_csr *csr, const struct tc_leaf_request *leaf,
			  const ProtobufCBinaryData *key, const char *identity, struct tc_rpc_result *res,
			  struct tc_rpc_pending *pending)
{
	char err[256];
	size_t spki_len, tbs_len = 0;
	int copied;
	unsigned char *spki = leaf_spki(csr, &spki_len, &copied);
	uint8_t *tbs = NULL;
	int rc = spki ? tc_leaf_tbs_der(leaf, spki, spki_len, &tbs, &tbs_len, err, sizeof(err)) : -1;
	if (!copied)
		OPENSSL_free(spki);
	if (rc != 0) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "policy_refused",
			    "cannot build a certificate from this request: %s", spki ? err : "encoding failed");
		return 0;
	}
	int later = 0;
	if (pending) {
		struct issue_job *j = malloc(sizeof(*j));
		if (!j)
			tc_rpc_fail(res, GRPC_STATUS_INTERNAL, "internal", "out of memory");
		else {
			*j = (struct issue_job){.gw = gw, .pending = pending};
			later = tc_gateway_issue_start(gw, tbs, tbs_len, key->data, key->len, identity, issued, j,
						       res) == 0;
			if (!later)
				free(j);
		}
		free(tbs);
		return later;
	}
	struct tc_issued_cert ic;
	if (tc_gateway_issue_with_scts(gw, tbs, tbs_len, key->data, key->len, identity, &ic, res) == 0) {
		reply_issued(gw, &ic, res);
		tc_issued_cert_free(&ic);
	}
	free(tbs);
	return 0;
}

static int issue(struct tc_gateway *gw, const struct tc_rpc_caller *caller, const Trustchain__V1__IssueRequest *rq,
		 struct tc_rpc_result *res, struct tc_rpc_pending *pending)
{
	char why[256];
	struct tc_csr csr;
	enum tc_csr_error ce = tc_csr_parse(rq->csr.data, rq->csr.len, gw->cfg->ca.min_rsa_bits, &csr, why,
					    sizeof(why));
	if (ce != TC_CSR_OK) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, tc_csr_error_reason(ce), "%s", why);
		return 0;
	}
	int later = 0;
	struct names nm;
	memset(&nm, 0, sizeof(nm));
	struct tc_leaf_request leaf;
	memset(&leaf, 0, sizeof(leaf));
	if (collect_names(rq, &csr, &nm, res) == 0 && check_names(&nm, res) == 0 &&
	    authorize_names(caller, &nm, res) == 0 &&
	    validity_window(gw->cfg, rq->validity_seconds, &leaf.not_before, &leaf.not_after, res) == 0) {
		leaf.pubkey = csr.key;
		leaf.dns_names = (const char *const *)nm.dns;
		leaf.n_dns = nm.n_dns;
		leaf.ips = (const char *const *)nm.ips;
		leaf.n_ips = nm.n_ips;
		switch (rq->profile) {
		case TRUSTCHAIN__V1__PROFILE__PROFILE_UNSPECIFIED:
		case TRUSTCHAIN__V1__PROFILE__PROFILE_SERVER:
			leaf.server_auth = 1;
			break;
		case TRUSTCHAIN__V1__PROFILE__PROFILE_CLIENT:
			leaf.client_auth = 1;
			break;
		case TRUSTCHAIN__V1__PROFILE__PROFILE_SERVER_AND_CLIENT:
			leaf.server_auth = leaf.client_auth = 1;
			break;
		default:
			tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request", "unknown profile %d",
				    (int)rq->profile);
			break;
		}
		if (leaf.server_auth || leaf.client_auth)
			later = sign_and_reply(gw, &csr, &leaf, &rq->idempotency_key, caller->identity, res, pending);
	}
	names_free(&nm);
	tc_csr_free(&csr);
	return later;
}

/* Both forms: the checks, then the signature at once (pending NULL) or
 * later; returns 1 when the answer comes later. */
static int issue_call(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
		      struct tc_rpc_result *res, struct tc_rpc_pending *pending)
{
	struct tc_gateway *gw = ctx;
	/* Anonymous issuance only where the deployment opted out of
	 * authentication (dev mode's default); names are then bounded by the
	 * CA policy alone. */
	if (gw->cfg->gateway.require_auth && !caller->authenticated) {
		tc_rpc_fail(res, GRPC_STATUS_UNAUTHENTICATED, "authentication_required",
			    "Issue needs a bearer token or a client certificate listed by this gateway");
		return 0;
	}
	Trustchain__V1__IssueRequest *rq = trustchain__v1__issue_request__unpack(NULL, len, req);
	if (!rq) {
		tc_rpc_fail(res, GRPC_STATUS_INVALID_ARGUMENT, "malformed_request", "undecodable IssueRequest");
		return 0;
	}
	int later = issue(gw, caller, rq, res, pending);
	trustchain__v1__issue_request__free_unpacked(rq, NULL);
	return later;
}

void tc_gateway_issue(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
		      struct tc_rpc_result *res)
{
	issue_call(ctx, caller, req, len, res, NULL);
}

void tc_gateway_issue_async(void *ctx, const struct tc_rpc_caller *caller, const uint8_t *req, size_t len,
			    struct tc_rpc_pending *p)
{
	struct tc_rpc_result res;
	memset(&res, 0, sizeof(res));
	if (!issue_call(ctx, caller, req, len, &res, p))
		tc_rpc_finish(p, &res);
}
