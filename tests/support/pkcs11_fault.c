/* A PKCS#11 module that wraps a real one (SoftHSM by default) and injects
 * the faults a hardware HSM shows: errors of the device, sessions that
 * vanish, the token pulled out, and latency. Configure the signer with
 * hsm.module = this library (libtc_pkcs11_fault.so); the rest of the token
 * (slots, keys, PIN) is the real module's.
 *
 * Settings, read from the control file named by TC_FAULT_CONTROL (re-read
 * whenever it changes, so a test can switch faults on and off while the
 * server runs; a missing file means no faults) or, without one, from the
 * environment variables of the same names:
 *   TC_FAULT_KIND=off|device|session|token
 *     device:  a signing call (C_SignInit, C_Sign, C_GenerateRandom,
 *              C_FindObjectsInit) fails CKR_DEVICE_ERROR with TC_FAULT_RATE;
 *     session: such a call fails CKR_SESSION_HANDLE_INVALID with
 *              TC_FAULT_RATE, and the session is really closed in the
 *              wrapped module (as when an HSM drops it): it stays invalid;
 *     token:   the token is removed: every session of the wrapped module is
 *              closed (login state lost), and every call naming a slot or a
 *              session fails CKR_TOKEN_NOT_PRESENT / CKR_SESSION_HANDLE_INVALID
 *              until the kind changes (the token is back, logged out).
 *   TC_FAULT_RATE=0..1     probability per call (device, session; default 1)
 *   TC_FAULT_LATENCY_MS=N  added to every C_Sign and C_SignFinal (any kind)
 * The control file holds the same as lines "KEY=value" (KIND=..., RATE=...,
 * LATENCY_MS=...). TC_FAULT_MODULE names the wrapped module. Every fault
 * injected is counted in TC_FAULT_COUNT_FILE when set (one line each:
 * "<kind> <function>"), so a test knows faults really happened. */
#include <dlfcn.h>
#include <errno.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

enum kind { K_OFF, K_DEVICE, K_SESSION, K_TOKEN };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static CK_FUNCTION_LIST real_copy, ours;
static CK_FUNCTION_LIST_PTR real;
static void *real_dl;
static enum kind kind;
static double rate = 1.0;
static unsigned latency_ms;
static struct timespec ctl_mtime;
static off_t ctl_size = -1;
static uint64_t rng = 0x2545f4914f6cdd1dull;
static int removed; /* the token is out (kind token active) */

static enum kind parse_kind(const char *v)
{
	if (strncmp(v, "device", 6) == 0)
		return K_DEVICE;
	if (strncmp(v, "session", 7) == 0)
		return K_SESSION;
	if (strncmp(v, "token", 5) == 0)
		return K_TOKEN;
	return K_OFF;
}

static void set(const char *key, const char *val)
{
	if (strcmp(key, "KIND") == 0 || strcmp(key, "TC_FAULT_KIND") == 0)
		kind = parse_kind(val);
	else if (strcmp(key, "RATE") == 0 || strcmp(key, "TC_FAULT_RATE") == 0)
		rate = strtod(val, NULL);
	else if (strcmp(key, "LATENCY_MS") == 0 || strcmp(key, "TC_FAULT_LATENCY_MS") == 0)
		latency_ms = (unsigned)strtoul(val, NULL, 10);
}

/* Closes every session of the wrapped module: what pulling the token out
 * does to a real HSM's sessions and login state. */
static void remove_token(void)
{
	CK_ULONG n = 0;
	if (real->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0)
		return;
	CK_SLOT_ID *ids = calloc(n, sizeof(*ids));
	if (ids && real->C_GetSlotList(CK_TRUE, ids, &n) == CKR_OK)
		for (CK_ULONG i = 0; i < n; i++)
			real->C_CloseAllSessions(ids[i]);
	free(ids);
}

