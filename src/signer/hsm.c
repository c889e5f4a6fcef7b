#include "signer/hsm.h"

#include <dlfcn.h>
#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "signer/hsm_sign.h"

/* Keys found on the token in one run, each kept until the handle closes
 * (callers hold copies of its EVP_PKEYs): the CA, CT (shards), audit and
 * DNS keys, plus one per DNSSEC or CA rollover done while running. 128
 * leaves a hundred rolls between two restarts of the signer. */
#define MAX_CACHED_KEYS 128
/* Recoveries closer together than this are one: the threads that failed
 * on the same dead sessions need only one reset. */
#define RECOVER_INTERVAL_NS (50 * 1000 * 1000LL)
/* How often the watchdog draws one random byte through libp11's session
 * pool: the pool hands out sessions in turn, so a dead one is met within
 * a few rounds even when no request happens to use it. */
#define WATCHDOG_INTERVAL_MS 200
/* Sessions kept by the threads that make EC signatures (hsm_sign.h):
 * signing helpers (one per core), peer readers, workers; a thread beyond
 * opens one per signature. */
#define POOL_MAX_SESSIONS 64

struct tc_hsm {
	PKCS11_CTX *ctx;
	int ctx_loaded;		/* PKCS11_CTX_unload crashes (libp11 0.4.12) on a context whose load failed */
	PKCS11_SLOT *slots;
	unsigned int nslots;
	PKCS11_SLOT *slot;
	struct tc_hsm_key keys[MAX_CACHED_KEYS];
	size_t nkeys;
	/* What tc_hsm_recover needs beyond libp11: the module's own entry
	 * points (the library libp11 loaded, not loaded again), the PIN
	 * (libp11 keeps a copy for its own re-login after fork too), and a
	 * session of ours that holds the login while libp11's come and go. */
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slot_id;
	char *pin;
	CK_SESSION_HANDLE anchor;
	int have_anchor;
	/* EC keys sign on sessions of ours, copied into session objects held
	 * by the anchor (hsm_sign.h); NULL: libp11 signs. */
	struct tc_hsm_pool *pool;
	pthread_mutex_t recover_lock;
	long long last_recover_ns, last_log_ns;
	unsigned long long recoveries;
	pthread_t watchdog;
	int have_watchdog;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	int stopping;
};

static long long mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Opens our own session and logs it in (the login is the token's, for
 * every session of this process). 0 when the token was still logged in,
 * 1 when it had to log in again (the token lost its login: it was removed
 * or reset), -1 when it does not answer. Call with recover_lock held. */
static int open_anchor(struct tc_hsm *h)
{
	if (!h->f)
		return -1;
	CK_SESSION_HANDLE s;
	CK_RV rv = h->f->C_OpenSession(h->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return -1;
	rv = h->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)h->pin, strlen(h->pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		h->f->C_CloseSession(s);
		return -1;
	}
	h->anchor = s;
	h->have_anchor = 1;
	return rv == CKR_OK ? 1 : 0;
}

/* Finds dead sessions (and a token that came back) when nothing else
 * does: every WATCHDOG_INTERVAL_MS one byte of randomness, through the
 * pool, and a recovery when it fails. */
static void *watchdog_main(void *arg)
{
	struct tc_hsm *h = arg;
	pthread_mutex_lock(&h->stop_lock);
	while (!h->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WATCHDOG_INTERVAL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&h->stop_cond, &h->stop_lock, &until);
		if (h->stopping)
			break;
		pthread_mutex_unlock(&h->stop_lock);
		unsigned char b;
		if (PKCS11_generate_random(h->slot, &b, 1) != 0)
			tc_hsm_recover(h);
		pthread_mutex_lock(&h->stop_lock);
	}
	pthread_mutex_unlock(&h->stop_lock);
	return NULL;
}

