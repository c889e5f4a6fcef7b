/* Fuzz what a static-ct-api monitor parses from any web server: signed
 * notes and checkpoints, tile paths, data tiles. Each parser must reject
 * garbage without crashing, and what it accepts must be canonical: a
 * parsed note rewritten from its parts, and a tile path re-encoded from
 * its reference, give back exactly the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transparency/checkpoint.h"
#include "transparency/signed_note.h"
#include "transparency/tile_leaf.h"
#include "transparency/tile_path.h"

static void fail(const char *what)
{
	fprintf(stderr, "%s\n", what);
	abort();
}

static void note_round_trip(const uint8_t *data, size_t size)
{
	struct tc_note n;
	if (tc_note_parse((const char *)data, size, &n) == 0) {
		size_t len = n.text_len + 1;
		char *out = malloc(size + 1);
		memcpy(out, n.text, n.text_len);
		out[n.text_len] = '\n';
		for (size_t i = 0; i < n.n_sigs; i++) {
			char *line = tc_note_sig_line(n.sigs[i].name, n.sigs[i].key_id, n.sigs[i].sig, n.sigs[i].sig_len);
			if (!line || len + strlen(line) > size)
				fail("signature line does not re-encode");
			memcpy(out + len, line, strlen(line));
			len += strlen(line);
			free(line);
		}
		if (len != size || memcmp(out, data, size) != 0)
			fail("accepted note does not rewrite to itself");
		free(out);
		struct tc_checkpoint cp;
		(void)tc_checkpoint_parse_text(n.text, n.text_len, &cp);
	}
	tc_note_free(&n);
}

static void path_round_trip(const uint8_t *data, size_t size)
{
	char path[128];
	if (size >= sizeof(path))
		return;
	memcpy(path, data, size);
	path[size] = 0;
	struct tc_tile_ref ref;
	if (tc_tile_path_parse(path, &ref) != 0)
		return;
	char again[TC_TILE_PATH_MAX + 8];
	if (ref.kind == TC_TILE_KIND_HASH || ref.kind == TC_TILE_KIND_DATA) {
		if (tc_tile_path(again, sizeof(again), ref.level, ref.index, ref.width) != 0 || strcmp(again, path) != 0)
			fail("accepted tile path is not canonical");
	} else if (ref.kind == TC_TILE_KIND_ISSUER) {
		if (tc_tile_issuer_path(again, sizeof(again), ref.fingerprint) != 0 || strcmp(again, path) != 0)
			fail("accepted issuer path is not canonical");
	}
}

static void data_tile(const uint8_t *data, size_t size)
{
	size_t pos = 0;
	struct tc_tile_leaf l;
	while (pos < size && tc_tile_leaf_next(data, size, &pos, &l) == 0) {
		unsigned char h[32];
		if (tc_tile_leaf_hash(&l, h) != 0)
			fail("leaf hash failed");
		if (pos > size)
			fail("parser went past the tile");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	note_round_trip(data, size);
	path_round_trip(data, size);
	data_tile(data, size);
	return 0;
}
