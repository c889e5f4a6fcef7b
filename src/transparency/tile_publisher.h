/* Publishes the log as static-ct-api files under ct.tiles_dir, laid out
 * exactly as the URL paths (tile_path.h), so any static web server, CDN or
 * bucket sync serves the whole read path.
 *
 * After each sequencing batch the sequencer hands the newest signed tree
 * head to tc_tile_publisher_publish, which writes, for the growth since
 * the last published checkpoint: the new full hash tiles and data tiles,
 * the new partial ones, the issuers the new entries name, and then the
 * checkpoint. Every file is written to a temporary name, fsync'd and
 * renamed; the directories are fsync'd before the checkpoint is renamed
 * into place, so after a crash (kill -9, power loss) a checkpoint never
 * names a tile that is not on disk. A full tile or issuer that exists is
 * never rewritten (its content is fixed by the tree); only the checkpoint
 * is replaced, and partial tiles are added (each width once) and removed
 * once their full tile is published, which the spec allows.
 *
 * At open the published checkpoint says how far publication got; the next
 * publish writes whatever is missing from there (after a crash, or when
 * tiles were switched on for an existing log). A checkpoint whose root is
 * not the store's root at its size means tiles_dir holds another log:
 * publication refuses rather than mix two trees. */
#ifndef TC_TRANSPARENCY_TILE_PUBLISHER_H
#define TC_TRANSPARENCY_TILE_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include "transparency/ct_encode.h"
#include "transparency/ct_store.h"

struct tc_tile_publisher;

/* dir is created (0755) when missing; origin is the checkpoint origin (the
 * log's submission prefix without scheme and trailing slash). 0, or -1
 * with err. */
int tc_tile_publisher_open(const char *dir, const char *origin, const unsigned char log_id[TC_CT_LOG_ID_LEN],
			   struct tc_tile_publisher **out, char *err, size_t errlen);
void tc_tile_publisher_close(struct tc_tile_publisher *p);

/* Brings the files up to sth (a tree head stored in st): a no-op when its
 * checkpoint is already published. 0, or -1 with err (nothing published
 * that a checkpoint names is left incomplete; the next call retries). */
int tc_tile_publisher_publish(struct tc_tile_publisher *p, struct tc_ct_store *st, const struct tc_ct_sth *sth,
			      char *err, size_t errlen);

/* Tree size of the checkpoint on disk (0 when none). */
uint64_t tc_tile_publisher_size(const struct tc_tile_publisher *p);

/* Figures since open, for the bench and logs. */
struct tc_tile_publisher_stats {
	uint64_t files_written, bytes_written, checkpoints;
};
void tc_tile_publisher_stats(const struct tc_tile_publisher *p, struct tc_tile_publisher_stats *out);

#endif
