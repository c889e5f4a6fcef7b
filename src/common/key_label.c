#include "common/key_label.h"

#include <string.h>

int tc_key_label_ok(const char *l, size_t n)
{
	if (n == 0 || n > TC_KEY_LABEL_MAX || l[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = l[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			return 0;
	}
	return 1;
}
