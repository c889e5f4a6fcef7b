/* trustchainctl token new: makes a bearer token for the gateway. The token
 * goes to a new file only its owner reads; what the gateway keeps
 * (gateway.tokens_file) is the line printed on stdout, with the token's
 * SHA-256 instead of the token. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "common/hex.h"
#include "ctl/ctl.h"
#include "ctl/files.h"

#define TOKEN_BYTES 32

static void token_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl token new --name NAME --patterns P[,P...] [--revoke] --out FILE\n"
		     "  writes a new token to FILE (mode 0600, must not exist) and prints its\n"
		     "  gateway.tokens_file line; patterns: *, *.suffix, a DNS name or an IP\n");
}

int tc_ctl_cmd_token(struct tc_ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"patterns", required_argument, NULL, 'p'},
		{"revoke", no_argument, NULL, 'r'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		token_usage(stdout);
		return TC_CTL_OK;
	}
	if (argc < 2 || strcmp(argv[1], "new") != 0) {
		token_usage(stderr);
		return TC_CTL_USAGE;
	}
	const char *name = NULL, *patterns = NULL, *out = NULL;
	int revoke = 0, c;
	optind = 0; /* glibc: a full reset (main parsed with "+" before) */
	argc--, argv++; /* options follow "new" */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'p': patterns = optarg; break;
		case 'r': revoke = 1; break;
		case 'o': out = optarg; break;
		case 'h':
			token_usage(stdout);
			return TC_CTL_OK;
		default:
			token_usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	/* The gateway checks names and patterns when it loads the file; here
	 * only what would break the line's shape. */
	if (optind != argc || !name || !patterns || !out || strpbrk(name, " \t\n#") || strpbrk(patterns, " \t\n#")) {
		token_usage(stderr);
		return TC_CTL_USAGE;
	}
	unsigned char raw[TOKEN_BYTES], md[SHA256_DIGEST_LENGTH];
	char token[4 + 2 * TOKEN_BYTES + 2], hash[2 * SHA256_DIGEST_LENGTH + 1], err[512];
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		tc_ctl_error("no randomness");
		return TC_CTL_FAIL;
	}
	memcpy(token, "tct_", 4);
	tc_hex_encode(raw, sizeof(raw), token + 4);
	SHA256((const unsigned char *)token, strlen(token), md);
	tc_hex_encode(md, sizeof(md), hash);
	strcat(token, "\n");
	int rc = tc_ctl_write_new_file(out, token, strlen(token), 0600, err, sizeof(err));
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(token, sizeof(token));
	if (rc != 0) {
		tc_ctl_error("--out: %s", err);
		return TC_CTL_FAIL;
	}
	printf("%s %s %s%s\n", hash, name, patterns, revoke ? " revoke" : "");
	return TC_CTL_OK;
}
