/* Pre-signing the whole zone: the zone is small and static, so every
 * answer is built from records already in memory and the HSM is asked
 * once per RRset per signing period, never per query.
 *
 * Order of work: strip old DNSSEC data, add the DNSKEY, even out TTLs,
 * build the NSEC chain (it needs the final type list of every name), then
 * sign every authoritative RRset including DNSKEY and NSEC. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/dnssec.h"
#include "common/errorf.h"

#define TYPE_NSEC3 50
#define TYPE_NSEC3PARAM 51
#define MAX_TYPES_PER_NAME 256

static int node_canon_cmp(const void *pa, const void *pb)
{
	const struct tc_zone_node *a = *(const struct tc_zone_node *const *)pa;
	const struct tc_zone_node *b = *(const struct tc_zone_node *const *)pb;
	return tc_dnssec_name_cmp(a->name, a->name_len, b->name, b->name_len);
}

/* Is an RRset of this type at node authoritative data we sign? */
static bool signed_here(const struct tc_zone_node *n, bool apex, uint16_t type)
{
	if (type == TC_DNS_TYPE_RRSIG)
		return false;
	if (n->has_ns && !apex)
		return type == TC_DNS_TYPE_DS || type == TC_DNS_TYPE_NSEC;
	return true;
}

/* Distinct types at a node, ascending (rrs are sorted by type). */
static size_t node_types(const struct tc_zone_node *n, uint16_t *types)
{
	size_t k = 0;
	for (size_t i = 0; i < n->nrr && k < MAX_TYPES_PER_NAME; i++)
		if (k == 0 || types[k - 1] != n->rrs[i].type)
			types[k++] = n->rrs[i].type;
	return k;
}

/* RFC 2181 §5.2: one TTL per RRset; the smallest is the safe choice. */
static void even_ttls(struct tc_zone_node *n)
{
	for (size_t i = 0; i < n->nrr;) {
		size_t k = i;
		uint32_t min = n->rrs[i].ttl;
		while (k < n->nrr && n->rrs[k].type == n->rrs[i].type) {
			if (n->rrs[k].ttl < min)
				min = n->rrs[k].ttl;
			k++;
		}
		for (size_t j = i; j < k; j++)
			n->rrs[j].ttl = min;
		i = k;
	}
}

static void strip_dnssec(struct tc_zone *zone)
{
	static const uint16_t types[] = {TC_DNS_TYPE_RRSIG, TC_DNS_TYPE_NSEC, TYPE_NSEC3,
					 TYPE_NSEC3PARAM};
	struct tc_zone_node *n;
	for (size_t i = 0; (n = tc_zone_node_at(zone, i)) != NULL; i++)
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			tc_zone_remove_rrset(zone, n, types[t]);
}

/* The NSEC RDATA of chain[i]: the next owner (wrapping to the apex) and
 * the types present, plus NSEC and RRSIG; at a delegation only NS and DS. */
static size_t nsec_rdata(const struct tc_zone_node *n, const struct tc_zone_node *next, bool apex,
			 uint8_t *out, size_t cap)
{
	uint16_t present[MAX_TYPES_PER_NAME], types[MAX_TYPES_PER_NAME + 2];
	size_t np = node_types(n, present), nt = 0;
	bool delegation = n->has_ns && !apex;
	bool added_nsec = false, added_rrsig = false;
	for (size_t i = 0; i <= np; i++) {
		uint16_t t = i < np ? present[i] : 0xffff;
		if (!added_rrsig && t > TC_DNS_TYPE_RRSIG) {
			types[nt++] = TC_DNS_TYPE_RRSIG;
			added_rrsig = true;
		}
		if (!added_nsec && t > TC_DNS_TYPE_NSEC) {
			types[nt++] = TC_DNS_TYPE_NSEC;
			added_nsec = true;
		}
		if (i == np)
			break;
		if (t == TC_DNS_TYPE_RRSIG || t == TC_DNS_TYPE_NSEC)
			continue;
		if (delegation && t != TC_DNS_TYPE_NS && t != TC_DNS_TYPE_DS)
			continue;
		types[nt++] = t;
	}
	if (next->name_len > cap)
		return 0;
	/* Next owner in lower case: RFC 6840 §5.1 says NSEC RDATA names are
	 * not lower-cased for signing, so they must already be. */
	tc_dns_name_lower(out, next->name, next->name_len);
	size_t bl = tc_dnssec_type_bitmap(types, nt, out + next->name_len, cap - next->name_len);
	return bl ? next->name_len + bl : 0;
}

