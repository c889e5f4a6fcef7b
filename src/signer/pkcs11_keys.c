#include "signer/pkcs11_keys.h"

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

struct tc_p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
};

/* DER OIDs of the named curves, as CKA_EC_PARAMS wants them. */
static const unsigned char OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char OID_P384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

struct tc_p11 *tc_p11_load(const char *module, char *err, size_t errlen)
{
	struct tc_p11 *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		snprintf(err, errlen, "cannot load PKCS#11 module %s: %s", module, dlerror());
		free(p);
		return NULL;
	}
	CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(p->dl, "C_GetFunctionList");
	if (!gfl || gfl(&p->f) != CKR_OK) {
		snprintf(err, errlen, "%s is not a PKCS#11 module", module);
		dlclose(p->dl);
		free(p);
		return NULL;
	}
	CK_RV rv = p->f->C_Initialize(NULL);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		snprintf(err, errlen, "C_Initialize failed: 0x%lx", (unsigned long)rv);
		dlclose(p->dl);
		free(p);
		return NULL;
	}
	return p;
}

void tc_p11_unload(struct tc_p11 *p)
{
	if (!p)
		return;
	p->f->C_Finalize(NULL);
	dlclose(p->dl);
	free(p);
}

static void pad_label(CK_UTF8CHAR out[32], const char *label)
{
	memset(out, ' ', 32);
	size_t n = strlen(label);
	memcpy(out, label, n > 32 ? 32 : n);
}

/* Finds the slot whose initialised token carries label; -1 if none. */
static int find_slot(struct tc_p11 *p, const char *label, CK_SLOT_ID *slot)
{
	CK_ULONG n = 0;
	if (p->f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0)
		return -1;
	CK_SLOT_ID *ids = calloc(n, sizeof(*ids));
	if (!ids || p->f->C_GetSlotList(CK_TRUE, ids, &n) != CKR_OK) {
		free(ids);
		return -1;
	}
	CK_UTF8CHAR want[32];
	pad_label(want, label);
	int found = -1;
	for (CK_ULONG i = 0; i < n && found < 0; i++) {
		CK_TOKEN_INFO ti;
		if (p->f->C_GetTokenInfo(ids[i], &ti) == CKR_OK && (ti.flags & CKF_TOKEN_INITIALIZED) &&
		    memcmp(ti.label, want, 32) == 0) {
			*slot = ids[i];
			found = 0;
		}
	}
	free(ids);
	return found;
}

int tc_p11_token_exists(struct tc_p11 *p, const char *label)
{
	CK_SLOT_ID s;
	return find_slot(p, label, &s) == 0;
}

int tc_p11_init_token(struct tc_p11 *p, const char *label, const char *so_pin,
		      const char *user_pin, char *err, size_t errlen)
{
	CK_ULONG n = 0;
	CK_SLOT_ID free_slot = 0;
	int have_free = 0;
	if (p->f->C_GetSlotList(CK_TRUE, NULL, &n) == CKR_OK && n) {
		CK_SLOT_ID *ids = calloc(n, sizeof(*ids));
		if (ids && p->f->C_GetSlotList(CK_TRUE, ids, &n) == CKR_OK) {
			for (CK_ULONG i = 0; i < n && !have_free; i++) {
				CK_TOKEN_INFO ti;
				if (p->f->C_GetTokenInfo(ids[i], &ti) == CKR_OK &&
				    !(ti.flags & CKF_TOKEN_INITIALIZED)) {
					free_slot = ids[i];
					have_free = 1;
				}
			}
		}
		free(ids);
	}
	if (!have_free) {
		snprintf(err, errlen, "no free slot to initialise a token in");
		return -1;
	}
	CK_UTF8CHAR lab[32];
	pad_label(lab, label);
	CK_RV rv = p->f->C_InitToken(free_slot, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin), lab);
	if (rv != CKR_OK) {
		snprintf(err, errlen, "C_InitToken failed: 0x%lx", (unsigned long)rv);
		return -1;
	}
	/* SoftHSM moves an initialised token to a new slot id: look it up again. */
	CK_SLOT_ID slot;
	if (find_slot(p, label, &slot) != 0) {
		snprintf(err, errlen, "token '%s' not found after initialisation", label);
		return -1;
	}
	CK_SESSION_HANDLE s;
	rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv == CKR_OK)
		rv = p->f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin));
	if (rv == CKR_OK)
		rv = p->f->C_InitPIN(s, (CK_UTF8CHAR_PTR)user_pin, strlen(user_pin));
	if (rv != CKR_OK) {
		snprintf(err, errlen, "setting the user PIN failed: 0x%lx", (unsigned long)rv);
		p->f->C_CloseSession(s);
		return -1;
	}
	p->f->C_Logout(s);
	p->f->C_CloseSession(s);
	return 0;
}

