#define _GNU_SOURCE
#include "common/metrics_expo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ftype { F_COUNTER, F_GAUGE, F_HISTOGRAM };

struct family {
	char *name;
	enum ftype type;
	char *help; /* escaped as received (checked), NULL when none */
	char *samples;
	size_t samples_len;
};

struct source {
	char name[32];
	struct family *fam;
	size_t nfam;
};

struct tc_expo {
	struct source src[TC_EXPO_MAX_SOURCES];
	size_t n;
};

struct tc_expo *tc_expo_new(void)
{
	return calloc(1, sizeof(struct tc_expo));
}

static void source_clear(struct source *s)
{
	for (size_t i = 0; i < s->nfam; i++) {
		free(s->fam[i].name);
		free(s->fam[i].help);
		free(s->fam[i].samples);
	}
	free(s->fam);
	s->fam = NULL;
	s->nfam = 0;
}

void tc_expo_free(struct tc_expo *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		source_clear(&e->src[i]);
	free(e);
}

/* --- reading one text ------------------------------------------------- */

struct reader {
	const char *src_name;
	struct source out;
	size_t samples;
	char *pending_help_name, *pending_help; /* a HELP before its TYPE */
	size_t lineno;
	char *err;
	size_t errlen;
};

static int refuse(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(r->err, r->errlen, "line %zu: ", r->lineno);
	if (n >= 0 && (size_t)n < r->errlen)
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int name_start(char c, int label)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
}

static int name_char(char c, int label)
{
	return name_start(c, label) || (c >= '0' && c <= '9');
}

/* Length of the metric (label = 0) or label name at p (p < end), 0 if none. */
static size_t name_len(const char *p, const char *end, int label)
{
	if (p >= end || !name_start(*p, label))
		return 0;
	size_t n = 1;
	while (p + n < end && name_char(p[n], label))
		n++;
	return n;
}

static struct family *find_family(struct source *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->nfam; i++)
		if (strlen(s->fam[i].name) == len && memcmp(s->fam[i].name, name, len) == 0)
			return &s->fam[i];
	return NULL;
}

/* HELP text: any byte but newline; a backslash only before \ or n. */
static int help_ok(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p == '\\' && (++p == end || (*p != '\\' && *p != 'n')))
			return 0;
	return 1;
}

static int comment_line(struct reader *r, const char *p, const char *end)
{
	int help = end - p >= 7 && memcmp(p, "# HELP ", 7) == 0;
	int type = end - p >= 7 && memcmp(p, "# TYPE ", 7) == 0;
	if (!help && !type)
		return refuse(r, "only # HELP and # TYPE comments are accepted");
	p += 7;
	size_t nl = name_len(p, end, 0);
	if (nl == 0)
		return refuse(r, "bad metric name");
	const char *name = p;
	p += nl;
	const char *rest = p < end ? p + 1 : end;
	if (p < end && *p != ' ')
		return refuse(r, "bad metric name");
	if (help) {
		if (!help_ok(rest, end))
			return refuse(r, "bad escape in HELP");
		struct family *f = r->out.nfam ? &r->out.fam[r->out.nfam - 1] : NULL;
		if (f && strlen(f->name) == nl && memcmp(f->name, name, nl) == 0 && !f->help) {
			if (!(f->help = strndup(rest, (size_t)(end - rest))))
				return refuse(r, "out of memory");
			return 0;
		}
		if (r->pending_help || find_family(&r->out, name, nl))
			return refuse(r, "HELP out of place");
		r->pending_help_name = strndup(name, nl);
		r->pending_help = strndup(rest, (size_t)(end - rest));
		if (!r->pending_help_name || !r->pending_help)
			return refuse(r, "out of memory");
		return 0;
	}
	enum ftype t;
	size_t tl = (size_t)(end - rest);
	if (tl == 7 && memcmp(rest, "counter", 7) == 0)
		t = F_COUNTER;
	else if (tl == 5 && memcmp(rest, "gauge", 5) == 0)
		t = F_GAUGE;
	else if (tl == 9 && memcmp(rest, "histogram", 9) == 0)
		t = F_HISTOGRAM;
	else
		return refuse(r, "type must be counter, gauge or histogram");
	if (find_family(&r->out, name, nl))
		return refuse(r, "family declared twice");
	if (r->out.nfam >= TC_EXPO_MAX_FAMILIES)
		return refuse(r, "more than %d families", TC_EXPO_MAX_FAMILIES);
	if (r->pending_help && (strlen(r->pending_help_name) != nl || memcmp(r->pending_help_name, name, nl) != 0))
		return refuse(r, "HELP of another family");
	struct family *fam = realloc(r->out.fam, (r->out.nfam + 1) * sizeof(*fam));
	if (!fam)
		return refuse(r, "out of memory");
	r->out.fam = fam;
	struct family *f = &fam[r->out.nfam];
	memset(f, 0, sizeof(*f));
	if (!(f->name = strndup(name, nl)))
		return refuse(r, "out of memory");
	r->out.nfam++;
	f->type = t;
	f->help = r->pending_help;
	r->pending_help = NULL;
	free(r->pending_help_name);
	r->pending_help_name = NULL;
	return 0;
}

