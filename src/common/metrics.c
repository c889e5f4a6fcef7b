#define _GNU_SOURCE
#include "common/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { COUNTER, GAUGE, HISTOGRAM };

struct series {
	char *value;                              /* label value, NULL without a label */
	double v;                                 /* counter or gauge; histogram sum */
	unsigned long long count;                 /* histogram observations */
	unsigned long long bucket[TC_METRICS_MAX_BUCKETS];
};

struct tc_metric {
	enum kind kind;
	char *name, *help, *label;
	double bounds[TC_METRICS_MAX_BUCKETS];
	size_t nbounds;
	pthread_mutex_t lock;
	struct series s[TC_METRICS_MAX_SERIES];
	size_t n;
	struct tc_metric *next;
};

struct tc_metrics {
	pthread_mutex_t lock; /* the list of families */
	struct tc_metric *first, *last;
};

struct tc_metrics *tc_metrics_new(void)
{
	struct tc_metrics *r = calloc(1, sizeof(*r));
	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void tc_metrics_free(struct tc_metrics *r)
{
	if (!r)
		return;
	for (struct tc_metric *m = r->first, *next; m; m = next) {
		next = m->next;
		for (size_t i = 0; i < m->n; i++)
			free(m->s[i].value);
		free(m->name);
		free(m->help);
		free(m->label);
		pthread_mutex_destroy(&m->lock);
		free(m);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no ':', no leading "__"). */
static int valid_name(const char *s, int label)
{
	if (!s || !*s || (label && strncmp(s, "__", 2) == 0))
		return 0;
	for (const char *p = s; *p; p++) {
		int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || (!label && *p == ':');
		if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
			return 0;
	}
	return 1;
}

static struct tc_metric *add_family(struct tc_metrics *r, enum kind kind, const char *name, const char *help,
				    const char *label, const double *bounds, size_t nbounds)
{
	if (!r || !valid_name(name, 0) || (label && (!valid_name(label, 1) || strcmp(label, "le") == 0)) ||
	    (kind == HISTOGRAM && (nbounds == 0 || nbounds > TC_METRICS_MAX_BUCKETS)))
		return NULL;
	for (size_t i = 1; i < nbounds; i++)
		if (!(bounds[i] > bounds[i - 1]))
			return NULL;
	struct tc_metric *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->kind = kind;
	m->name = strdup(name);
	m->help = strdup(help ? help : "");
	m->label = label ? strdup(label) : NULL;
	if (!m->name || !m->help || (label && !m->label)) {
		free(m->name);
		free(m->help);
		free(m->label);
		free(m);
		return NULL;
	}
	if (nbounds)
		memcpy(m->bounds, bounds, nbounds * sizeof(*bounds));
	m->nbounds = nbounds;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_lock(&r->lock);
	for (struct tc_metric *o = r->first; o; o = o->next)
		if (strcmp(o->name, name) == 0) {
			pthread_mutex_unlock(&r->lock);
			pthread_mutex_destroy(&m->lock);
			free(m->name);
			free(m->help);
			free(m->label);
			free(m);
			return NULL;
		}
	if (r->last)
		r->last->next = m;
	else
		r->first = m;
	r->last = m;
	pthread_mutex_unlock(&r->lock);
	return m;
}

struct tc_metric *tc_metrics_find(struct tc_metrics *r, const char *name)
{
	if (!r || !name)
		return NULL;
	pthread_mutex_lock(&r->lock);
	struct tc_metric *m = r->first;
	while (m && strcmp(m->name, name) != 0)
		m = m->next;
	pthread_mutex_unlock(&r->lock);
	return m;
}

struct tc_metric *tc_metrics_counter(struct tc_metrics *r, const char *name, const char *help, const char *label)
{
	return add_family(r, COUNTER, name, help, label, NULL, 0);
}

struct tc_metric *tc_metrics_gauge(struct tc_metrics *r, const char *name, const char *help, const char *label)
{
	return add_family(r, GAUGE, name, help, label, NULL, 0);
}

struct tc_metric *tc_metrics_histogram(struct tc_metrics *r, const char *name, const char *help, const char *label,
				       const double *bounds, size_t nbounds)
{
	return add_family(r, HISTOGRAM, name, help, label, bounds, nbounds);
}

/* The series of value, created on first use; "other" once the family is
 * full. Called with m->lock held; NULL when out of memory. */
static struct series *series_of(struct tc_metric *m, const char *value)
{
	if (!m->label)
		value = NULL;
	else if (!value)
		value = "";
	for (size_t i = 0; i < m->n; i++)
		if (!value || strcmp(m->s[i].value, value) == 0)
			return &m->s[i];
	/* The last slot is kept for "other". */
	if (value && m->n >= TC_METRICS_MAX_SERIES - 1 && strcmp(value, "other") != 0)
		return series_of(m, "other");
	if (m->n == TC_METRICS_MAX_SERIES)
		return NULL;
	struct series *s = &m->s[m->n];
	memset(s, 0, sizeof(*s));
	if (value && !(s->value = strdup(value)))
		return NULL;
	m->n++;
	return s;
}

void tc_metric_add(struct tc_metric *m, const char *value, double v)
{
	if (!m || m->kind == HISTOGRAM || !(v >= 0) || isinf(v))
		return;
	pthread_mutex_lock(&m->lock);
	struct series *s = series_of(m, value);
	if (s)
		s->v += v;
	pthread_mutex_unlock(&m->lock);
}

void tc_metric_set(struct tc_metric *m, const char *value, double v)
{
	if (!m || m->kind != GAUGE)
		return;
	pthread_mutex_lock(&m->lock);
	struct series *s = series_of(m, value);
	if (s)
		s->v = v;
	pthread_mutex_unlock(&m->lock);
}

void tc_metric_observe(struct tc_metric *m, const char *value, double v)
{
	if (!m || m->kind != HISTOGRAM || isnan(v))
		return;
	pthread_mutex_lock(&m->lock);
	struct series *s = series_of(m, value);
	if (s) {
		s->v += v;
		s->count++;
		for (size_t i = 0; i < m->nbounds; i++)
			if (v <= m->bounds[i])
				s->bucket[i]++;
	}
	pthread_mutex_unlock(&m->lock);
}

/* A label value or HELP text, escaped as the format says (\\, \n, and \"
 * in label values). */
static void put_escaped(FILE *f, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (quote && *s == '"')
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

static void put_labels(FILE *f, const struct tc_metric *m, const struct series *s, const char *le)
{
	if (!m->label && !le)
		return;
	fputc('{', f);
	if (m->label) {
		fprintf(f, "%s=\"", m->label);
		put_escaped(f, s->value, 1);
		fputc('"', f);
	}
	if (le)
		fprintf(f, "%sle=\"%s\"", m->label ? "," : "", le);
	fputc('}', f);
}

static void put_family(FILE *f, struct tc_metric *m)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	fprintf(f, "# HELP %s ", m->name);
	put_escaped(f, m->help, 0);
	fprintf(f, "\n# TYPE %s %s\n", m->name, types[m->kind]);
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++) {
		const struct series *s = &m->s[i];
		if (m->kind != HISTOGRAM) {
			fputs(m->name, f);
			put_labels(f, m, s, NULL);
			fprintf(f, " %.15g\n", s->v);
			continue;
		}
		char le[32];
		for (size_t b = 0; b < m->nbounds; b++) {
			snprintf(le, sizeof(le), "%.15g", m->bounds[b]);
			fprintf(f, "%s_bucket", m->name);
			put_labels(f, m, s, le);
			fprintf(f, " %llu\n", s->bucket[b]);
		}
		fprintf(f, "%s_bucket", m->name);
		put_labels(f, m, s, "+Inf");
		fprintf(f, " %llu\n%s_sum", s->count, m->name);
		put_labels(f, m, s, NULL);
		fprintf(f, " %.15g\n%s_count", s->v, m->name);
		put_labels(f, m, s, NULL);
		fprintf(f, " %llu\n", s->count);
	}
	pthread_mutex_unlock(&m->lock);
}

int tc_metrics_write(struct tc_metrics *r, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	FILE *f = open_memstream(out, len);
	if (!f)
		return -1;
	pthread_mutex_lock(&r->lock);
	for (struct tc_metric *m = r->first; m; m = m->next)
		put_family(f, m);
	pthread_mutex_unlock(&r->lock);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