struct tc_hsm *tc_hsm_open(const char *module, const char *token_label, const char *pin,
			   char *err, size_t errlen)
{
	struct tc_hsm *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->ctx = PKCS11_CTX_new();
	if (!h->ctx || PKCS11_CTX_load(h->ctx, module) != 0) {
		snprintf(err, errlen, "cannot load PKCS#11 module %s", module);
		goto fail;
	}
	h->ctx_loaded = 1;
	if (PKCS11_enumerate_slots(h->ctx, &h->slots, &h->nslots) != 0) {
		snprintf(err, errlen, "cannot list PKCS#11 slots");
		goto fail;
	}
	for (unsigned int i = 0; i < h->nslots; i++) {
		PKCS11_TOKEN *t = h->slots[i].token;
		if (t && t->initialized && strcmp(t->label, token_label) == 0) {
			h->slot = &h->slots[i];
			break;
		}
	}
	if (!h->slot) {
		snprintf(err, errlen, "no initialised token labelled '%s' (run the key ceremony)", token_label);
		goto fail;
	}
	/* libp11 fixes a slot's session mode at its first session: ask for
	 * read/write before login, or storing a certificate (ceremony) fails
	 * with CKR_SESSION_READ_ONLY. */
	if (PKCS11_open_session(h->slot, 1) != 0) {
		snprintf(err, errlen, "cannot open a session on token '%s'", token_label);
		goto fail;
	}
	if (PKCS11_login(h->slot, 0, pin) != 0) {
		/* Never echo the PIN; the library error code is enough. */
		snprintf(err, errlen, "login to token '%s' failed (wrong PIN or locked token)", token_label);
		goto fail;
	}
	pthread_mutex_init(&h->recover_lock, NULL);
	h->slot_id = PKCS11_get_slotid_from_slot(h->slot);
	h->pin = OPENSSL_strdup(pin);
	h->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	CK_C_GetFunctionList gfl = h->dl ? (CK_C_GetFunctionList)dlsym(h->dl, "C_GetFunctionList") : NULL;
	if (!h->pin || !gfl || gfl(&h->f) != CKR_OK || open_anchor(h) < 0) {
		tc_warn("HSM: no recovery session on token '%s': a lost session will need a restart", token_label);
		return h;
	}
	h->pool = tc_hsm_pool_new(h->f, h->slot_id, POOL_MAX_SESSIONS);
	pthread_mutex_init(&h->stop_lock, NULL);
	pthread_cond_init(&h->stop_cond, NULL);
	h->have_watchdog = pthread_create(&h->watchdog, NULL, watchdog_main, h) == 0;
	return h;
fail:
	tc_hsm_close(h);
	return NULL;
}

void tc_hsm_close(struct tc_hsm *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nkeys; i++) {
		EVP_PKEY_free(h->keys[i].priv);
		EVP_PKEY_free(h->keys[i].p11_priv);
		EVP_PKEY_free(h->keys[i].pub);
		EVP_PKEY_free(h->keys[i].verify);
		X509_free(h->keys[i].cert);
	}
	if (h->have_watchdog) {
		pthread_mutex_lock(&h->stop_lock);
		h->stopping = 1;
		pthread_cond_signal(&h->stop_cond);
		pthread_mutex_unlock(&h->stop_lock);
		pthread_join(h->watchdog, NULL);
		pthread_mutex_destroy(&h->stop_lock);
		pthread_cond_destroy(&h->stop_cond);
	}
	tc_hsm_pool_free(h->pool); /* its keys are freed above */
	if (h->have_anchor)
		h->f->C_CloseSession(h->anchor);
	if (h->pin) {
		OPENSSL_cleanse(h->pin, strlen(h->pin));
		OPENSSL_free(h->pin);
		pthread_mutex_destroy(&h->recover_lock);
	}
	if (h->dl)
		dlclose(h->dl);
	if (h->slots)
		PKCS11_release_all_slots(h->ctx, h->slots, h->nslots);
	if (h->ctx) {
		if (h->ctx_loaded)
			PKCS11_CTX_unload(h->ctx);
		PKCS11_CTX_free(h->ctx);
	}
	free(h);
}

