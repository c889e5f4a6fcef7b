#include "signer/revocation.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/journal_format.h"
#include "common/key_label.h"
#include "signer/cert_sign.h"
#include "signer/journal_scan.h"

#define CRL_LIFETIME_S (24 * 3600)
#define MAX_SERIAL 20
#define MAX_LABEL 64

struct revoked {
	unsigned char serial[MAX_SERIAL];
	size_t len;
	int reason;
	time_t when;
	char issuer[MAX_LABEL]; /* key label; "": the configured intermediate */
};

/* The CRL last signed by one issuing intermediate: during a CA key
 * rollover each intermediate serves its own (signer/issuers.h). */
#define MAX_CRL_ISSUERS 4
struct crl_cached {
	const struct tc_hsm_key *issuer; /* NULL: free */
	unsigned char *crl;
	size_t crl_len;
	time_t crl_time;
	uint64_t number;
	int dirty;
};

struct tc_revocations {
	int fd;
	pthread_mutex_t lock;
	struct revoked *items;
	size_t count, cap;
	struct crl_cached cache[MAX_CRL_ISSUERS];
	uint64_t crl_number; /* the last one given to any issuer's CRL */
	char configured[MAX_LABEL]; /* "": records without an issuer go in every CRL */
};

static int push(struct tc_revocations *r, const struct revoked *v)
{
	if (r->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct revoked *n = realloc(r->items, cap * sizeof(*n));
		if (!n)
			return -1;
		r->items = n;
		r->cap = cap;
	}
	r->items[r->count++] = *v;
	return 0;
}

struct tc_revocations *tc_revocations_open(const char *path, char *err, size_t errlen)
{
	struct tc_revocations *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	FILE *f = r->fd >= 0 ? fdopen(dup(r->fd), "r") : NULL;
	if (!f) {
		snprintf(err, errlen, "revocations %s: %s", path, strerror(errno));
		tc_revocations_close(r);
		return NULL;
	}
	char line[256];
	unsigned lineno = 0;
	off_t valid = 0; /* bytes of complete records */
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char hex[2 * MAX_SERIAL + 1], label[MAX_LABEL] = "";
		long long when;
		int reason, fields;
		struct revoked v = {0};
		if (!strchr(line, '\n') && strlen(line) < sizeof(line) - 1 && feof(f)) {
			/* Torn last line (crash mid-write, never acknowledged): cut it,
			 * or the next record would be appended to it and the file
			 * would no longer load. */
			if (ftruncate(r->fd, valid) != 0) {
				snprintf(err, errlen, "revocations %s: cannot cut torn record: %s", path,
					 strerror(errno));
				fclose(f);
				tc_revocations_close(r);
				return NULL;
			}
			break;
		}
		/* "HEX REASON WHEN [ISSUER]": records before the issuer was
		 * recorded have three fields. */
		if (!strchr(line, '\n') || (fields = sscanf(line, "%40s %d %lld %63s", hex, &reason, &when, label)) < 3 ||
		    strlen(hex) % 2 || tc_hex_decode(hex, v.serial, strlen(hex) / 2) != 0 ||
		    (fields == 4 && !tc_key_label_ok(label, strlen(label)))) {
			snprintf(err, errlen, "revocations %s:%u: malformed record", path, lineno);
			fclose(f);
			tc_revocations_close(r);
			return NULL;
		}
		valid += (off_t)strlen(line);
		v.len = strlen(hex) / 2;
		v.reason = reason;
		v.when = (time_t)when;
		memcpy(v.issuer, label, sizeof(v.issuer));
		if (push(r, &v) != 0) {
			fclose(f);
			tc_revocations_close(r);
			return NULL;
		}
	}
	fclose(f);
	return r;
}

void tc_revocations_close(struct tc_revocations *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->items);
	for (int i = 0; i < MAX_CRL_ISSUERS; i++)
		free(r->cache[i].crl);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void tc_revocations_set_configured_issuer(struct tc_revocations *r, const char *label)
{
	pthread_mutex_lock(&r->lock);
	snprintf(r->configured, sizeof(r->configured), "%s", tc_key_label_ok(label, strlen(label)) ? label : "");
	for (int i = 0; i < MAX_CRL_ISSUERS; i++)
		r->cache[i].dirty = 1;
	pthread_mutex_unlock(&r->lock);
}

