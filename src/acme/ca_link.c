#include "acme/ca_link.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config_schema.h"
#include "common/file_read.h"
#include "common/proc_env.h"
#include "trustchain/client.h"

#define TOKEN_MAX 128

int tc_acme_read_token(char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[TOKEN_MAX + 2];
	ssize_t n = -1;
	int fd = tc_inherited_fd("GATEWAY_TOKEN");
	if (fd >= 0) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		close(fd);
	} else {
		const char *path = getenv("TC_ACME_GATEWAY_TOKEN_FILE");
		char *text = NULL;
		size_t len = 0;
		if (!path) {
			snprintf(err, errlen, "no gateway token (TC_FD_GATEWAY_TOKEN or TC_ACME_GATEWAY_TOKEN_FILE)");
			return -1;
		}
		if (tc_read_file(path, TOKEN_MAX + 1, &text, &len, err, errlen) != 0)
			return -1;
		memcpy(buf, text, len);
		n = (ssize_t)len;
		OPENSSL_cleanse(text, len);
		free(text);
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n <= 0 || n > TOKEN_MAX || (size_t)n >= outlen || memchr(buf, 0, (size_t)n)) {
		OPENSSL_cleanse(buf, sizeof(buf));
		snprintf(err, errlen, "gateway token unusable (empty, NUL or over %d bytes)", TOKEN_MAX);
		return -1;
	}
	memcpy(out, buf, (size_t)n);
	out[n] = 0;
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static int is_wildcard(const char *host)
{
	return !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "*") == 0;
}

struct tc_client *tc_acme_ca_open(const struct tc_config *cfg, const char *token, char *err, size_t errlen)
{
	char host[256], target[300], root[TC_CFG_STR + 32];
	uint16_t port = 0;
	if (tc_split_hostport(cfg->gateway.listen, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "gateway.listen %s is not host:port", cfg->gateway.listen);
		return NULL;
	}
	int v6 = strchr(host, ':') != NULL;
	if (is_wildcard(host))
		snprintf(host, sizeof(host), "%s", v6 ? "::1" : "127.0.0.1");
	snprintf(target, sizeof(target), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	/* The name checked in the gateway's certificate. */
	const char *server_name = host;
	const struct tc_string_list *names = &cfg->gateway.tls_names;
	int listed = names->count == 0; /* dev defaults: localhost and the loopback addresses */
	for (size_t i = 0; i < names->count; i++)
		listed |= strcmp(names->items[i], host) == 0;
	if (!listed)
		server_name = names->items[0];
	if (tc_config_data_path(cfg, "ca/root.pem", root, sizeof(root)) != 0) {
		snprintf(err, errlen, "data directory path too long");
		return NULL;
	}
	struct tc_client_options o = {
		.root_ca_file = cfg->gateway.tls ? root : NULL,
		.bearer_token = token,
		.server_name = cfg->gateway.tls ? server_name : NULL,
		.plaintext = !cfg->gateway.tls,
	};
	return tc_client_open_opts(target, &o, err, errlen);
}
