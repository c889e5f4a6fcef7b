/* trustchainctl dns export [--out FILE] [--key NAME] [--server HOST:PORT]:
 * the signed zone as an RFC 1035 master file.
 *
 * It is fetched by AXFR over TCP from the running resolver, signed with a
 * TSIG key of dns.secondaries (the first one unless --key), every answer's
 * TSIG checked. Why a transfer rather than the journal and the config: the
 * signatures exist only in the resolver (the HSM signs, the zone is rebuilt
 * and re-signed in memory), so the served zone is the only copy that holds
 * exactly what validators see; and a transfer is the path secondaries use,
 * so an export is also a check of that path.
 *
 * The file is one record per line, absolute names, TTL and class on every
 * line, the SOA first; written to a temporary file, synced and renamed so a
 * failed export never leaves half a zone at FILE. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/dns_print.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/tsig.h"

#define EXPORT_TIMEOUT_MS 30000
#define EXPORT_MAX_RECORDS 10000000

int tc_ctl_dns_export(struct tc_ctl *ctl, int argc, char **argv);

struct export_opts {
	const char *out, *key, *server;
};

static int read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, EXPORT_TIMEOUT_MS);
		if (pr == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (pr < 0 && errno == EINTR)
			continue;
		ssize_t r = pr < 0 ? -1 : recv(fd, p + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int connect_server(const char *server, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(server, ':');
	const char *port = colon ? colon + 1 : "53";
	size_t hlen = colon ? (size_t)(colon - server) : strlen(server);
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "%s: host too long", server);
		return -1;
	}
	memcpy(host, server, hlen);
	host[hlen] = '\0';
	char *h = host;
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		h = host + 1;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(h, port, &hints, &ai) != 0) {
		snprintf(err, errlen, "%s: not a numeric HOST:PORT", server);
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		snprintf(err, errlen, "%s: %s", server, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Writes the answer records of one message; *soas counts SOA records seen,
 * the transfer ends at the second. -1 with err on a malformed message. */
static int write_records(FILE *out, const uint8_t *msg, size_t len, bool first, unsigned *soas,
			 size_t *records, char *err, size_t errlen)
{
	struct tc_dns_msg m;
	size_t pos;
	if (tc_dns_parse(msg, len, &m) != TC_DNS_OK ||
	    tc_dns_skip_questions(msg, len, &pos) != TC_DNS_OK) {
		snprintf(err, errlen, "malformed answer");
		return -1;
	}
	unsigned rcode = msg[3] & 0x0f;
	if (rcode != 0) {
		char rb[16];
		snprintf(err, errlen, "transfer refused: %s", tc_dns_rcode_text(rcode, rb));
		return -1;
	}
	if (first && m.ancount == 0) {
		snprintf(err, errlen, "empty answer");
		return -1;
	}
	char *rdata = malloc(4 * TC_DNS_MAX_MSG);
	if (!rdata) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	for (unsigned i = 0; i < m.ancount && *soas < 2; i++) {
		struct tc_dns_rr rr;
		if (tc_dns_read_rr(msg, len, &pos, &rr) != TC_DNS_OK) {
			snprintf(err, errlen, "malformed record");
			rc = -1;
			break;
		}
		if (rr.type == TC_DNS_TYPE_SOA)
			(*soas)++;
		if (*records == 0 && rr.type != TC_DNS_TYPE_SOA) {
			snprintf(err, errlen, "the transfer does not start with the SOA");
			rc = -1;
			break;
		}
		if (*soas == 2)
			break;   /* the closing SOA repeats the first */
		char owner[4 * TC_DNS_MAX_NAME + 2], tb[16];
		tc_dns_name_to_text(rr.name, rr.name_len, owner, sizeof(owner));
		if (tc_dns_rdata_text(msg, len, &rr, rdata, 4 * TC_DNS_MAX_MSG) != 0) {
			snprintf(err, errlen, "cannot print a %s record", tc_dns_type_text(rr.type, tb));
			rc = -1;
			break;
		}
		fprintf(out, "%s\t%u\tIN\t%s\t%s\n", owner, rr.ttl, tc_dns_type_text(rr.type, tb),
			rdata);
		if (++*records > EXPORT_MAX_RECORDS) {
			snprintf(err, errlen, "more than %d records", EXPORT_MAX_RECORDS);
			rc = -1;
			break;
		}
	}
	free(rdata);
	return rc;
}

