/* What `trustchainctl ct monitor` remembers between runs: the log's
 * origin, the tree it has verified (its size and the O(log n) "frontier":
 * the roots of the perfect subtrees the tree splits into, enough to extend
 * it leaf by leaf and to compute its root) and the last checkpoint note it
 * accepted (shown next to a contradicting one as evidence of a split view).
 *
 * The file is text, written to a temporary name and renamed:
 *   trustchain-ct-monitor v1
 *   origin <origin>
 *   size <n>
 *   node <level> <base64 hash>     one per set bit of n, highest first
 *   note <base64 of the checkpoint note> */
#ifndef TC_CTL_MONITOR_STATE_H
#define TC_CTL_MONITOR_STATE_H

#include <stddef.h>
#include <stdint.h>

struct tc_monitor_state {
	char origin[256];
	uint64_t size;
	unsigned char frontier[64][32]; /* frontier[l]: the 2^l-leaf subtree, when bit l of size is set */
	char *note;                     /* malloc'd; NULL before the first checkpoint */
	size_t note_len;
};

/* 1 loaded, 0 no such file (state zeroed), -1 unreadable (err set). */
int tc_monitor_state_load(const char *path, struct tc_monitor_state *s, char *err, size_t errlen);
int tc_monitor_state_save(const char *path, const struct tc_monitor_state *s, char *err, size_t errlen);
void tc_monitor_state_free(struct tc_monitor_state *s);

/* Appends one leaf hash to the tree. */
void tc_monitor_tree_append(struct tc_monitor_state *s, const unsigned char leaf_hash[32]);
/* RFC 6962 MTH of the tree (the empty tree's root for size 0). */
void tc_monitor_tree_root(const struct tc_monitor_state *s, unsigned char root[32]);

#endif
