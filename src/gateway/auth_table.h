/* The inside of struct tc_auth, shared by the file parser and the lookups. */
#ifndef TC_GATEWAY_AUTH_TABLE_H
#define TC_GATEWAY_AUTH_TABLE_H

#include "gateway/auth.h"

struct tc_auth_entry {
	unsigned char token_hash[32];  /* tokens: SHA-256 of the token */
	char identity[256];            /* clients: certificate identity */
	struct tc_auth_principal principal;
};

struct tc_auth {
	struct tc_auth_entry *tokens;
	size_t n_tokens, cap_tokens;
	struct tc_auth_entry *clients;
	size_t n_clients, cap_clients;
};

#endif
