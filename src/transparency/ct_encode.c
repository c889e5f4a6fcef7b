/* RFC 6962 section 3 TLS structures; see ct_encode.h. */
#include "transparency/ct_encode.h"

#include <string.h>

#include "transparency/be_bytes.h"

enum {
	CT_VERSION_V1 = 0,
	CT_LEAF_TIMESTAMPED_ENTRY = 0,
	CT_SIGTYPE_CERTIFICATE_TIMESTAMP = 0,
	CT_SIGTYPE_TREE_HASH = 1,
};

const char *tc_ct_strerror(int status)
{
	switch (status) {
	case TC_CT_OK: return "ok";
	case TC_CT_ERR_ARG: return "invalid argument";
	case TC_CT_ERR_SPACE: return "output buffer too small";
	case TC_CT_ERR_TRUNCATED: return "input truncated";
	case TC_CT_ERR_TRAILING: return "trailing bytes after the structure";
	case TC_CT_ERR_LENGTH: return "length outside its TLS bounds";
	case TC_CT_ERR_VERSION: return "unsupported version (only v1)";
	case TC_CT_ERR_LEAF_TYPE: return "unsupported Merkle leaf type";
	case TC_CT_ERR_ENTRY_TYPE: return "unsupported log entry type";
	case TC_CT_ERR_ALGORITHM: return "unsupported hash or signature algorithm";
	case TC_CT_ERR_TOO_MANY: return "too many SCTs in the list";
	case TC_CT_ERR_X509: return "certificate cannot be parsed or encoded";
	case TC_CT_ERR_CT_EXT: return "certificate has neither exactly one CT poison nor one SCT list extension";
	case TC_CT_ERR_NOMEM: return "out of memory";
	default: return "unknown error";
	}
}

/* ---- writer: counts every byte, stores only what fits, so one pass both
 * sizes and fills the output. */

struct writer {
	unsigned char *buf;
	size_t cap;
	size_t len;
};

