/* The plain HTTP listener for CRLs and CA certificates; see crl_http.h. */
#include "gateway/crl_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/config_ca.h"
#include "common/config_schema.h"
#include "common/crl_view.h"
#include "common/file_read.h"
#include "common/http_strict_mhd.h"
#include "common/listen_socket.h"
#include "common/log.h"
#include "gateway/ca_rollover.h"
#include "gateway/gateway.h"

#define SIGNER_TIMEOUT_MS 5000
/* The signer re-signs on every revocation; asking it more than once a
 * second would only let an HTTP client drive signer round trips. */
#define CRL_REFRESH_MS 1000
#define CERT_MAX_AGE_S 3600
#define HEAD_MEMORY (16 * 1024)
#define MAX_ROOT_CRL (1024 * 1024)

/* A DER document and its caching times (0 when unknown). */
struct doc {
	unsigned char *der;
	size_t len;
	time_t this_update, next_update;
};

struct tc_crl_http {
	struct tc_gateway *gw;
	struct MHD_Daemon *daemon;
	struct tc_http_limits limits;
	struct doc root, intermediate, root_crl; /* fixed at start; root_crl.der NULL when absent */

	pthread_mutex_t lock;  /* guards crls */
	/* Each issuing intermediate's CRL, as last fetched: during a CA key
	 * rollover the old and the new one each have their own
	 * (gateway/ca_rollover.h), at /crl/intermediate.crl and /crl/LABEL.crl. */
	struct crl_entry {
		char label[64]; /* "" free */
		struct doc crl;
		int64_t fetched_ms;
		uint64_t fetched_generation; /* gw->crl_generation when fetched */
	} crls[TC_CA_ISSUERS_MAX];
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fills d from a DER CRL (taking der): 0, or -1 when it does not decode. */
static int crl_doc(unsigned char *der, size_t len, struct doc *d)
{
	struct tc_crl_view v;
	char why[128];
	if (tc_crl_view_parse(der, len, &v, why, sizeof(why)) != 0) {
		free(der);
		return -1;
	}
	d->der = der;
	d->len = len;
	d->this_update = (time_t)v.this_update;
	d->next_update = (time_t)v.next_update;
	return 0;
}

/* The first certificate of pem as DER. */
static int cert_doc(const char *pem, struct doc *d)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int n = x ? i2d_X509(x, &der) : -1;
	BIO_free(b);
	X509_free(x);
	if (n <= 0)
		return -1;
	d->der = malloc((size_t)n);
	if (d->der)
		memcpy(d->der, der, (size_t)n);
	OPENSSL_free(der);
	d->len = (size_t)n;
	return d->der ? 0 : -1;
}

/* <data_dir>/ca/root.crl (PEM, as the ceremony writes it), if present. */
static void load_root_crl(const struct tc_config *cfg, struct doc *d)
{
	char path[TC_CFG_STR + 64], err[256];
	char *buf;
	size_t n;
	if (tc_config_data_path(cfg, "ca/root.crl", path, sizeof(path)) != 0 ||
	    tc_read_file(path, MAX_ROOT_CRL, &buf, &n, err, sizeof(err)) != 0)
		return; /* no root CRL yet: 404 */
	BIO *b = BIO_new_mem_buf(buf, (int)n);
	X509_CRL *crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int len = crl ? i2d_X509_CRL(crl, &der) : -1;
	unsigned char *copy = len > 0 ? malloc((size_t)len) : NULL;
	if (copy) {
		memcpy(copy, der, (size_t)len);
		if (crl_doc(copy, (size_t)len, d) != 0)
			tc_warn("%s: undecodable CRL, not served", path);
	} else {
		tc_warn("%s: no PEM CRL in it, not served", path);
	}
	OPENSSL_free(der);
	X509_CRL_free(crl);
	BIO_free(b);
	free(buf);
}

