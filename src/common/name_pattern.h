/* Name patterns of principals (gateway tokens and clients, ACME external
 * account bindings): "*" (any name), "*.suffix" (any name strictly under
 * suffix, wildcard names included), an exact DNS name (case-insensitive),
 * or an exact IP address (compared as addresses). */
#ifndef TC_COMMON_NAME_PATTERN_H
#define TC_COMMON_NAME_PATTERN_H

/* 1 when pattern covers name: a DNS name (possibly "*.x") or, with is_ip,
 * a textual IP address. */
int tc_name_pattern_match(const char *pattern, const char *name, int is_ip);

/* 1 when a textual IP address (v4 or v6) is valid. */
int tc_name_is_ip(const char *text);

#endif