/* The AXFR exchange; records go to out. 0 or -1 with err. */
static int transfer(int fd, const uint8_t *zone, size_t zlen, const struct tc_tsig_key *key,
		    FILE *out, size_t *records, uint32_t *serial, char *err, size_t errlen)
{
	uint8_t *buf = malloc(2 + TC_DNS_MAX_MSG);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)time(NULL);
	struct tc_dns_builder b;
	tc_dns_build_init(&b, buf + 2, TC_DNS_MAX_MSG);
	uint8_t mac[TC_TSIG_MAX_MAC];
	size_t mac_len = 0, qlen;
	if (tc_dns_build_header(&b, id, 0) != 0 ||
	    tc_dns_build_question(&b, zone, zlen, TC_DNS_TYPE_AXFR, TC_DNS_CLASS_IN) != 0 ||
	    (qlen = tc_dns_build_finish(&b)) == 0 ||
	    (qlen = tc_tsig_sign(buf + 2, qlen, TC_DNS_MAX_MSG, key, NULL, 0, false,
				 (uint64_t)time(NULL), 0, NULL, 0, mac, &mac_len)) == 0) {
		snprintf(err, errlen, "cannot build the AXFR query");
		goto out;
	}
	tc_dns_put16(buf, (uint16_t)qlen);
	if (send(fd, buf, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2)) {
		snprintf(err, errlen, "cannot send the query: %s", strerror(errno));
		goto out;
	}
	unsigned soas = 0;
	for (unsigned n = 0; soas < 2; n++) {
		uint8_t hdr[2];
		if (read_full(fd, hdr, 2) != 0 || read_full(fd, buf, tc_dns_get16(hdr)) != 0) {
			snprintf(err, errlen, "transfer cut short: %s", strerror(errno));
			goto out;
		}
		size_t len = tc_dns_get16(hdr);
		if (len < TC_DNS_HEADER_LEN || tc_dns_get16(buf) != id) {
			snprintf(err, errlen, "an answer that is not to our query");
			goto out;
		}
		/* Checked before anything of it is written. */
		uint8_t next[TC_TSIG_MAX_MAC];
		size_t next_len;
		if (tc_tsig_verify_answer(buf, len, key, mac, mac_len, n > 0, next, &next_len) != 0) {
			unsigned rcode = buf[3] & 0x0f;
			char rb[16];
			snprintf(err, errlen, "answer %u: %s", n + 1,
				 rcode ? tc_dns_rcode_text(rcode, rb) : "TSIG does not verify");
			goto out;
		}
		memcpy(mac, next, next_len);
		mac_len = next_len;
		size_t before = *records;
		if (write_records(out, buf, len, n == 0, &soas, records, err, errlen) != 0)
			goto out;
		if (before == 0 && *records > 0) {
			/* The serial is the SOA RDATA's first counter. */
			struct tc_dns_rr rr;
			size_t pos;
			if (tc_dns_skip_questions(buf, len, &pos) == TC_DNS_OK &&
			    tc_dns_read_rr(buf, len, &pos, &rr) == TC_DNS_OK && rr.rdlen >= 20)
				*serial = tc_dns_get32(buf + rr.rdata_off + rr.rdlen - 20);
		}
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

static int parse_opts(int argc, char **argv, struct export_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--out") == 0      ? &o->out
				    : strcmp(argv[i], "--key") == 0    ? &o->key
				    : strcmp(argv[i], "--server") == 0 ? &o->server
								       : NULL;
		if (!slot || i + 1 >= argc)
			return -1;
		*slot = argv[++i];
	}
	return 0;
}