/* Asks the signer for the CRL of the intermediate with key label. */
static int fetch_crl(struct tc_crl_http *h, const char *label, struct doc *out, char *err, size_t errlen)
{
	Trustchain__Internal__Request sreq = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetCrlRequest gc = TRUSTCHAIN__INTERNAL__GET_CRL_REQUEST__INIT;
	gc.issuer = (char *)label;
	sreq.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL;
	sreq.get_crl = &gc;
	Trustchain__Internal__Response *resp = tc_child_signer_call(h->gw->child, &sreq, SIGNER_TIMEOUT_MS, err, errlen);
	int rc = -1;
	if (resp && resp->status == TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK &&
	    resp->result_case == TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_CRL && resp->get_crl->crl.len > 0) {
		unsigned char *der = malloc(resp->get_crl->crl.len);
		if (der) {
			memcpy(der, resp->get_crl->crl.data, resp->get_crl->crl.len);
			rc = crl_doc(der, resp->get_crl->crl.len, out);
			if (rc != 0)
				snprintf(err, errlen, "the signer returned an undecodable CRL");
		}
	} else if (resp) {
		snprintf(err, errlen, "the signer refused: %s", resp->error ? resp->error : "?");
	}
	if (resp)
		trustchain__internal__response__free_unpacked(resp, NULL);
	return rc;
}

/* A copy of the CRL of the intermediate with key label, fetched when older
 * than CRL_REFRESH_MS or invalidated since. A failed fetch serves the last
 * CRL until its nextUpdate (relying parties judge its age themselves). */
