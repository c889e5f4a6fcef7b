/* Data tiles (static-ct-api "Log entries"): a data tile is the
 * concatenation of one TileLeaf per entry of the matching level-0 tile:
 *
 *   struct {
 *     TimestampedEntry timestamped_entry;          (RFC 6962 3.4)
 *     select (entry_type) {
 *       case x509_entry: Empty;
 *       case precert_entry: ASN.1Cert pre_certificate;  (<1..2^24-1>)
 *     };
 *     Fingerprint certificate_chain<0..2^16-1>;    (SHA-256 of each issuer)
 *   } TileLeaf;
 *
 * The log writes them from its stored leaves (the MerkleTreeLeaf and the
 * get-entries extra_data); monitors read them back, strictly. */
#ifndef TC_TRANSPARENCY_TILE_LEAF_H
#define TC_TRANSPARENCY_TILE_LEAF_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "transparency/ct_encode.h"

#define TC_TILE_LEAF_MAX_CHAIN 2047 /* 2^16-1 bytes of 32-byte fingerprints */

/* A growable byte buffer. */
struct tc_tile_buf {
	unsigned char *data;
	size_t len, cap;
};
int tc_tile_buf_add(struct tc_tile_buf *b, const void *p, size_t n);
void tc_tile_buf_free(struct tc_tile_buf *b);

/* Called for each certificate of an entry's chain (DER and its SHA-256),
 * so the writer can publish it under issuer/; non-zero stops with an error. */
typedef int (*tc_tile_issuer_fn)(void *ctx, const unsigned char *der, size_t len, const unsigned char fp[32]);

/* Appends the TileLeaf of a stored entry: leaf_input is its MerkleTreeLeaf,
 * extra its extra_data (an x509 entry's certificate_chain, a precert's
 * PrecertChainEntry). issuer may be NULL. 0, or -1 when the stored entry is
 * malformed, issuer failed or memory ran out. */
int tc_tile_leaf_append(struct tc_tile_buf *b, const unsigned char *leaf_input, size_t leaf_len,
			const unsigned char *extra, size_t extra_len, tc_tile_issuer_fn issuer, void *ctx);

/* One TileLeaf read back from a data tile; pointers into the tile. */
struct tc_tile_leaf {
	struct tc_ct_entry entry;        /* the parsed timestamped_entry */
	const unsigned char *ts_entry;   /* its bytes */
	size_t ts_entry_len;
	const unsigned char *pre_cert;   /* precert entries only */
	size_t pre_cert_len;
	const unsigned char *chain;      /* n_chain fingerprints of 32 bytes */
	size_t n_chain;
};

/* Parses the TileLeaf at data[*pos..len) and advances *pos past it. 0, or
 * -1 when the bytes there are not one well-formed TileLeaf. */
int tc_tile_leaf_next(const unsigned char *data, size_t len, size_t *pos, struct tc_tile_leaf *out);

/* The RFC 6962 leaf hash of the entry: SHA-256(0x00 || MerkleTreeLeaf),
 * MerkleTreeLeaf = v1 || timestamped_entry || timestamped_entry bytes. */
int tc_tile_leaf_hash(const struct tc_tile_leaf *l, unsigned char out[TC_CT_HASH_LEN]);
/* The same with the caller's digest context (reused across leaves: no
 * allocation per leaf, which a monitor verifying 10^5 entries/s notices). */
int tc_tile_leaf_hash_ctx(EVP_MD_CTX *md, const struct tc_tile_leaf *l, unsigned char out[TC_CT_HASH_LEN]);

#endif