int tc_ctl_dns_export(struct tc_ctl *ctl, int argc, char **argv)
{
	struct export_opts o = {0};
	const struct tc_config *cfg = &ctl->cfg;
	if (parse_opts(argc, argv, &o) != 0) {
		tc_ctl_error("usage: trustchainctl dns export [--out FILE] [--key NAME] "
			     "[--server HOST:PORT]");
		return TC_CTL_USAGE;
	}
	if (!o.key && cfg->dns.secondary_count)
		o.key = cfg->dns.secondaries[0].key;
	if (!cfg->dns.tsig_keys_file[0] || !o.key) {
		tc_ctl_error("dns export transfers the zone with a TSIG key of dns.secondaries: "
			     "configure dns.tsig_keys_file and dns.secondaries (or pass --key)");
		return TC_CTL_USAGE;
	}
	char err[512];
	struct tc_tsig_keyring *ring = calloc(1, sizeof(*ring));
	if (!ring) {
		tc_ctl_error("out of memory");
		return TC_CTL_FAIL;
	}
	int rc = TC_CTL_FAIL;
	FILE *out = NULL;
	int fd = -1;
	char tmp[PATH_MAX] = "";
	const struct tc_tsig_key *key = NULL;
	if (tc_tsig_keys_load(cfg->dns.tsig_keys_file, ring, err, sizeof(err)) != 0) {
		tc_ctl_error("%s", err);
		goto done;
	}
	if (!(key = tc_tsig_key_find_text(ring, o.key))) {
		tc_ctl_error("key '%s' is not in %s", o.key, cfg->dns.tsig_keys_file);
		goto done;
	}
	uint8_t zone[TC_DNS_MAX_NAME];
	size_t zlen;
	const char *why = NULL;
	char apex[TC_CFG_STR + 2];
	snprintf(apex, sizeof(apex), "%s%s", cfg->bootstrap.domain,
		 cfg->bootstrap.domain[0] && cfg->bootstrap.domain[strlen(cfg->bootstrap.domain) - 1] == '.'
			 ? "" : ".");
	if (tc_dns_name_from_text(apex, strlen(apex), NULL, 0, zone, &zlen, &why) != 0) {
		tc_ctl_error("bootstrap.domain: %s", why ? why : "not a name");
		goto done;
	}
	char server[TC_CFG_STR + 16];
	if (!o.server) {
		/* A wildcard listener is reached on loopback. */
		const char *a = cfg->dns.listen_address;
		bool v6 = strchr(a, ':') != NULL;
		if (strcmp(a, "0.0.0.0") == 0 || !a[0])
			a = "127.0.0.1";
		else if (strcmp(a, "::") == 0)
			a = "::1";
		snprintf(server, sizeof(server), v6 ? "[%s]:%u" : "%s:%u", a, cfg->dns.udp_port);
		o.server = server;
	}
	if (o.out) {
		snprintf(tmp, sizeof(tmp), "%s.tmp.%d", o.out, (int)getpid());
		int tfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (tfd < 0 || !(out = fdopen(tfd, "w"))) {
			tc_ctl_error("%s: %s", tmp, strerror(errno));
			if (tfd >= 0)
				close(tfd);
			tmp[0] = '\0';
			goto done;
		}
	}
	if ((fd = connect_server(o.server, err, sizeof(err))) < 0) {
		tc_ctl_error("%s", err);
		goto done;
	}
	size_t records = 0;
	uint32_t serial = 0;
	if (transfer(fd, zone, zlen, key, out ? out : stdout, &records, &serial, err,
		     sizeof(err)) != 0) {
		tc_ctl_error("AXFR of %s from %s: %s", cfg->bootstrap.domain, o.server, err);
		goto done;
	}
	if (out) {
		int bad = fflush(out) != 0 || fsync(fileno(out)) != 0;
		bad |= fclose(out) != 0;
		out = NULL;
		if (bad || rename(tmp, o.out) != 0) {
			tc_ctl_error("%s: %s", o.out, strerror(errno));
			goto done;
		}
		tmp[0] = '\0';
		fprintf(stderr, "%s: %zu records of %s, serial %u\n", o.out, records,
			cfg->bootstrap.domain, serial);
	} else if (fflush(stdout) != 0) {
		goto done;
	}
	rc = TC_CTL_OK;
done:
	if (out)
		fclose(out);
	if (tmp[0])
		unlink(tmp);
	if (fd >= 0)
		close(fd);
	free(ring);
	return rc;
}
