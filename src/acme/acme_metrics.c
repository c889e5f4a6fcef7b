#include "acme/acme_metrics.h"

#include <stdio.h>
#include <string.h>

#include "common/metrics_proc.h"

void tc_acme_m_order(const char *state)
{
	if (!state)
		return;
	tc_metric_add(tc_pm_counter("trustchain_acme_orders_total", "ACME orders entering each state.", "state"),
		      state, 1);
}

void tc_acme_m_finalize(double seconds)
{
	tc_metric_observe(tc_pm_seconds("trustchain_acme_finalize_duration_seconds",
					"From an accepted finalize to the order's valid or invalid state.", NULL),
			  NULL, seconds);
}

void tc_acme_m_jws_refused(const char *reason)
{
	tc_metric_add(tc_pm_counter("trustchain_acme_jws_refusals_total",
				    "ACME requests refused by the JWS, key, nonce or URL checks, by reason.", "reason"),
		      reason, 1);
}