/* Fills k->verify and k->spki_sha256 from k->pub. 0 or -1. */
static int decode_public_half(struct tc_hsm_key *k)
{
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(k->pub, &spki);
	const unsigned char *p = spki;
	if (n > 0)
		k->verify = d2i_PUBKEY(NULL, &p, n);
	int ok = k->verify && EVP_Digest(spki, (size_t)n, k->spki_sha256, NULL, EVP_sha256(), NULL) == 1;
	OPENSSL_free(spki);
	return ok ? 0 : -1;
}

static X509 *find_cert_for(PKCS11_TOKEN *tok, const PKCS11_KEY *k)
{
	PKCS11_CERT *certs;
	unsigned int n;
	if (PKCS11_enumerate_certs(tok, &certs, &n) != 0)
		return NULL;
	for (unsigned int i = 0; i < n; i++)
		if (certs[i].id_len == k->id_len && memcmp(certs[i].id, k->id, k->id_len) == 0 &&
		    certs[i].x509)
			return X509_dup(certs[i].x509);
	return NULL;
}

/* Lets k sign through the session pool when it is an EC key the token
 * finds by label and ID (libp11's key otherwise). */
static void use_pool(struct tc_hsm *h, struct tc_hsm_key *k)
{
	if (!h->pool)
		return;
	pthread_mutex_lock(&h->recover_lock); /* the anchor's find and copy */
	EVP_PKEY *fast = h->have_anchor ? tc_hsm_pool_ec_key(h->pool, h->anchor, k->verify, k->label, k->id, k->id_len)
					: NULL;
	pthread_mutex_unlock(&h->recover_lock);
	if (!fast)
		return;
	k->p11_priv = k->priv;
	k->priv = fast;
}

int tc_hsm_find_key(struct tc_hsm *h, const char *label, struct tc_hsm_key *key, char *err,
		    size_t errlen)
{
	for (size_t i = 0; i < h->nkeys; i++) {
		if (strcmp(h->keys[i].label, label) == 0) {
			*key = h->keys[i];
			return 0;
		}
	}
	if (h->nkeys == MAX_CACHED_KEYS) {
		snprintf(err, errlen, "more than %d keys loaded in this run: restart the signer", MAX_CACHED_KEYS);
		return -1;
	}
	PKCS11_KEY *keys;
	unsigned int n;
	if (PKCS11_enumerate_keys(h->slot->token, &keys, &n) != 0) {
		snprintf(err, errlen, "cannot list keys on the token");
		return -1;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (!keys[i].label || strcmp(keys[i].label, label) != 0 || !keys[i].isPrivate)
			continue;
		struct tc_hsm_key *k = &h->keys[h->nkeys];
		memset(k, 0, sizeof(*k));
		snprintf(k->label, sizeof(k->label), "%s", label);
		k->id_len = keys[i].id_len < sizeof(k->id) ? keys[i].id_len : sizeof(k->id);
		memcpy(k->id, keys[i].id, k->id_len);
		k->priv = PKCS11_get_private_key(&keys[i]);
		k->pub = PKCS11_get_public_key(&keys[i]);
		if (!k->priv || !k->pub || decode_public_half(k) != 0) {
			EVP_PKEY_free(k->priv);
			EVP_PKEY_free(k->pub);
			EVP_PKEY_free(k->verify);
			snprintf(err, errlen, "key '%s' has no usable private/public pair", label);
			return -1;
		}
		k->cert = find_cert_for(h->slot->token, &keys[i]);
		use_pool(h, k);
		h->nkeys++;
		*key = *k;
		return 0;
	}
	snprintf(err, errlen, "no private key labelled '%s' on the token", label);
	return -1;
}

