/* Signatures of a build asked of the signer together: see sig_prefetch.h. */
#include "resolver/sig_prefetch.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct input {
	uint8_t digest[32];
	uint8_t *data;
	size_t len;
};

struct prefetch {
	const struct tc_sig_cache *prev;
	struct input *in;
	size_t n, cap;
	int failed;   /* out of memory while collecting */
};

static int collect(void *ctx, const uint8_t *data, size_t len, uint8_t sig[TC_DNSSEC_SIG_LEN], char *err,
		   size_t errlen)
{
	(void)err;
	(void)errlen;
	struct prefetch *p = ctx;
	memset(sig, 0, TC_DNSSEC_SIG_LEN);
	struct input one;
	unsigned int dlen = 0;
	if (EVP_Digest(data, len, one.digest, &dlen, EVP_sha256(), NULL) != 1 || dlen != 32)
		return 0; /* the real pass signs it */
	if (tc_sig_cache_get(p->prev, one.digest, sig))
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct input *in = realloc(p->in, cap * sizeof(*in));
		if (!in) {
			p->failed = 1;
			return 0;
		}
		p->in = in;
		p->cap = cap;
	}
	if (!(one.data = malloc(len))) {
		p->failed = 1;
		return 0;
	}
	memcpy(one.data, data, len);
	one.len = len;
	p->in[p->n++] = one;
	return 0;
}

long tc_sig_prefetch(struct tc_zone *zone, const struct tc_dnssec_zone_key *key, struct tc_dnssec_signer *signer,
		     const struct tc_sig_cache *prev, struct tc_sig_cache *out, char *err, size_t errlen)
{
	struct prefetch p = {.prev = prev};
	struct tc_dnssec_zone_key dry = *key;
	dry.sign = collect;
	dry.ctx = &p;
	long rc = tc_zone_sign(zone, &dry, err, errlen);
	if (rc >= 0 && p.failed) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc >= 0 && p.n == 0)
		rc = 0;
	if (rc >= 0 && p.n > 0) {
		const uint8_t **data = malloc(p.n * sizeof(*data));
		size_t *len = malloc(p.n * sizeof(*len));
		uint8_t (*sigs)[TC_DNSSEC_SIG_LEN] = malloc(p.n * sizeof(*sigs));
		rc = -1;
		if (!data || !len || !sigs) {
			snprintf(err, errlen, "out of memory");
		} else {
			for (size_t i = 0; i < p.n; i++) {
				data[i] = p.in[i].data;
				len[i] = p.in[i].len;
			}
			if (tc_dnssec_signer_sign_many(signer, data, len, p.n, sigs, err, errlen) == 0) {
				rc = 0;
				for (size_t i = 0; i < p.n; i++)
					rc += tc_sig_cache_put(out, p.in[i].digest, sigs[i]) == 0;
			}
		}
		free(data);
		free(len);
		free(sigs);
	}
	for (size_t i = 0; i < p.n; i++)
		free(p.in[i].data);
	free(p.in);
	return rc < 0 ? -1 : rc;
}
