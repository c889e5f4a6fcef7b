/* The EC_KEY_METHOD interface is deprecated in OpenSSL 3 but is what an
 * EVP_PKEY whose signatures happen elsewhere still rests on (libp11 0.4.12
 * uses the same); a provider would be the long way round for one
 * operation. Only this file uses it. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "signer/hsm_sign.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* r and s of the largest curve (P-521), each. */
#define MAX_HALF 66

/* One per key loaded (a key's EC_KEY points at it): kept until the pool
 * is freed, as keys are loaded for a whole run (DNS keys too, one per
 * roll, dns_keys.c). */
struct pool_key {
	struct pool_key *next;
	struct tc_hsm_pool *pool;
	CK_OBJECT_HANDLE token_obj;
	_Atomic CK_OBJECT_HANDLE obj; /* the session copy, or token_obj */
	size_t half;                  /* bytes of r (and of s) in the token's r||s */
};

struct tc_hsm_pool {
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slot;
	/* Each signing thread keeps the session it was given (thread-specific,
	 * given back when the thread ends): no lock and no wake-up per
	 * signature. At most max are kept; a thread beyond that opens one per
	 * operation rather than wait for one. */
	pthread_key_t mine;
	pthread_mutex_t lock;
	unsigned kept, max;
	atomic_uint gen; /* sessions of an older generation are closed, not reused */
	_Atomic(struct pool_key *) keys; /* newest first; only prepended */
	EC_KEY_METHOD *meth;
};

/* A thread's session. */
struct kept_session {
	struct tc_hsm_pool *pool;
	CK_SESSION_HANDLE s;
	unsigned gen;
};

static int ex_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void ex_index_init(void)
{
	ex_index = EC_KEY_get_ex_new_index(0, "tc_hsm_pool key", NULL, NULL, NULL);
}

static void kept_close(struct kept_session *k)
{
	struct tc_hsm_pool *p = k->pool;
	pthread_mutex_lock(&p->lock);
	p->kept--;
	pthread_mutex_unlock(&p->lock);
	p->f->C_CloseSession(k->s);
	free(k);
}

/* The thread-specific destructor: a thread that ends closes its session. */
static void kept_release(void *arg)
{
	kept_close(arg);
}

/* This thread's session (opened on first use), or a session for one
 * operation (*k NULL: close it after). 0 or -1 (no session opens). */
static int session_get(struct tc_hsm_pool *p, CK_SESSION_HANDLE *s, struct kept_session **k)
{
	*k = pthread_getspecific(p->mine);
	if (*k && (*k)->gen == atomic_load(&p->gen)) {
		*s = (*k)->s;
		return 0;
	}
	if (*k) { /* opened before a reset: may be a dead handle */
		pthread_setspecific(p->mine, NULL);
		kept_close(*k);
		*k = NULL;
	}
	/* Read-only is enough to sign: the login is the token's, for every
	 * session of this process. */
	unsigned gen = atomic_load(&p->gen);
	if (p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION, NULL, NULL, s) != CKR_OK)
		return -1;
	pthread_mutex_lock(&p->lock);
	int keep = p->kept < p->max;
	if (keep)
		p->kept++;
	pthread_mutex_unlock(&p->lock);
	struct kept_session *n = keep ? malloc(sizeof(*n)) : NULL;
	if (n) {
		*n = (struct kept_session){.pool = p, .s = *s, .gen = gen};
		if (pthread_setspecific(p->mine, n) == 0) {
			*k = n;
			return 0;
		}
		free(n);
	}
	if (keep) {
		pthread_mutex_lock(&p->lock);
		p->kept--;
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}

/* After an operation: a session for one operation is closed, and so is
 * this thread's when the operation failed (a dead handle would fail
 * again; the next signature opens a fresh one). */
static void session_put(struct tc_hsm_pool *p, CK_SESSION_HANDLE s, struct kept_session *k, int ok)
{
	if (!k) {
		p->f->C_CloseSession(s);
		return;
	}
	if (!ok) {
		pthread_setspecific(p->mine, NULL);
		kept_close(k);
	}
}

static ECDSA_SIG *pool_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv, const BIGNUM *rp,
				EC_KEY *ec)
{
	(void)kinv;
	(void)rp;
	struct pool_key *k = EC_KEY_get_ex_data(ec, ex_index);
	if (!k || dlen <= 0)
		return NULL;
	struct tc_hsm_pool *p = k->pool;
	CK_SESSION_HANDLE s;
	struct kept_session *kept;
	if (session_get(p, &s, &kept) != 0)
		return NULL;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	unsigned char raw[2 * MAX_HALF];
	CK_ULONG len = sizeof(raw);
	CK_RV rv = p->f->C_SignInit(s, &mech, atomic_load(&k->obj));
	if (rv == CKR_OK)
		rv = p->f->C_Sign(s, (CK_BYTE_PTR)dgst, (CK_ULONG)dlen, raw, &len);
	session_put(p, s, kept, rv == CKR_OK);
	if (rv != CKR_OK || len != 2 * k->half)
		return NULL;
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, (int)k->half, NULL), *sv = BN_bin2bn(raw + k->half, (int)k->half, NULL);
	if (!sig || !r || !sv || ECDSA_SIG_set0(sig, r, sv) != 1) {
		ECDSA_SIG_free(sig);
		BN_free(r);
		BN_free(sv);
		return NULL;
	}
	return sig;
}

static int pool_sign(int type, const unsigned char *dgst, int dlen, unsigned char *out, unsigned int *outlen,
		     const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	(void)type;
	ECDSA_SIG *sig = pool_sign_sig(dgst, dlen, kinv, r, ec);
	if (!sig)
		return 0;
	int n = i2d_ECDSA_SIG(sig, &out);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return 0;
	*outlen = (unsigned int)n;
	return 1;
}

