/* One function per IPC operation. Every refusal and every signature is
 * journaled; a signature whose journal record cannot be made durable is
 * never released. */
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hex.h"
#include "common/log.h"
#include "common/metrics_proc.h"
#include "signer/crl_der.h"
#include "signer/dns_keys.h"
#include "signer/dns_sign_input.h"
#include "signer/embedded_scts.h"
#include "signer/idempotency.h"
#include "signer/sig_memo.h"
#include "signer/signer.h"

typedef Trustchain__Internal__Response Response;
typedef Trustchain__Internal__Request Request;

/* What a handler produced: status, message and an owned result payload. */
struct reply {
	Response resp;
	char error[512];
	union {
		Trustchain__Internal__SignCertificateResponse cert;
		Trustchain__Internal__SignDataResponse data;
		Trustchain__Internal__GetPublicInfoResponse info;
		Trustchain__Internal__RandomResponse random;
		Trustchain__Internal__RevokeResponse revoke;
		Trustchain__Internal__GetCrlResponse crl;
		Trustchain__Internal__PingResponse ping;
	} u;
	void *owned[4];            /* malloc'ed buffers to free once packed */
};

static void own(struct reply *r, void *p)
{
	for (size_t i = 0; i < sizeof(r->owned) / sizeof(r->owned[0]); i++)
		if (!r->owned[i]) {
			r->owned[i] = p;
			return;
		}
	abort(); /* a handler owns more buffers than the reply can hold: a bug */
}

static void set_status(struct reply *r, Trustchain__Internal__Status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The reason a status has unless a more precise one is set after it. */
static char *default_reason(Trustchain__Internal__Status st)
{
	switch (st) {
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK: return "";
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED: return "operation_not_allowed";
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY: return "policy_refused";
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST: return "malformed_request";
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE: return "not_provisioned";
	default: return "internal";
	}
}

static void set_status(struct reply *r, Trustchain__Internal__Status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	r->resp.status = st;
	r->resp.error = r->error;
	r->resp.reason = default_reason(st);
}

/* reason: a string literal (TC_REASON_* or one of signer.proto's). */
static void set_reason(struct reply *r, const char *reason)
{
	r->resp.reason = (char *)reason;
}

/* No journal record, no signature: the peer may retry once the journal
 * can be written again (a full disk freed; journal.c recovers by itself). */
static void journal_unavailable(struct reply *r)
{
	set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE, "audit journal unavailable");
	set_reason(r, "journal_unavailable");
}

/* The HSM failed (a device error, a dropped session, the token out): the
 * sessions are recovered (hsm.h) and the peer may retry. */
static void hsm_unavailable(struct tc_signer *s, struct reply *r, const char *what)
{
	tc_hsm_recover(s->hsm);
	set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE, "%s", what);
	set_reason(r, "hsm_unavailable");
}

static const char *status_word(Trustchain__Internal__Status st)
{
	switch (st) {
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK: return "ok";
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED: return "denied";
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY: return "policy";
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST: return "bad_request";
	case TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE: return "unavailable";
	default: return "error";
	}
}

/* Journals a refusal; returns the reply for chaining. */
static void journal_refusal(struct tc_signer *s, const struct tc_peer_identity *peer, const char *op,
			    const void *data, size_t len, struct reply *r)
{
	struct tc_journal_entry e = {.peer = peer->name, .op = op, .key = "", .data = data,
				     .data_len = len, .result = status_word(r->resp.status),
				     .detail = r->error};
	tc_journal_append(s->journal, &e);
	tc_log_event(TC_LOG_WARN, "signer_refusal", TC_KV("op", op, "peer", peer->name, "reason", r->error),
		     "refused %s from %s: %s", op, peer->name, r->error);
}

static int require(struct tc_signer *s, const struct tc_peer_identity *peer, unsigned cap,
		   const char *op, struct reply *r)
{
	if (peer->caps & cap)
		return 0;
	set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED, "%s is not allowed for peer %s", op,
		   peer->name);
	journal_refusal(s, peer, op, NULL, 0, r);
	return -1;
}

static int check_only_name(const struct tc_peer_identity *peer, const struct tc_tbs_view *tmpl, char *why,
			   size_t wl)
{
	if (!peer->only_name[0])
		return 0;
	struct tc_der_cursor sans;
	int ok = tc_template_sans(tmpl, &sans) == 0;
	struct tc_der_elem gn;
	size_t n = strlen(peer->only_name);
	while (ok && tc_der_next(&sans, &gn) == TC_DER_OK)
		ok = gn.tag == TC_SAN_DNS && gn.val_len == n &&
		     strncasecmp((const char *)gn.val, peer->only_name, n) == 0;
	if (!ok)
		snprintf(why, wl, "peer %s may only obtain a certificate for %s", peer->name, peer->only_name);
	return ok ? 0 : -1;
}

