/* The zone's largest TTL: see dns_zone_ttl.h. */
#include "ctl/dns_zone_ttl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "ctl/dns_print.h"
#include "resolver/dns_name.h"
#include "resolver/tlsa.h"
#include "resolver/update.h"
#include "resolver/zone.h"
#include "resolver/zone_journal.h"

/* The journaled updates applied to zone, as the resolver replays them at
 * start; a journal that does not exist yet is no update. */
static int apply_journal(const struct tc_config *cfg, struct tc_zone *zone, char *err, size_t errlen)
{
	char path[TC_CFG_STR + 64];
	if (tc_config_data_path(cfg, "dns/zone.journal", path, sizeof(path)) != 0)
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	uint8_t *buf = NULL, *ops = NULL;
	size_t len = 0, cap = 0, n;
	int rc = -1;
	for (;;) {
		if (len == cap) {
			uint8_t *grown = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!grown) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			buf = grown;
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	size_t ops_len = 0, records = 0;
	if (!(ops = malloc(len ? len : 1))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* A torn tail (the resolver cuts it at its next start) is no update. */
	tc_zone_journal_scan(buf, len, ops, len, &ops_len, &records);
	rc = tc_update_apply(zone, ops, ops_len, err, errlen);
out:
	fclose(f);
	free(buf);
	free(ops);
	return rc;
}

int tc_ctl_zone_max_ttl(const struct tc_config *cfg, uint32_t *max, char *what, size_t wl, char *err,
			size_t errlen)
{
	struct tc_zone *zone = NULL;
	if (tc_zone_from_config(cfg, &zone, err, errlen) != 0)
		return -1;
	struct tc_tlsa_report rep;
	char tlsa_err[256];
	/* The TLSA records are there once the certificates are; none yet is
	 * no record (the resolver skips them too). */
	(void)tc_zone_add_service_tlsa(zone, cfg, &rep, tlsa_err, sizeof(tlsa_err));
	if (apply_journal(cfg, zone, err, errlen) != 0) {
		tc_zone_free(zone);
		return -1;
	}
	*max = cfg->dns.dnskey_ttl;
	snprintf(what, wl, "DNSKEY (dns.dnskey_ttl)");
	for (size_t i = 0;; i++) {
		const struct tc_zone_node *n = tc_zone_node_at(zone, i);
		if (!n)
			break;
		for (size_t k = 0; k < n->nrr; k++) {
			if (n->rrs[k].ttl <= *max)
				continue;
			*max = n->rrs[k].ttl;
			char name[1024], type[16];
			tc_dns_name_to_text(n->name, n->name_len, name, sizeof(name));
			snprintf(what, wl, "%s %s", name, tc_dns_type_text(n->rrs[k].type, type));
		}
	}
	tc_zone_free(zone);
	return 0;
}