int tc_hsm_store_cert(struct tc_hsm *h, const struct tc_hsm_key *key, X509 *cert, char *err,
		      size_t errlen)
{
	if (PKCS11_store_certificate(h->slot->token, cert, (char *)key->label,
				     (unsigned char *)key->id, key->id_len, NULL) != 0) {
		snprintf(err, errlen, "cannot store certificate '%s' on the token", key->label);
		return -1;
	}
	for (size_t i = 0; i < h->nkeys; i++) {
		if (strcmp(h->keys[i].label, key->label) == 0) {
			X509_free(h->keys[i].cert);
			h->keys[i].cert = X509_dup(cert);
		}
	}
	return 0;
}

int tc_hsm_recover(struct tc_hsm *h)
{
	if (!h->pin || !h->f)
		return -1;
	pthread_mutex_lock(&h->recover_lock);
	long long now = mono_ns();
	int rc = 0;
	if (now - h->last_recover_ns >= RECOVER_INTERVAL_NS) {
		h->last_recover_ns = now;
		CK_SESSION_INFO info;
		if (h->have_anchor && h->f->C_GetSessionInfo(h->anchor, &info) != CKR_OK)
			h->have_anchor = 0; /* the token was removed: every session, and the login, is gone */
		int reopened = 0;
		if (!h->have_anchor || !(info.state == CKS_RW_USER_FUNCTIONS || info.state == CKS_RO_USER_FUNCTIONS)) {
			if (h->have_anchor)
				h->f->C_CloseSession(h->anchor);
			h->have_anchor = 0;
			rc = open_anchor(h);
			reopened = 1;
		}
		/* Only once the token answers does libp11 forget its session
		 * pool (dead handles included; the sessions still alive stay
		 * open, in use by the threads that hold them) and open new ones
		 * on demand. Emptied while the token is out, the pool would make
		 * the next caller wait for a session for ever: libp11 0.4.12
		 * waits on its pool when C_OpenSession fails, and a failing
		 * dead handle at least returns at once. */
		if (rc == 1) {
			/* Logged out underneath us: the token was removed (or
			 * reset) and is back. Its object handles, which libp11
			 * caches in every key, may all have changed, and libp11
			 * 0.4.12 reloads them only after a fork: start again. The
			 * supervisor restarts the signer (peers meanwhile get
			 * UNAVAILABLE), which opens the token and finds its keys. */
			tc_err("HSM: the token lost its login (removed or reset) and is back: the signer restarts "
			       "to load its keys again");
			exit(75);
		}
		if (rc == 0) {
			PKCS11_open_session(h->slot, 1);
			if (h->pool) {
				/* Our sessions go the same way as libp11's; the
				 * key copies died with the old anchor. */
				tc_hsm_pool_reset(h->pool);
				if (reopened && tc_hsm_pool_recopy(h->pool, h->anchor) != 0)
					tc_warn("HSM: a key could not be copied to a session object again; it signs "
						"through its token object");
			}
		}
		/* Said once per episode, not at every reset while the token is out. */
		h->recoveries++;
		if (now - h->last_log_ns >= 5 * 1000000000LL) {
			h->last_log_ns = now;
			tc_warn("HSM: sessions reset after a failure (%llu so far)%s", h->recoveries,
				rc == 0 ? "" : "; the token does not answer yet");
		}
	}
	pthread_mutex_unlock(&h->recover_lock);
	return rc;
}

int tc_hsm_random(struct tc_hsm *h, unsigned char *buf, size_t len)
{
	if (PKCS11_generate_random(h->slot, buf, (unsigned int)len) == 0)
		return 0;
	/* Once more on fresh sessions: the failure may be a dropped one. */
	tc_hsm_recover(h);
	return PKCS11_generate_random(h->slot, buf, (unsigned int)len) == 0 ? 0 : -1;
}

void tc_hsm_describe(struct tc_hsm *h, char *out, size_t outlen)
{
	PKCS11_TOKEN *t = h->slot->token;
	snprintf(out, outlen, "%s / %s / %s / %s", t->label, t->manufacturer, t->model, t->serialnr);
}