/* The first slot of serial's set. Called with precert_lock held. */
static struct tc_precert_slot *precert_set(struct tc_signer *s, const unsigned char *serial)
{
	unsigned h = 2166136261u;
	for (int i = 0; i < TC_SERIAL_LEN; i++)
		h = (h ^ serial[i]) * 16777619u;
	return &s->precerts[(h % (TC_PRECERT_SLOTS / TC_PRECERT_WAYS)) * TC_PRECERT_WAYS];
}

static void slot_clear(struct tc_precert_slot *slot)
{
	tc_leaf_free(&slot->completed);
	slot->used = 0;
}

/* Remembers a signed precertificate (taking completed, whose buf may be
 * NULL). Called with precert_lock held. */
static void precert_remember(struct tc_signer *s, const char *peer, const unsigned char *serial,
			     const unsigned char fp[32], const unsigned char template_hash[32],
			     const struct tc_issuer_slot *issuer, struct tc_leaf *completed)
{
	struct tc_precert_slot *set = precert_set(s, serial), *victim = &set[0];
	for (int i = 0; i < TC_PRECERT_WAYS; i++) {
		if (!set[i].used) {
			victim = &set[i];
			break;
		}
		if (set[i].stamp < victim->stamp)
			victim = &set[i];
	}
	slot_clear(victim);
	memcpy(victim->serial, serial, TC_SERIAL_LEN);
	memcpy(victim->fingerprint, fp, 32);
	memcpy(victim->template_hash, template_hash, 32);
	snprintf(victim->peer, sizeof(victim->peer), "%s", peer);
	victim->issuer = issuer;
	victim->completed = *completed;
	memset(completed, 0, sizeof(*completed));
	victim->used = 1;
	victim->stamp = ++s->precert_stamp;
}

/* The completed certificate of serial's precertificate when it came from
 * a template with this hash, taken out of its slot (which is freed) into
 * *out: 1, else 0. Called with precert_lock held. */
static int precert_take(struct tc_signer *s, const char *peer, const unsigned char *serial,
			const unsigned char template_hash[32], struct tc_leaf *out,
			const struct tc_issuer_slot **issuer)
{
	struct tc_precert_slot *set = precert_set(s, serial);
	for (int i = 0; i < TC_PRECERT_WAYS; i++) {
		struct tc_precert_slot *slot = &set[i];
		if (!slot->used || memcmp(slot->serial, serial, TC_SERIAL_LEN) != 0)
			continue;
		if (!slot->completed.buf || memcmp(slot->template_hash, template_hash, 32) != 0 ||
		    strcmp(slot->peer, peer) != 0)
			return 0;
		*out = slot->completed;
		*issuer = slot->issuer;
		memset(&slot->completed, 0, sizeof(slot->completed));
		slot_clear(slot);
		return 1;
	}
	return 0;
}

/* 1 when serial's precertificate had fingerprint fp. Called with
 * precert_lock held. */
static int precert_matches(struct tc_signer *s, const unsigned char *serial, const unsigned char fp[32])
{
	struct tc_precert_slot *set = precert_set(s, serial);
	for (int i = 0; i < TC_PRECERT_WAYS; i++)
		if (set[i].used && memcmp(set[i].serial, serial, TC_SERIAL_LEN) == 0)
			return memcmp(set[i].fingerprint, fp, 32) == 0;
	return 0;
}

/* The intermediate that signed serial's precertificate, or NULL. Called
 * with precert_lock held. */
static const struct tc_issuer_slot *precert_issuer(struct tc_signer *s, const unsigned char *serial)
{
	struct tc_precert_slot *set = precert_set(s, serial);
	for (int i = 0; i < TC_PRECERT_WAYS; i++)
		if (set[i].used && memcmp(set[i].serial, serial, TC_SERIAL_LEN) == 0)
			return set[i].issuer;
	return NULL;
}

/* Forgets serial's precertificate once its final certificate is signed. */
static void precert_forget(struct tc_signer *s, const unsigned char *serial)
{
	struct tc_precert_slot *set = precert_set(s, serial);
	for (int i = 0; i < TC_PRECERT_WAYS; i++)
		if (set[i].used && memcmp(set[i].serial, serial, TC_SERIAL_LEN) == 0)
			slot_clear(&set[i]);
}

static void sign_and_reply(struct tc_signer *s, const struct tc_peer_identity *peer, const char *op,
			   const struct tc_issuer_slot *is, struct tc_leaf *leaf,
			   const Trustchain__Internal__SignCertificateRequest *rq, const unsigned char *serial,
			   const unsigned char *fp, const unsigned char template_hash[32], struct reply *r);

/* Refuses a final certificate for what its SCT list or its precertificate
 * lacks (reason: TC_REASON_*), journaled. */
static void refuse_final(struct tc_signer *s, const struct tc_peer_identity *peer, const char *op,
			 const Trustchain__Internal__SignCertificateRequest *rq, const char *reason, const char *why,
			 struct reply *r)
{
	set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "%s", why);
	set_reason(r, reason);
	journal_refusal(s, peer, op, rq->tbs.data, rq->tbs.len, r);
}

enum { FINAL_SCTS_OK = 0, FINAL_SCTS_REFUSED = -1, FINAL_SCTS_NO_MEMORY = -2 };

