#include "ctl/gateway_conn.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <string.h>

#include "common/config_schema.h"
#include "common/file_read.h"

#define MAX_TOKEN_FILE 4096

int tc_ctl_conn_option(struct tc_ctl_conn *conn, int c, const char *arg)
{
	switch (c) {
	case 0x100: conn->target = arg; return 1;
	case 0x101: conn->cafile = arg; return 1;
	case 0x102: conn->token_file = arg; return 1;
	case 0x103: conn->cert = arg; return 1;
	case 0x104: conn->key = arg; return 1;
	case 0x105: conn->server_name = arg; return 1;
	case 0x106: conn->plaintext = 1; return 1;
	default: return 0;
	}
}

void tc_ctl_conn_usage(FILE *out)
{
	fprintf(out,
		"  --target HOST:PORT   the gateway (default: gateway.listen of the config)\n"
		"  --cafile FILE        root that verifies the gateway (default: <data_dir>/ca/root.pem)\n"
		"  --token-file FILE    bearer token (first line of FILE)\n"
		"  --cert FILE --key F  client certificate chain and key (mutual TLS)\n"
		"  --server-name NAME   name expected in the gateway's certificate\n"
		"  --plaintext          no TLS (only for gateway.tls: false)\n");
}

/* The first line of path, without its newline; wiped by the caller. */
static char *read_token(const char *path)
{
	char *data, err[512];
	size_t len;
	if (tc_read_file(path, MAX_TOKEN_FILE, &data, &len, err, sizeof(err)) != 0) {
		tc_ctl_error("--token-file: %s", err);
		return NULL;
	}
	data[strcspn(data, "\r\n")] = '\0';
	if (!data[0]) {
		tc_ctl_error("--token-file %s: empty", path);
		OPENSSL_cleanse(data, len);
		free(data);
		return NULL;
	}
	return data;
}

struct tc_client *tc_ctl_conn_open(struct tc_ctl *ctl, const struct tc_ctl_conn *conn)
{
	static char target[TC_CFG_STR + 16], cafile[PATH_MAX];
	const char *t = conn->target;
	if (!t) {
		char host[TC_CFG_STR];
		uint16_t port;
		if (tc_split_hostport(ctl->cfg.gateway.listen, host, sizeof(host), &port) != 0) {
			tc_ctl_error("gateway.listen '%s' is not host:port; give --target", ctl->cfg.gateway.listen);
			return NULL;
		}
		int any = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
		snprintf(target, sizeof(target), "%s:%u", any ? "127.0.0.1" : host, port);
		t = target;
	}
	struct tc_client_options o = {.root_ca_file = conn->cafile, .cert_file = conn->cert, .key_file = conn->key,
				      .server_name = conn->server_name, .plaintext = conn->plaintext};
	if (!o.root_ca_file && !o.plaintext) {
		if (tc_config_data_path(&ctl->cfg, "ca/root.pem", cafile, sizeof(cafile)) != 0) {
			tc_ctl_error("server.data_dir is too long");
			return NULL;
		}
		o.root_ca_file = cafile;
	}
	char *token = NULL;
	if (conn->token_file && !(token = read_token(conn->token_file)))
		return NULL;
	o.bearer_token = token;
	char err[512];
	struct tc_client *c = tc_client_open_opts(t, &o, err, sizeof(err));
	if (token) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	if (!c)
		tc_ctl_error("gateway %s: %s", t, err);
	return c;
}

void tc_ctl_status_error(const char *what, const struct tc_status *st)
{
	tc_ctl_error("%s: %s%s%s%s: %s", what, tc_status_code_name(st->code), st->reason[0] ? " (" : "", st->reason,
		     st->reason[0] ? ")" : "", st->message);
}