/* Re-reads the settings when the control file changed. Call with lock held. */
static void refresh(void)
{
	const char *path = getenv("TC_FAULT_CONTROL");
	if (!path)
		return;
	struct stat st;
	if (stat(path, &st) != 0) {
		if (ctl_size != -1) { /* removed: faults off */
			ctl_size = -1;
			kind = K_OFF;
			latency_ms = 0;
		}
	} else if (st.st_size != ctl_size || st.st_mtim.tv_sec != ctl_mtime.tv_sec ||
		   st.st_mtim.tv_nsec != ctl_mtime.tv_nsec) {
		ctl_size = st.st_size;
		ctl_mtime = st.st_mtim;
		kind = K_OFF;
		rate = 1.0;
		latency_ms = 0;
		FILE *f = fopen(path, "r");
		char line[128];
		while (f && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\r\n")] = '\0';
			char *eq = strchr(line, '=');
			if (eq) {
				*eq = '\0';
				set(line, eq + 1);
			}
		}
		if (f)
			fclose(f);
	}
	if (kind == K_TOKEN && !removed) {
		removed = 1;
		remove_token();
	} else if (kind != K_TOKEN) {
		removed = 0;
	}
}

static void count(const char *what, const char *fn)
{
	const char *path = getenv("TC_FAULT_COUNT_FILE");
	FILE *f = path ? fopen(path, "a") : NULL;
	if (f) {
		fprintf(f, "%s %s\n", what, fn);
		fclose(f);
	}
}

static int roll(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0 < rate;
}

/* The fault for a call (CKR_OK: none). session is closed for real when it
 * is declared invalid. */
static CK_RV fault(const char *fn, int has_session, CK_SESSION_HANDLE session, int signing)
{
	pthread_mutex_lock(&lock);
	refresh();
	CK_RV rv = CKR_OK;
	const char *what = NULL;
	if (removed) {
		rv = has_session ? CKR_SESSION_HANDLE_INVALID : CKR_TOKEN_NOT_PRESENT;
		what = "token";
	} else if (signing && kind == K_DEVICE && roll()) {
		rv = CKR_DEVICE_ERROR;
		what = "device";
	} else if (signing && kind == K_SESSION && has_session && roll()) {
		real->C_CloseSession(session);
		rv = CKR_SESSION_HANDLE_INVALID;
		what = "session";
	}
	pthread_mutex_unlock(&lock);
	if (what)
		count(what, fn);
	return rv;
}

static void delay(void)
{
	pthread_mutex_lock(&lock);
	unsigned ms = latency_ms;
	pthread_mutex_unlock(&lock);
	if (ms) {
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

#define CHECK(fn, has_session, session, signing)                     \
	do {                                                            \
		CK_RV frv_ = fault(fn, has_session, session, signing); \
		if (frv_ != CKR_OK)                                     \
			return frv_;                                    \
	} while (0)

static CK_RV w_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
			   CK_SESSION_HANDLE_PTR s)
{
	CHECK("C_OpenSession", 0, 0, 0);
	return real->C_OpenSession(slot, flags, app, notify, s);
}

static CK_RV w_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CHECK("C_GetTokenInfo", 0, 0, 0);
	return real->C_GetTokenInfo(slot, info);
}

static CK_RV w_Login(CK_SESSION_HANDLE s, CK_USER_TYPE type, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	CHECK("C_Login", 1, s, 0);
	return real->C_Login(s, type, pin, len);
}

static CK_RV w_GetSessionInfo(CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR info)
{
	CHECK("C_GetSessionInfo", 1, s, 0);
	return real->C_GetSessionInfo(s, info);
}

static CK_RV w_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	CHECK("C_FindObjectsInit", 1, s, 1);
	return real->C_FindObjectsInit(s, t, n);
}

static CK_RV w_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	CHECK("C_GetAttributeValue", 1, s, 0);
	return real->C_GetAttributeValue(s, o, t, n);
}

static CK_RV w_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	CHECK("C_SignInit", 1, s, 1);
	return real->C_SignInit(s, m, k);
}