int tc_revocations_add(struct tc_revocations *r, const unsigned char *serial, size_t len,
		       int reason, time_t *when, char *err, size_t errlen)
{
	return tc_revocations_add_by(r, serial, len, reason, "", when, err, errlen);
}

int tc_revocations_add_by(struct tc_revocations *r, const unsigned char *serial, size_t len, int reason,
			  const char *issuer, time_t *when, char *err, size_t errlen)
{
	if (len == 0 || len > MAX_SERIAL) {
		snprintf(err, errlen, "serial must be 1..%d bytes", MAX_SERIAL);
		return -1;
	}
	if (reason < 0 || reason > 10 || reason == 7) {
		snprintf(err, errlen, "reason %d is not an RFC 5280 CRLReason", reason);
		return -1;
	}
	if (!issuer || (issuer[0] && !tc_key_label_ok(issuer, strlen(issuer)))) {
		snprintf(err, errlen, "issuer is not a key label");
		return -1;
	}
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->count; i++) {
		if (r->items[i].len == len && memcmp(r->items[i].serial, serial, len) == 0) {
			*when = r->items[i].when;
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
	}
	struct revoked v = {.len = len, .reason = reason, .when = time(NULL)};
	memcpy(v.serial, serial, len);
	snprintf(v.issuer, sizeof(v.issuer), "%s", issuer);
	char hex[2 * MAX_SERIAL + 1], line[192];
	tc_hex_encode(serial, len, hex);
	int n = snprintf(line, sizeof(line), "%s %d %lld%s%s\n", hex, reason, (long long)v.when, issuer[0] ? " " : "",
			 issuer);
	int ok = write(r->fd, line, (size_t)n) == n && fdatasync(r->fd) == 0 && push(r, &v) == 0;
	if (ok) {
		for (int i = 0; i < MAX_CRL_ISSUERS; i++)
			r->cache[i].dirty = 1;
		*when = v.when;
	} else {
		snprintf(err, errlen, "cannot persist the revocation: %s", strerror(errno));
	}
	pthread_mutex_unlock(&r->lock);
	return ok ? 0 : -1;
}

static int build_crl(struct tc_revocations *r, struct crl_cached *c, const struct tc_hsm_key *issuer, time_t now,
		     char *err, size_t errlen)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_set(NULL, now), *next = ASN1_TIME_set(NULL, now + CRL_LIFETIME_S);
	/* CRL numbers must increase; the time in seconds does, across restarts too. */
	uint64_t number = (uint64_t)now > r->crl_number ? (uint64_t)now : r->crl_number + 1;
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	int ok = crl && last && next && num && X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
		 X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer->cert)) &&
		 X509_CRL_set1_lastUpdate(crl, last) && X509_CRL_set1_nextUpdate(crl, next) &&
		 ASN1_INTEGER_set_uint64(num, number) &&
		 X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
	const ASN1_OCTET_STRING *iski = X509_get0_subject_key_id(issuer->cert);
	if (ok && iski) {
		AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
		ok = akid && (akid->keyid = ASN1_OCTET_STRING_dup(iski)) &&
		     X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) == 1;
		AUTHORITY_KEYID_free(akid);
	}
	for (size_t i = 0; ok && i < r->count; i++) {
		/* Only what this intermediate signed: another's serial in its CRL
		 * would say nothing true (RFC 5280 5.1.2.6). */
		const char *by = r->items[i].issuer[0] ? r->items[i].issuer : r->configured;
		if (by[0] && strcmp(by, issuer->label) != 0)
			continue;
		X509_REVOKED *rev = X509_REVOKED_new();
		BIGNUM *bn = BN_bin2bn(r->items[i].serial, (int)r->items[i].len, NULL);
		ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
		ASN1_TIME *t = ASN1_TIME_set(NULL, r->items[i].when);
		ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
		ok = rev && sn && t && reason && X509_REVOKED_set_serialNumber(rev, sn) &&
		     X509_REVOKED_set_revocationDate(rev, t) &&
		     ASN1_ENUMERATED_set(reason, r->items[i].reason) &&
		     X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0) == 1 &&
		     X509_CRL_add0_revoked(crl, rev) == 1;
		if (ok)
			rev = NULL; /* owned by the CRL now */
		X509_REVOKED_free(rev);
		BN_free(bn);
		ASN1_INTEGER_free(sn);
		ASN1_TIME_free(t);
		ASN1_ENUMERATED_free(reason);
	}
	ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, issuer->priv, tc_digest_for_key(issuer->priv)) > 0;
	unsigned char *der = NULL;
	int len = ok ? i2d_X509_CRL(crl, &der) : -1;
	X509_CRL_free(crl);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(num);
	if (len <= 0) {
		snprintf(err, errlen, "cannot build or sign the CRL");
		return -1;
	}
	free(c->crl);
	c->crl = malloc((size_t)len);
	if (!c->crl) {
		OPENSSL_free(der);
		return -1;
	}
	memcpy(c->crl, der, (size_t)len);
	OPENSSL_free(der);
	c->crl_len = (size_t)len;
	c->crl_time = now;
	c->number = number;
	r->crl_number = number;
	c->dirty = 0;
	return 0;
}

