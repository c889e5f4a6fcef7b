#include "transparency/tile_leaf.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

int tc_tile_buf_add(struct tc_tile_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *d = realloc(b->data, cap);
		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void tc_tile_buf_free(struct tc_tile_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int get24(const unsigned char *p, size_t len, size_t pos, size_t *v)
{
	if (pos > len || len - pos < 3)
		return -1;
	*v = (size_t)p[pos] << 16 | (size_t)p[pos + 1] << 8 | p[pos + 2];
	return 0;
}

/* Appends the fingerprints of a certificate list <0..2^24-1> of
 * ASN.1Cert<1..2^24-1> filling extra[pos..len) exactly. */
static int add_chain(struct tc_tile_buf *b, const unsigned char *extra, size_t len, size_t pos,
		     tc_tile_issuer_fn issuer, void *ctx)
{
	size_t total;
	if (get24(extra, len, pos, &total) != 0 || total != len - pos - 3)
		return -1;
	pos += 3;
	size_t at = b->len, n = 0;
	static const unsigned char zero[2];
	if (tc_tile_buf_add(b, zero, 2) != 0) /* the length, patched below */
		return -1;
	while (pos < len) {
		size_t cl;
		unsigned char fp[32];
		if (get24(extra, len, pos, &cl) != 0 || cl == 0 || cl > len - pos - 3 || n == TC_TILE_LEAF_MAX_CHAIN)
			return -1;
		SHA256(extra + pos + 3, cl, fp);
		if ((issuer && issuer(ctx, extra + pos + 3, cl, fp) != 0) || tc_tile_buf_add(b, fp, 32) != 0)
			return -1;
		n++;
		pos += 3 + cl;
	}
	b->data[at] = (unsigned char)((n * 32) >> 8);
	b->data[at + 1] = (unsigned char)(n * 32);
	return 0;
}

int tc_tile_leaf_append(struct tc_tile_buf *b, const unsigned char *leaf_input, size_t leaf_len,
			const unsigned char *extra, size_t extra_len, tc_tile_issuer_fn issuer, void *ctx)
{
	struct tc_ct_entry e;
	if (tc_ct_parse_leaf(leaf_input, leaf_len, &e) != TC_CT_OK)
		return -1;
	size_t start = b->len;
	/* the TimestampedEntry is the MerkleTreeLeaf after version and leaf type */
	if (tc_tile_buf_add(b, leaf_input + 2, leaf_len - 2) != 0)
		return -1;
	size_t pos = 0;
	if (e.type == TC_CT_PRECERT_ENTRY) {
		size_t pl;
		if (get24(extra, extra_len, 0, &pl) != 0 || pl == 0 || pl > extra_len - 3 ||
		    tc_tile_buf_add(b, extra, 3 + pl) != 0)
			goto fail;
		pos = 3 + pl;
	}
	if (add_chain(b, extra, extra_len, pos, issuer, ctx) != 0)
		goto fail;
	return 0;
fail:
	b->len = start;
	return -1;
}

int tc_tile_leaf_next(const unsigned char *d, size_t len, size_t *pos, struct tc_tile_leaf *out)
{
	memset(out, 0, sizeof(*out));
	size_t p = *pos, n;
	/* TimestampedEntry: timestamp(8) entry_type(2) signed_entry extensions<0..2^16-1> */
	if (p > len || len - p < 10)
		return -1;
	size_t start = p;
	unsigned type = (unsigned)d[p + 8] << 8 | d[p + 9];
	p += 10;
	if (type == TC_CT_PRECERT_ENTRY) {
		if (len - p < 32)
			return -1;
		p += 32;
	} else if (type != TC_CT_X509_ENTRY) {
		return -1;
	}
	if (get24(d, len, p, &n) != 0 || n == 0 || n > len - p - 3)
		return -1;
	p += 3 + n;
	if (len - p < 2)
		return -1;
	n = (size_t)d[p] << 8 | d[p + 1];
	if (n > len - p - 2)
		return -1;
	p += 2 + n;
	out->ts_entry = d + start;
	out->ts_entry_len = p - start;
	/* the TimestampedEntry's fields, with the bounds tc_ct_parse_leaf
	 * puts on a MerkleTreeLeaf (read in place: no copy per entry) */
	struct tc_ct_entry *e = &out->entry;
	e->type = type == TC_CT_PRECERT_ENTRY ? TC_CT_PRECERT_ENTRY : TC_CT_X509_ENTRY;
	e->timestamp = 0;
	for (int i = 0; i < 8; i++)
		e->timestamp = (e->timestamp << 8) | d[start + i];
	size_t cert_at = start + 10 + (type == TC_CT_PRECERT_ENTRY ? 32 : 0);
	if (type == TC_CT_PRECERT_ENTRY)
		memcpy(e->issuer_key_hash, d + start + 10, TC_CT_HASH_LEN);
	e->cert = d + cert_at + 3;
	e->cert_len = (size_t)d[cert_at] << 16 | (size_t)d[cert_at + 1] << 8 | d[cert_at + 2];
	e->extensions_len = n;
	e->extensions = d + p - n;
	if (e->cert_len > TC_CT_MAX_CERT_LEN || e->extensions_len > TC_CT_MAX_EXTENSIONS_LEN)
		return -1;
	if (type == TC_CT_PRECERT_ENTRY) {
		if (get24(d, len, p, &n) != 0 || n == 0 || n > len - p - 3)
			return -1;
		out->pre_cert = d + p + 3;
		out->pre_cert_len = n;
		p += 3 + n;
	}
	if (len - p < 2)
		return -1;
	n = (size_t)d[p] << 8 | d[p + 1];
	if (n % 32 != 0 || n > len - p - 2)
		return -1;
	out->chain = d + p + 2;
	out->n_chain = n / 32;
	*pos = p + 2 + n;
	return 0;
}

int tc_tile_leaf_hash_ctx(EVP_MD_CTX *md, const struct tc_tile_leaf *l, unsigned char out[TC_CT_HASH_LEN])
{
	static const unsigned char prefix[3] = {0x00, 0x00, 0x00}; /* leaf hash, v1, timestamped_entry */
	/* a context used before keeps its digest: no fetch by name again */
	int ok = md && EVP_DigestInit_ex(md, EVP_MD_CTX_get0_md(md) ? NULL : EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(md, prefix, 3) == 1 &&
		 EVP_DigestUpdate(md, l->ts_entry, l->ts_entry_len) == 1 && EVP_DigestFinal_ex(md, out, NULL) == 1;
	return ok ? 0 : -1;
}

int tc_tile_leaf_hash(const struct tc_tile_leaf *l, unsigned char out[TC_CT_HASH_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = tc_tile_leaf_hash_ctx(md, l, out);
	EVP_MD_CTX_free(md);
	return rc;
}
