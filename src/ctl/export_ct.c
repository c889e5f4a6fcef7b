/* trustchainctl export ct: reads a running log through its RFC 6962 HTTP
 * API (so it needs no access to the log's LevelDB and works against any
 * copy of the log) and writes an audit bundle: the newest signed tree head,
 * consistency proofs from tree heads the auditor already holds, entries
 * A..B and the audit paths of A and B that tie the whole range to the
 * signed root (docs/AUDIT_EXPORT.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_ct.h"
#include "common/file_read.h"
#include "common/http_client.h"
#include "ctl/export.h"

#define MAX_SINCE 32
#define HTTP_TIMEOUT_MS 30000

struct ct_export {
	struct tc_ctl *ctl;
	struct tc_http_client *http;
	char url[300];
	const char *since[MAX_SINCE];
	size_t nsince;
	uint64_t from, to;
	int have_from, have_to;
	json_t *sth;         /* the newest tree head as get-sth served it */
	uint64_t tree_size;
	json_t *consistency; /* [{"sth": old, "proof": [...]}, ...] */
	uint64_t first, count;
	json_t *first_path, *last_path;
	uint64_t written;
};

static void export_ct_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl export ct [--url http://HOST:PORT[/LOG] | --log NAME] [--from A]\n"
		     "                                [--to B] [--since-sth FILE]... --out BUNDLE\n"
		     "  --url        the log's HTTP API (default: from ct.http_listen)\n"
		     "  --log        the temporal shard NAME of ct.logs (its URLs are under /NAME);\n"
		     "               verify its bundle with --log-key DATA_DIR/ct/keys/NAME.pem\n"
		     "  --from, --to first and last entry index (default: the whole signed tree)\n"
		     "  --since-sth  a tree head you hold (get-sth JSON or an earlier bundle): the\n"
		     "               bundle proves the new tree head is consistent with it\n");
}

static int parse_index(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || s[0] == '+')
		return -1;
	*v = x;
	return 0;
}

