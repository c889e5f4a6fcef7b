#include <errno.h>
#include <grpc/grpc_security.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "common/ipc_frame.h"
#include "trustchain/v1/health.pb-c.h"

#define MAX_PEM_FILE (1024 * 1024)

/* Reads a whole PEM file (bounded) into a NUL-terminated buffer. */
static char *read_pem_file(const char *what, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(MAX_PEM_FILE + 1);
	size_t n = buf ? fread(buf, 1, MAX_PEM_FILE + 1, f) : 0;
	int bad = !buf || ferror(f) || n > MAX_PEM_FILE || n == 0;
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "%s %s: %s", what, path, !buf ? "out of memory" : n == 0 ? "empty" : "unreadable or too large");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static void free_secret(char *s)
{
	if (!s)
		return;
	volatile char *p = s;
	while (*p)
		*p++ = '\0';
	free(s);
}

static grpc_channel_credentials *tls_credentials(const struct tc_client_options *o, char *err, size_t errlen)
{
	if (!o->cert_file != !o->key_file) {
		snprintf(err, errlen, "a client certificate needs its key and a key its certificate");
		return NULL;
	}
	char *roots = NULL, *chain = NULL, *key = NULL;
	grpc_channel_credentials *creds = NULL;
	if (o->root_ca_file && !(roots = read_pem_file("root CA file", o->root_ca_file, err, errlen)))
		goto out;
	if (o->cert_file && (!(chain = read_pem_file("certificate file", o->cert_file, err, errlen)) ||
			     !(key = read_pem_file("key file", o->key_file, err, errlen))))
		goto out;
	grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = chain};
	creds = grpc_ssl_credentials_create_ex(roots, chain ? &pair : NULL, NULL, NULL);
	if (!creds)
		snprintf(err, errlen, "cannot create TLS credentials");
out:
	free(roots);
	free(chain);
	free_secret(key);
	return creds;
}

struct tc_client *tc_client_open_opts(const char *target, const struct tc_client_options *o, char *err,
				      size_t errlen)
{
	static const struct tc_client_options defaults;
	if (!o)
		o = &defaults;
	if (!target || !*target) {
		snprintf(err, errlen, "no target given");
		return NULL;
	}
	if (o->bearer_token && (!*o->bearer_token || strpbrk(o->bearer_token, "\r\n"))) {
		snprintf(err, errlen, "the bearer token is empty or spans lines");
		return NULL;
	}
	if (o->plaintext && (o->root_ca_file || o->cert_file || o->key_file || o->server_name)) {
		snprintf(err, errlen, "TLS options given with plaintext");
		return NULL;
	}
	struct tc_client *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (o->bearer_token) {
		size_t n = strlen("Bearer ") + strlen(o->bearer_token) + 1;
		if (!(c->authorization = malloc(n))) {
			free(c);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		snprintf(c->authorization, n, "Bearer %s", o->bearer_token);
	}
	/* grpc_init/grpc_shutdown are reference counted, so several clients
	 * (and a server in the same process) can coexist. */
	grpc_init();
	grpc_channel_credentials *creds = o->plaintext ? grpc_insecure_credentials_create()
						       : tls_credentials(o, err, errlen);
	if (creds) {
		/* gRPC backs off up to 120 s between reconnections: a gateway
		 * that restarts in a second would stay unreachable that long for
		 * every caller (trustchain-acme waited ~20 s for its first
		 * certificate when it started before the gateway). */
		/* A CRL of many revocations is larger than gRPC's default 4 MiB
		 * receive limit (~85,000 entries); the signer answers up to
		 * TC_IPC_MAX_ANSWER_FRAME, and GetCrl passes that on. */
		grpc_arg arg[4] = {
		    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, .value.integer = 250},
		    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, .value.integer = 5000},
		    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
		     .value.integer = TC_IPC_MAX_ANSWER_FRAME},
		    {.type = GRPC_ARG_STRING, .key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
		     .value.string = (char *)o->server_name},
		};
		grpc_channel_args args = {.num_args = o->server_name ? 4 : 3, .args = arg};
		c->channel = grpc_channel_create(target, creds, &args);
		grpc_channel_credentials_release(creds);
		if (!c->channel)
			snprintf(err, errlen, "cannot create a channel to %s", target);
	}
	if (!c->channel) {
		free_secret(c->authorization);
		free(c);
		grpc_shutdown();
		return NULL;
	}
	c->timeout_ms = 30000;
	return c;
}

struct tc_client *tc_client_open(const char *target, char *err, size_t errlen)
{
	return tc_client_open_opts(target, NULL, err, errlen);
}

void tc_client_close(struct tc_client *c)
{
	if (!c)
		return;
	grpc_channel_destroy(c->channel);
	free_secret(c->authorization);
	free(c);
	grpc_shutdown();
}

void tc_client_set_timeout(struct tc_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
}

int tc_health_check(struct tc_client *c, const char *service, enum tc_health *out,
		    struct tc_status *st)
{
	Trustchain__V1__HealthCheckRequest rq = TRUSTCHAIN__V1__HEALTH_CHECK_REQUEST__INIT;
	rq.service = (char *)(service ? service : "");
	unsigned char *buf;
	size_t len;
	if (tc_unary_call(c, "/trustchain.v1.Health/Check", &rq.base, &buf, &len, st) != 0)
		return -1;
	Trustchain__V1__HealthCheckResponse *resp =
		trustchain__v1__health_check_response__unpack(NULL, len, buf);
	free(buf);
	if (!resp) {
		tc_status_set(st, GRPC_STATUS_INTERNAL, "malformed_response", "undecodable HealthCheckResponse");
		return -1;
	}
	*out = (enum tc_health)resp->status;
	trustchain__v1__health_check_response__free_unpacked(resp, NULL);
	return 0;
}
