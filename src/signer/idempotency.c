/* Idempotent issuance records (idempotency.h). A fixed array searched by a
 * 64-bit hash of (peer, key): a few thousand records, looked up twice per
 * keyed issuance, cost microseconds and bound memory without a second
 * allocator. */
#include "signer/idempotency.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/cert_der.h"
#include "common/hex.h"
#include "signer/journal_scan.h"
#include "signer/tbs_template.h"

enum { IDLE = 0, PRECERT_IN_FLIGHT = 1, FINAL_IN_FLIGHT = 2 };

struct rec {
	int used;
	int busy;
	uint64_t hash;
	char peer[32];
	uint8_t key[TC_IDEM_KEY_MAX];
	size_t key_len;
	unsigned char digest[32];
	unsigned char serial[16];
	uint8_t *tmpl, *precert, *final;
	size_t tmpl_len, precert_len, final_len;
	time_t created;
	uint64_t stamp;
};

struct tc_idem {
	pthread_mutex_t lock;
	struct rec *recs;
	size_t n;
	uint32_t ttl_s;
	uint64_t stamp;
};

struct tc_idem *tc_idem_new(size_t max_records, uint32_t ttl_s)
{
	struct tc_idem *t = calloc(1, sizeof(*t));
	if (!t || !(t->recs = calloc(max_records ? max_records : 1, sizeof(struct rec)))) {
		free(t);
		return NULL;
	}
	t->n = max_records ? max_records : 1;
	t->ttl_s = ttl_s;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

static void rec_clear(struct rec *r)
{
	free(r->tmpl);
	free(r->precert);
	free(r->final);
	memset(r, 0, sizeof(*r));
}

void tc_idem_free(struct tc_idem *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		rec_clear(&t->recs[i]);
	free(t->recs);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static uint64_t key_hash(const char *peer, const uint8_t *key, size_t key_len)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = peer; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (size_t i = 0; i < key_len; i++)
		h = (h ^ key[i]) * 1099511628211ull;
	return h;
}

static int expired(const struct tc_idem *t, const struct rec *r, time_t now)
{
	return r->busy == IDLE && (now < r->created || now - r->created >= (time_t)t->ttl_s);
}

/* The live record of (peer, key), or NULL. An expired one is dropped. */
static struct rec *find(struct tc_idem *t, const char *peer, const uint8_t *key, size_t key_len, time_t now)
{
	uint64_t h = key_hash(peer, key, key_len);
	for (size_t i = 0; i < t->n; i++) {
		struct rec *r = &t->recs[i];
		if (!r->used || r->hash != h || r->key_len != key_len || memcmp(r->key, key, key_len) != 0 ||
		    strcmp(r->peer, peer) != 0)
			continue;
		if (expired(t, r, now)) {
			rec_clear(r);
			return NULL;
		}
		return r;
	}
	return NULL;
}

/* A free record: an unused or expired one, else the oldest idle one (the
 * bound on memory wins over keeping a record its full lifetime). NULL when
 * every record is in flight. */
static struct rec *take_slot(struct tc_idem *t, time_t now)
{
	struct rec *oldest = NULL;
	for (size_t i = 0; i < t->n; i++) {
		struct rec *r = &t->recs[i];
		if (!r->used || expired(t, r, now)) {
			rec_clear(r);
			return r;
		}
		if (r->busy == IDLE && (!oldest || r->stamp < oldest->stamp))
			oldest = r;
	}
	if (oldest)
		rec_clear(oldest);
	return oldest;
}

static int fill(struct rec *r, const char *peer, const uint8_t *key, size_t key_len, const unsigned char digest[32],
		const uint8_t *tmpl, size_t tmpl_len, time_t now, uint64_t stamp)
{
	if (tmpl_len && !(r->tmpl = malloc(tmpl_len)))
		return -1;
	if (tmpl_len)
		memcpy(r->tmpl, tmpl, tmpl_len);
	r->tmpl_len = tmpl_len;
	r->used = 1;
	r->hash = key_hash(peer, key, key_len);
	snprintf(r->peer, sizeof(r->peer), "%s", peer);
	memcpy(r->key, key, key_len);
	r->key_len = key_len;
	memcpy(r->digest, digest, 32);
	r->created = now;
	r->stamp = stamp;
	return 0;
}

int tc_idem_request_digest(const uint8_t *der, size_t len, unsigned char out[32])
{
	struct tc_tbs_view v;
	char why[160];
	if (tc_template_parse(der, len, &v, why, sizeof(why)) != 0)
		return -1;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(c, v.subject.tlv, v.subject.tlv_len) == 1 &&
		 EVP_DigestUpdate(c, v.spki.tlv, v.spki.tlv_len) == 1 &&
		 (!v.has_extensions || EVP_DigestUpdate(c, v.extensions.tlv, v.extensions.tlv_len) == 1) &&
		 EVP_DigestFinal_ex(c, out, NULL) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

static int copy_out(const uint8_t *src, size_t len, uint8_t **der, size_t *der_len)
{
	if (!(*der = malloc(len)))
		return -1;
	memcpy(*der, src, len);
	*der_len = len;
	return 0;
}

enum tc_idem_verdict tc_idem_begin(struct tc_idem *t, const char *peer, const uint8_t *key, size_t key_len,
				   int precert, const uint8_t **tbs, size_t *tbs_len, const uint8_t *serial,
				   size_t serial_len, uint8_t **der, size_t *der_len, uint8_t out_serial[16],
				   char *why, size_t wl, time_t now)
{
	unsigned char digest[32];
	if (key_len == 0 || key_len > TC_IDEM_KEY_MAX) {
		snprintf(why, wl, "an idempotency key has 1 to %d bytes", TC_IDEM_KEY_MAX);
		return TC_IDEM_ERROR;
	}
	if (tc_idem_request_digest(*tbs, *tbs_len, digest) != 0) {
		snprintf(why, wl, "template is not a valid TBSCertificate");
		return TC_IDEM_ERROR;
	}
	enum tc_idem_verdict v = TC_IDEM_SIGN;
	pthread_mutex_lock(&t->lock);
	struct rec *r = find(t, peer, key, key_len, now);
	if (r && memcmp(r->digest, digest, 32) != 0) {
		snprintf(why, wl, "this idempotency key was used for another certificate request");
		v = TC_IDEM_REFUSED;
	} else if (r && r->busy != IDLE) {
		snprintf(why, wl, "the request of this idempotency key is being signed, retry");
		v = TC_IDEM_BUSY;
	} else if (precert && r) {
		/* Signed before: the same precertificate again (its log entry is
		 * the same, the log answers a resubmission with the same SCT). */
		memcpy(out_serial, r->serial, 16);
		v = copy_out(r->precert, r->precert_len, der, der_len) == 0 ? TC_IDEM_REPLAY : TC_IDEM_ERROR;
	} else if (precert) {
		struct rec *slot = take_slot(t, now);
		if (!slot) {
			snprintf(why, wl, "too many certificate requests in flight, retry");
			v = TC_IDEM_BUSY;
		} else if (fill(slot, peer, key, key_len, digest, *tbs, *tbs_len, now, ++t->stamp) != 0) {
			rec_clear(slot);
			snprintf(why, wl, "out of memory");
			v = TC_IDEM_ERROR;
		} else {
			slot->busy = PRECERT_IN_FLIGHT;
		}
	} else if (r && (serial_len != 16 || memcmp(serial, r->serial, 16) != 0)) {
		snprintf(why, wl, "this idempotency key names the precertificate of another serial");
		v = TC_IDEM_REFUSED;
	} else if (r && r->final) {
		memcpy(out_serial, r->serial, 16);
		v = copy_out(r->final, r->final_len, der, der_len) == 0 ? TC_IDEM_REPLAY : TC_IDEM_ERROR;
	} else if (r) {
		/* The final twin of the key's precertificate, from the template
		 * that precertificate came from (a retry built a later one). */
		r->busy = FINAL_IN_FLIGHT;
		*tbs = r->tmpl;
		*tbs_len = r->tmpl_len;
	}
	/* No record for a final certificate (expired, or never keyed): it is
	 * signed as any other, checked against its precertificate. */
	pthread_mutex_unlock(&t->lock);
	return v;
}

void tc_idem_forget(struct tc_idem *t, const char *peer, const uint8_t *key, size_t key_len, time_t now)
{
	pthread_mutex_lock(&t->lock);
	struct rec *r = find(t, peer, key, key_len, now);
	if (r && r->busy == IDLE)
		rec_clear(r);
	pthread_mutex_unlock(&t->lock);
}

/* "at=<unix> kind=<precert|final> key=<hex> digest=<hex> serial=<hex>
 * template=<base64> certificate=<base64>"; the peer is the record's. */
static char *detail_text(const struct rec *r, int precert, const uint8_t *der, size_t der_len)
{
	char key_hex[2 * TC_IDEM_KEY_MAX + 1], digest_hex[65], serial_hex[33];
	tc_hex_encode(r->key, r->key_len, key_hex);
	tc_hex_encode(r->digest, 32, digest_hex);
	tc_hex_encode(r->serial, 16, serial_hex);
	char *tmpl = tc_base64_encode(r->tmpl ? r->tmpl : (const uint8_t *)"", r->tmpl_len);
	char *cert = tc_base64_encode(der, der_len);
	char *out = NULL;
	if (tmpl && cert) {
		size_t n = strlen(tmpl) + strlen(cert) + 2 * TC_IDEM_KEY_MAX + 256;
		if ((out = malloc(n)))
			snprintf(out, n, "at=%lld kind=%s key=%s digest=%s serial=%s template=%s certificate=%s",
				 (long long)r->created, precert ? "precert" : "final", key_hex, digest_hex, serial_hex,
				 tmpl, cert);
	}
	free(tmpl);
	free(cert);
	return out;
}

void tc_idem_finish(struct tc_idem *t, const char *peer, const uint8_t *key, size_t key_len, int precert,
		    const uint8_t *der, size_t der_len, const uint8_t serial[16], char **journal_detail,
		    time_t now)
{
	*journal_detail = NULL;
	pthread_mutex_lock(&t->lock);
	struct rec *r = find(t, peer, key, key_len, now);
	if (r && r->busy == (precert ? PRECERT_IN_FLIGHT : FINAL_IN_FLIGHT)) {
		r->busy = IDLE;
		uint8_t *copy = der ? malloc(der_len) : NULL;
		if (copy)
			memcpy(copy, der, der_len);
		if (precert && !copy) {
			rec_clear(r); /* nothing signed (or no memory): the key is free again */
		} else if (copy) {
			if (precert) {
				memcpy(r->serial, serial, 16);
				r->precert = copy;
				r->precert_len = der_len;
			} else {
				r->final = copy;
				r->final_len = der_len;
			}
			*journal_detail = detail_text(r, precert, der, der_len);
		}
	}
	pthread_mutex_unlock(&t->lock);
}

/* The fields of a detail text ("name=value" words), cut in place. */
struct fields {
	char *at, *kind, *key, *digest, *serial, *tmpl, *cert;
};

static void split_fields(char *detail, struct fields *f)
{
	memset(f, 0, sizeof(*f));
	char *save = NULL;
	for (char *w = strtok_r(detail, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *v = eq + 1;
		if (strcmp(w, "at") == 0)
			f->at = v;
		else if (strcmp(w, "kind") == 0)
			f->kind = v;
		else if (strcmp(w, "key") == 0)
			f->key = v;
		else if (strcmp(w, "digest") == 0)
			f->digest = v;
		else if (strcmp(w, "serial") == 0)
			f->serial = v;
		else if (strcmp(w, "template") == 0)
			f->tmpl = v;
		else if (strcmp(w, "certificate") == 0)
			f->cert = v;
	}
}

/* One journal record's detail back into the table. */
static void load_one(struct tc_idem *t, const char *peer, char *detail, time_t now)
{
	struct fields fl;
	split_fields(detail, &fl);
	char *at = fl.at, *kind = fl.kind, *key_hex = fl.key, *digest_hex = fl.digest, *serial_hex = fl.serial,
	     *tmpl_b64 = fl.tmpl, *cert_b64 = fl.cert;
	uint8_t key[TC_IDEM_KEY_MAX];
	unsigned char digest[32], serial[16];
	if (!at || !kind || !key_hex || !digest_hex || !serial_hex || !tmpl_b64 || !cert_b64)
		return;
	size_t key_len = strlen(key_hex) / 2;
	time_t created = (time_t)strtoll(at, NULL, 10);
	if (key_len == 0 || key_len > TC_IDEM_KEY_MAX || tc_hex_decode(key_hex, key, key_len) != 0 ||
	    tc_hex_decode(digest_hex, digest, 32) != 0 || tc_hex_decode(serial_hex, serial, 16) != 0 ||
	    now < created || now - created >= (time_t)t->ttl_s)
		return;
	unsigned char *tmpl = NULL, *cert = NULL;
	size_t tmpl_len, cert_len;
	if (tc_base64_decode(tmpl_b64, &tmpl, &tmpl_len) != 0 || tc_base64_decode(cert_b64, &cert, &cert_len) != 0) {
		free(tmpl);
		return;
	}
	int precert = strcmp(kind, "precert") == 0;
	struct rec *r = find(t, peer, key, key_len, now);
	if (precert) {
		if (r)
			rec_clear(r);
		if ((r = take_slot(t, now)) && fill(r, peer, key, key_len, digest, tmpl, tmpl_len, created,
						    ++t->stamp) == 0) {
			memcpy(r->serial, serial, 16);
			r->precert = cert;
			r->precert_len = cert_len;
			cert = NULL;
		} else if (r) {
			rec_clear(r);
		}
	} else if (r && !r->final && memcmp(r->serial, serial, 16) == 0) {
		r->final = cert;
		r->final_len = cert_len;
		cert = NULL;
	}
	free(tmpl);
	free(cert);
}

struct load_ctx {
	struct tc_idem *t;
	time_t now;
	long loaded;
};

static int load_record(json_t *rec, void *arg)
{
	struct load_ctx *c = arg;
	const char *peer = json_string_value(json_object_get(rec, "peer"));
	const char *detail = json_string_value(json_object_get(rec, "detail"));
	const char *result = json_string_value(json_object_get(rec, "result"));
	char *copy = detail ? strdup(detail) : NULL;
	if (peer && copy && result && strcmp(result, "ok") == 0) {
		load_one(c->t, peer, copy, c->now);
		c->loaded++;
	}
	free(copy);
	return 0;
}

long tc_idem_load(struct tc_idem *t, const char *path, time_t now)
{
	/* Only keyed issuance is parsed as JSON. */
	static const char op[] = "\"op\":\"" TC_IDEM_JOURNAL_OP "\"";
	struct load_ctx c = {.t = t, .now = now};
	pthread_mutex_lock(&t->lock);
	int rc = tc_journal_scan(path, op, load_record, &c);
	pthread_mutex_unlock(&t->lock);
	return rc < 0 ? -1 : c.loaded;
}