/* GET path; the reply must be 200 and JSON. */
static json_t *get_json(struct ct_export *x, const char *path)
{
	struct tc_http_response r;
	char err[256];
	if (tc_http_request(x->http, "GET", path, NULL, 0, &r, err, sizeof(err)) != 0) {
		tc_ctl_error("%s%s: %s", x->url, path, err);
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(r.body, r.body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (r.status != 200 || !json_is_object(doc)) {
		const char *why = json_string_value(json_object_get(doc, "error_message"));
		tc_ctl_error("%s%s: HTTP %d%s%s", x->url, path, r.status, why ? ": " : "", why ? why : "");
		json_decref(doc);
		doc = NULL;
	}
	tc_http_response_free(&r);
	return doc;
}

/* A tree head object as get-sth serves it: the four fields, right types. */
static int sth_shape(const json_t *sth, uint64_t *size)
{
	json_t *ts = json_object_get(sth, "tree_size");
	if (!json_is_integer(ts) || json_integer_value(ts) < 0 ||
	    !json_is_integer(json_object_get(sth, "timestamp")) ||
	    !json_is_string(json_object_get(sth, "sha256_root_hash")) ||
	    !json_is_string(json_object_get(sth, "tree_head_signature")))
		return -1;
	*size = (uint64_t)json_integer_value(ts);
	return 0;
}

/* Only the four signed fields go into the bundle. */
static json_t *sth_copy(const json_t *sth)
{
	return json_pack("{s:O, s:O, s:O, s:O}", "tree_size", json_object_get(sth, "tree_size"), "timestamp",
			 json_object_get(sth, "timestamp"), "sha256_root_hash",
			 json_object_get(sth, "sha256_root_hash"), "tree_head_signature",
			 json_object_get(sth, "tree_head_signature"));
}

/* --since-sth FILE: a get-sth answer, or a bundle whose header has "sth". */
static json_t *load_since(const char *path)
{
	char *text = NULL, err[256];
	size_t len = 0;
	if (tc_read_file(path, TC_EXPORT_MAX_LINE, &text, &len, err, sizeof(err)) != 0) {
		tc_ctl_error("--since-sth %s", err);
		return NULL;
	}
	char *nl = memchr(text, '\n', len);
	json_error_t jerr;
	json_t *doc = json_loadb(text, nl ? (size_t)(nl - text) : len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) /* a pretty-printed get-sth answer spans lines */
		doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	json_t *sth = json_is_object(json_object_get(doc, "sth")) ? json_object_get(doc, "sth") : doc;
	uint64_t size;
	json_t *out = sth && sth_shape(sth, &size) == 0 ? sth_copy(sth) : NULL;
	if (!out)
		tc_ctl_error("--since-sth %s: neither a signed tree head (get-sth JSON) nor a CT export bundle",
			     path);
	json_decref(doc);
	return out;
}

static json_t *audit_path(struct ct_export *x, uint64_t index)
{
	char path[128];
	snprintf(path, sizeof(path), "/ct/v1/get-entry-and-proof?leaf_index=%" PRIu64 "&tree_size=%" PRIu64, index,
		 x->tree_size);
	json_t *doc = get_json(x, path);
	json_t *ap = doc ? json_incref(json_object_get(doc, "audit_path")) : NULL;
	if (doc && !json_is_array(ap)) {
		tc_ctl_error("%s%s: no audit_path in the answer", x->url, path);
		json_decref(ap);
		ap = NULL;
	}
	json_decref(doc);
	return ap;
}

/* Everything but the entries: tree head, consistency proofs, range paths. */
static int collect(struct ct_export *x)
{
	x->sth = get_json(x, "/ct/v1/get-sth");
	if (!x->sth)
		return TC_CTL_FAIL;
	if (sth_shape(x->sth, &x->tree_size) != 0) {
		tc_ctl_error("%s/ct/v1/get-sth: not a signed tree head", x->url);
		return TC_CTL_FAIL;
	}
	json_t *copy = sth_copy(x->sth);
	json_decref(x->sth);
	x->sth = copy;
	x->consistency = json_array();
	for (size_t i = 0; i < x->nsince; i++) {
		json_t *old = load_since(x->since[i]);
		uint64_t old_size = 0;
		if (!old)
			return TC_CTL_FAIL;
		sth_shape(old, &old_size);
		if (old_size > x->tree_size) {
			tc_ctl_error("--since-sth %s: its tree (%" PRIu64 " entries) is larger than the log's signed "
				     "tree (%" PRIu64 "): not this log, or the log lost entries",
				     x->since[i], old_size, x->tree_size);
			json_decref(old);
			return TC_CTL_FAIL;
		}
		json_t *proof = json_array();
		if (old_size > 0 && old_size < x->tree_size) {
			char path[128];
			snprintf(path, sizeof(path), "/ct/v1/get-sth-consistency?first=%" PRIu64 "&second=%" PRIu64,
				 old_size, x->tree_size);
			json_t *doc = get_json(x, path);
			json_t *c = doc ? json_object_get(doc, "consistency") : NULL;
			if (!json_is_array(c)) {
				if (doc)
					tc_ctl_error("%s%s: no consistency proof in the answer", x->url, path);
				json_decref(doc);
				json_decref(old);
				json_decref(proof);
				return TC_CTL_FAIL;
			}
			json_decref(proof);
			proof = json_incref(c);
			json_decref(doc);
		}
		json_array_append_new(x->consistency, json_pack("{s:o, s:o}", "sth", old, "proof", proof));
	}

	if (x->tree_size == 0) {
		if (x->have_from || x->have_to) {
			tc_ctl_error("the log's signed tree is empty: no entries to export");
			return TC_CTL_FAIL;
		}
		return TC_CTL_OK;
	}
	x->first = x->have_from ? x->from : 0;
	uint64_t last = x->have_to ? x->to : x->tree_size - 1;
	if (last >= x->tree_size || x->first > last) {
		tc_ctl_error("need --from <= --to < %" PRIu64 " (the signed tree size); got %" PRIu64 "..%" PRIu64,
			     x->tree_size, x->first, last);
		return TC_CTL_FAIL;
	}
	x->count = last - x->first + 1;
	x->first_path = audit_path(x, x->first);
	x->last_path = x->first_path ? audit_path(x, last) : NULL;
	return x->last_path ? TC_CTL_OK : TC_CTL_FAIL;
}

static int write_line(FILE *f, json_t *obj)
{
	int rc = obj && json_dumpf(obj, f, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 && fputc('\n', f) != EOF
			 ? 0
			 : -1;
	json_decref(obj);
	return rc;
}

static int write_bundle(FILE *f, void *ctx)
{
	struct ct_export *x = ctx;
	char now[32];
	tc_export_now(now);
	json_t *entries = json_pack("{s:I, s:I, s:O*, s:O*}", "first", (json_int_t)x->first, "count",
				    (json_int_t)x->count, "first_audit_path", x->first_path, "last_audit_path",
				    x->last_path);
	json_t *hdr = json_pack("{s:s, s:i, s:s, s:s, s:O, s:O, s:o}", "kind", TC_EXPORT_CT_KIND, "version",
				TC_EXPORT_VERSION, "source", x->url, "exported_at", now, "sth", x->sth, "consistency",
				x->consistency, "entries", entries);
	if (write_line(f, hdr) != 0) {
		tc_ctl_error("cannot write the bundle header");
		return TC_CTL_FAIL;
	}
	uint64_t next = x->first, last = x->first + x->count - 1;
	while (x->count && next <= last) {
		char path[128];
		snprintf(path, sizeof(path), "/ct/v1/get-entries?start=%" PRIu64 "&end=%" PRIu64, next, last);
		json_t *doc = get_json(x, path);
		json_t *arr = doc ? json_object_get(doc, "entries") : NULL;
		size_t n = json_array_size(arr);
		if (!doc || n == 0 || n > last - next + 1) {
			if (doc)
				tc_ctl_error("%s%s: no entries in the answer", x->url, path);
			json_decref(doc);
			return TC_CTL_FAIL;
		}
		for (size_t i = 0; i < n; i++, next++) {
			json_t *e = json_array_get(arr, i);
			json_t *li = json_object_get(e, "leaf_input"), *ed = json_object_get(e, "extra_data");
			if (!json_is_string(li) || !json_is_string(ed)) {
				tc_ctl_error("%s%s: entry %" PRIu64 " is malformed", x->url, path, next);
				json_decref(doc);
				return TC_CTL_FAIL;
			}
			if (write_line(f, json_pack("{s:I, s:O, s:O}", "index", (json_int_t)next, "leaf_input", li,
						    "extra_data", ed)) != 0) {
				tc_ctl_error("cannot write entry %" PRIu64, next);
				json_decref(doc);
				return TC_CTL_FAIL;
			}
			x->written++;
		}
		json_decref(doc);
	}
	return TC_CTL_OK;
}

/* ct.http_listen as a URL a local client can use. */
static void default_url(const struct tc_ctl *ctl, char *out, size_t len)
{
	const char *l = ctl->cfg.ct.http_listen;
	const char *colon = strrchr(l, ':');
	const char *port = colon ? colon + 1 : "6962";
	if (strncmp(l, "0.0.0.0:", 8) == 0)
		snprintf(out, len, "http://127.0.0.1:%s", port);
	else if (strncmp(l, "[::]:", 5) == 0)
		snprintf(out, len, "http://[::1]:%s", port);
	else
		snprintf(out, len, "http://%s", l);
}

int tc_ctl_export_ct(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},     {"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},      {"since-sth", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},     {"help", no_argument, NULL, 'h'},
		{"log", required_argument, NULL, 'l'},     {NULL, 0, NULL, 0},
	};
	struct ct_export x = {.ctl = ctl};
	const char *out = NULL;
	int c, rc = TC_CTL_USAGE;
	default_url(ctl, x.url, sizeof(x.url));
	optind = 0; /* glibc: a full reset (main parsed with "+" before) */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			snprintf(x.url, sizeof(x.url), "%s", optarg);
			break;
		case 'l': {
			/* a shard's prefix on the configured listener (common/ct_shard.h) */
			char base[sizeof(x.url)];
			default_url(ctl, base, sizeof(base));
			if (!tc_config_ct_log_name_ok(optarg) ||
			    snprintf(x.url, sizeof(x.url), "%s/%s", base, optarg) >= (int)sizeof(x.url)) {
				tc_ctl_error("--log: '%s' is not a log name", optarg);
				return TC_CTL_USAGE;
			}
			break;
		}
		case 'f':
		case 't':
			if (parse_index(optarg, c == 'f' ? &x.from : &x.to) != 0) {
				tc_ctl_error("--%s %s: expected an entry index", c == 'f' ? "from" : "to", optarg);
				return TC_CTL_USAGE;
			}
			*(c == 'f' ? &x.have_from : &x.have_to) = 1;
			break;
		case 's':
			if (x.nsince == MAX_SINCE) {
				tc_ctl_error("at most %d --since-sth", MAX_SINCE);
				return TC_CTL_USAGE;
			}
			x.since[x.nsince++] = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			export_ct_usage(stdout);
			return TC_CTL_OK;
		default:
			export_ct_usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	if (!out || optind != argc) {
		export_ct_usage(stderr);
		return TC_CTL_USAGE;
	}
	char err[256];
	if (tc_http_client_new(x.url, HTTP_TIMEOUT_MS, &x.http, err, sizeof(err)) != 0) {
		tc_ctl_error("--url: %s", err);
		return TC_CTL_USAGE;
	}
	rc = collect(&x);
	if (rc == TC_CTL_OK)
		rc = tc_export_write_atomic(out, write_bundle, &x);
	if (rc == TC_CTL_OK)
		printf("exported %" PRIu64 " entr%s (%" PRIu64 "..%" PRIu64 ") of the tree of %" PRIu64
		       " with %zu consistency proof%s to %s\n",
		       x.written, x.written == 1 ? "y" : "ies", x.first, x.count ? x.first + x.count - 1 : 0,
		       x.tree_size, x.nsince, x.nsince == 1 ? "" : "s", out);
	json_decref(x.sth);
	json_decref(x.consistency);
	json_decref(x.first_path);
	json_decref(x.last_path);
	tc_http_client_free(x.http);
	return rc;
}