/* Authoritative names (those with data, not below a cut) in canonical order. */
static const struct tc_zone_node **collect_chain(struct tc_zone *zone, size_t *count)
{
	size_t total = tc_zone_node_count(zone), n = 0;
	const struct tc_zone_node **chain = malloc((total ? total : 1) * sizeof(*chain));
	if (!chain)
		return NULL;
	struct tc_zone_node *node;
	for (size_t i = 0; (node = tc_zone_node_at(zone, i)) != NULL; i++)
		if (node->nrr > 0 && !tc_zone_below_cut(zone, node))
			chain[n++] = node;
	qsort(chain, n, sizeof(*chain), node_canon_cmp);
	*count = n;
	return chain;
}

static long sign_rrset(struct tc_zone *zone, struct tc_zone_node *n, uint16_t type,
		       const struct tc_dnssec_zone_key *key, uint16_t tag, char *err, size_t errlen)
{
	size_t count, olen;
	const struct tc_zone_rr *rrs = tc_zone_node_rrset(n, type, &count);
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	char text[TC_DNS_MAX_NAME * 4 + 1];
	if (!rrs)
		return 0;
	struct tc_rrsig_fields f = {.type_covered = type,
				    .labels = tc_dnssec_rrsig_labels(n->name, n->name_len),
				    .original_ttl = rrs[0].ttl,
				    .expiration = key->expiration,
				    .inception = key->inception,
				    .key_tag = tag,
				    .signer = origin,
				    .signer_len = olen};
	uint8_t rrsig[TC_DNSSEC_RRSIG_FIXED + TC_DNS_MAX_NAME + TC_DNSSEC_SIG_LEN];
	size_t hl = tc_dnssec_rrsig_head(rrsig, sizeof(rrsig), &f);
	size_t inlen;
	uint8_t *input = tc_dnssec_signing_input(rrsig, hl, n->name, n->name_len, type, rrs[0].ttl,
						 rrs, count, &inlen);
	tc_dns_name_to_text(n->name, n->name_len, text, sizeof(text));
	if (!input)
		return tc_errorf(err, errlen, "%s type %u: RRset too large to sign", text, type);
	char why[256] = "";
	int rc = key->sign(key->ctx, input, inlen, rrsig + hl, why, sizeof(why));
	free(input);
	if (rc != 0)
		return tc_errorf(err, errlen, "signing %s type %u: %s", text, type, why);
	if (tc_zone_add_rr(zone, n->name, n->name_len, TC_DNS_TYPE_RRSIG, rrs[0].ttl, rrsig,
			   hl + TC_DNSSEC_SIG_LEN, err, errlen) != 0)
		return -1;
	return 1;
}

