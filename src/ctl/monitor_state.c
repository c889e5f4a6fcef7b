#include "ctl/monitor_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/file_replace.h"
#include "transparency/merkle.h"

void tc_monitor_tree_append(struct tc_monitor_state *s, const unsigned char leaf_hash[32])
{
	unsigned char h[32];
	memcpy(h, leaf_hash, 32);
	unsigned level = 0;
	/* each set low bit is a left sibling that now has its right half */
	while (level < 64 && (s->size >> level) & 1) {
		tc_merkle_node_hash(s->frontier[level], h, h);
		level++;
	}
	memcpy(s->frontier[level], h, 32);
	s->size++;
}

void tc_monitor_tree_root(const struct tc_monitor_state *s, unsigned char root[32])
{
	if (s->size == 0) {
		tc_merkle_empty_root(root);
		return;
	}
	/* RFC 6962 splits at the largest power of two: fold from the smallest
	 * subtree (rightmost) towards the largest (leftmost) */
	int have = 0;
	for (unsigned level = 0; level < 64; level++) {
		if (!((s->size >> level) & 1))
			continue;
		if (have)
			tc_merkle_node_hash(s->frontier[level], root, root);
		else
			memcpy(root, s->frontier[level], 32);
		have = 1;
	}
}

void tc_monitor_state_free(struct tc_monitor_state *s)
{
	free(s->note);
	s->note = NULL;
	s->note_len = 0;
}

static int decode32(const char *b64, unsigned char out[32])
{
	unsigned char *d = NULL;
	size_t len = 0;
	int ok = tc_base64_decode(b64, &d, &len) == 0 && len == 32;
	if (ok)
		memcpy(out, d, 32);
	free(d);
	return ok ? 0 : -1;
}

int tc_monitor_state_load(const char *path, struct tc_monitor_state *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, ok = 1, nodes = 0;
	unsigned long long size = 0;
	while (ok && (n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = 0;
		unsigned level;
		char b64[64];
		if (lineno == 1) {
			ok = strcmp(line, "trustchain-ct-monitor v1") == 0;
		} else if (strncmp(line, "origin ", 7) == 0) {
			ok = strlen(line + 7) < sizeof(s->origin);
			if (ok)
				snprintf(s->origin, sizeof(s->origin), "%s", line + 7);
		} else if (sscanf(line, "size %llu", &size) == 1) {
			s->size = size;
		} else if (sscanf(line, "node %u %63s", &level, b64) == 2) {
			ok = level < 64 && ((s->size >> level) & 1) && decode32(b64, s->frontier[level]) == 0;
			nodes++;
		} else if (strncmp(line, "note ", 5) == 0) {
			unsigned char *note = NULL;
			size_t len = 0;
			ok = tc_base64_decode(line + 5, &note, &len) == 0;
			if (ok) {
				free(s->note);
				s->note = (char *)note;
				s->note_len = len;
			}
		} else {
			ok = 0;
		}
	}
	free(line);
	fclose(f);
	if (!ok || lineno == 0 || nodes != __builtin_popcountll(s->size)) {
		snprintf(err, errlen, "%s: not a monitor state file (line %d)", path, lineno);
		tc_monitor_state_free(s);
		return -1;
	}
	return 1;
}

int tc_monitor_state_save(const char *path, const struct tc_monitor_state *s, char *err, size_t errlen)
{
	/* Built in memory, then replaced whole and synced: a crash leaves the
	 * old state or the new, and a saved state survives a power cut. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "trustchain-ct-monitor v1\norigin %s\nsize %llu\n", s->origin, (unsigned long long)s->size);
	for (int level = 63; level >= 0; level--) {
		if (!((s->size >> level) & 1))
			continue;
		char *b64 = tc_base64_encode(s->frontier[level], 32);
		fprintf(f, "node %d %s\n", level, b64 ? b64 : "");
		free(b64);
	}
	if (s->note) {
		char *b64 = tc_base64_encode((const unsigned char *)s->note, s->note_len);
		fprintf(f, "note %s\n", b64 ? b64 : "");
		free(b64);
	}
	int rc = ferror(f) ? -1 : 0;
	if (fclose(f) != 0 || !text)
		rc = -1;
	if (rc != 0)
		snprintf(err, errlen, "%s: cannot build the state: %s", path, strerror(errno));
	else
		rc = tc_file_replace(path, text, len, 0644, err, errlen);
	free(text);
	return rc;
}
