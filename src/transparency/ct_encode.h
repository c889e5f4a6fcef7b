/* Byte-exact TLS encodings of the RFC 6962 section 3 structures, and strict
 * parsers for the ones that arrive from outside (MerkleTreeLeaf from the
 * store or get-entries, SCTs and SCT lists from certificates).
 *
 * Encoders write into a caller buffer: they return TC_CT_OK and the length,
 * or TC_CT_ERR_SPACE with *out_len set to the length needed (call with
 * out = NULL, cap = 0 to size a buffer). Parsers check every length against
 * its TLS bounds and the input, reject trailing bytes, and return pointers
 * into the input buffer (no copies): the parsed struct is only valid while
 * that buffer is. */
#ifndef TC_TRANSPARENCY_CT_ENCODE_H
#define TC_TRANSPARENCY_CT_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#define TC_CT_HASH_LEN 32
#define TC_CT_LOG_ID_LEN 32
#define TC_CT_STH_SIGNATURE_INPUT_LEN 50 /* 1 + 1 + 8 + 8 + 32 */
#define TC_CT_MAX_CERT_LEN 0xffffffu     /* opaque ASN.1Cert<1..2^24-1> */
#define TC_CT_MAX_EXTENSIONS_LEN 0xffffu /* CtExtensions<0..2^16-1> */
#define TC_CT_MAX_SIGNATURE_LEN 0xffffu  /* digitally-signed signature<0..2^16-1> */

enum tc_ct_status {
	TC_CT_OK = 0,
	TC_CT_ERR_ARG = -1,        /* NULL pointer or impossible argument */
	TC_CT_ERR_SPACE = -2,      /* output buffer too small (see *out_len) */
	TC_CT_ERR_TRUNCATED = -3,  /* input ends inside a field */
	TC_CT_ERR_TRAILING = -4,   /* bytes left after the structure */
	TC_CT_ERR_LENGTH = -5,     /* a length outside its TLS bounds */
	TC_CT_ERR_VERSION = -6,    /* not v1 */
	TC_CT_ERR_LEAF_TYPE = -7,  /* MerkleLeafType other than timestamped_entry */
	TC_CT_ERR_ENTRY_TYPE = -8, /* LogEntryType other than x509/precert */
	TC_CT_ERR_ALGORITHM = -9,  /* hash not sha256, or signature not rsa/ecdsa */
	TC_CT_ERR_TOO_MANY = -10,  /* more SCTs in a list than the caller has room for */
	TC_CT_ERR_X509 = -11,      /* a certificate OpenSSL cannot parse or encode */
	TC_CT_ERR_CT_EXT = -12,    /* neither (or both) poison / SCT list extension */
	TC_CT_ERR_NOMEM = -13,
};

/* A short English description of a status, for logs and error replies. */
const char *tc_ct_strerror(int status);

enum tc_ct_entry_type {
	TC_CT_X509_ENTRY = 0,
	TC_CT_PRECERT_ENTRY = 1,
};

/* TLS HashAlgorithm / SignatureAlgorithm values (RFC 5246 7.4.1.4.1). */
enum { TC_CT_HASH_SHA256 = 4 };
enum { TC_CT_SIG_RSA = 1, TC_CT_SIG_ECDSA = 3 };

/* A TimestampedEntry: what a log entry (and an SCT) commits to.
 * cert is the ASN.1Cert of an x509_entry, or the TBSCertificate of a
 * precert_entry (RFC 6962 3.2: poison removed); issuer_key_hash is only
 * used for precert entries. */
struct tc_ct_entry {
	enum tc_ct_entry_type type;
	uint64_t timestamp; /* milliseconds since the epoch */
	const unsigned char *cert;
	size_t cert_len;
	unsigned char issuer_key_hash[TC_CT_HASH_LEN];
	const unsigned char *extensions;
	size_t extensions_len;
};

/* A v1 SignedCertificateTimestamp. The signature is the raw DER (ECDSA) or
 * PKCS#1 (RSA) signature; hash is always sha256. */
struct tc_ct_sct {
	unsigned char log_id[TC_CT_LOG_ID_LEN];
	uint64_t timestamp;
	const unsigned char *extensions;
	size_t extensions_len;
	int sig_alg; /* TC_CT_SIG_ECDSA or TC_CT_SIG_RSA */
	const unsigned char *signature;
	size_t signature_len;
};

/* MerkleTreeLeaf { v1, timestamped_entry, TimestampedEntry }: the leaf_input
 * of get-entries and the input of the leaf hash. */
int tc_ct_encode_leaf(const struct tc_ct_entry *e, unsigned char *out, size_t cap, size_t *out_len);
int tc_ct_parse_leaf(const unsigned char *in, size_t len, struct tc_ct_entry *e);

/* The digitally-signed input of an SCT (RFC 6962 3.2): v1,
 * certificate_timestamp, timestamp, entry_type, signed_entry, extensions. */
int tc_ct_encode_sct_signature_input(const struct tc_ct_entry *e, unsigned char *out, size_t cap,
				     size_t *out_len);

/* The digitally-signed input of a tree head (RFC 6962 3.5): v1, tree_hash,
 * timestamp, tree_size, sha256_root_hash. Always 50 bytes. */
void tc_ct_encode_sth_signature_input(uint64_t timestamp, uint64_t tree_size,
				      const unsigned char root[TC_CT_HASH_LEN],
				      unsigned char out[TC_CT_STH_SIGNATURE_INPUT_LEN]);

/* A TLS DigitallySigned struct { sha256, sig_alg, signature<0..2^16-1> },
 * as in the tree_head_signature of get-sth. */
int tc_ct_encode_digitally_signed(int sig_alg, const unsigned char *sig, size_t sig_len, unsigned char *out,
				  size_t cap, size_t *out_len);

/* SignedCertificateTimestamp, and the SignedCertificateTimestampList of the
 * X.509 extension / TLS extension (RFC 6962 3.3): a <1..2^16-1> list of
 * SerializedSCT<1..2^16-1>. */
int tc_ct_encode_sct(const struct tc_ct_sct *sct, unsigned char *out, size_t cap, size_t *out_len);
int tc_ct_parse_sct(const unsigned char *in, size_t len, struct tc_ct_sct *sct);
int tc_ct_encode_sct_list(const struct tc_ct_sct *scts, size_t n, unsigned char *out, size_t cap,
			  size_t *out_len);
/* Parses up to max SCTs into scts[]; more is TC_CT_ERR_TOO_MANY. */
int tc_ct_parse_sct_list(const unsigned char *in, size_t len, struct tc_ct_sct *scts, size_t max,
			 size_t *count);

#endif