static int open_user_session(struct tc_p11 *p, const char *token_label, const char *pin,
			     CK_SESSION_HANDLE *s, char *err, size_t errlen)
{
	CK_SLOT_ID slot;
	if (find_slot(p, token_label, &slot) != 0) {
		snprintf(err, errlen, "no token labelled '%s'", token_label);
		return -1;
	}
	CK_RV rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, s);
	if (rv != CKR_OK) {
		snprintf(err, errlen, "C_OpenSession failed: 0x%lx", (unsigned long)rv);
		return -1;
	}
	rv = p->f->C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		snprintf(err, errlen, "login to token '%s' failed: 0x%lx", token_label, (unsigned long)rv);
		p->f->C_CloseSession(*s);
		return -1;
	}
	return 0;
}

static int label_in_use(struct tc_p11 *p, CK_SESSION_HANDLE s, const char *label)
{
	CK_ATTRIBUTE tmpl[] = {{CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE obj;
	CK_ULONG found = 0;
	if (p->f->C_FindObjectsInit(s, tmpl, 1) != CKR_OK)
		return 1; /* be conservative */
	p->f->C_FindObjects(s, &obj, 1, &found);
	p->f->C_FindObjectsFinal(s);
	return found > 0;
}

int tc_p11_generate_ec(struct tc_p11 *p, const char *token_label, const char *pin,
		       const char *label, const char *curve, unsigned char id[16], char *err,
		       size_t errlen)
{
	const unsigned char *oid;
	size_t oid_len;
	if (strcmp(curve, "P-256") == 0) {
		oid = OID_P256;
		oid_len = sizeof(OID_P256);
	} else if (strcmp(curve, "P-384") == 0) {
		oid = OID_P384;
		oid_len = sizeof(OID_P384);
	} else {
		snprintf(err, errlen, "unsupported curve %s", curve);
		return -1;
	}
	CK_SESSION_HANDLE s;
	if (open_user_session(p, token_label, pin, &s, err, errlen) != 0)
		return -1;
	int rc = -1;
	if (label_in_use(p, s, label)) {
		snprintf(err, errlen, "a key labelled '%s' exists already", label);
		goto out;
	}
	if (p->f->C_GenerateRandom(s, id, 16) != CKR_OK) {
		snprintf(err, errlen, "C_GenerateRandom failed");
		goto out;
	}
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_KEY_TYPE kt = CKK_EC;
	CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY, privc = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE pub[] = {
	    {CKA_CLASS, &pubc, sizeof(pubc)},       {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_TOKEN, &yes, sizeof(yes)},         {CKA_VERIFY, &yes, sizeof(yes)},
	    {CKA_EC_PARAMS, (void *)oid, oid_len},  {CKA_LABEL, (void *)label, strlen(label)},
	    {CKA_ID, id, 16},
	};
	CK_ATTRIBUTE priv[] = {
	    {CKA_CLASS, &privc, sizeof(privc)},     {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_TOKEN, &yes, sizeof(yes)},         {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_SENSITIVE, &yes, sizeof(yes)},     {CKA_EXTRACTABLE, &no, sizeof(no)},
	    {CKA_SIGN, &yes, sizeof(yes)},          {CKA_DERIVE, &no, sizeof(no)},
	    {CKA_LABEL, (void *)label, strlen(label)}, {CKA_ID, id, 16},
	};
	CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_RV rv = p->f->C_GenerateKeyPair(s, &mech, pub, sizeof(pub) / sizeof(pub[0]), priv,
					   sizeof(priv) / sizeof(priv[0]), &hpub, &hpriv);
	if (rv != CKR_OK) {
		snprintf(err, errlen, "C_GenerateKeyPair(%s) failed: 0x%lx", label, (unsigned long)rv);
		goto out;
	}
	rc = 0;
out:
	p->f->C_Logout(s);
	p->f->C_CloseSession(s);
	return rc;
}

static int bool_attr(struct tc_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t)
{
	CK_BBOOL v = 0;
	CK_ATTRIBUTE a = {t, &v, sizeof(v)};
	if (p->f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK)
		return -1;
	return v ? 1 : 0;
}

int tc_p11_list_objects(struct tc_p11 *p, const char *token_label, const char *pin,
			struct tc_p11_object_info *out, int max, char *err, size_t errlen)
{
	CK_SESSION_HANDLE s;
	if (open_user_session(p, token_label, pin, &s, err, errlen) != 0)
		return -1;
	int count = 0;
	if (p->f->C_FindObjectsInit(s, NULL, 0) != CKR_OK) {
		snprintf(err, errlen, "C_FindObjectsInit failed");
		count = -1;
		goto out;
	}
	CK_OBJECT_HANDLE objs[64];
	CK_ULONG n = 0;
	p->f->C_FindObjects(s, objs, 64, &n);
	p->f->C_FindObjectsFinal(s);
	for (CK_ULONG i = 0; i < n && count < max; i++) {
		struct tc_p11_object_info *info = &out[count++];
		memset(info, 0, sizeof(*info));
		CK_OBJECT_CLASS cls = 0;
		CK_KEY_TYPE kt = (CK_KEY_TYPE)-1;
		unsigned char id[64];
		CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof(cls)},
				    {CKA_LABEL, info->label, sizeof(info->label) - 1},
				    {CKA_ID, id, sizeof(id)}};
		p->f->C_GetAttributeValue(s, objs[i], a, 3);
		if (a[1].ulValueLen == CK_UNAVAILABLE_INFORMATION)
			info->label[0] = '\0';
		const char *cn = cls == CKO_PRIVATE_KEY ? "private"
				 : cls == CKO_PUBLIC_KEY ? "public"
				 : cls == CKO_CERTIFICATE ? "certificate" : "other";
		snprintf(info->klass, sizeof(info->klass), "%s", cn);
		if (a[2].ulValueLen != CK_UNAVAILABLE_INFORMATION)
			tc_hex_encode(id, a[2].ulValueLen < sizeof(id) ? a[2].ulValueLen : sizeof(id),
				      info->id_hex);
		info->sensitive = info->extractable = info->always_sensitive = info->never_extractable = -1;
		if (cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY) {
			CK_ATTRIBUTE ka = {CKA_KEY_TYPE, &kt, sizeof(kt)};
			p->f->C_GetAttributeValue(s, objs[i], &ka, 1);
			snprintf(info->key_type, sizeof(info->key_type), "%s",
				 kt == CKK_EC ? "EC" : kt == CKK_RSA ? "RSA" : "?");
		}
		if (cls == CKO_PRIVATE_KEY) {
			info->sensitive = bool_attr(p, s, objs[i], CKA_SENSITIVE);
			info->extractable = bool_attr(p, s, objs[i], CKA_EXTRACTABLE);
			info->always_sensitive = bool_attr(p, s, objs[i], CKA_ALWAYS_SENSITIVE);
			info->never_extractable = bool_attr(p, s, objs[i], CKA_NEVER_EXTRACTABLE);
		}
	}
out:
	p->f->C_Logout(s);
	p->f->C_CloseSession(s);
	return count;
}