int tc_revocations_crl(struct tc_revocations *r, const struct tc_hsm_key *issuer,
		       unsigned char **der, size_t *der_len, uint64_t *crl_number, char *err,
		       size_t errlen)
{
	pthread_mutex_lock(&r->lock);
	time_t now = time(NULL);
	int rc = 0;
	struct crl_cached *c = NULL;
	for (int i = 0; i < MAX_CRL_ISSUERS && !c; i++)
		if (r->cache[i].issuer == issuer || !r->cache[i].issuer)
			c = &r->cache[i];
	if (!c) {
		snprintf(err, errlen, "more than %d CRL issuers", MAX_CRL_ISSUERS);
		rc = -1;
	} else if (!c->issuer) {
		c->issuer = issuer;
		c->dirty = 1;
	}
	if (rc == 0 && (c->dirty || !c->crl || now - c->crl_time > CRL_LIFETIME_S / 2))
		rc = build_crl(r, c, issuer, now, err, errlen);
	if (rc == 0) {
		*der = malloc(c->crl_len);
		if (*der) {
			memcpy(*der, c->crl, c->crl_len);
			*der_len = c->crl_len;
			*crl_number = c->number;
		} else {
			rc = -1;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

struct issuer_find {
	const char *hex;
	char *label;
	size_t cap;
};

static int issuer_record(json_t *rec, void *arg)
{
	struct issuer_find *q = arg;
	const char *key = json_string_value(json_object_get(rec, "key"));
	const char *result = json_string_value(json_object_get(rec, "result"));
	const char *detail = json_string_value(json_object_get(rec, "detail"));
	if (!key || !result || !detail || strcmp(result, "ok") != 0 || !tc_key_label_ok(key, strlen(key)) ||
	    strlen(key) >= q->cap || strncmp(detail, "serial ", 7) != 0 || strcasecmp(detail + 7, q->hex) != 0)
		return 0;
	snprintf(q->label, q->cap, "%s", key);
	return 1;
}

int tc_revocations_issuer_from_journal(const char *path, const unsigned char *serial, size_t len, char *label,
				       size_t cap)
{
	if (len == 0 || len > MAX_SERIAL)
		return -1;
	char hex[2 * MAX_SERIAL + 1], want[2 * MAX_SERIAL + 32];
	tc_hex_encode(serial, len, hex);
	snprintf(want, sizeof(want), "\"detail\":\"serial %s\"", hex);
	struct issuer_find q = {.hex = hex, .label = label, .cap = cap};
	return tc_journal_scan(path, want, issuer_record, &q) == 1 ? 0 : -1;
}