/* Checks the SCT list of a final certificate against leaf, the completed
 * twin of its precertificate: at least one SCT of our log, signed over
 * that precertificate's entry. fp (may be NULL) gets the fingerprint of
 * the TBS without CT extension, which the check rebuilds anyway. */
/* The SCT list against our CT log key, or with temporal shards (ct.logs)
 * against each shard's: an SCT of one of our logs is needed, and every SCT
 * of one of them must verify. 0, or -1 with why. */
static int ct_scts_check(const struct tc_signer *s, const Trustchain__Internal__SignCertificateRequest *rq,
			 const unsigned char key_hash[32], const uint8_t *tbs, size_t tbs_len, char *why, size_t wl)
{
	if (s->n_ct_shards == 0) {
		struct tc_sct_log_key log = {.id = s->ct_log.spki_sha256, .key = s->ct_log.verify, .memo = s->sct_memo,
					     .memo_key = &s->ct_log};
		return tc_embedded_scts_check(rq->sct_list.data, rq->sct_list.len, &log, key_hash, tbs, tbs_len, why,
					      wl);
	}
	size_t ours = 0;
	for (size_t i = 0; i < s->n_ct_shards; i++) {
		if (!s->have_ct_shard[i])
			continue;
		struct tc_sct_log_key log = {.id = s->ct_shard[i].spki_sha256, .key = s->ct_shard[i].verify,
					     .memo = s->sct_memo, .memo_key = &s->ct_shard[i]};
		if (tc_embedded_scts_check(rq->sct_list.data, rq->sct_list.len, &log, key_hash, tbs, tbs_len, why,
					   wl) == 0)
			ours++;
		else if (!strstr(why, "holds no SCT from our CT log"))
			return -1;
	}
	if (ours == 0) {
		snprintf(why, wl, "the SCT list holds no SCT from our CT logs (ct.logs)");
		return -1;
	}
	return 0;
}

static int final_scts_check(const struct tc_signer *s, const struct tc_issuer_slot *is, const struct tc_leaf *leaf,
			    const Trustchain__Internal__SignCertificateRequest *rq, unsigned char *fp, char *why,
			    size_t wl)
{
	uint8_t *tbs;
	size_t tbs_len;
	if (tc_leaf_tbs(leaf, 0, NULL, 0, &tbs, &tbs_len) != 0) {
		snprintf(why, wl, "out of memory");
		return FINAL_SCTS_NO_MEMORY;
	}
	if (fp)
		SHA256(tbs, tbs_len, fp);
	int rc = ct_scts_check(s, rq, is->issuer.key_hash, tbs, tbs_len, why, wl);
	free(tbs);
	return rc == 0 ? FINAL_SCTS_OK : FINAL_SCTS_REFUSED;
}

