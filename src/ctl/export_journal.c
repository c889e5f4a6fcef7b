/* trustchainctl export journal: a copy of the signer's audit journal (the
 * verified, complete prefix: safe while the signer appends), the signed
 * ceremony transcripts its ceremony records point to, and the fingerprint
 * of the audit key that signed them (docs/AUDIT_EXPORT.md). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "common/file_read.h"
#include "common/hex.h"
#include "common/journal_format.h"
#include "ctl/export.h"

#define MAX_TRANSCRIPT (1u << 20)

struct journal_export {
	char journal[PATH_MAX];
	char ceremonies[PATH_MAX];
	char audit_key[PATH_MAX];
	char fingerprint[65];
	struct tc_journal_verify_result vr;
	json_t *transcripts;
};

static void export_journal_usage(FILE *out)
{
	fprintf(out, "usage: trustchainctl export journal [--data-dir DIR] --out BUNDLE\n"
		     "  --data-dir  the server's data directory (default: server.data_dir)\n");
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_transcript_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

/* Every ceremonies/NNNN-<step>.json, as text (verified by verify-export). */
static int load_transcripts(struct journal_export *x)
{
	x->transcripts = json_array();
	struct dirent **names = NULL;
	int n = scandir(x->ceremonies, &names, is_transcript_name, by_name);
	if (n < 0) {
		if (errno == ENOENT)
			return TC_CTL_OK; /* no ceremony has run here */
		tc_ctl_error("%s: %s", x->ceremonies, strerror(errno));
		return TC_CTL_FAIL;
	}
	int rc = TC_CTL_OK;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX + 256], *text = NULL, err[512];
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/%s", x->ceremonies, names[i]->d_name);
		if (rc == TC_CTL_OK && tc_read_file(path, MAX_TRANSCRIPT, &text, &len, err, sizeof(err)) != 0) {
			tc_ctl_error("%s", err);
			rc = TC_CTL_FAIL;
		} else if (rc == TC_CTL_OK) {
			json_array_append_new(x->transcripts, json_pack("{s:s, s:s%}", "name", names[i]->d_name,
									"content", text, len));
		}
		free(text);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int write_bundle(FILE *f, void *ctx)
{
	struct journal_export *x = ctx;
	char now[32], head[2 * TC_JOURNAL_HASH_LEN + 1];
	tc_export_now(now);
	tc_hex_encode(x->vr.head, sizeof(x->vr.head), head);
	json_t *hdr = json_pack("{s:s, s:i, s:s, s:s, s:I, s:s, s:s, s:O}", "kind", TC_EXPORT_JOURNAL_KIND,
				"version", TC_EXPORT_VERSION, "source", x->journal, "exported_at", now, "records",
				(json_int_t)x->vr.records, "head", head, "audit_key_sha256", x->fingerprint,
				"transcripts", x->transcripts);
	int ok = hdr && json_dumpf(hdr, f, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 && fputc('\n', f) != EOF;
	json_decref(hdr);
	if (!ok) {
		tc_ctl_error("cannot write the bundle header");
		return TC_CTL_FAIL;
	}
	/* Exactly the verified prefix: records the signer appends meanwhile
	 * come after it and are left for the next export. */
	FILE *in = fopen(x->journal, "r");
	if (!in) {
		tc_ctl_error("%s: %s", x->journal, strerror(errno));
		return TC_CTL_FAIL;
	}
	char buf[65536];
	size_t left = x->vr.valid_bytes;
	while (left) {
		size_t n = fread(buf, 1, left < sizeof(buf) ? left : sizeof(buf), in);
		if (n == 0 || fwrite(buf, 1, n, f) != n) {
			fclose(in);
			tc_ctl_error("%s: copy failed", x->journal);
			return TC_CTL_FAIL;
		}
		left -= n;
	}
	fclose(in);
	return TC_CTL_OK;
}

int tc_ctl_export_journal(struct tc_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ctl->cfg.server.data_dir, *out = NULL;
	int c;
	optind = 0; /* glibc: a full reset (main parsed with "+" before) */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			export_journal_usage(stdout);
			return TC_CTL_OK;
		default:
			export_journal_usage(stderr);
			return TC_CTL_USAGE;
		}
	}
	if (!out || optind != argc) {
		export_journal_usage(stderr);
		return TC_CTL_USAGE;
	}
	static struct journal_export x;
	memset(&x, 0, sizeof(x));
	if ((size_t)snprintf(x.journal, sizeof(x.journal), "%s/journal/audit.jsonl", dir) >= sizeof(x.journal) ||
	    (size_t)snprintf(x.ceremonies, sizeof(x.ceremonies), "%s/ceremonies", dir) >= sizeof(x.ceremonies) ||
	    (size_t)snprintf(x.audit_key, sizeof(x.audit_key), "%s/audit/audit_public_key.pem", dir) >=
		    sizeof(x.audit_key)) {
		tc_ctl_error("--data-dir is too long");
		return TC_CTL_USAGE;
	}
	FILE *kf = fopen(x.audit_key, "r");
	EVP_PKEY *key = kf ? PEM_read_PUBKEY(kf, NULL, NULL, NULL) : NULL;
	if (kf)
		fclose(kf);
	if (!key || tc_export_key_fingerprint(key, x.fingerprint) != 0) {
		tc_ctl_error("%s: %s", x.audit_key, kf ? "not a PEM public key" : strerror(errno));
		EVP_PKEY_free(key);
		return TC_CTL_FAIL;
	}
	EVP_PKEY_free(key);
	FILE *jf = fopen(x.journal, "r");
	if (!jf) {
		tc_ctl_error("%s: %s", x.journal, strerror(errno));
		return TC_CTL_FAIL;
	}
	int vrc = tc_journal_verify(jf, &x.vr);
	fclose(jf);
	if (vrc != 0) {
		tc_ctl_error("%s is damaged, not exported: %s", x.journal, x.vr.problem);
		return TC_CTL_FAIL;
	}
	int rc = load_transcripts(&x);
	if (rc == TC_CTL_OK)
		rc = tc_export_write_atomic(out, write_bundle, &x);
	if (rc == TC_CTL_OK)
		printf("exported %llu journal record%s and %zu ceremony transcript%s to %s\n",
		       (unsigned long long)x.vr.records, x.vr.records == 1 ? "" : "s",
		       json_array_size(x.transcripts), json_array_size(x.transcripts) == 1 ? "" : "s", out);
	json_decref(x.transcripts);
	return rc;
}
