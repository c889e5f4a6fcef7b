/* The ca: keys beyond what the schema checks: where relying parties fetch
 * CRLs and CA certificates (ca.*_url, gateway.http_listen) and the
 * intermediate's name constraints (ca.permitted_ip_ranges,
 * ca.excluded_suffixes, ca.excluded_ip_ranges). */
#ifndef TC_COMMON_CONFIG_CA_H
#define TC_COMMON_CONFIG_CA_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

/* The URL defaults: dev serves on 127.0.0.1:8080; elsewhere "auto", made
 * http://ca.<bootstrap.domain>:8080/... by tc_config_ca_check. */
void tc_config_ca_defaults(struct tc_config *cfg, bool dev);

/* Derives the "auto" URLs and checks every URL (http://, printable ASCII),
 * gateway.http_listen ("off" or host:port) and the CIDR lists. Returns 0,
 * or -1 with *key the key at fault and why. */
int tc_config_ca_check(struct tc_config *cfg, const char **key, char *why, size_t whylen);

/* 1 when gateway.http_listen turns the HTTP listener on. */
int tc_config_http_enabled(const struct tc_config *cfg);

/* "192.0.2.0/24" or "2001:db8::/32" as address and mask octets (4+4 or
 * 16+16, what an iPAddress name constraint holds): returns 8 or 32, or 0
 * when text is not a CIDR with its host bits zero. */
size_t tc_cidr_parse(const char *text, uint8_t out[32]);

#endif