static void op_sign_certificate(struct tc_signer *s, const struct tc_peer_identity *peer,
				const Trustchain__Internal__SignCertificateRequest *rq, struct reply *r)
{
	const char *op = rq->precertificate ? "sign_precertificate" : "sign_certificate";
	if (require(s, peer, TC_CAP_SIGN_CERT, op, r) != 0)
		return;
	char why[400];
	/* The signer picks the issuer, never the caller: the current one for a
	 * precertificate (issuers.h: the cut-over happens here), the
	 * precertificate's own for its final certificate. */
	const struct tc_issuer_slot *current = tc_issuers_current(s, time(NULL));
	if (!current) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE, "issuing key not provisioned");
		return;
	}
	/* RFC 6962, DESIGN 3: a certificate is never handed out before its
	 * precertificate is logged. Whoever asks, the only leaves signed are
	 * precertificates and their final twins with an SCT of our log. */
	if (!rq->precertificate && rq->sct_list.len == 0) {
		refuse_final(s, peer, op, rq, TC_REASON_PRECERT_REQUIRED,
			     "a leaf certificate is signed as a precertificate first, then as its final twin "
			     "with the SCT list of its CT log entry; a plain certificate is never signed",
			     r);
		return;
	}
	int is_final_with_scts = !rq->precertificate;
	if (is_final_with_scts && !s->have_ct_log) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE,
			   "CT log key not provisioned: no SCT can be checked");
		return;
	}
	unsigned char template_hash[32];
	SHA256(rq->tbs.data, rq->tbs.len, template_hash);
	if (is_final_with_scts && rq->serial.len == TC_SERIAL_LEN) {
		/* The same template as a precertificate signed moments ago: that
		 * certificate, already checked and completed, gets the SCTs. */
		struct tc_leaf kept;
		const struct tc_issuer_slot *kept_issuer = NULL;
		pthread_mutex_lock(&s->precert_lock);
		int have = precert_take(s, peer->name, rq->serial.data, template_hash, &kept, &kept_issuer);
		pthread_mutex_unlock(&s->precert_lock);
		if (have) {
			unsigned char fp[32];
			int rc = final_scts_check(s, kept_issuer, &kept, rq, fp, why, sizeof(why));
			if (rc == FINAL_SCTS_OK) {
				sign_and_reply(s, peer, op, kept_issuer, &kept, rq, rq->serial.data, NULL, template_hash,
					       r);
				return;
			}
			if (rc == FINAL_SCTS_NO_MEMORY) {
				tc_leaf_free(&kept);
				set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR, "%s", why);
				return;
			}
			/* Refused, the precertificate stays: a forged list must not
			 * cost the real final certificate its precertificate. */
			pthread_mutex_lock(&s->precert_lock);
			precert_remember(s, peer->name, rq->serial.data, fp, template_hash, kept_issuer, &kept);
			pthread_mutex_unlock(&s->precert_lock);
			refuse_final(s, peer, op, rq, TC_REASON_SCT_INVALID, why, r);
			return;
		}
	}
	struct tc_tbs_view tmpl;
	if (tc_template_parse(rq->tbs.data, rq->tbs.len, &tmpl, why, sizeof(why)) != 0) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST, "%s", why);
		set_reason(r, TC_REASON_TEMPLATE_INVALID);
		journal_refusal(s, peer, op, rq->tbs.data, rq->tbs.len, r);
		return;
	}
	const char *reason = TC_REASON_NAME_NOT_PERMITTED;
	if (tc_policy_check_leaf_reason(&s->policy, &tmpl, time(NULL), &reason, why, sizeof(why)) != 0 ||
	    check_only_name(peer, &tmpl, why, sizeof(why)) != 0) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "%s", why);
		set_reason(r, reason[0] ? reason : TC_REASON_NAME_NOT_PERMITTED);
		journal_refusal(s, peer, op, rq->tbs.data, rq->tbs.len, r);
		return;
	}
	unsigned char serial[TC_SERIAL_LEN], fp[32];
	if (is_final_with_scts) {
		if (rq->serial.len != TC_SERIAL_LEN) {
			set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST,
				   "a certificate with SCTs needs the serial of its precertificate");
			journal_refusal(s, peer, op, rq->tbs.data, rq->tbs.len, r);
			return;
		}
		memcpy(serial, rq->serial.data, TC_SERIAL_LEN);
	} else if (tc_hsm_random(s->hsm, serial, sizeof(serial)) != 0) {
		hsm_unavailable(s, r, "HSM random generator failed");
		return;
	} else {
		serial[0] &= 0x7f; /* positive */
		serial[0] |= 0x40; /* and exactly 16 bytes long */
	}
	const struct tc_issuer_slot *is = current;
	if (is_final_with_scts) {
		pthread_mutex_lock(&s->precert_lock);
		is = precert_issuer(s, serial);
		pthread_mutex_unlock(&s->precert_lock);
		if (!is) {
			refuse_final(s, peer, op, rq, TC_REASON_PRECERT_UNKNOWN,
				     "no matching precertificate was signed for this serial", r);
			return;
		}
	}
	struct tc_leaf leaf;
	if (tc_leaf_complete(&tmpl, &is->issuer, serial, &leaf, fp, why, sizeof(why)) != 0) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR, "%s", why);
		return;
	}
	if (is_final_with_scts) {
		/* RFC 6962: the final certificate must be the precertificate we signed,
		 * plus the SCT list; anything else would be an unlogged certificate. */
		pthread_mutex_lock(&s->precert_lock);
		int match = precert_matches(s, serial, fp);
		pthread_mutex_unlock(&s->precert_lock);
		if (!match) {
			refuse_final(s, peer, op, rq, TC_REASON_PRECERT_UNKNOWN,
				     "no matching precertificate was signed for this serial", r);
			tc_leaf_free(&leaf);
			return;
		}
		int rc = final_scts_check(s, is, &leaf, rq, NULL, why, sizeof(why));
		if (rc != FINAL_SCTS_OK) {
			if (rc == FINAL_SCTS_NO_MEMORY)
				set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR, "%s", why);
			else
				refuse_final(s, peer, op, rq, TC_REASON_SCT_INVALID, why, r);
			tc_leaf_free(&leaf);
			return;
		}
	}
	sign_and_reply(s, peer, op, is, &leaf, rq, serial, fp, template_hash, r);
}

/* Signs the completed certificate leaf (taking it), journals it, remembers
 * a precertificate (keeping leaf for its final certificate) or forgets the
 * one a final certificate came from, and fills the reply. fp (the
 * completed TBS's fingerprint) is only needed for a precertificate. */
