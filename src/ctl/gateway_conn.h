/* How issue, revoke and crl reach the gateway: target, trust anchor, and
 * the caller's credential (bearer token file or client certificate). */
#ifndef TC_CTL_GATEWAY_CONN_H
#define TC_CTL_GATEWAY_CONN_H

#include <getopt.h>
#include <stdio.h>

#include "ctl/ctl.h"
#include "trustchain/client.h"

struct tc_ctl_conn {
	const char *target;       /* --target, else gateway.listen (0.0.0.0 -> 127.0.0.1) */
	const char *cafile;       /* --cafile, else <data_dir>/ca/root.pem */
	const char *token_file;   /* --token-file */
	const char *cert, *key;   /* --cert/--key */
	const char *server_name;  /* --server-name */
	int plaintext;            /* --plaintext */
};

/* The long options every gateway command accepts (values 0x100..0x1ff);
 * append to a command's own table. */
#define TC_CTL_CONN_OPTIONS                                         \
	{"target", required_argument, NULL, 0x100},                 \
	{"cafile", required_argument, NULL, 0x101},                 \
	{"token-file", required_argument, NULL, 0x102},             \
	{"cert", required_argument, NULL, 0x103},                   \
	{"key", required_argument, NULL, 0x104},                    \
	{"server-name", required_argument, NULL, 0x105},            \
	{"plaintext", no_argument, NULL, 0x106}

/* Takes option c (from getopt_long) when it is a connection option. */
int tc_ctl_conn_option(struct tc_ctl_conn *conn, int c, const char *arg);

/* Usage lines of the connection options. */
void tc_ctl_conn_usage(FILE *out);

/* Opens the client; NULL after printing why. */
struct tc_client *tc_ctl_conn_open(struct tc_ctl *ctl, const struct tc_ctl_conn *conn);

/* "CODE (reason): message" of a failed call, printed as an error. */
void tc_ctl_status_error(const char *what, const struct tc_status *st);

#endif