/* A sample value: +Inf, -Inf, NaN or a plain decimal number (no hex, no
 * "inf" spellings that some parsers take and others refuse). */
static int value_ok(const char *p, size_t n)
{
	if ((n == 4 && (memcmp(p, "+Inf", 4) == 0 || memcmp(p, "-Inf", 4) == 0)) || (n == 3 && memcmp(p, "NaN", 3) == 0))
		return 1;
	if (n == 0 || n > 40)
		return 0;
	char buf[48];
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789.eE+-", p[i]))
			return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	char *endp;
	strtod(buf, &endp);
	return endp == buf + n;
}

/* Appends to f's samples, with process="<source>" as the first label. */
static int sample_line(struct reader *r, const char *p, const char *end)
{
	size_t nl = name_len(p, end, 0);
	if (nl == 0)
		return refuse(r, "bad metric name");
	if (r->out.nfam == 0)
		return refuse(r, "sample before any # TYPE");
	struct family *f = &r->out.fam[r->out.nfam - 1];
	size_t fl = strlen(f->name);
	int is_bucket = 0;
	int match = nl == fl && memcmp(p, f->name, fl) == 0;
	if (!match && f->type == F_HISTOGRAM && nl > fl && memcmp(p, f->name, fl) == 0) {
		const char *suf = p + fl;
		size_t sl = nl - fl;
		is_bucket = sl == 7 && memcmp(suf, "_bucket", 7) == 0;
		match = is_bucket || (sl == 4 && memcmp(suf, "_sum", 4) == 0) ||
			(sl == 6 && memcmp(suf, "_count", 6) == 0);
	} else if (match && f->type == F_HISTOGRAM) {
		match = 0;
	}
	if (!match)
		return refuse(r, "sample not of the family declared last");
	if (++r->samples > TC_EXPO_MAX_SAMPLES)
		return refuse(r, "more than %d samples", TC_EXPO_MAX_SAMPLES);
	const char *q = p + nl;
	const char *labels = NULL, *labels_end = NULL;
	int nlabels = 0, have_le = 0;
	const char *lname[TC_EXPO_MAX_LABELS];
	size_t lnlen[TC_EXPO_MAX_LABELS];
	if (q < end && *q == '{') {
		labels = ++q;
		while (q < end && *q != '}') {
			size_t ll = name_len(q, end, 1);
			if (ll == 0 || (ll >= 2 && q[0] == '_' && q[1] == '_'))
				return refuse(r, "bad label name");
			if (ll == 7 && memcmp(q, "process", 7) == 0)
				return refuse(r, "the label 'process' is reserved");
			if (nlabels == TC_EXPO_MAX_LABELS)
				return refuse(r, "more than %d labels", TC_EXPO_MAX_LABELS);
			for (int i = 0; i < nlabels; i++)
				if (lnlen[i] == ll && memcmp(lname[i], q, ll) == 0)
					return refuse(r, "label given twice");
			if (ll == 2 && memcmp(q, "le", 2) == 0)
				have_le = 1;
			lname[nlabels] = q;
			lnlen[nlabels++] = ll;
			q += ll;
			if (end - q < 2 || q[0] != '=' || q[1] != '"')
				return refuse(r, "expected =\" after a label name");
			q += 2;
			while (q < end && *q != '"') {
				if (*q == '\\' && (++q == end || (*q != '\\' && *q != '"' && *q != 'n')))
					return refuse(r, "bad escape in a label value");
				q++;
			}
			if (q == end)
				return refuse(r, "unterminated label value");
			q++;
			if (q < end && *q == ',' && q + 1 < end && q[1] != '}')
				q++;
			else if (q < end && *q != '}')
				return refuse(r, "expected , or } after a label");
		}
		if (q == end)
			return refuse(r, "unterminated label set");
		labels_end = q++;
	}
	if (is_bucket != have_le)
		return refuse(r, is_bucket ? "bucket without le" : "le outside a bucket");
	if (q == end || *q != ' ')
		return refuse(r, "expected one space before the value");
	q++;
	if (!value_ok(q, (size_t)(end - q)))
		return refuse(r, "bad value (timestamps are not accepted)");
	/* name{process="src"[,labels]} value\n */
	size_t inner = labels ? (size_t)(labels_end - labels) : 0;
	size_t vlen = (size_t)(end - q);
	size_t add = nl + 1 + 9 + strlen(r->src_name) + 1 + (inner ? 1 + inner : 0) + 1 + 1 + vlen + 1;
	char *grown = realloc(f->samples, f->samples_len + add + 1);
	if (!grown)
		return refuse(r, "out of memory");
	f->samples = grown;
	int n = snprintf(grown + f->samples_len, add + 1, "%.*s{process=\"%s\"%s%.*s} %.*s\n", (int)nl, p,
			 r->src_name, inner ? "," : "", (int)inner, inner ? labels : "", (int)vlen, q);
	if (n < 0 || (size_t)n != add)
		return refuse(r, "internal length mismatch");
	f->samples_len += add;
	return 0;
}