static void sign_and_reply(struct tc_signer *s, const struct tc_peer_identity *peer, const char *op,
			   const struct tc_issuer_slot *is, struct tc_leaf *leaf,
			   const Trustchain__Internal__SignCertificateRequest *rq, const unsigned char *serial,
			   const unsigned char *fp, const unsigned char template_hash[32], struct reply *r)
{
	char why[400];
	int is_final_with_scts = !rq->precertificate && rq->sct_list.len > 0;
	unsigned char *der = NULL;
	size_t der_len = 0;
	const char *lint = NULL;
	int signed_rc = tc_leaf_sign_checked(leaf, &is->issuer, &s->policy, rq->precertificate, rq->sct_list.data,
					     rq->sct_list.len, &der, &der_len, &lint, why, sizeof(why));
	if (signed_rc != 0) {
		/* A lint refusal (signer/lint.h) is named by its lint, journaled. */
		if (!lint)
			hsm_unavailable(s, r, why); /* the token's signature, or memory */
		else
			set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY, "%s", why);
		if (lint) {
			set_reason(r, lint);
			journal_refusal(s, peer, op, rq->tbs.data, rq->tbs.len, r);
		}
		tc_leaf_free(leaf);
		return;
	}
	char detail[96];
	char serial_hex[2 * TC_SERIAL_LEN + 1];
	tc_hex_encode(serial, TC_SERIAL_LEN, serial_hex);
	snprintf(detail, sizeof(detail), "serial %s", serial_hex);
	struct tc_journal_entry e = {.peer = peer->name, .op = op, .key = is->key.label,
				     .data = der, .data_len = der_len, .result = "ok", .detail = detail};
	own(r, der);
	if (tc_journal_append(s->journal, &e) == 0) {
		tc_leaf_free(leaf);
		journal_unavailable(r);
		return;
	}
	/* The completed leaf of a precertificate is what its final certificate
	 * will be signed from (with the SCT list instead of the poison). */
	if (!(rq->precertificate && fp))
		tc_leaf_free(leaf);
	pthread_mutex_lock(&s->precert_lock);
	if (rq->precertificate)
		precert_remember(s, peer->name, serial, fp, template_hash, is, leaf);
	else if (is_final_with_scts)
		precert_forget(s, serial);
	pthread_mutex_unlock(&s->precert_lock);
	unsigned char *serial_copy = malloc(TC_SERIAL_LEN);
	if (!serial_copy) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR, "out of memory");
		return;
	}
	memcpy(serial_copy, serial, TC_SERIAL_LEN);
	own(r, serial_copy);
	trustchain__internal__sign_certificate_response__init(&r->u.cert);
	r->u.cert.certificate.data = der;
	r->u.cert.certificate.len = der_len;
	r->u.cert.serial.data = serial_copy;
	r->u.cert.serial.len = TC_SERIAL_LEN;
	r->resp.result_case = TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_CERTIFICATE;
	r->resp.sign_certificate = &r->u.cert;
}

/* The CT log key only signs RFC 6962 digitally-signed structs (version v1,
 * certificate_timestamp or tree_hash); the DNS key only RRSIG signing
 * inputs for the bootstrap zone (dns_sign_input.c). */
static int data_shape_ok(const struct tc_signer *s, Trustchain__Internal__KeyRole role,
			 const uint8_t *d, size_t n, char *why, size_t wl)
{
	if (role == TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG) {
		snprintf(why, wl, "data is not an RFC 6962 structure");
		return n >= 2 + 8 && n <= 128 * 1024 && d[0] == 0 && (d[1] == 0 || d[1] == 1);
	}
	if (role == TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE)
		return tc_dns_sign_input_check(d, n, s->cfg.bootstrap.domain, time(NULL), why, wl) == 0;
	return 0;
}

static void op_sign_data(struct tc_signer *s, const struct tc_peer_identity *peer,
			 const Trustchain__Internal__SignDataRequest *rq, struct reply *r)
{
	struct tc_hsm_key *key = NULL;
	int have = 0;
	unsigned cap = 0;
	if (rq->key == TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG) {
		key = tc_signer_ct_key(s, rq->ct_log ? rq->ct_log : "", &have);
		cap = TC_CAP_SIGN_CT;
	} else if (rq->key == TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE) {
		key = tc_signer_dns_key(s, rq->dns_key, &have); /* NULL: not a DNS key we may use */
		cap = TC_CAP_SIGN_DNS;
	}
	if (!key) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_DENIED,
			   "key role %d cannot sign data over IPC", (int)rq->key);
		journal_refusal(s, peer, "sign_data", rq->data.data, rq->data.len, r);
		return;
	}
	if (require(s, peer, cap, "sign_data", r) != 0)
		return;
	if (!have) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE, "key not provisioned");
		return;
	}
	char why[256] = "";
	if (!data_shape_ok(s, rq->key, rq->data.data, rq->data.len, why, sizeof(why))) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY,
			   "data is not a structure this key may sign: %s", why);
		journal_refusal(s, peer, "sign_data", rq->data.data, rq->data.len, r);
		return;
	}
	unsigned char md[32];
	EVP_Digest(rq->data.data, rq->data.len, md, NULL, EVP_sha256(), NULL);
	size_t siglen = 0;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->priv, NULL);
	unsigned char *sig = NULL;
	double t0 = tc_pm_now();
	int ok = ctx && EVP_PKEY_sign_init(ctx) > 0 && EVP_PKEY_sign(ctx, NULL, &siglen, md, 32) > 0 &&
		 (sig = malloc(siglen)) && EVP_PKEY_sign(ctx, sig, &siglen, md, 32) > 0;
	tc_pm_hsm_op("sign_data", ok, tc_pm_now() - t0);
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		free(sig);
		hsm_unavailable(s, r, "HSM signature failed");
		return;
	}
	struct tc_journal_entry e = {.peer = peer->name, .op = "sign_data", .key = key->label,
				     .data = rq->data.data, .data_len = rq->data.len, .result = "ok",
				     .detail = ""};
	if (tc_journal_append(s->journal, &e) == 0) {
		free(sig);
		journal_unavailable(r);
		return;
	}
	if (rq->key == TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG)
		tc_sig_memo_put(s->sct_memo, key, md, sig, siglen);
	own(r, sig);
	trustchain__internal__sign_data_response__init(&r->u.data);
	r->u.data.signature.data = sig;
	r->u.data.signature.len = siglen;
	r->resp.result_case = TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_DATA;
	r->resp.sign_data = &r->u.data;
}

