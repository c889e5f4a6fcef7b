/* Issuance with embedded SCTs as a state machine (ct_issue.h,
 * tc_ct_issue_async): precertificate signed -> entry logged, SCT back ->
 * final certificate signed -> (ct.log_stoq_certificates) final certificate
 * logged. Each step sends its request with the IPC client's asynchronous
 * call and returns; the answer's callback, on the link's reader thread,
 * checks it and sends the next. No thread waits per issuance, so the
 * number in flight is bounded by the callers, not by threads, and the
 * signer and the log see whole batches to group into one journal commit
 * or one synced write.
 *
 * The one wait kept: a log that is away at the moment of a step (its link
 * down and one connection attempt refused). tc_ct_call then waits for it up
 * to the step's deadline, as the blocking form does, on a thread of its
 * own, bounded in number; beyond that bound the step fails at once as
 * "log unreachable". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct_client.h"
#include "common/ct_issue_steps.h"

/* Issuances allowed to wait for an absent log at once, each on a thread. */
#define MAX_LOG_WAITERS 64

struct flow {
	struct tc_ct_issuer iss;
	unsigned char *tbs;
	size_t tbs_len;
	unsigned char *key; /* iss.idempotency_key's copy */
	unsigned char *precert; /* the signed precertificate, while it is logged */
	size_t precert_len;
	int logging_final;      /* the step in flight at the log */
	struct tc_issued_cert out;
	struct tc_ct_issue_error err;
	tc_ct_issue_done_fn done;
	void *arg;
};

static pthread_mutex_t waiters_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t waiters_gone = PTHREAD_COND_INITIALIZER;
static unsigned log_waiters;

static void flow_end(struct flow *f, int ok)
{
	f->done(f->arg, ok ? &f->out : NULL, ok ? NULL : &f->err);
	tc_issued_cert_free(&f->out);
	free(f->tbs);
	free(f->key);
	free(f->precert);
	free(f);
}

static void log_answered(void *arg, ProtobufCMessage *resp, const char *why);

/* A log that was away: wait for it as tc_ct_call does, then go on. */
static void *log_wait_main(void *arg)
{
	struct flow *f = arg;
	const unsigned char *cert = f->logging_final ? f->out.der : f->precert;
	size_t len = f->logging_final ? f->out.der_len : f->precert_len;
	struct tc_ct_log_msg m;
	char why[256] = "no link to the CT log";
	Trustchain__Internal__Ct__Response *resp = NULL;
	if (tc_ct_issue_log_msg(&m, &f->iss, !f->logging_final, f->logging_final, cert, len, &f->err) == 0)
		resp = tc_ct_call(f->iss.ct, &m.req, TC_CT_ISSUE_LOG_TIMEOUT_MS, why, sizeof(why));
	log_answered(f, resp ? &resp->base : NULL, why);
	pthread_mutex_lock(&waiters_lock);
	if (--log_waiters == 0)
		pthread_cond_broadcast(&waiters_gone);
	pthread_mutex_unlock(&waiters_lock);
	return NULL;
}

/* Sends the current certificate to the log; its answer comes to
 * log_answered. */
static void log_step(struct flow *f)
{
	const unsigned char *cert = f->logging_final ? f->out.der : f->precert;
	size_t len = f->logging_final ? f->out.der_len : f->precert_len;
	struct tc_ct_log_msg m;
	if (tc_ct_issue_log_msg(&m, &f->iss, !f->logging_final, f->logging_final, cert, len, &f->err) != 0) {
		flow_end(f, 0);
		return;
	}
	char why[256];
	if (tc_ct_call_async(f->iss.ct, &m.req, TC_CT_ISSUE_LOG_TIMEOUT_MS, log_answered, f, why, sizeof(why)) == 0)
		return;
	/* The log is away: one thread waits for it (bounded). */
	pthread_mutex_lock(&waiters_lock);
	int room = log_waiters < MAX_LOG_WAITERS;
	if (room)
		log_waiters++;
	pthread_mutex_unlock(&waiters_lock);
	pthread_t t;
	pthread_attr_t attr;
	int started = 0;
	if (room && pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		started = pthread_create(&t, &attr, log_wait_main, f) == 0;
		pthread_attr_destroy(&attr);
	}
	if (started)
		return;
	if (room) {
		pthread_mutex_lock(&waiters_lock);
		if (--log_waiters == 0)
			pthread_cond_broadcast(&waiters_gone);
		pthread_mutex_unlock(&waiters_lock);
	}
	tc_ct_issue_log_answer(NULL, why, !f->logging_final, f->logging_final, NULL, &f->err);
	flow_end(f, 0);
}