long tc_zone_sign(struct tc_zone *zone, const struct tc_dnssec_zone_key *key, char *err,
		  size_t errlen)
{
	size_t olen;
	const uint8_t *origin = tc_zone_origin(zone, &olen);
	if (!tc_zone_soa(zone))
		return tc_errorf(err, errlen, "a zone without SOA cannot be signed");
	/* Without a set the one key is a CSK: the same shape, one entry. */
	struct tc_dnssec_keyset one = {.n = 1};
	memcpy(one.key[0].dnskey, key->dnskey, sizeof(key->dnskey));
	one.key[0].signs_dnskey = one.key[0].signs_zone = true;
	const struct tc_dnssec_keyset *set = key->set ? key->set : &one;
	if (set->n == 0 || set->n > TC_DNSSEC_MAX_KEYS)
		return tc_errorf(err, errlen, "a zone needs 1 to %d keys", TC_DNSSEC_MAX_KEYS);
	uint16_t tags[TC_DNSSEC_MAX_KEYS];
	bool any_dnskey = false, any_zone = false;
	for (size_t i = 0; i < set->n; i++) {
		if (set->key[i].dnskey[3] != TC_DNSSEC_ALG_ECDSAP256SHA256)
			return tc_errorf(err, errlen, "only algorithm 13 (ECDSAP256SHA256) is supported");
		tags[i] = tc_dnssec_key_tag(set->key[i].dnskey, TC_DNSSEC_DNSKEY_LEN);
		/* The signer function finds its key by the tag in the input. */
		for (size_t j = 0; j < i; j++)
			if (tags[j] == tags[i])
				return tc_errorf(err, errlen, "two keys with tag %u", (unsigned)tags[i]);
		any_dnskey |= set->key[i].signs_dnskey;
		any_zone |= set->key[i].signs_zone;
	}
	if (!any_dnskey || !any_zone)
		return tc_errorf(err, errlen, "no key signs the %s", any_dnskey ? "zone data" : "DNSKEY RRset");
	strip_dnssec(zone);
	uint32_t dnskey_ttl = key->dnskey_ttl ? key->dnskey_ttl : TC_DNSSEC_DNSKEY_TTL;
	for (size_t i = 0; i < set->n; i++)
		if (tc_zone_add_rr(zone, origin, olen, TC_DNS_TYPE_DNSKEY, dnskey_ttl,
				   set->key[i].dnskey, TC_DNSSEC_DNSKEY_LEN, err, errlen) != 0)
			return -1;
	struct tc_zone_node *node;
	for (size_t i = 0; (node = tc_zone_node_at(zone, i)) != NULL; i++)
		even_ttls(node);

	size_t nchain;
	const struct tc_zone_node **chain = collect_chain(zone, &nchain);
	if (!chain)
		return tc_errorf(err, errlen, "out of memory");
	uint32_t nsec_ttl = tc_zone_negative_ttl(zone);
	for (size_t i = 0; i < nchain; i++) {
		uint8_t rd[TC_DNS_MAX_NAME + 32 * 34];
		const struct tc_zone_node *next = chain[(i + 1) % nchain];
		size_t n = nsec_rdata(chain[i], next, chain[i]->name_len == olen, rd, sizeof(rd));
		if (n == 0 || tc_zone_add_rr(zone, chain[i]->name, chain[i]->name_len, TC_DNS_TYPE_NSEC,
					     nsec_ttl, rd, n, err, errlen) != 0) {
			free(chain);
			return n == 0 ? tc_errorf(err, errlen, "cannot encode an NSEC record") : -1;
		}
	}

	long made = 0;
	for (size_t i = 0; i < nchain; i++) {
		struct tc_zone_node *n = (struct tc_zone_node *)chain[i];
		uint16_t types[MAX_TYPES_PER_NAME];
		size_t nt = node_types(n, types);
		bool apex = n->name_len == olen;
		for (size_t t = 0; t < nt; t++) {
			if (!signed_here(n, apex, types[t]))
				continue;
			for (size_t k = 0; k < set->n; k++) {
				if (!(types[t] == TC_DNS_TYPE_DNSKEY ? set->key[k].signs_dnskey
								    : set->key[k].signs_zone))
					continue;
				long r = sign_rrset(zone, n, types[t], key, tags[k], err, errlen);
				if (r < 0) {
					free(chain);
					return -1;
				}
				made += r;
			}
		}
	}
	int rc = tc_zone_set_nsec_chain(zone, chain, nchain);
	free(chain);
	if (rc != 0)
		return tc_errorf(err, errlen, "out of memory");
	return made;
}
