/* The static-ct-api / tlog-tiles resource names (C2SP): where each tile,
 * data tile, issuer and the checkpoint lives, relative to the monitoring
 * prefix (and to ct.tiles_dir, which is laid out exactly the same way).
 *
 *   checkpoint
 *   tile/<L>/<N>[.p/<W>]      hash tile of level L (0..63)
 *   tile/data/<N>[.p/<W>]     data tile (TileLeaf entries)
 *   issuer/<sha256 hex>       an issuer certificate (DER)
 *
 * <N> is written in groups of three digits, every group but the last
 * prefixed with "x" (1234067 -> x001/x234/067), so a file system holds the
 * tree without a directory growing past 1000 entries. <W> (1..255) is the
 * width of a partial tile; a full tile is 256 wide and has no suffix.
 *
 * The parser accepts only the canonical spelling of each name (no leading
 * zeros, no empty or extra groups), so each resource has exactly one path
 * and a path can never leave the tile tree. */
#ifndef TC_TRANSPARENCY_TILE_PATH_H
#define TC_TRANSPARENCY_TILE_PATH_H

#include <stddef.h>
#include <stdint.h>

#define TC_TILE_WIDTH 256
#define TC_TILE_HEIGHT 8      /* a tile spans 8 levels of the Merkle tree */
#define TC_TILE_MAX_LEVEL 63  /* tlog-tiles; static-ct-api logs need 0..5 */
#define TC_TILE_DATA_LEVEL -1 /* the level argument naming a data tile */
#define TC_TILE_PATH_MAX 96   /* "tile/data/" + 7 groups of "x000/" + ".p/255" */

enum tc_tile_kind {
	TC_TILE_KIND_CHECKPOINT = 1,
	TC_TILE_KIND_HASH,
	TC_TILE_KIND_DATA,
	TC_TILE_KIND_ISSUER,
};

struct tc_tile_ref {
	enum tc_tile_kind kind;
	int level;      /* hash tiles: 0..63; data tiles: TC_TILE_DATA_LEVEL */
	uint64_t index; /* tile index within its level */
	unsigned width; /* 1..255 for a partial tile, 256 for a full one */
	unsigned char fingerprint[32]; /* issuers */
};

/* Writes the path of tile (level, index, width) ("tile/0/x001/x234/067.p/5");
 * width 256 is a full tile. 0, or -1 when an argument is out of range or
 * cap is too small. */
int tc_tile_path(char *out, size_t cap, int level, uint64_t index, unsigned width);

/* Writes "issuer/<64 lowercase hex digits>". cap >= 72. */
int tc_tile_issuer_path(char *out, size_t cap, const unsigned char fingerprint[32]);

/* Parses a path relative to the prefix ("checkpoint", "tile/...",
 * "issuer/..."; no leading slash). 0, or -1 when it names no resource or
 * is not spelt canonically. */
int tc_tile_path_parse(const char *path, struct tc_tile_ref *out);

/* Width of the rightmost tile of level for a tree of size entries:
 * floor(size / 256^level) mod 256 (0: no partial tile at that level). */
unsigned tc_tile_partial_width(uint64_t size, int level);
/* Number of full tiles of level for a tree of size entries:
 * floor(size / 256^(level + 1)). */
uint64_t tc_tile_full_count(uint64_t size, int level);

#endif