struct tc_hsm_pool *tc_hsm_pool_new(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot, unsigned max_sessions)
{
	pthread_once(&ex_once, ex_index_init);
	if (ex_index < 0)
		return NULL;
	struct tc_hsm_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
	if (!p->meth || pthread_key_create(&p->mine, kept_release) != 0) {
		EC_KEY_METHOD_free(p->meth);
		free(p);
		return NULL;
	}
	int (*def_setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;
	EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), NULL, &def_setup, NULL);
	EC_KEY_METHOD_set_sign(p->meth, pool_sign, def_setup, pool_sign_sig);
	p->f = f;
	p->slot = slot;
	p->max = max_sessions;
	atomic_init(&p->gen, 0);
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void tc_hsm_pool_reset(struct tc_hsm_pool *p)
{
	/* Each thread closes its own at its next signature. */
	atomic_fetch_add(&p->gen, 1);
}

void tc_hsm_pool_free(struct tc_hsm_pool *p)
{
	if (!p)
		return;
	/* This thread's session; other threads' (ended by now, or about to
	 * be: their destructor no longer runs) end with the module. */
	struct kept_session *k = pthread_getspecific(p->mine);
	if (k) {
		pthread_setspecific(p->mine, NULL);
		kept_close(k);
	}
	pthread_key_delete(p->mine);
	for (struct pool_key *pk = atomic_load(&p->keys), *next; pk; pk = next) {
		next = pk->next;
		free(pk);
	}
	EC_KEY_METHOD_free(p->meth);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* The private key object with label and CKA_ID id, when exactly one has them. */
static int find_private(struct tc_hsm_pool *p, CK_SESSION_HANDLE s, const char *label, const unsigned char *id,
			size_t id_len, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
			       {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
			       {CKA_ID, (void *)id, (CK_ULONG)id_len}};
	if (p->f->C_FindObjectsInit(s, tmpl, 3) != CKR_OK)
		return -1;
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n = 0;
	CK_RV rv = p->f->C_FindObjects(s, found, 2, &n);
	p->f->C_FindObjectsFinal(s);
	if (rv != CKR_OK || n != 1)
		return -1;
	*out = found[0];
	return 0;
}

/* A session object copy of token_obj on session s, or token_obj itself
 * when the token will not copy it. A copy is used only if the token says it
 * is sensitive and not extractable (PKCS#11 lets a copy only tighten those
 * two; checked rather than assumed, so a token that does otherwise never
 * gives us a readable key). */
static CK_OBJECT_HANDLE session_copy(struct tc_hsm_pool *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE token_obj)
{
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {{CKA_TOKEN, &no, sizeof(no)}};
	CK_OBJECT_HANDLE copy;
	if (p->f->C_CopyObject(s, token_obj, tmpl, 1, &copy) != CKR_OK)
		return token_obj;
	CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE;
	CK_ATTRIBUTE got[] = {{CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
			      {CKA_EXTRACTABLE, &extractable, sizeof(extractable)}};
	if (p->f->C_GetAttributeValue(s, copy, got, 2) != CKR_OK || sensitive != CK_TRUE || extractable != CK_FALSE) {
		p->f->C_DestroyObject(s, copy);
		return token_obj;
	}
	return copy;
}

EVP_PKEY *tc_hsm_pool_ec_key(struct tc_hsm_pool *p, CK_SESSION_HANDLE anchor, EVP_PKEY *pub, const char *label,
			     const unsigned char *id, size_t id_len)
{
	if (!p || !pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC)
		return NULL;
	EC_KEY *src = EVP_PKEY_get1_EC_KEY(pub);
	EC_KEY *ec = src ? EC_KEY_dup(src) : NULL;
	EC_KEY_free(src);
	const EC_GROUP *g = ec ? EC_KEY_get0_group(ec) : NULL;
	size_t half = g ? ((size_t)EC_GROUP_order_bits(g) + 7) / 8 : 0;
	CK_OBJECT_HANDLE token_obj;
	EVP_PKEY *pk = NULL;
	if (!half || half > MAX_HALF || find_private(p, anchor, label, id, id_len, &token_obj) != 0 ||
	    !(pk = EVP_PKEY_new())) {
		EC_KEY_free(ec);
		return NULL;
	}
	struct pool_key *k = calloc(1, sizeof(*k));
	if (!k) {
		EC_KEY_free(ec);
		EVP_PKEY_free(pk);
		return NULL;
	}
	k->pool = p;
	k->token_obj = token_obj;
	k->half = half;
	atomic_store(&k->obj, session_copy(p, anchor, token_obj));
	if (EC_KEY_set_method(ec, p->meth) != 1 || EC_KEY_set_ex_data(ec, ex_index, k) != 1 ||
	    EVP_PKEY_assign_EC_KEY(pk, ec) != 1) {
		EC_KEY_free(ec);
		EVP_PKEY_free(pk);
		free(k);
		return NULL;
	}
	/* Published once whole; loads may race (signer start, DNS keys). */
	struct pool_key *head = atomic_load(&p->keys);
	do
		k->next = head;
	while (!atomic_compare_exchange_weak(&p->keys, &head, k));
	return pk;
}

int tc_hsm_pool_recopy(struct tc_hsm_pool *p, CK_SESSION_HANDLE anchor)
{
	int rc = 0;
	for (struct pool_key *k = atomic_load(&p->keys); k; k = k->next) {
		CK_OBJECT_HANDLE h = session_copy(p, anchor, k->token_obj);
		if (h == k->token_obj)
			rc = -1;
		atomic_store(&k->obj, h);
	}
	return rc;
}
