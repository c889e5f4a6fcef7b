#include "common/utf8.h"

int tc_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t lead = s[i];
		if (lead < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		/* 0xc0, 0xc1 and 0xf5.. can only start overlong or out-of-range forms. */
		if (lead >= 0xc2 && lead <= 0xdf)
			len = 2, cp = lead & 0x1f, min = 0x80;
		else if (lead >= 0xe0 && lead <= 0xef)
			len = 3, cp = lead & 0x0f, min = 0x800;
		else if (lead >= 0xf0 && lead <= 0xf4)
			len = 4, cp = lead & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}