static int der_of(int (*enc)(void *, unsigned char **), void *obj, ProtobufCBinaryData *out, struct reply *r)
{
	unsigned char *der = NULL;
	int n = enc(obj, &der);
	if (n <= 0)
		return -1;
	unsigned char *copy = malloc((size_t)n);
	if (!copy) {
		OPENSSL_free(der);
		return -1;
	}
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	own(r, copy);
	out->data = copy;
	out->len = (size_t)n;
	return 0;
}

static int i2d_pubkey_any(void *k, unsigned char **pp) { return i2d_PUBKEY(k, pp); }
static int i2d_x509_any(void *x, unsigned char **pp) { return i2d_X509(x, pp); }

static void op_get_public_info(struct tc_signer *s, const struct tc_peer_identity *peer,
			       const Trustchain__Internal__GetPublicInfoRequest *rq, struct reply *r)
{
	if (require(s, peer, TC_CAP_PUBLIC, "get_public_info", r) != 0)
		return;
	struct tc_hsm_key *key = NULL;
	int have = 0;
	switch (rq->key) {
	case TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_ROOT: key = &s->root; have = s->have_root; break;
	case TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_INTERMEDIATE: key = &s->intermediate; have = s->have_intermediate; break;
	case TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_CT_LOG:
		key = tc_signer_ct_key(s, rq->ct_log ? rq->ct_log : "", &have);
		break;
	case TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_DNS_ZONE: key = tc_signer_dns_key(s, rq->dns_key, &have); break;
	case TRUSTCHAIN__INTERNAL__KEY_ROLE__KEY_ROLE_AUDIT: key = &s->audit; have = s->have_audit; break;
	default: break;
	}
	if (!key) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST, "unknown key role");
		return;
	}
	if (!have) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE, "key not provisioned");
		return;
	}
	trustchain__internal__get_public_info_response__init(&r->u.info);
	if (der_of(i2d_pubkey_any, key->pub, &r->u.info.public_key, r) != 0 ||
	    (key->cert && der_of(i2d_x509_any, key->cert, &r->u.info.certificate, r) != 0)) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR, "cannot encode public data");
		return;
	}
	r->u.info.key_id.data = key->id;
	r->u.info.key_id.len = key->id_len;
	r->resp.result_case = TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_PUBLIC_INFO;
	r->resp.get_public_info = &r->u.info;
}

static void op_random(struct tc_signer *s, const struct tc_peer_identity *peer,
		      const Trustchain__Internal__RandomRequest *rq, struct reply *r)
{
	if (require(s, peer, TC_CAP_RANDOM, "random", r) != 0)
		return;
	if (rq->length < 1 || rq->length > 256) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST, "length must be 1..256");
		return;
	}
	unsigned char *buf = malloc(rq->length);
	if (!buf || tc_hsm_random(s->hsm, buf, rq->length) != 0) {
		free(buf);
		hsm_unavailable(s, r, "HSM random generator failed");
		return;
	}
	own(r, buf);
	trustchain__internal__random_response__init(&r->u.random);
	r->u.random.data.data = buf;
	r->u.random.data.len = rq->length;
	r->resp.result_case = TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_RANDOM;
	r->resp.random = &r->u.random;
}

