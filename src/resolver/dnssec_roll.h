/* When each step of a DNSSEC key rollover may be taken, from the TTLs and
 * propagation delays (RFC 6781 §4.1, RFC 7583 §3): the timing half of the
 * ZSK pre-publish and KSK double-signature ceremonies of issue 12, as pure
 * arithmetic so the ceremony, the resolver and tests agree on it. Nothing
 * here holds a key or a clock.
 *
 * ZSK pre-publish (RFC 7583 §3.2.1): the new ZSK is published in the
 * DNSKEY RRset (signed by the KSK) at publish; validators may hold the old
 * DNSKEY RRset for propagation + the DNSKEY TTL, so the new key signs only
 * from activate = publish + that + safety (then the old one stops); RRSIGs
 * by the old key stay in caches for propagation + the largest signature
 * TTL, so the old key leaves the DNSKEY RRset at remove = activate + that
 * + safety. At no time does a cached signature lack its key in a cached
 * DNSKEY RRset.
 *
 * KSK double-signature (RFC 6781 §4.1.2, RFC 7583 §3.3.2): the new KSK is
 * added and the DNSKEY RRset signed by both at publish; the DS for the new
 * key may go to the parent once the new DNSKEY RRset is in every cache:
 * ds_submit = publish + propagation + DNSKEY TTL + safety. Once the parent
 * serves the new DS (ds_seen, observed, not computed: the parent is not
 * ours), caches may hold the old DS RRset for the parent's propagation +
 * the DS TTL, so the old KSK (and its DNSKEY signature) leaves at
 * remove = ds_seen + that + safety. */
#ifndef TC_RESOLVER_DNSSEC_ROLL_H
#define TC_RESOLVER_DNSSEC_ROLL_H

#include <stdint.h>
#include <time.h>

struct tc_roll_params {
	uint32_t dnskey_ttl;            /* TTL of our DNSKEY RRset */
	uint32_t max_sig_ttl;           /* largest TTL of any RRset we sign (RRSIG TTLs follow) */
	uint32_t ds_ttl;                /* TTL of the parent's DS RRset */
	uint32_t propagation_s;         /* primary to every secondary serving it (Dprp) */
	uint32_t parent_propagation_s;  /* the parent's own (DprpP) */
	uint32_t safety_s;              /* margin added at each wait */
};

enum tc_roll_kind { TC_ROLL_ZSK_PREPUBLISH, TC_ROLL_KSK_DOUBLE_SIGNATURE };

struct tc_roll_plan {
	time_t publish;     /* new key in the DNSKEY RRset */
	time_t activate;    /* ZSK: new key signs the zone, old stops; KSK: = publish (both sign DNSKEY) */
	time_t ds_submit;   /* KSK: earliest time to give the parent the new DS (0 for a ZSK) */
	time_t remove;      /* old key out of the DNSKEY RRset; KSK: 0 until ds_seen is known */
};

/* The plan of a rollover started at publish. ds_seen: KSK only, when the
 * parent was seen serving the new DS (0: not yet). 0, or -1 for a KSK
 * ds_seen before ds_submit: the operator ran ahead of the plan, and a
 * validator holding the old DNSKEY RRset with the new DS alone would find
 * no matching key. */
int tc_roll_plan(enum tc_roll_kind kind, const struct tc_roll_params *p, time_t publish, time_t ds_seen,
		 struct tc_roll_plan *out);

#endif
