/* The figures of trustchain-acme and trustchain-validator (issue 14), in
 * the process registry (common/metrics_proc.h) that the child runtime hands
 * to the supervisor's metrics channel once the child is ready:
 *   trustchain_acme_orders_total{state}            orders entering a state
 *   trustchain_acme_finalize_duration_seconds      finalize accepted -> valid/invalid
 *   trustchain_acme_jws_refusals_total{reason}     requests refused before any handler
 *   trustchain_acme_validations_total{check}       validator checks, "<type>:<result>"
 *                                                  (counted by the validator itself)
 * Labels are fixed words of this code, never client text (result is the
 * ACME problem type a check ended with, or "valid"). */
#ifndef TC_ACME_METRICS_H
#define TC_ACME_METRICS_H

/* state: "pending" (created), "processing" (finalized), "valid", "invalid"
 * (issued or refused by the CA); "ready" is derived from the
 * authorizations when read, never a stored transition, so not counted. */
void tc_acme_m_order(const char *state);
void tc_acme_m_finalize(double seconds);
/* reason: too_large, content_type, malformed_jws, key_form, bad_key,
 * account, signature, nonce, url, payload. */
void tc_acme_m_jws_refused(const char *reason);

#endif