/* A failed C_Sign / C_SignUpdate / C_SignFinal ends the signing operation
 * (PKCS#11 2.40, 5.12): the wrapped module's operation is finished into a
 * scratch buffer, so the session is free again as after a real device
 * error. A dropped session or a removed token has no operation left. */
static void end_operation(CK_SESSION_HANDLE s, int final, CK_BYTE_PTR d, CK_ULONG dl)
{
	CK_BYTE scratch[2048];
	CK_ULONG len = sizeof(scratch);
	if (final)
		real->C_SignFinal(s, scratch, &len);
	else
		real->C_Sign(s, d, dl, scratch, &len);
}

static CK_RV w_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig, CK_ULONG_PTR sl)
{
	CK_RV rv = fault("C_Sign", 1, s, 1);
	if (rv == CKR_DEVICE_ERROR)
		end_operation(s, 0, d, dl);
	if (rv != CKR_OK)
		return rv;
	if (sig)
		delay(); /* the length query is not a signature */
	return real->C_Sign(s, d, dl, sig, sl);
}

static CK_RV w_SignUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl)
{
	CK_RV rv = fault("C_SignUpdate", 1, s, 1);
	if (rv == CKR_DEVICE_ERROR)
		end_operation(s, 1, NULL, 0);
	return rv != CKR_OK ? rv : real->C_SignUpdate(s, d, dl);
}

static CK_RV w_SignFinal(CK_SESSION_HANDLE s, CK_BYTE_PTR sig, CK_ULONG_PTR sl)
{
	CK_RV rv = fault("C_SignFinal", 1, s, 1);
	if (rv == CKR_DEVICE_ERROR)
		end_operation(s, 1, NULL, 0);
	if (rv != CKR_OK)
		return rv;
	if (sig)
		delay();
	return real->C_SignFinal(s, sig, sl);
}

static CK_RV w_GenerateRandom(CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG n)
{
	CHECK("C_GenerateRandom", 1, s, 1);
	return real->C_GenerateRandom(s, out, n);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (!list)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&lock);
	if (!real) {
		const char *module = getenv("TC_FAULT_MODULE");
		if (!module || !*module)
			module = DEFAULT_MODULE;
		real_dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
		CK_C_GetFunctionList gfl = real_dl ? (CK_C_GetFunctionList)dlsym(real_dl, "C_GetFunctionList") : NULL;
		CK_FUNCTION_LIST_PTR fl = NULL;
		if (!gfl || gfl(&fl) != CKR_OK || !fl) {
			fprintf(stderr, "pkcs11_fault: cannot load the wrapped module %s: %s\n", module,
				real_dl ? "no C_GetFunctionList" : dlerror());
			pthread_mutex_unlock(&lock);
			return CKR_GENERAL_ERROR;
		}
		real_copy = *fl;
		real = &real_copy;
		/* Settings from the environment; the control file, when named,
		 * overrides them at every call. */
		const char *v;
		if ((v = getenv("TC_FAULT_KIND")))
			set("KIND", v);
		if ((v = getenv("TC_FAULT_RATE")))
			set("RATE", v);
		if ((v = getenv("TC_FAULT_LATENCY_MS")))
			set("LATENCY_MS", v);
		rng ^= (uint64_t)getpid() << 17;
		ours = real_copy;
		ours.C_GetFunctionList = C_GetFunctionList;
		ours.C_OpenSession = w_OpenSession;
		ours.C_GetTokenInfo = w_GetTokenInfo;
		ours.C_Login = w_Login;
		ours.C_GetSessionInfo = w_GetSessionInfo;
		ours.C_FindObjectsInit = w_FindObjectsInit;
		ours.C_GetAttributeValue = w_GetAttributeValue;
		ours.C_SignInit = w_SignInit;
		ours.C_Sign = w_Sign;
		ours.C_SignUpdate = w_SignUpdate;
		ours.C_SignFinal = w_SignFinal;
		ours.C_GenerateRandom = w_GenerateRandom;
	}
	pthread_mutex_unlock(&lock);
	*list = &ours;
	return CKR_OK;
}
