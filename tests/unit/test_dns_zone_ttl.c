/* The zone's largest TTL as `trustchainctl dns-roll start` checks it
 * against dns.rollover.max_ttl (ctl/dns_zone_ttl.c): the generated records
 * at dns.default_ttl / dns.address_ttl, dns.records, the journaled
 * dynamic updates and the DNSKEY TTL each count, and the one that carries
 * the maximum is named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "ctl/dns_zone_ttl.h"
#include "resolver/dns_name.h"
#include "resolver/update.h"
#include "resolver/zone_journal.h"
#include "unit/cunit_main.h"

static char dir[] = "/tmp/tc-zone-ttl-XXXXXX";

static struct tc_config *load(const char *dns_yaml)
{
	struct tc_config *cfg = malloc(sizeof(*cfg));
	char yaml[2048], err[512];
	snprintf(yaml, sizeof(yaml), "server:\n  dev: true\n  data_dir: %s\ndns:\n%s", dir, dns_yaml);
	if (!cfg || tc_config_load_buffer(cfg, "test", yaml, strlen(yaml), err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", cfg ? err : "out of memory");
		free(cfg);
		return NULL;
	}
	return cfg;
}

static uint32_t max_of(const char *dns_yaml, char *what, size_t wl)
{
	struct tc_config *cfg = load(dns_yaml);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	uint32_t max = 0;
	char err[512];
	int rc = tc_ctl_zone_max_ttl(cfg, &max, what, wl, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		fprintf(stderr, "max ttl: %s\n", err);
	free(cfg);
	return max;
}

static void test_generated(void)
{
	char what[1100];
	/* Defaults: SOA, NS, TXT, CAA at the apex live 3600 s, the largest of
	 * the zone once the DNSKEY's is lower. */
	CU_ASSERT_EQUAL(max_of("  dnskey_ttl: 300\n", what, sizeof(what)), 3600);
	CU_ASSERT_EQUAL(strncmp(what, "trust.hypermesh.online. ", 24), 0);
	/* dns.default_ttl lowers them; dns.address_ttl is then the largest. */
	CU_ASSERT_EQUAL(max_of("  default_ttl: 60\n  address_ttl: 120\n  dnskey_ttl: 30\n", what, sizeof(what)), 120);
	CU_ASSERT_PTR_NOT_NULL(strstr(what, " A"));
	/* The DNSKEY RRset counts as well. */
	CU_ASSERT_EQUAL(max_of("  default_ttl: 60\n  address_ttl: 60\n  dnskey_ttl: 900\n", what, sizeof(what)), 900);
	CU_ASSERT_STRING_EQUAL(what, "DNSKEY (dns.dnskey_ttl)");
}

static void test_records(void)
{
	char what[1100];
	CU_ASSERT_EQUAL(max_of("  default_ttl: 60\n  address_ttl: 60\n  dnskey_ttl: 60\n  records:\n"
			       "    - \"www 7200 TXT hello\"\n    - \"ftp 100 A 192.0.2.1\"\n",
			       what, sizeof(what)),
			7200);
	CU_ASSERT_PTR_NOT_NULL(strstr(what, "www."));
	CU_ASSERT_PTR_NOT_NULL(strstr(what, "TXT"));
}

/* A dynamic update's record (journaled, not in the configuration) with a
 * TTL above everything else. */
static void test_journal(void)
{
	char path[256], err[512], what[1100];
	snprintf(path, sizeof(path), "%s/dns", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/dns/zone.journal", dir);
	struct tc_zone_journal *j = NULL;
	uint8_t *ops = NULL;
	size_t ops_len = 0, records = 0;
	CU_ASSERT_EQUAL_FATAL(tc_zone_journal_open(path, &j, &ops, &ops_len, &records, err, sizeof(err)), 0);
	free(ops);
	/* _acme-challenge.trust.hypermesh.online. TXT "x", TTL 86400. */
	uint8_t change[256];
	size_t n = 0;
	uint8_t name[TC_DNS_MAX_NAME];
	size_t nlen = 0;
	const char *owner = "_acme-challenge.trust.hypermesh.online.", *why = NULL;
	CU_ASSERT_EQUAL_FATAL(tc_dns_name_from_text(owner, strlen(owner), NULL, 0, name, &nlen, &why), 0);
	memcpy(change, name, nlen);
	n = nlen;
	const uint8_t tail[] = {0, 16, 0, 1, 0, 1, 0x51, 0x80, 0, 2, 1, 'x'};
	memcpy(change + n, tail, sizeof(tail));
	n += sizeof(tail);
	CU_ASSERT_EQUAL_FATAL(tc_zone_journal_append(j, change, n), 0);
	tc_zone_journal_close(j);
	CU_ASSERT_EQUAL(max_of("  default_ttl: 60\n  address_ttl: 60\n  dnskey_ttl: 60\n", what, sizeof(what)), 86400);
	CU_ASSERT_PTR_NOT_NULL(strstr(what, "_acme-challenge."));
	unlink(path);
}

static int setup(void)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/dns", dir);
	rmdir(path);
	rmdir(dir);
	return 0;
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"generated records and DNSKEY: dns.default_ttl, address_ttl, dnskey_ttl", test_generated},
		{"dns.records: the largest named", test_records},
		{"journaled updates count", test_journal},
		{NULL, NULL},
	};
	return tc_run_suite("dns_zone_ttl", tests, setup, teardown);
}
