/* Which submissions this log accepts (RFC 6962 4.1, 4.2): chains that lead
 * to one of our roots, and precertificates carrying the poison extension
 * issued directly by our issuing intermediate (this CA signs precerts
 * itself, with no Precertificate Signing Certificate). Validity periods are
 * not checked: a log records certificates, it does not judge their age. */
#ifndef TC_TRANSPARENCY_CHAIN_CHECK_H
#define TC_TRANSPARENCY_CHAIN_CHECK_H

#include <stddef.h>

#include "transparency/ct_encode.h"

struct tc_chain_checker;

/* Loads the accepted root and the issuing intermediate (PEM files). */
int tc_chain_checker_load(const char *root_pem, const char *intermediate_pem, struct tc_chain_checker **out,
			  char *err, size_t errlen);
/* The same from certificates in memory (references taken). */
struct x509_st;
int tc_chain_checker_new(struct x509_st *root, struct x509_st *intermediate, struct tc_chain_checker **out,
			 char *err, size_t errlen);
/* 1 when submissions of the gateway's shape take the DER fast path
 * (chain_fast.h); 0 when the CA certificates made it step aside. */
int tc_chain_checker_fast(const struct tc_chain_checker *chk);
void tc_chain_checker_free(struct tc_chain_checker *chk);

/* DER of the accepted root (for get-roots). */
void tc_chain_checker_root(const struct tc_chain_checker *chk, const unsigned char **der, size_t *len);

/* A checked submission: the entry to log and its extra_data (an x509
 * entry's certificate_chain or a PrecertChainEntry), all malloc'd. */
struct tc_checked_chain {
	struct tc_ct_entry entry; /* timestamp left 0; cert points into owned */
	unsigned char *owned;
	unsigned char *extra;
	size_t extra_len;
	int fast; /* 1 when the DER fast path accepted it (chain_fast.h) */
};
void tc_checked_chain_free(struct tc_checked_chain *cc);

/* certs[0] is the (pre)certificate, the rest its chain, all DER. 0, or -1
 * with a reason for the submitter in err. The fast path decides when it
 * can, OpenSSL's full path validation otherwise. */
int tc_chain_check(const struct tc_chain_checker *chk, int precert, unsigned char *const *certs,
		   const size_t *lens, size_t n, struct tc_checked_chain *out, char *err, size_t errlen);
/* The OpenSSL path alone (d2i_X509, X509_verify_cert, i2d_re_X509_tbs):
 * the reference the fast path is tested against. */
int tc_chain_check_openssl(const struct tc_chain_checker *chk, int precert, unsigned char *const *certs,
			   const size_t *lens, size_t n, struct tc_checked_chain *out, char *err, size_t errlen);

#endif
