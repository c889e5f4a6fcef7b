/* doq_hold: one DNS-over-QUIC connection held open across an event (the
 * server's SIGHUP in dns_hup_test.sh). It asks NAME/TYPE once, prints the
 * first answer's RDATA as hex on a line, then keeps asking on the same
 * connection every 200 ms (each answer must be NOERROR) until the file GO
 * exists, asks once more and prints that answer too. Exits 0 only if the
 * connection stayed open throughout; otherwise says how it ended.
 * Usage: doq_hold CAFILE SERVER_NAME ADDR PORT NAME TYPE GO */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/doq_client.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/dns_wire.h"

#define HOLD_MAX_S 240

static size_t make_query(const char *name, uint16_t type, uint8_t *buf, size_t cap)
{
	uint8_t wire[TC_DNS_MAX_NAME];
	size_t wlen, nlen = strlen(name);
	const char *why;
	char abs[TC_DNS_MAX_NAME * 4 + 2];
	/* Absolute: the name parser wants the trailing dot without an origin. */
	if (nlen == 0 || nlen + 2 > sizeof(abs))
		return 0;
	snprintf(abs, sizeof(abs), "%s%s", name, name[nlen - 1] == '.' ? "" : ".");
	if (tc_dns_name_from_text(abs, strlen(abs), NULL, 0, wire, &wlen, &why) != 0)
		return 0;
	struct tc_dns_builder b;
	tc_dns_build_init(&b, buf, cap);
	if (tc_dns_build_header(&b, 0, 0) != 0 || tc_dns_build_question(&b, wire, wlen, type, TC_DNS_CLASS_IN) != 0)
		return 0;
	return tc_dns_build_finish(&b);
}

/* Asks over c; 0 with the first answer of the asked type as hex in out
 * ("-" when there is none), -1 on a transport failure or an RCODE. */
static int ask(struct tc_doq_client *c, const uint8_t *q, size_t qlen, uint16_t type, char *out, size_t cap)
{
	uint8_t resp[65535];
	size_t rlen = 0;
	char err[256];
	if (tc_doq_client_query(c, q, qlen, resp, sizeof(resp), &rlen, 3000, err, sizeof(err)) != 0) {
		fprintf(stderr, "doq_hold: query: %s\n", err);
		return -1;
	}
	struct tc_dns_msg m;
	size_t off = TC_DNS_HEADER_LEN;
	if (tc_dns_parse(resp, rlen, &m) != TC_DNS_OK || TC_DNS_RCODE(m.flags) != 0 ||
	    tc_dns_read_name(resp, rlen, &off, NULL, NULL) != TC_DNS_OK) {
		fprintf(stderr, "doq_hold: bad answer or RCODE\n");
		return -1;
	}
	off += 4;
	snprintf(out, cap, "-");
	for (unsigned i = 0; i < m.ancount; i++) {
		struct tc_dns_rr rr;
		if (tc_dns_read_rr(resp, rlen, &off, &rr) != TC_DNS_OK)
			return -1;
		if (rr.type != type || (size_t)rr.rdlen * 2 + 1 > cap)
			continue;
		for (size_t k = 0; k < rr.rdlen; k++)
			snprintf(out + 2 * k, 3, "%02x", resp[rr.rdata_off + k]);
		break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: doq_hold CAFILE SERVER_NAME ADDR PORT NAME TYPE GO\n");
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[4]))};
	uint16_t type = (uint16_t)atoi(argv[6]);
	uint8_t q[512];
	size_t qlen = make_query(argv[5], type, q, sizeof(q));
	if (inet_pton(AF_INET, argv[3], &sa.sin_addr) != 1 || qlen == 0 || type == 0) {
		fprintf(stderr, "doq_hold: bad address, name or type\n");
		return 2;
	}
	struct tc_doq_client_opts o = {.cafile = argv[1], .server_name = argv[2]};
	char err[256], rd[2048];
	struct tc_doq_client *c = tc_doq_client_new((struct sockaddr *)&sa, sizeof(sa), &o, err, sizeof(err));
	if (!c || tc_doq_client_handshake(c, 5000, err, sizeof(err)) != 0) {
		fprintf(stderr, "doq_hold: connect: %s\n", err);
		tc_doq_client_free(c);
		return 1;
	}
	int rc = 1;
	if (ask(c, q, qlen, type, rd, sizeof(rd)) != 0)
		goto out;
	printf("%s\n", rd);
	fflush(stdout);
	unsigned asked = 1;
	struct stat st;
	time_t until = time(NULL) + HOLD_MAX_S;
	while (stat(argv[7], &st) != 0) {
		if (time(NULL) > until) {
			fprintf(stderr, "doq_hold: no %s within %d s\n", argv[7], HOLD_MAX_S);
			goto out;
		}
		/* Stepping for 200 ms keeps acknowledgements flowing; the
		 * query keeps the connection busy, never idle. */
		for (int i = 0; i < 20; i++)
			if (tc_doq_client_step(c, 10) != 0)
				goto out;
		if (ask(c, q, qlen, type, rd, sizeof(rd)) != 0)
			goto out;
		asked++;
	}
	if (ask(c, q, qlen, type, rd, sizeof(rd)) != 0)
		goto out;
	printf("%s\n", rd);
	fprintf(stderr, "doq_hold: %u queries on one connection\n", asked + 1);
	rc = 0;
out:
	if (rc != 0) {
		tc_doq_client_describe_close(c, err, sizeof(err));
		fprintf(stderr, "doq_hold: connection: %s\n", err);
	}
	tc_doq_client_free(c);
	return rc;
}