static void final_signed(void *arg, ProtobufCMessage *resp, const char *why)
{
	struct flow *f = arg;
	Trustchain__Internal__Response *fin =
		tc_ct_issue_sign_answer((Trustchain__Internal__Response *)resp, why, 0, &f->err);
	if (!fin || tc_ct_issue_take_final(fin, &f->out, &f->err) != 0) {
		flow_end(f, 0);
		return;
	}
	if (!f->iss.log_final) {
		flow_end(f, 1);
		return;
	}
	/* Logged without an SCT of its own (see finish() in ct_issue.c). */
	f->logging_final = 1;
	log_step(f);
}

/* Sends a SignCertificate; its answer comes to cb. */
static void sign_step(struct flow *f, int precert, const unsigned char *sct_list, size_t sct_list_len,
		      tc_ipc_done_fn cb)
{
	struct tc_ct_sign_msg m;
	tc_ct_issue_sign_msg(&m, &f->iss, f->tbs, f->tbs_len, precert, sct_list, sct_list_len,
			     precert ? NULL : f->out.serial, precert ? 0 : f->out.serial_len);
	char why[256];
	if (tc_child_signer_call_async(f->iss.child, &m.req, TC_CT_ISSUE_SIGNER_TIMEOUT_MS, cb, f, why, sizeof(why)) ==
	    0)
		return;
	tc_ct_issue_sign_answer(NULL, why, precert, &f->err);
	flow_end(f, 0);
}

static void log_answered(void *arg, ProtobufCMessage *resp, const char *why)
{
	struct flow *f = arg;
	struct tc_logged *into = f->logging_final ? &f->out.final : &f->out.precert;
	if (tc_ct_issue_log_answer((Trustchain__Internal__Ct__Response *)resp, why, !f->logging_final,
				   f->logging_final, into, &f->err) != 0) {
		flow_end(f, 0);
		return;
	}
	if (f->logging_final) {
		f->out.final_logged = 1;
		flow_end(f, 1);
		return;
	}
	free(f->precert);
	f->precert = NULL;
	unsigned char list[TC_CT_SCT_LIST_MAX];
	size_t list_len = tc_sct_list_encode(f->out.precert.sct, f->out.precert.sct_len, list, sizeof(list));
	if (list_len == 0) {
		tc_ct_issue_fail(&f->err, TC_CT_ISSUE_INTERNAL, 0, "SCT too large");
		flow_end(f, 0);
		return;
	}
	sign_step(f, 0, list, list_len, final_signed);
}

static void precert_signed(void *arg, ProtobufCMessage *resp, const char *why)
{
	struct flow *f = arg;
	Trustchain__Internal__Response *pre =
		tc_ct_issue_sign_answer((Trustchain__Internal__Response *)resp, why, 1, &f->err);
	if (!pre) {
		flow_end(f, 0);
		return;
	}
	const Trustchain__Internal__SignCertificateResponse *p = pre->sign_certificate;
	f->out.serial_len = p->serial.len;
	memcpy(f->out.serial, p->serial.data, p->serial.len);
	/* The answer's buffer is the signer link's; the precertificate is
	 * kept until the log has it (and, when the log is away, for the
	 * thread that waits for it). */
	f->precert = malloc(p->certificate.len);
	if (f->precert) {
		memcpy(f->precert, p->certificate.data, p->certificate.len);
		f->precert_len = p->certificate.len;
	}
	trustchain__internal__response__free_unpacked(pre, NULL);
	if (!f->precert) {
		tc_ct_issue_fail(&f->err, TC_CT_ISSUE_INTERNAL, 0, "out of memory");
		flow_end(f, 0);
		return;
	}
	/* The SCT comes back only once the precertificate's entry is durable. */
	log_step(f);
}

void tc_ct_issue_async(const struct tc_ct_issuer *iss, const unsigned char *tbs, size_t tbs_len,
		       tc_ct_issue_done_fn done, void *arg)
{
	struct flow *f = calloc(1, sizeof(*f));
	unsigned char *copy = f && tbs_len ? malloc(tbs_len) : NULL;
	unsigned char *key = copy && iss->idempotency_key_len ? malloc(iss->idempotency_key_len) : NULL;
	if (!copy || (iss->idempotency_key_len && !key)) {
		free(copy);
		struct tc_ct_issue_error err = {.fault = TC_CT_ISSUE_INTERNAL, .precert = 1};
		snprintf(err.message, sizeof(err.message), "out of memory");
		free(f);
		done(arg, NULL, &err);
		return;
	}
	memcpy(copy, tbs, tbs_len);
	f->iss = *iss;
	if (key) { /* the caller's buffer lasts for this call only */
		memcpy(key, iss->idempotency_key, iss->idempotency_key_len);
		f->iss.idempotency_key = f->key = key;
	}
	f->tbs = copy;
	f->tbs_len = tbs_len;
	f->done = done;
	f->arg = arg;
	sign_step(f, 1, NULL, 0, precert_signed);
}

void tc_ct_issue_async_quiesce(void)
{
	pthread_mutex_lock(&waiters_lock);
	while (log_waiters > 0)
		pthread_cond_wait(&waiters_gone, &waiters_lock);
	pthread_mutex_unlock(&waiters_lock);
}
