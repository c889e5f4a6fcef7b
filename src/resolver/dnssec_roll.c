/* Rollover timing: see dnssec_roll.h. */
#include "resolver/dnssec_roll.h"

#include <string.h>

int tc_roll_plan(enum tc_roll_kind kind, const struct tc_roll_params *p, time_t publish, time_t ds_seen,
		 struct tc_roll_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->publish = publish;
	/* Every cache that could hold the old DNSKEY RRset has expired it. */
	time_t known = publish + (time_t)p->propagation_s + (time_t)p->dnskey_ttl + (time_t)p->safety_s;
	if (kind == TC_ROLL_ZSK_PREPUBLISH) {
		out->activate = known;
		out->remove = known + (time_t)p->propagation_s + (time_t)p->max_sig_ttl + (time_t)p->safety_s;
		return 0;
	}
	out->activate = publish;
	out->ds_submit = known;
	if (!ds_seen)
		return 0;
	if (ds_seen < known)
		return -1;
	out->remove = ds_seen + (time_t)p->parent_propagation_s + (time_t)p->ds_ttl + (time_t)p->safety_s;
	return 0;
}