static void put_bytes(struct writer *w, const unsigned char *p, size_t n)
{
	if (w->buf && w->len <= w->cap && n <= w->cap - w->len && n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_uint(struct writer *w, uint64_t v, unsigned nbytes)
{
	unsigned char tmp[8];
	tc_be_put(tmp, v, nbytes);
	put_bytes(w, tmp, nbytes);
}

/* opaque<min..max> with a length prefix of prefix_bytes. */
static void put_vector(struct writer *w, const unsigned char *p, size_t n, unsigned prefix_bytes)
{
	put_uint(w, n, prefix_bytes);
	put_bytes(w, p, n);
}

static int finish(const struct writer *w, size_t *out_len)
{
	*out_len = w->len;
	return w->buf && w->len <= w->cap ? TC_CT_OK : TC_CT_ERR_SPACE;
}

static int check_entry(const struct tc_ct_entry *e)
{
	if (!e || (e->cert_len && !e->cert) || (e->extensions_len && !e->extensions))
		return TC_CT_ERR_ARG;
	if (e->type != TC_CT_X509_ENTRY && e->type != TC_CT_PRECERT_ENTRY)
		return TC_CT_ERR_ENTRY_TYPE;
	if (e->cert_len < 1 || e->cert_len > TC_CT_MAX_CERT_LEN || e->extensions_len > TC_CT_MAX_EXTENSIONS_LEN)
		return TC_CT_ERR_LENGTH;
	return TC_CT_OK;
}

/* timestamp, entry_type, signed_entry, extensions: the tail shared by the
 * TimestampedEntry and the SCT signature input. */
static void put_timestamped_entry(struct writer *w, const struct tc_ct_entry *e)
{
	put_uint(w, e->timestamp, 8);
	put_uint(w, (uint64_t)e->type, 2);
	if (e->type == TC_CT_PRECERT_ENTRY)
		put_bytes(w, e->issuer_key_hash, TC_CT_HASH_LEN);
	put_vector(w, e->cert, e->cert_len, 3);
	put_vector(w, e->extensions, e->extensions_len, 2);
}

int tc_ct_encode_leaf(const struct tc_ct_entry *e, unsigned char *out, size_t cap, size_t *out_len)
{
	int rc = check_entry(e);
	if (rc != TC_CT_OK)
		return rc;
	struct writer w = { out, cap, 0 };
	put_uint(&w, CT_VERSION_V1, 1);
	put_uint(&w, CT_LEAF_TIMESTAMPED_ENTRY, 1);
	put_timestamped_entry(&w, e);
	return finish(&w, out_len);
}

int tc_ct_encode_sct_signature_input(const struct tc_ct_entry *e, unsigned char *out, size_t cap,
				     size_t *out_len)
{
	int rc = check_entry(e);
	if (rc != TC_CT_OK)
		return rc;
	struct writer w = { out, cap, 0 };
	put_uint(&w, CT_VERSION_V1, 1);
	put_uint(&w, CT_SIGTYPE_CERTIFICATE_TIMESTAMP, 1);
	put_timestamped_entry(&w, e);
	return finish(&w, out_len);
}

void tc_ct_encode_sth_signature_input(uint64_t timestamp, uint64_t tree_size,
				      const unsigned char root[TC_CT_HASH_LEN],
				      unsigned char out[TC_CT_STH_SIGNATURE_INPUT_LEN])
{
	out[0] = CT_VERSION_V1;
	out[1] = CT_SIGTYPE_TREE_HASH;
	tc_be_put(out + 2, timestamp, 8);
	tc_be_put(out + 10, tree_size, 8);
	memcpy(out + 18, root, TC_CT_HASH_LEN);
}

static int check_signature(int sig_alg, const unsigned char *sig, size_t sig_len)
{
	if (sig_len && !sig)
		return TC_CT_ERR_ARG;
	if (sig_alg != TC_CT_SIG_ECDSA && sig_alg != TC_CT_SIG_RSA)
		return TC_CT_ERR_ALGORITHM;
	if (sig_len > TC_CT_MAX_SIGNATURE_LEN)
		return TC_CT_ERR_LENGTH;
	return TC_CT_OK;
}

static void put_digitally_signed(struct writer *w, int sig_alg, const unsigned char *sig, size_t sig_len)
{
	put_uint(w, TC_CT_HASH_SHA256, 1);
	put_uint(w, (uint64_t)sig_alg, 1);
	put_vector(w, sig, sig_len, 2);
}

int tc_ct_encode_digitally_signed(int sig_alg, const unsigned char *sig, size_t sig_len, unsigned char *out,
				  size_t cap, size_t *out_len)
{
	int rc = check_signature(sig_alg, sig, sig_len);
	if (rc != TC_CT_OK)
		return rc;
	struct writer w = { out, cap, 0 };
	put_digitally_signed(&w, sig_alg, sig, sig_len);
	return finish(&w, out_len);
}

static int check_sct(const struct tc_ct_sct *sct)
{
	if (!sct || (sct->extensions_len && !sct->extensions))
		return TC_CT_ERR_ARG;
	if (sct->extensions_len > TC_CT_MAX_EXTENSIONS_LEN)
		return TC_CT_ERR_LENGTH;
	return check_signature(sct->sig_alg, sct->signature, sct->signature_len);
}

static void put_sct(struct writer *w, const struct tc_ct_sct *sct)
{
	put_uint(w, CT_VERSION_V1, 1);
	put_bytes(w, sct->log_id, TC_CT_LOG_ID_LEN);
	put_uint(w, sct->timestamp, 8);
	put_vector(w, sct->extensions, sct->extensions_len, 2);
	put_digitally_signed(w, sct->sig_alg, sct->signature, sct->signature_len);
}

int tc_ct_encode_sct(const struct tc_ct_sct *sct, unsigned char *out, size_t cap, size_t *out_len)
{
	int rc = check_sct(sct);
	if (rc != TC_CT_OK)
		return rc;
	struct writer w = { out, cap, 0 };
	put_sct(&w, sct);
	return finish(&w, out_len);
}

int tc_ct_encode_sct_list(const struct tc_ct_sct *scts, size_t n, unsigned char *out, size_t cap,
			  size_t *out_len)
{
	if (!scts || n == 0)
		return n == 0 ? TC_CT_ERR_LENGTH : TC_CT_ERR_ARG;
	/* Size every SerializedSCT first: the list's own length prefix comes
	 * before them and both have 16-bit bounds. */
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = check_sct(&scts[i]);
		if (rc != TC_CT_OK)
			return rc;
		struct writer sizer = { NULL, 0, 0 };
		put_sct(&sizer, &scts[i]);
		if (sizer.len > 0xffff)
			return TC_CT_ERR_LENGTH;
		total += 2 + sizer.len;
		if (total > 0xffff)
			return TC_CT_ERR_LENGTH;
	}
	struct writer w = { out, cap, 0 };
	put_uint(&w, total, 2);
	for (size_t i = 0; i < n; i++) {
		struct writer sizer = { NULL, 0, 0 };
		put_sct(&sizer, &scts[i]);
		put_uint(&w, sizer.len, 2);
		put_sct(&w, &scts[i]);
	}
	return finish(&w, out_len);
}

/* ---- reader: every get checks the remaining length first. */

struct reader {
	const unsigned char *p;
	size_t left;
};

static int get_uint(struct reader *r, unsigned nbytes, uint64_t *v)
{
	if (r->left < nbytes)
		return TC_CT_ERR_TRUNCATED;
	*v = tc_be_get(r->p, nbytes);
	r->p += nbytes;
	r->left -= nbytes;
	return TC_CT_OK;
}

static int get_fixed(struct reader *r, unsigned char *out, size_t n)
{
	if (r->left < n)
		return TC_CT_ERR_TRUNCATED;
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return TC_CT_OK;
}

/* opaque<min..max>: a length prefix, then that many bytes, returned in place. */
static int get_vector(struct reader *r, unsigned prefix_bytes, size_t min, size_t max, const unsigned char **p,
		      size_t *n)
{
	uint64_t len;
	int rc = get_uint(r, prefix_bytes, &len);
	if (rc != TC_CT_OK)
		return rc;
	if (len < min || len > max)
		return TC_CT_ERR_LENGTH;
	if (r->left < len)
		return TC_CT_ERR_TRUNCATED;
	*p = r->p;
	*n = (size_t)len;
	r->p += len;
	r->left -= len;
	return TC_CT_OK;
}

static int expect_byte(struct reader *r, uint64_t want, int err)
{
	uint64_t v;
	int rc = get_uint(r, 1, &v);
	if (rc != TC_CT_OK)
		return rc;
	return v == want ? TC_CT_OK : err;
}

int tc_ct_parse_leaf(const unsigned char *in, size_t len, struct tc_ct_entry *e)
{
	if ((!in && len) || !e)
		return TC_CT_ERR_ARG;
	memset(e, 0, sizeof(*e));
	struct reader r = { in, len };
	uint64_t type;
	int rc = expect_byte(&r, CT_VERSION_V1, TC_CT_ERR_VERSION);
	if (rc == TC_CT_OK)
		rc = expect_byte(&r, CT_LEAF_TIMESTAMPED_ENTRY, TC_CT_ERR_LEAF_TYPE);
	if (rc == TC_CT_OK)
		rc = get_uint(&r, 8, &e->timestamp);
	if (rc == TC_CT_OK)
		rc = get_uint(&r, 2, &type);
	if (rc != TC_CT_OK)
		return rc;
	if (type == TC_CT_PRECERT_ENTRY) {
		e->type = TC_CT_PRECERT_ENTRY;
		rc = get_fixed(&r, e->issuer_key_hash, TC_CT_HASH_LEN);
	} else if (type == TC_CT_X509_ENTRY) {
		e->type = TC_CT_X509_ENTRY;
	} else {
		return TC_CT_ERR_ENTRY_TYPE;
	}
	if (rc == TC_CT_OK)
		rc = get_vector(&r, 3, 1, TC_CT_MAX_CERT_LEN, &e->cert, &e->cert_len);
	if (rc == TC_CT_OK)
		rc = get_vector(&r, 2, 0, TC_CT_MAX_EXTENSIONS_LEN, &e->extensions, &e->extensions_len);
	if (rc == TC_CT_OK && r.left)
		rc = TC_CT_ERR_TRAILING;
	return rc;
}

static int parse_sct(struct reader *r, struct tc_ct_sct *sct)
{
	memset(sct, 0, sizeof(*sct));
	uint64_t hash_alg, sig_alg;
	int rc = expect_byte(r, CT_VERSION_V1, TC_CT_ERR_VERSION);
	if (rc == TC_CT_OK)
		rc = get_fixed(r, sct->log_id, TC_CT_LOG_ID_LEN);
	if (rc == TC_CT_OK)
		rc = get_uint(r, 8, &sct->timestamp);
	if (rc == TC_CT_OK)
		rc = get_vector(r, 2, 0, TC_CT_MAX_EXTENSIONS_LEN, &sct->extensions, &sct->extensions_len);
	if (rc == TC_CT_OK)
		rc = get_uint(r, 1, &hash_alg);
	if (rc == TC_CT_OK)
		rc = get_uint(r, 1, &sig_alg);
	if (rc != TC_CT_OK)
		return rc;
	if (hash_alg != TC_CT_HASH_SHA256 || (sig_alg != TC_CT_SIG_ECDSA && sig_alg != TC_CT_SIG_RSA))
		return TC_CT_ERR_ALGORITHM;
	sct->sig_alg = (int)sig_alg;
	return get_vector(r, 2, 0, TC_CT_MAX_SIGNATURE_LEN, &sct->signature, &sct->signature_len);
}

int tc_ct_parse_sct(const unsigned char *in, size_t len, struct tc_ct_sct *sct)
{
	if ((!in && len) || !sct)
		return TC_CT_ERR_ARG;
	struct reader r = { in, len };
	int rc = parse_sct(&r, sct);
	if (rc == TC_CT_OK && r.left)
		rc = TC_CT_ERR_TRAILING;
	return rc;
}

int tc_ct_parse_sct_list(const unsigned char *in, size_t len, struct tc_ct_sct *scts, size_t max,
			 size_t *count)
{
	if ((!in && len) || (!scts && max) || !count)
		return TC_CT_ERR_ARG;
	*count = 0;
	struct reader r = { in, len };
	const unsigned char *list;
	size_t list_len;
	int rc = get_vector(&r, 2, 1, 0xffff, &list, &list_len);
	if (rc != TC_CT_OK)
		return rc;
	if (r.left)
		return TC_CT_ERR_TRAILING;
	struct reader lr = { list, list_len };
	size_t n = 0;
	while (lr.left) {
		const unsigned char *one;
		size_t one_len;
		rc = get_vector(&lr, 2, 1, 0xffff, &one, &one_len);
		if (rc != TC_CT_OK)
			return rc;
		if (n == max)
			return TC_CT_ERR_TOO_MANY;
		rc = tc_ct_parse_sct(one, one_len, &scts[n]);
		if (rc != TC_CT_OK)
			return rc;
		n++;
	}
	*count = n;
	return TC_CT_OK;
}
