/* What `trustchainctl status` asks the running services, each over its
 * public protocol (no access to any child's storage): the CT log's tree head
 * over RFC 6962 HTTP, the gateway's certificate from a TLS handshake, the
 * zone's SOA serial over classic DNS. */
#ifndef TC_CTL_STATUS_PROBE_H
#define TC_CTL_STATUS_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "0.0.0.0:6962" -> "127.0.0.1:6962", "[::]:53" -> "[::1]:53": where a
 * local client reaches a listener bound to the wildcard address. */
void tc_status_local_addr(const char *listen, char *out, size_t outlen);

/* GET <url>/ct/v1/get-sth: tree size and timestamp (ms since the epoch). */
int tc_status_ct_sth(const char *url, uint64_t *tree_size, uint64_t *timestamp_ms, char *err, size_t errlen);

/* TLS handshake with hostport (SNI sni, nothing verified: only the
 * certificate's dates are read); its notAfter. */
int tc_status_tls_not_after(const char *hostport, const char *sni, time_t *not_after, char *err, size_t errlen);

/* SOA query for zone over UDP to hostport; the serial of the answer. */
int tc_status_soa_serial(const char *hostport, const char *zone, uint32_t *serial, char *err, size_t errlen);

#endif
