#include "transparency/tile_path.h"

#include <stdio.h>
#include <string.h>

#include "common/hex.h"

#define MAX_GROUPS 7 /* 2^64 has 20 decimal digits */

/* "x001/x234/067" for 1234067. */
static int put_index(char *out, size_t cap, uint64_t index)
{
	unsigned groups[MAX_GROUPS];
	int n = 0;
	do {
		groups[n++] = (unsigned)(index % 1000);
		index /= 1000;
	} while (index && n < MAX_GROUPS);
	size_t used = 0;
	for (int i = n - 1; i >= 0; i--) {
		int w = snprintf(out + used, cap - used, i ? "x%03u/" : "%03u", groups[i]);
		if (w < 0 || (size_t)w >= cap - used)
			return -1;
		used += (size_t)w;
	}
	return 0;
}

int tc_tile_path(char *out, size_t cap, int level, uint64_t index, unsigned width)
{
	if (level < TC_TILE_DATA_LEVEL || level > TC_TILE_MAX_LEVEL || width < 1 || width > TC_TILE_WIDTH)
		return -1;
	char idx[40];
	if (put_index(idx, sizeof(idx), index) != 0)
		return -1;
	char lvl[8];
	if (level == TC_TILE_DATA_LEVEL)
		snprintf(lvl, sizeof(lvl), "data");
	else
		snprintf(lvl, sizeof(lvl), "%d", level);
	int w = width == TC_TILE_WIDTH ? snprintf(out, cap, "tile/%s/%s", lvl, idx)
				       : snprintf(out, cap, "tile/%s/%s.p/%u", lvl, idx, width);
	return w >= 0 && (size_t)w < cap ? 0 : -1;
}

int tc_tile_issuer_path(char *out, size_t cap, const unsigned char fingerprint[32])
{
	if (cap < sizeof("issuer/") + 64)
		return -1;
	memcpy(out, "issuer/", 7);
	tc_hex_encode(fingerprint, 32, out + 7);
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A decimal number without leading zeros in [lo, hi], the whole of s[0..len). */
static int parse_small(const char *s, size_t len, unsigned lo, unsigned hi, unsigned *out)
{
	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static unsigned three_digits(const char *s)
{
	return (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
}

/* The index groups and optional ".p/<W>" that end a tile path. */
static int parse_index(const char *s, struct tc_tile_ref *out)
{
	uint64_t index = 0;
	for (int groups = 0;; groups++) {
		if (groups == MAX_GROUPS)
			return -1;
		int last = s[0] != 'x';
		const char *d = last ? s : s + 1;
		if (!is_digit(d[0]) || !is_digit(d[1]) || !is_digit(d[2]))
			return -1;
		unsigned g = three_digits(d);
		if (groups == 0 && !last && g == 0)
			return -1; /* "x000/..." is not how any index is written */
		if (index > (UINT64_MAX - g) / 1000)
			return -1;
		index = index * 1000 + g;
		s = d + 3;
		if (!last) {
			if (*s++ != '/')
				return -1;
			continue;
		}
		break;
	}
	out->index = index;
	out->width = TC_TILE_WIDTH;
	if (*s == 0)
		return 0;
	if (strncmp(s, ".p/", 3) != 0)
		return -1;
	return parse_small(s + 3, strlen(s + 3), 1, TC_TILE_WIDTH - 1, &out->width);
}

int tc_tile_path_parse(const char *path, struct tc_tile_ref *out)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(path, "checkpoint") == 0) {
		out->kind = TC_TILE_KIND_CHECKPOINT;
		return 0;
	}
	if (strncmp(path, "issuer/", 7) == 0) {
		const char *hex = path + 7;
		if (strlen(hex) != 64)
			return -1;
		for (int i = 0; i < 64; i++)
			if (!is_digit(hex[i]) && !(hex[i] >= 'a' && hex[i] <= 'f'))
				return -1; /* lowercase only: one name per issuer */
		out->kind = TC_TILE_KIND_ISSUER;
		return tc_hex_decode(hex, out->fingerprint, 32);
	}
	if (strncmp(path, "tile/", 5) != 0)
		return -1;
	const char *s = path + 5, *slash = strchr(s, '/');
	if (!slash)
		return -1;
	if (slash - s == 4 && strncmp(s, "data", 4) == 0) {
		out->kind = TC_TILE_KIND_DATA;
		out->level = TC_TILE_DATA_LEVEL;
	} else {
		unsigned level;
		if (parse_small(s, (size_t)(slash - s), 0, TC_TILE_MAX_LEVEL, &level) != 0)
			return -1;
		out->kind = TC_TILE_KIND_HASH;
		out->level = (int)level;
	}
	return parse_index(slash + 1, out);
}

/* 256^level entries under one hash of a level's tiles; 0 past 2^64. */
static uint64_t span(int level)
{
	if (level < 0)
		level = 0;
	return level >= 8 ? 0 : (uint64_t)1 << (TC_TILE_HEIGHT * level);
}

unsigned tc_tile_partial_width(uint64_t size, int level)
{
	uint64_t s = span(level);
	return s ? (unsigned)((size / s) % TC_TILE_WIDTH) : 0;
}

uint64_t tc_tile_full_count(uint64_t size, int level)
{
	uint64_t s = span(level);
	return s ? size / s / TC_TILE_WIDTH : 0;
}
