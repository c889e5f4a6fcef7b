/* Raw PKCS#11 for what libp11 0.4.12 cannot do: initialise a token and
 * generate EC key pairs inside it (non-extractable, sensitive, unique
 * CKA_ID), and read key attributes back for audits. Used only by the signer
 * binary (ceremony mode), never while libp11 holds the module. */
#ifndef TC_SIGNER_PKCS11_KEYS_H
#define TC_SIGNER_PKCS11_KEYS_H

#include <stddef.h>

struct tc_p11;

struct tc_p11 *tc_p11_load(const char *module, char *err, size_t errlen);
void tc_p11_unload(struct tc_p11 *p);

/* 1 when an initialised token with this label exists. */
int tc_p11_token_exists(struct tc_p11 *p, const char *label);

/* Initialises the first free slot's token with label, SO PIN and user PIN. */
int tc_p11_init_token(struct tc_p11 *p, const char *label, const char *so_pin,
		      const char *user_pin, char *err, size_t errlen);

/* Generates an EC key pair (curve "P-256" or "P-384") on the token. The
 * private key is CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_TOKEN; both halves
 * get label and a fresh random 16-byte CKA_ID, returned in id. Fails if a key
 * with this label exists already. */
int tc_p11_generate_ec(struct tc_p11 *p, const char *token_label, const char *pin,
		       const char *label, const char *curve, unsigned char id[16], char *err,
		       size_t errlen);

struct tc_p11_object_info {
	char label[64];
	char klass[16];          /* "private", "public", "certificate", "other" */
	char key_type[8];        /* "EC", "RSA", "" */
	int sensitive;           /* -1 unknown */
	int extractable;         /* -1 unknown */
	int always_sensitive;
	int never_extractable;
	char id_hex[129];
};

/* Lists up to max objects on the token. Returns the count or -1. */
int tc_p11_list_objects(struct tc_p11 *p, const char *token_label, const char *pin,
			struct tc_p11_object_info *out, int max, char *err, size_t errlen);

#endif