static int read_text(struct reader *r, const char *text, size_t len)
{
	if (memchr(text, '\0', len))
		return refuse(r, "NUL byte");
	if (len && text[len - 1] != '\n')
		return refuse(r, "last line not ended by a newline");
	const char *p = text, *stop = text + len;
	while (p < stop) {
		const char *end = memchr(p, '\n', (size_t)(stop - p));
		r->lineno++;
		if ((size_t)(end - p) > TC_EXPO_MAX_LINE)
			return refuse(r, "line longer than %d bytes", TC_EXPO_MAX_LINE);
		int rc = 0;
		if (end == p)
			rc = 0; /* empty lines are allowed by the format */
		else if (*p == '#')
			rc = comment_line(r, p, end);
		else
			rc = sample_line(r, p, end);
		if (rc != 0)
			return -1;
		p = end + 1;
	}
	if (r->pending_help)
		return refuse(r, "HELP without its TYPE");
	return 0;
}

static int source_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 31)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static struct source *find_source(struct tc_expo *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->src[i].name, name) == 0)
			return &e->src[i];
	return NULL;
}

void tc_expo_remove(struct tc_expo *e, const char *source)
{
	struct source *s = find_source(e, source);
	if (!s)
		return;
	source_clear(s);
	size_t i = (size_t)(s - e->src);
	memmove(&e->src[i], &e->src[i + 1], (e->n - i - 1) * sizeof(e->src[0]));
	e->n--;
}

int tc_expo_update(struct tc_expo *e, const char *source, const char *text, size_t len, char *err,
		   size_t errlen)
{
	if (!source_name_ok(source)) {
		snprintf(err, errlen, "bad source name");
		return -1;
	}
	struct reader r = {.src_name = source, .err = err, .errlen = errlen};
	int rc = read_text(&r, text, len);
	free(r.pending_help_name);
	free(r.pending_help);
	if (rc != 0) {
		source_clear(&r.out);
		tc_expo_remove(e, source);
		return -1;
	}
	struct source *s = find_source(e, source);
	if (!s) {
		if (e->n == TC_EXPO_MAX_SOURCES) {
			source_clear(&r.out);
			snprintf(err, errlen, "more than %d sources", TC_EXPO_MAX_SOURCES);
			return -1;
		}
		s = &e->src[e->n++];
	} else {
		source_clear(s);
	}
	snprintf(r.out.name, sizeof(r.out.name), "%s", source);
	*s = r.out;
	return 0;
}

/* --- merging ------------------------------------------------------------ */

static struct family *family_named(const struct source *s, const char *name)
{
	for (size_t i = 0; i < s->nfam; i++)
		if (strcmp(s->fam[i].name, name) == 0)
			return &s->fam[i];
	return NULL;
}

int tc_expo_render(const struct tc_expo *e, char **out, size_t *len)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	*out = NULL;
	*len = 0;
	FILE *f = open_memstream(out, len);
	if (!f)
		return -1;
	for (size_t si = 0; si < e->n; si++) {
		const struct source *s = &e->src[si];
		for (size_t fi = 0; fi < s->nfam; fi++) {
			const struct family *fam = &s->fam[fi];
			int earlier = 0;
			for (size_t sj = 0; sj < si && !earlier; sj++)
				earlier = family_named(&e->src[sj], fam->name) != NULL;
			if (earlier)
				continue; /* written with the first source that has it */
			if (fam->help)
				fprintf(f, "# HELP %s %s\n", fam->name, fam->help);
			fprintf(f, "# TYPE %s %s\n", fam->name, types[fam->type]);
			if (fam->samples_len)
				fwrite(fam->samples, 1, fam->samples_len, f);
			for (size_t sj = si + 1; sj < e->n; sj++) {
				const struct family *o = family_named(&e->src[sj], fam->name);
				if (o && o->type == fam->type && o->samples_len)
					fwrite(o->samples, 1, o->samples_len, f);
			}
		}
	}
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		*len = 0;
		return -1;
	}
	return 0;
}

/* --- reading one figure back ------------------------------------------- */

double tc_expo_sum(const char *text, size_t len, const char *name)
{
	size_t nl = strlen(name);
	double sum = 0;
	const char *p = text, *stop = text + len;
	while (p < stop) {
		const char *end = memchr(p, '\n', (size_t)(stop - p));
		if (!end)
			end = stop;
		if ((size_t)(end - p) > nl && memcmp(p, name, nl) == 0 && (p[nl] == ' ' || p[nl] == '{')) {
			/* The value follows the last space (no timestamps in ours). */
			const char *sp = memrchr(p, ' ', (size_t)(end - p));
			char buf[64];
			size_t vl = sp ? (size_t)(end - sp - 1) : 0;
			if (vl > 0 && vl < sizeof(buf)) {
				memcpy(buf, sp + 1, vl);
				buf[vl] = '\0';
				char *e;
				double v = strtod(buf, &e);
				if (*e == '\0')
					sum += v;
			}
		}
		p = end + 1;
	}
	return sum;
}
