/* The expositions of several processes checked and merged into one
 * (trustchain-metrics, issue 14 part 1).
 *
 * Each process's text comes from a process that may have been taken over
 * (DESIGN.md section 1), so it is read strictly, as the subset that
 * common/metrics.c writes: "# HELP", "# TYPE" (counter, gauge, histogram)
 * before the family's samples, samples named for their family (histograms:
 * _bucket with le, _sum, _count), label values with the format's three
 * escapes only, plain decimal values or +Inf/-Inf/NaN, no timestamps, no
 * other comments, no NUL, every line ended by a newline, and bounds on
 * families, samples, labels and line length. One bad line refuses the whole
 * text: that process then shows nothing until it sends a good one, and the
 * others are untouched.
 *
 * Every sample gets the label process="<source>" (the name the supervisor
 * gave, never one the text chose; a text using the label "process" itself is
 * refused), so a process can never pass its figures off as another's. A
 * family several processes export is written once, with the samples of each;
 * a process declaring it with another type than the first has that family
 * left out. */
#ifndef TC_COMMON_METRICS_EXPO_H
#define TC_COMMON_METRICS_EXPO_H

#include <stddef.h>

#define TC_EXPO_MAX_SOURCES 16
#define TC_EXPO_MAX_FAMILIES 256  /* per source */
#define TC_EXPO_MAX_SAMPLES 8192  /* per source */
#define TC_EXPO_MAX_LABELS 8      /* per sample, process not counted */
#define TC_EXPO_MAX_LINE 4096

struct tc_expo;

struct tc_expo *tc_expo_new(void);
void tc_expo_free(struct tc_expo *e);

/* Replaces source's figures with text (len bytes, not NUL-terminated).
 * source: 1..31 of [a-z0-9_-]. Returns 0; -1 with err set when text is
 * refused (source's previous figures are dropped then) or there is no room
 * for another source. */
int tc_expo_update(struct tc_expo *e, const char *source, const char *text, size_t len, char *err,
		   size_t errlen);

/* Drops source's figures (a process that is gone). */
void tc_expo_remove(struct tc_expo *e, const char *source);

/* The merged exposition, malloc'ed and NUL-terminated. 0, or -1 (memory). */
int tc_expo_render(const struct tc_expo *e, char **out, size_t *len);

/* For trustchainctl status: the sum of the samples of the counter or gauge
 * `name` (any labels) in an exposition of len bytes (as served, not checked
 * here), 0 when there is none. Reads whole lines "name value" and
 * "name{...} value"; anything else is skipped. */
double tc_expo_sum(const char *text, size_t len, const char *name);

#endif
