#include "common/name_pattern.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

static int same_ip(const char *x, const char *y)
{
	unsigned char a[16], b[16];
	if (inet_pton(AF_INET, x, a) == 1)
		return inet_pton(AF_INET, y, b) == 1 && memcmp(a, b, 4) == 0;
	if (inet_pton(AF_INET6, x, a) == 1)
		return inet_pton(AF_INET6, y, b) == 1 && memcmp(a, b, 16) == 0;
	return 0;
}

int tc_name_is_ip(const char *text)
{
	unsigned char a[16];
	return inet_pton(AF_INET, text, a) == 1 || inet_pton(AF_INET6, text, a) == 1;
}

int tc_name_pattern_match(const char *pat, const char *name, int is_ip)
{
	if (strcmp(pat, "*") == 0)
		return 1;
	if (is_ip)
		return same_ip(name, pat);
	if (strncmp(pat, "*.", 2) == 0) {
		/* Strictly under the suffix: "*.svc.x" covers a.svc.x and *.svc.x
		 * (each name it matches is under svc.x), not svc.x. */
		const char *suffix = pat + 1;
		size_t n = strlen(name), s = strlen(suffix);
		return n > s && strcasecmp(name + n - s, suffix) == 0;
	}
	/* An IP pattern never covers a DNS name spelled like it. */
	return strcasecmp(name, pat) == 0 && !tc_name_is_ip(pat);
}