static void op_revoke(struct tc_signer *s, const struct tc_peer_identity *peer,
		      const Trustchain__Internal__RevokeRequest *rq, struct reply *r)
{
	if (require(s, peer, TC_CAP_REVOKE, "revoke", r) != 0)
		return;
	/* Checked here, so that a failure of tc_revocations_add below is ours
	 * (the disk), not the caller's. From here on the serial is its number,
	 * not its width: 00ff and ff are one serial, and our signing records
	 * carry it minimal. */
	const uint8_t *serial = rq->serial.data;
	size_t serial_len = rq->serial.len;
	if (serial_len > 20 || tc_crl_serial_number(&serial, &serial_len) != 0) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST,
			   "serial must be a positive number of at most 20 octets (RFC 5280 4.1.2.2)");
		set_reason(r, "serial_invalid");
		journal_refusal(s, peer, "revoke", rq->serial.data, rq->serial.len, r);
		return;
	}
	if (rq->reason < 0 || rq->reason > 10 || rq->reason == 7) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST,
			   "reason %d is not an RFC 5280 CRLReason", rq->reason);
		set_reason(r, "reason_invalid");
		journal_refusal(s, peer, "revoke", rq->serial.data, rq->serial.len, r);
		return;
	}
	char why[256], by[64] = "", jpath[TC_CFG_STR + 64];
	time_t when;
	/* The intermediate that signed it (its journaled signing record): its
	 * CRL alone lists the serial. Unknown: the configured one's. With one
	 * intermediate loaded (no rollover) it can only be that one, and the
	 * journal, which grows with every issuance, is not read. */
	if (tc_issuers_count(s) <= 1 ||
	    tc_config_data_path(&s->cfg, "journal/audit.jsonl", jpath, sizeof(jpath)) != 0 ||
	    tc_revocations_issuer_from_journal(jpath, serial, serial_len, by, sizeof(by)) != 0)
		by[0] = '\0';
	if (tc_revocations_add_by(s->revocations, serial, serial_len, rq->reason, by, &when, why,
				  sizeof(why)) != 0) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR, "%s", why);
		return;
	}
	char detail[128], hex[41];
	tc_hex_encode(serial, serial_len, hex);
	snprintf(detail, sizeof(detail), "serial %s reason %d", hex, rq->reason);
	struct tc_journal_entry e = {.peer = peer->name, .op = "revoke", .key = by, .data = serial,
				     .data_len = serial_len, .result = "ok", .detail = detail};
	if (tc_journal_append(s->journal, &e) == 0) {
		/* The revocation itself is durable; the caller retries and gets
		 * the original time, by then with a journal record or an error. */
		journal_unavailable(r);
		return;
	}
	trustchain__internal__revoke_response__init(&r->u.revoke);
	r->u.revoke.revocation_time = (int64_t)when;
	r->resp.result_case = TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_REVOKE;
	r->resp.revoke = &r->u.revoke;
}

/* The CRL of one issuing intermediate (rq->issuer, its key label; "" the
 * current one): each keeps its own while its certificates are valid. */
static void op_get_crl(struct tc_signer *s, const struct tc_peer_identity *peer,
		       const Trustchain__Internal__GetCrlRequest *rq, struct reply *r)
{
	if (require(s, peer, TC_CAP_CRL, "get_crl", r) != 0)
		return;
	const char *label = rq && rq->issuer ? rq->issuer : "";
	const struct tc_issuer_slot *is = tc_issuers_find(s, label, strlen(label));
	if (!is) {
		set_status(r, label[0] ? TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST
				       : TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE,
			   label[0] ? "no issuing intermediate with that label" : "issuing key not provisioned");
		return;
	}
	char why[256];
	unsigned char *der;
	size_t len;
	uint64_t number;
	if (tc_revocations_crl(s->revocations, &is->key, &der, &len, &number, why, sizeof(why)) != 0) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR, "%s", why);
		return;
	}
	own(r, der);
	trustchain__internal__get_crl_response__init(&r->u.crl);
	r->u.crl.crl.data = der;
	r->u.crl.crl.len = len;
	r->u.crl.crl_number = number;
	r->resp.result_case = TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_CRL;
	r->resp.get_crl = &r->u.crl;
}

/* SignCertificate under an idempotency key (signer/idempotency.h): the
 * key's certificate again instead of a second signature, or signed as any
 * other and remembered (journaled, so a restart keeps it). */