static int current_crl(struct tc_crl_http *h, const char *label, struct doc *copy)
{
	uint64_t generation = atomic_load(&h->gw->crl_generation);
	pthread_mutex_lock(&h->lock);
	struct crl_entry *c = NULL;
	for (int i = 0; i < TC_CA_ISSUERS_MAX && !c; i++)
		if (!h->crls[i].label[0] || strcmp(h->crls[i].label, label) == 0)
			c = &h->crls[i];
	if (!c) {
		pthread_mutex_unlock(&h->lock);
		return -1;
	}
	snprintf(c->label, sizeof(c->label), "%s", label);
	if (!c->crl.der || c->fetched_generation != generation || mono_ms() - c->fetched_ms >= CRL_REFRESH_MS) {
		struct doc fresh = {0};
		char err[256];
		if (fetch_crl(h, label, &fresh, err, sizeof(err)) == 0) {
			free(c->crl.der);
			c->crl = fresh;
			c->fetched_ms = mono_ms();
			c->fetched_generation = generation;
		} else {
			tc_warn("CRL of %s for HTTP: %s", label, err);
		}
	}
	int rc = -1;
	*copy = c->crl;
	if (c->crl.der && (copy->der = malloc(c->crl.len))) {
		memcpy(copy->der, c->crl.der, c->crl.len);
		rc = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/* The intermediate a path /DIR/NAME.EXT names (NAME "intermediate" or a
 * key label of the rollover), or NULL. */
static const struct tc_ca_issuer *named_issuer(struct tc_crl_http *h, const char *url, const char *dir,
					       const char *ext)
{
	size_t dl = strlen(dir), el = strlen(ext), n = strlen(url);
	if (n <= dl + el || strncmp(url, dir, dl) != 0 || strcmp(url + n - el, ext) != 0)
		return NULL;
	return tc_ca_rollover_by_name(h->gw, url + dl, n - dl - el);
}

static void http_date(time_t t, char *out, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Sends d; a CRL is cacheable until its nextUpdate, a certificate for
 * CERT_MAX_AGE_S. must_free: d->der is ours to hand over. */
static enum MHD_Result send_doc(struct MHD_Connection *conn, const struct doc *d, const char *type, int must_free)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		d->len, d->der, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (must_free)
			free(d->der);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	char value[96]; /* "public, max-age=" + 20 digits + the directives */
	time_t now = time(NULL);
	if (d->next_update) {
		/* RFC 5019 / RFC 7234: cacheable exactly as long as the CRL says
		 * it is current, never past it. */
		long age = d->next_update > now ? (long)(d->next_update - now) : 0;
		snprintf(value, sizeof(value), "public, max-age=%ld, no-transform, must-revalidate", age);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, value);
		http_date(d->next_update, value, sizeof(value));
		MHD_add_response_header(r, MHD_HTTP_HEADER_EXPIRES, value);
		if (d->this_update) {
			http_date(d->this_update, value, sizeof(value));
			MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, value);
		}
	} else {
		snprintf(value, sizeof(value), "public, max-age=%d, no-transform", CERT_MAX_AGE_S);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, value);
	}
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct tc_crl_http *h = cls;
	if (!tc_http_strict_admitted(con_cls)) {
		/* Only reads here: another method is answered before any body. */
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD\n");
		struct tc_http_verdict v = tc_http_strict_admit(&h->limits, conn, version, con_cls);
		return v.status ? send_text(conn, v.status, v.reason) : MHD_YES;
	}
	if (*upload_size) {
		/* Nothing here takes a body; one that outgrows max_body (0) closes. */
		if (tc_http_strict_body(&h->limits, con_cls, upload_data, *upload_size) != 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	const struct tc_ca_issuer *is = named_issuer(h, url, "/crl/", ".crl");
	if (is) {
		struct doc d;
		if (current_crl(h, is->label, &d) != 0)
			return send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no CRL from the signer yet\n");
		return send_doc(conn, &d, "application/pkix-crl", 1);
	}
	if ((is = named_issuer(h, url, "/ca/", ".crt")) && is != tc_ca_rollover_by_name(h->gw, "intermediate", 12)) {
		struct doc d = {.der = is->der, .len = is->der_len}; /* kept until the gateway stops */
		return send_doc(conn, &d, "application/pkix-cert", 0);
	}
	if (strcmp(url, "/crl/root.crl") == 0)
		return h->root_crl.der ? send_doc(conn, &h->root_crl, "application/pkix-crl", 0)
				       : send_text(conn, MHD_HTTP_NOT_FOUND, "no root CRL published\n");
	if (strcmp(url, "/ca/intermediate.crt") == 0)
		return send_doc(conn, &h->intermediate, "application/pkix-cert", 0);
	if (strcmp(url, "/ca/root.crt") == 0)
		return send_doc(conn, &h->root, "application/pkix-cert", 0);
	return send_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	tc_http_strict_request_free(con_cls);
}

static void free_all(struct tc_crl_http *h)
{
	free(h->root.der);
	free(h->intermediate.der);
	free(h->root_crl.der);
	for (int i = 0; i < TC_CA_ISSUERS_MAX; i++)
		free(h->crls[i].crl.der);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int tc_crl_http_start(struct tc_gateway *gw, struct tc_crl_http **out, char *addr, size_t addrlen, char *err,
		      size_t errlen)
{
	*out = NULL;
	if (addrlen)
		addr[0] = '\0';
	if (!tc_config_http_enabled(gw->cfg))
		return 0;
	struct tc_crl_http *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->gw = gw;
	pthread_mutex_init(&h->lock, NULL);
	if (cert_doc(gw->root_pem, &h->root) != 0 || cert_doc(gw->chain_pem, &h->intermediate) != 0) {
		snprintf(err, errlen, "cannot encode the CA certificates");
		free_all(h);
		return -1;
	}
	load_root_crl(gw->cfg, &h->root_crl);
	int fd = tc_listen_open_hostport("gateway.http_listen", gw->cfg->gateway.http_listen, 128, err, errlen);
	snprintf(addr, addrlen, "http://%s", gw->cfg->gateway.http_listen);
	if (fd < 0) {
		free_all(h);
		return -1;
	}
	h->limits = (struct tc_http_limits){.max_body = 0,
					    .idle_timeout_s = TC_HTTP_IDLE_TIMEOUT_S,
					    .request_deadline_s = TC_HTTP_REQUEST_DEADLINE_S,
					    .head_memory = HEAD_MEMORY,
					    .head_deadline_s = gw->cfg->gateway.http_head_timeout_s,
					    .per_source = gw->cfg->gateway.http_max_per_source,
					    .max_connections = gw->cfg->gateway.http_max_connections};
	struct MHD_OptionItem strict[8];
	if (tc_http_strict_options(&h->limits, strict, sizeof(strict) / sizeof(strict[0])) == 0) {
		snprintf(err, errlen, "http_strict: option table too small");
		close(fd);
		free_all(h);
		return -1;
	}
	h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				     on_request, h, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, 2u,
				     MHD_OPTION_ARRAY, strict, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(err, errlen, "libmicrohttpd did not start");
		close(fd);
		free_all(h);
		return -1;
	}
	*out = h;
	return 0;
}

void tc_crl_http_stop(struct tc_crl_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon); /* closes the listening socket too */
	free_all(h);
}
