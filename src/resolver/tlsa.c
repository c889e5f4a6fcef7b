/* TLSA records from certificates: see tlsa.h. */
#include "resolver/tlsa.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/file_read.h"
#include "common/rollover_sched.h"

size_t tc_tlsa_association(const uint8_t *der, size_t derlen, uint8_t selector, uint8_t mtype,
			   uint8_t *out, size_t cap)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)derlen);
	if (!x || p != der + derlen) {
		X509_free(x);
		return 0;
	}
	unsigned char *sel = NULL;
	int sel_len;
	if (selector == TC_TLSA_SELECTOR_CERT)
		sel_len = i2d_X509(x, &sel);
	else if (selector == TC_TLSA_SELECTOR_SPKI)
		sel_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &sel);
	else
		sel_len = -1;
	X509_free(x);
	if (sel_len <= 0)
		return 0;
	size_t n = 0;
	unsigned int mdlen = 0;
	if (mtype == TC_TLSA_MATCH_FULL) {
		if ((size_t)sel_len <= cap) {
			memcpy(out, sel, (size_t)sel_len);
			n = (size_t)sel_len;
		}
	} else if (mtype == TC_TLSA_MATCH_SHA256 || mtype == TC_TLSA_MATCH_SHA512) {
		const EVP_MD *md = mtype == TC_TLSA_MATCH_SHA256 ? EVP_sha256() : EVP_sha512();
		if ((size_t)EVP_MD_get_size(md) <= cap &&
		    EVP_Digest(sel, (size_t)sel_len, out, &mdlen, md, NULL) == 1)
			n = mdlen;
	}
	OPENSSL_free(sel);
	return n;
}

uint16_t tc_tlsa_port_of(const char *listen)
{
	const char *colon = strrchr(listen, ':');
	if (!colon || !colon[1])
		return 0;
	char *end;
	errno = 0;
	unsigned long v = strtoul(colon + 1, &end, 10);
	if (errno || *end || v == 0 || v > 65535)
		return 0;
	return (uint16_t)v;
}

/* The first certificate of a PEM file as DER (malloc'ed); NULL with
 * *missing set when the file does not exist, or with problem filled. */
static uint8_t *read_first_cert(const char *path, size_t *len, bool *missing, char *problem,
				size_t plen)
{
	*missing = false;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			*missing = true;
		else
			snprintf(problem, plen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x) {
		snprintf(problem, plen, "%s: no PEM certificate", path);
		return NULL;
	}
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	X509_free(x);
	if (n <= 0) {
		snprintf(problem, plen, "%s: cannot encode the certificate", path);
		return NULL;
	}
	uint8_t *copy = malloc((size_t)n);
	if (copy)
		memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return copy;
}

static int add_one(struct tc_zone *zone, const char *owner, uint32_t ttl, uint8_t usage, uint8_t selector,
		   uint8_t mtype, const uint8_t *der, size_t derlen, char *err, size_t errlen)
{
	size_t cap = derlen + 64;
	uint8_t *data = malloc(cap);
	if (!data) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t n = tc_tlsa_association(der, derlen, selector, mtype, data, cap);
	int rc = -1;
	if (n == 0)
		snprintf(err, errlen, "%s: cannot derive TLSA %u %u %u", owner, usage, selector, mtype);
	else
		rc = tc_zone_add_tlsa_ttl(zone, owner, ttl, usage, selector, mtype, data, n, err, errlen);
	free(data);
	return rc;
}

int tc_zone_add_service_tlsa(struct tc_zone *zone, const struct tc_config *cfg,
			     struct tc_tlsa_report *rep, char *err, size_t errlen)
{
	char path[TC_CFG_STR + 64];
	char owners[3][48];
	size_t nowners = 0;
	/* They name the services' endpoints, as the A/AAAA do. */
	uint32_t ttl = cfg->dns.address_ttl ? cfg->dns.address_ttl : 300;
	uint16_t gw = tc_tlsa_port_of(cfg->gateway.listen);
	uint16_t ct = tc_tlsa_port_of(cfg->ct.http_listen);
	memset(rep, 0, sizeof(*rep));
	if (gw)
		snprintf(owners[nowners++], sizeof(owners[0]), "_%u._tcp.ca", gw);
	if (ct)
		snprintf(owners[nowners++], sizeof(owners[0]), "_%u._tcp.ct", ct);
	char doq_owner[48];
	snprintf(doq_owner, sizeof(doq_owner), "_%u._udp.dns", cfg->dns.quic_port);
	snprintf(owners[nowners++], sizeof(owners[0]), "%s", doq_owner);

	bool missing;
	size_t len = 0;
	uint8_t *der = NULL;
	/* Every intermediate that may have issued a certificate of ours: the
	 * configured one, the finalized rollovers (the last one issuing, the
	 * earlier ones' leaves still valid) and a scheduled next one. Under a
	 * new root the file is LABEL-chain.pem and its first certificate the
	 * intermediate: DANE-TA names the intermediate, which the server
	 * presents in its chain, so the cross certificate after it needs no
	 * record (it only leads PKIX clients to our old root). */
	struct tc_rollover_files cas;
	tc_rollover_files_read(cfg, &cas);
	for (int c = 0; c < cas.n; c++) {
		char problem[sizeof(rep->problem) / 2] = "";
		der = NULL;
		if (tc_config_data_path(cfg, cas.rel[c], path, sizeof(path)) == 0)
			der = read_first_cert(path, &len, &missing, c ? problem : rep->problem,
					      c ? sizeof(problem) : sizeof(rep->problem));
		if (problem[0]) {
			size_t used = strlen(rep->problem);
			snprintf(rep->problem + used, sizeof(rep->problem) - used, "%s%s", used ? "; " : "", problem);
		}
		if (!der)
			continue;
		for (size_t i = 0; i < nowners; i++) {
			if (add_one(zone, owners[i], ttl, TC_TLSA_USAGE_DANE_TA, TC_TLSA_SELECTOR_SPKI,
				    TC_TLSA_MATCH_SHA256, der, len, err, errlen) != 0 ||
			    add_one(zone, owners[i], ttl, TC_TLSA_USAGE_DANE_TA, TC_TLSA_SELECTOR_CERT,
				    TC_TLSA_MATCH_SHA256, der, len, err, errlen) != 0) {
				free(der);
				return -1;
			}
		}
		rep->intermediate = true;
		free(der);
	}

	der = NULL;
	char problem[sizeof(rep->problem) / 2] = "";
	if (tc_config_data_path(cfg, "dns/doq_cert.pem", path, sizeof(path)) == 0)
		der = read_first_cert(path, &len, &missing, problem, sizeof(problem));
	if (problem[0]) {
		size_t used = strlen(rep->problem);
		snprintf(rep->problem + used, sizeof(rep->problem) - used, "%s%s", used ? "; " : "",
			 problem);
	}
	if (der) {
		int rc = add_one(zone, doq_owner, ttl, TC_TLSA_USAGE_DANE_EE, TC_TLSA_SELECTOR_SPKI,
				 TC_TLSA_MATCH_SHA256, der, len, err, errlen);
		free(der);
		if (rc != 0)
			return -1;
		rep->doq_cert = true;
	}
	return 0;
}
