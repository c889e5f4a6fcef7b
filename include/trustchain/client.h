/* libtrustchain: the C client of the TrustChain gRPC API
 * (the .proto files under api/trustchain/v1). Other languages generate stubs from the
 * .proto files instead.
 *
 * Every call returns 0 on success or -1 with *st describing the failure:
 * the gRPC status code, the server's message and its machine-readable
 * reason (trailing metadata `trustchain-reason`, see ca.proto). A client may
 * be used from several threads at once. */
#ifndef TRUSTCHAIN_CLIENT_H
#define TRUSTCHAIN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tc_client;

/* Outcome of a call. code is a gRPC status code (0 = OK, 3 =
 * INVALID_ARGUMENT, 7 = PERMISSION_DENIED, 8 = RESOURCE_EXHAUSTED,
 * 14 = UNAVAILABLE, ...). */
struct tc_status {
	int code;
	char message[512];
	char reason[64];   /* "" when the server gave none */
};

/* Name of a gRPC status code ("OK", "INVALID_ARGUMENT", ...). */
const char *tc_status_code_name(int code);

/* Opens a channel to target ("host:port"). Plaintext for now: TLS and
 * client credentials come with the gateway's TLS support. Connection
 * happens lazily on the first call. Returns NULL with a reason in err. */
struct tc_client *tc_client_open(const char *target, char *err, size_t errlen);
void tc_client_close(struct tc_client *c);

/* Per-call deadline in milliseconds (default 30000). */
void tc_client_set_timeout(struct tc_client *c, int timeout_ms);

enum tc_health {
	TC_HEALTH_UNKNOWN = 0,
	TC_HEALTH_SERVING = 1,
	TC_HEALTH_NOT_SERVING = 2,
	TC_HEALTH_SERVICE_UNKNOWN = 3,
};

/* Health.Check of service ("" for the whole gateway); *out gets the status. */
int tc_health_check(struct tc_client *c, const char *service, enum tc_health *out,
		    struct tc_status *st);

enum tc_profile {
	TC_PROFILE_SERVER = 1,            /* extKeyUsage serverAuth */
	TC_PROFILE_CLIENT = 2,            /* clientAuth */
	TC_PROFILE_SERVER_AND_CLIENT = 3, /* both */
};

struct tc_issue_request {
	const unsigned char *csr;      /* PKCS#10, PEM or DER */
	size_t csr_len;
	const char *const *dns_names;  /* may be NULL when n_dns is 0 */
	size_t n_dns;
	const char *const *ip_addresses;
	size_t n_ips;
	enum tc_profile profile;       /* 0 means TC_PROFILE_SERVER */
	uint32_t validity_seconds;     /* 0 = the CA's maximum */
};

/* An issued certificate; owned by the caller, free with tc_issue_result_free. */
struct tc_issue_result {
	char *certificate_pem;
	char *chain_pem;     /* intermediates, issuer of the leaf first */
	char *root_pem;
	char *serial;        /* lower-case hex */
	int64_t not_before;  /* unix seconds */
	int64_t not_after;
};

/* CertificateAuthority.Issue. On success *out is a new result. */
int tc_issue(struct tc_client *c, const struct tc_issue_request *rq,
	     struct tc_issue_result **out, struct tc_status *st);
void tc_issue_result_free(struct tc_issue_result *r);

#ifdef __cplusplus
}
#endif

#endif