static void op_sign_certificate_keyed(struct tc_signer *s, const struct tc_peer_identity *peer,
				      const Trustchain__Internal__SignCertificateRequest *rq, struct reply *r)
{
	const char *op = rq->precertificate ? "sign_precertificate" : "sign_certificate";
	if (!s->idem || require(s, peer, TC_CAP_SIGN_CERT, op, r) != 0) {
		if (!s->idem)
			set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR, "idempotency records unavailable");
		return;
	}
	Trustchain__Internal__SignCertificateRequest keyed = *rq;
	const uint8_t *tbs = rq->tbs.data;
	size_t tbs_len = rq->tbs.len, der_len = 0;
	uint8_t *der = NULL, serial[16];
	char why[200];
	time_t now = time(NULL);
	enum tc_idem_verdict v = tc_idem_begin(s->idem, peer->name, rq->idempotency_key.data, rq->idempotency_key.len,
					       rq->precertificate, &tbs, &tbs_len, rq->serial.data, rq->serial.len,
					       &der, &der_len, serial, why, sizeof(why), now);
	if (v == TC_IDEM_SIGN) {
		keyed.tbs = (ProtobufCBinaryData){.data = (uint8_t *)tbs, .len = tbs_len};
		op_sign_certificate(s, peer, &keyed, r);
		int ok = r->resp.status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK && r->resp.sign_certificate &&
			 r->resp.sign_certificate->serial.len == 16;
		char *detail = NULL;
		tc_idem_finish(s->idem, peer->name, rq->idempotency_key.data, rq->idempotency_key.len,
			       rq->precertificate, ok ? r->resp.sign_certificate->certificate.data : NULL,
			       ok ? r->resp.sign_certificate->certificate.len : 0,
			       ok ? r->resp.sign_certificate->serial.data : NULL, &detail, now);
		/* The key's precertificate is gone from memory (a signer restart
		 * or an eviction between the two signatures): its final twin can
		 * never be signed, so the key is freed and a retry issues anew
		 * (one more precertificate, still one certificate), instead of
		 * refusing every retry for the record's lifetime. */
		if (!ok && !rq->precertificate && r->resp.reason && strcmp(r->resp.reason, TC_REASON_PRECERT_UNKNOWN) == 0)
			tc_idem_forget(s->idem, peer->name, rq->idempotency_key.data, rq->idempotency_key.len, now);
		struct tc_journal_entry e = {.peer = peer->name, .op = TC_IDEM_JOURNAL_OP, .key = "",
					     .data = ok ? r->resp.sign_certificate->certificate.data : NULL,
					     .data_len = ok ? r->resp.sign_certificate->certificate.len : 0,
					     .result = "ok", .detail = detail};
		/* The answer leaves once this record is durable too (deferred journal). */
		if (detail && tc_journal_append(s->journal, &e) == 0)
			journal_unavailable(r);
		free(detail);
		return;
	}
	if (v == TC_IDEM_REPLAY) {
		uint8_t *serial_copy = malloc(16);
		own(r, der);
		own(r, serial_copy);
		char detail[160], hex[33];
		tc_hex_encode(serial, 16, hex);
		snprintf(detail, sizeof(detail), "serial %s: the certificate of this idempotency key again", hex);
		struct tc_journal_entry e = {.peer = peer->name, .op = "idempotent_replay", .key = "", .data = der,
					     .data_len = der_len, .result = "ok", .detail = detail};
		if (!serial_copy) {
			set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_ERROR, "out of memory");
		} else if (tc_journal_append(s->journal, &e) == 0) {
			journal_unavailable(r);
		} else {
			memcpy(serial_copy, serial, 16);
			trustchain__internal__sign_certificate_response__init(&r->u.cert);
			r->u.cert.certificate = (ProtobufCBinaryData){.data = der, .len = der_len};
			r->u.cert.serial = (ProtobufCBinaryData){.data = serial_copy, .len = 16};
			r->resp.result_case = TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_SIGN_CERTIFICATE;
			r->resp.sign_certificate = &r->u.cert;
		}
		return;
	}
	if (v == TC_IDEM_BUSY) {
		set_status(r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_UNAVAILABLE, "%s", why);
		set_reason(r, "idempotency_key_busy");
		return;
	}
	set_status(r, v == TC_IDEM_REFUSED ? TRUSTCHAIN__INTERNAL__STATUS__STATUS_POLICY
					   : TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST, "%s", why);
	set_reason(r, v == TC_IDEM_REFUSED ? "idempotency_key_reused" : "malformed_request");
	journal_refusal(s, peer, op, rq->tbs.data, rq->tbs.len, r);
}

int tc_signer_handle(struct tc_signer *s, const struct tc_peer_identity *peer, const Request *req,
		     uint8_t **out, size_t *out_len)
{
	struct reply r;
	memset(&r, 0, sizeof(r));
	trustchain__internal__response__init(&r.resp);
	r.resp.id = req->id;
	switch (req->op_case) {
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_CERTIFICATE:
		if (req->sign_certificate->idempotency_key.len)
			op_sign_certificate_keyed(s, peer, req->sign_certificate, &r);
		else
			op_sign_certificate(s, peer, req->sign_certificate, &r);
		break;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_SIGN_DATA:
		op_sign_data(s, peer, req->sign_data, &r);
		break;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_PUBLIC_INFO:
		op_get_public_info(s, peer, req->get_public_info, &r);
		break;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_RANDOM:
		op_random(s, peer, req->random, &r);
		break;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_REVOKE:
		op_revoke(s, peer, req->revoke, &r);
		break;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL:
		op_get_crl(s, peer, req->get_crl, &r);
		break;
	case TRUSTCHAIN__INTERNAL__REQUEST__OP_PING:
		if (require(s, peer, TC_CAP_PING, "ping", &r) == 0) {
			trustchain__internal__ping_response__init(&r.u.ping);
			r.u.ping.peer = (char *)peer->name;
			r.resp.result_case = TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_PING;
			r.resp.ping = &r.u.ping;
		}
		break;
	default:
		set_status(&r, TRUSTCHAIN__INTERNAL__STATUS__STATUS_BAD_REQUEST, "unknown operation");
		break;
	}
	size_t len = trustchain__internal__response__get_packed_size(&r.resp);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf)
		trustchain__internal__response__pack(&r.resp, buf);
	for (size_t i = 0; i < sizeof(r.owned) / sizeof(r.owned[0]); i++)
		free(r.owned[i]);
	if (!buf)
		return -1;
	*out = buf;
	*out_len = len;
	return 0;
}
