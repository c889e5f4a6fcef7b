/* trustchainctl dns ds [--anchor]: the DNSSEC records of the zone key for
 * the operator to hand to the parent zone (DS) or to validators (a BIND /
 * delv trust-anchors block), from the public key the dns-zone ceremony
 * published in <data_dir>/dns/zone_key.pem. Needs no HSM and no PIN. */
#include <errno.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "ctl/artefacts.h"
#include "ctl/ctl.h"

#define ZONE_KEY_FLAGS 257   /* ZONE + SEP: the single key signs the zone (CSK) */

int tc_ctl_dns_tsig_new(int argc, char **argv);   /* dns_tsig_cmd.c */
int tc_ctl_dns_export(struct tc_ctl *ctl, int argc, char **argv);   /* dns_export_cmd.c */

static void dns_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl [--config FILE] dns ds [--anchor]\n"
		     "  prints the DNSKEY and DS (SHA-256) records of the zone key for\n"
		     "  bootstrap.domain; --anchor prints a trust-anchors block for\n"
		     "  BIND/delv (delv -a FILE) instead\n"
		     "       trustchainctl dns tsig new NAME [--algorithm hmac-sha256|hmac-sha512]\n"
		     "  prints a new TSIG key clause for dns.tsig_keys_file (and nsupdate -k,\n"
		     "  knot, nsd)\n"
		     "       trustchainctl dns export [--out FILE] [--key NAME] [--server HOST:PORT]\n"
		     "  the signed zone as a master file, by AXFR from the running resolver\n"
		     "  with a TSIG key of dns.secondaries (default: the first one)\n");
}

int tc_ctl_dns_roll_ds(struct tc_ctl *ctl, int anchor); /* dns_roll_cmd.c: -1 without a roll state */

static int dns_ds(struct tc_ctl *ctl, int anchor)
{
	int rolled = tc_ctl_dns_roll_ds(ctl, anchor);
	if (rolled >= 0)
		return rolled; /* the KSKs of the roll state (trustchainctl dns-roll) */
	char path[PATH_MAX];
	if (tc_config_data_path(&ctl->cfg, "dns/zone_key.pem", path, sizeof(path)) != 0) {
		tc_ctl_error("server.data_dir is too long");
		return TC_CTL_USAGE;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		tc_ctl_error("%s: %s (run 'trustchainctl ceremony create-key dns-zone' first)", path,
			     strerror(errno));
		return TC_CTL_FAIL;
	}
	EVP_PKEY *pub = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!pub) {
		tc_ctl_error("%s: not a PEM public key", path);
		return TC_CTL_FAIL;
	}
	const char *zone = ctl->cfg.bootstrap.domain;
	char dnskey[512], ds[512], err[256];
	int rc = tc_ctl_dns_records(pub, zone, ZONE_KEY_FLAGS, dnskey, sizeof(dnskey), ds, sizeof(ds),
				    err, sizeof(err));
	EVP_PKEY_free(pub);
	if (rc != 0) {
		tc_ctl_error("%s: %s", path, err);
		return TC_CTL_FAIL;
	}
	if (!anchor) {
		printf("%s\n%s\n", dnskey, ds);
		return TC_CTL_OK;
	}
	char owner[300], digest[130];
	unsigned tag, alg, dtype;
	if (sscanf(ds, "%299s IN DS %u %u %u %129s", owner, &tag, &alg, &dtype, digest) != 5) {
		tc_ctl_error("cannot format the DS record");
		return TC_CTL_FAIL;
	}
	printf("trust-anchors {\n\t\"%s\" static-ds %u %u %u \"%s\";\n};\n", owner, tag, alg, dtype,
	       digest);
	return TC_CTL_OK;
}

int tc_ctl_cmd_dns(struct tc_ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		dns_usage(stdout);
		return TC_CTL_OK;
	}
	if (argc == 2 && strcmp(argv[1], "ds") == 0)
		return dns_ds(ctl, 0);
	if (argc == 3 && strcmp(argv[1], "ds") == 0 && strcmp(argv[2], "--anchor") == 0)
		return dns_ds(ctl, 1);
	if (argc >= 3 && strcmp(argv[1], "tsig") == 0 && strcmp(argv[2], "new") == 0)
		return tc_ctl_dns_tsig_new(argc - 3, argv + 3);
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return tc_ctl_dns_export(ctl, argc - 2, argv + 2);
	dns_usage(stderr);
	return TC_CTL_USAGE;
}
