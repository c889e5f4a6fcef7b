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

#include "common/errorf.h"
#include "common/hex.h"
#include "common/journal_format.h"
#include "common/key_label.h"
#include "common/log.h"
#include "signer/cert_sign.h"
#include "signer/crl_der.h"
#include "signer/lint.h"
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
	struct tc_issuer signing;        /* issuer's name, AKI and algorithm, set up at first use */
	int signing_ready;
	/* The encoded revokedCertificates entries of items[0..encoded) that
	 * this issuer lists (signer/crl_der.h): a re-signing encodes only the
	 * records added since. */
	struct tc_der_writer entries;
	size_t encoded;
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

static void forget_entries(struct crl_cached *c)
{
	tc_der_writer_free(&c->entries);
	c->encoded = 0;
	c->dirty = 1;
}

static void forget_crl(struct crl_cached *c)
{
	forget_entries(c);
	free(c->crl);
	if (c->signing_ready)
		tc_issuer_fini(&c->signing);
}

void tc_revocations_close(struct tc_revocations *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->items);
	for (int i = 0; i < MAX_CRL_ISSUERS; i++)
		forget_crl(&r->cache[i]);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void tc_revocations_set_configured_issuer(struct tc_revocations *r, const char *label)
{
	pthread_mutex_lock(&r->lock);
	snprintf(r->configured, sizeof(r->configured), "%s", tc_key_label_ok(label, strlen(label)) ? label : "");
	for (int i = 0; i < MAX_CRL_ISSUERS; i++)
		forget_entries(&r->cache[i]); /* which CRL lists a record without issuer changed */
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

/* Encodes the records added since the last CRL of c that its issuer lists. */
static int encode_new_entries(struct tc_revocations *r, struct crl_cached *c, char *err, size_t errlen)
{
	for (; c->encoded < r->count; c->encoded++) {
		const struct revoked *v = &r->items[c->encoded];
		/* Only what this intermediate signed: another's serial in its CRL
		 * would say nothing true (RFC 5280 5.1.2.6). */
		const char *by = v->issuer[0] ? v->issuer : r->configured;
		if (by[0] && strcmp(by, c->issuer->label) != 0)
			continue;
		int rc = tc_crl_entry_append(&c->entries, v->serial, v->len, v->when, v->reason);
		if (rc < 0) {
			forget_entries(c);
			return tc_errorf(err, errlen, "cannot encode the CRL's entries");
		}
		if (rc > 0) { /* recorded before such serials were refused, or damaged */
			char hex[2 * MAX_SERIAL + 1];
			tc_hex_encode(v->serial, v->len, hex);
			tc_warn("revocations: the record of serial %s (time %lld) cannot be a CRL entry; "
				"the CRL leaves it out", hex, (long long)v->when);
		}
	}
	return 0;
}

static int build_crl(struct tc_revocations *r, struct crl_cached *c, time_t now, char *err, size_t errlen)
{
	if (!c->signing_ready) {
		if (tc_issuer_init(&c->signing, c->issuer, err, errlen) != 0)
			return -1;
		c->signing_ready = 1;
	}
	if (encode_new_entries(r, c, err, errlen) != 0)
		return -1;
	/* CRL numbers must increase; the time in seconds does, across restarts too. */
	uint64_t number = (uint64_t)now > r->crl_number ? (uint64_t)now : r->crl_number + 1;
	uint8_t *tbs;
	size_t tbs_len;
	if (tc_crl_tbs(&c->signing, now, now + CRL_LIFETIME_S, number, c->entries.buf, c->entries.len, &tbs,
		       &tbs_len) != 0)
		return tc_errorf(err, errlen, "cannot encode the CRL: out of memory");
	/* What the signer signs it lints first, its own CRL included. */
	struct tc_lint_issuer li = {.sig_alg = c->signing.alg,
				    .sig_alg_len = c->signing.alg_len,
				    .name = c->signing.name,
				    .name_len = c->signing.name_len,
				    .key_id = c->signing.key_id_len ? c->signing.key_id : NULL,
				    .key_id_len = c->signing.key_id_len};
	struct tc_lint_result lint;
	if (tc_lint_crl_tbs(tbs, tbs_len, &li, &lint) != 0) {
		free(tbs);
		return tc_errorf(err, errlen, "CRL refused by lint %s: %s", lint.lint, lint.detail);
	}
	unsigned char *der;
	size_t der_len;
	if (tc_issuer_sign_tbs(tbs, tbs_len, &c->signing, "sign_crl", &der, &der_len, err, errlen) != 0)
		return -1;
	free(c->crl);
	c->crl = der;
	c->crl_len = der_len;
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
		rc = build_crl(r, c, now, err, errlen);
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
