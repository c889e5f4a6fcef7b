/* EC signatures straight through PKCS#11 on a pool of sessions of our own,
 * with the private key copied once into a session object.
 *
 * Why not libp11's key methods: SoftHSM (file object store) opens, locks,
 * reads and closes the key's object file twice for every signature made
 * with a token object (strace: 2 openat, 2 read, 6 fcntl per C_Sign), to see
 * whether another process changed it; a session object lives in memory.
 * C_CopyObject with CKA_TOKEN false makes that copy inside the token (the
 * private half still never leaves it; CKA_SENSITIVE and CKA_EXTRACTABLE are
 * copied as they are) and the copy lives as long as the session that made
 * it: the HSM's anchor session, held for the life of the process. A token
 * that refuses the copy (CKA_COPYABLE false) is used through its token
 * object, on the same pool.
 *
 * Each signing thread keeps a session of its own (opened at its first
 * signature, closed when the thread ends; at most max are kept, a thread
 * beyond that opens one per signature): signatures of one peer run on
 * every core, none waits for another's session, and a signature takes no
 * lock of ours. */
#ifndef TC_SIGNER_HSM_SIGN_H
#define TC_SIGNER_HSM_SIGN_H

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

struct tc_hsm_pool;

/* A pool for slot through module entry points f (already initialised and
 * logged in). NULL when out of memory. */
struct tc_hsm_pool *tc_hsm_pool_new(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot, unsigned max_sessions);

/* Every key made by tc_hsm_pool_ec_key must be freed before, and the
 * threads that signed must have ended (or sign no more). */
void tc_hsm_pool_free(struct tc_hsm_pool *p);

/* After a recovery (hsm.h): sessions opened before are closed at their
 * thread's next signature instead of being reused (they may be dead
 * handles). */
void tc_hsm_pool_reset(struct tc_hsm_pool *p);

/* An EVP_PKEY signing with the EC private key whose public half is pub
 * (a software key) and whose token object has CKA_LABEL label and CKA_ID
 * id (exactly one such object). The key is copied
 * into a session object on session anchor when the token allows it.
 * NULL when pub is not an EC key, the object is not found, or memory ran
 * out: the caller then keeps libp11's key. */
EVP_PKEY *tc_hsm_pool_ec_key(struct tc_hsm_pool *p, CK_SESSION_HANDLE anchor, EVP_PKEY *pub, const char *label,
			     const unsigned char *id, size_t id_len);

/* Copies every key made by tc_hsm_pool_ec_key again on session anchor: the
 * session that held the copies was lost (the login was not). 0, or -1 when
 * a copy failed (that key then signs through its token object). */
int tc_hsm_pool_recopy(struct tc_hsm_pool *p, CK_SESSION_HANDLE anchor);

#endif
