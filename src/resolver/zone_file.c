/* RFC 1035 §5 master file loader.
 *
 * Accepted: $ORIGIN <name>, $TTL <ttl> (RFC 2308), "@", relative and
 * absolute names, a blank owner (line starting with white space) meaning
 * the previous owner, optional TTL and class IN in either order,
 * parentheses joining lines, ";" comments, quoted strings with \X and
 * \DDD escapes, TTL units (1h, 2d, 1w), and the RDATA forms of rdata_text.c.
 * Not accepted (clear error): $INCLUDE (a zone file must not pull in other
 * files behind the operator's back), classes other than IN.
 * A record without a TTL takes $TTL, else the last explicit TTL, else 3600.
 * The input need not be NUL-terminated. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolver/dns_name.h"
#include "resolver/rdata_text.h"
#include "resolver/zone.h"

#define MAX_FIELDS 512
#define MAX_ZONE_FILE (64u * 1024 * 1024)
#define FALLBACK_TTL 3600

struct lexer {
	const char *p;
	size_t len, pos;
	unsigned line;
};

struct entry {
	struct tc_zone_token tok[MAX_FIELDS];
	size_t ntok;
	bool blank_owner;
	unsigned line;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool ends_plain(char c)
{
	return is_space(c) || c == '\n' || c == ';' || c == '(' || c == ')' || c == '"';
}

/* Reads the next entry (one line, or several joined by parentheses).
 * Returns 1 with an entry, 0 at the end, -1 with why/errline. */
static int next_entry(struct lexer *lx, struct entry *e, const char **why, unsigned *errline)
{
	bool in_parens = false;
	unsigned paren_line = 0;
	bool line_start = lx->pos == 0 || lx->p[lx->pos - 1] == '\n';
	e->ntok = 0;
	e->blank_owner = false;
	e->line = lx->line;
	for (;;) {
		if (lx->pos >= lx->len) {
			if (in_parens) {
				*why = "unbalanced '(' (no closing ')')";
				*errline = paren_line;
				return -1;
			}
			return e->ntok ? 1 : 0;
		}
		char c = lx->p[lx->pos];
		if (c == '\n') {
			lx->pos++;
			lx->line++;
			line_start = true;
			if (!in_parens && e->ntok)
				return 1;
			continue;
		}
		if (is_space(c)) {
			lx->pos++;
			line_start = false;
			continue;
		}
		if (c == ';') {
			while (lx->pos < lx->len && lx->p[lx->pos] != '\n')
				lx->pos++;
			continue;
		}
		if (c == '(') {
			if (in_parens) {
				*why = "nested '('";
				*errline = lx->line;
				return -1;
			}
			in_parens = true;
			paren_line = lx->line;
			lx->pos++;
			line_start = false;
			continue;
		}
		if (c == ')') {
			if (!in_parens) {
				*why = "')' without '('";
				*errline = lx->line;
				return -1;
			}
			in_parens = false;
			lx->pos++;
			continue;
		}
		if (e->ntok == MAX_FIELDS) {
			*why = "too many fields in one entry";
			*errline = lx->line;
			return -1;
		}
		struct tc_zone_token *t = &e->tok[e->ntok];
		if (e->ntok == 0) {
			e->blank_owner = !line_start;
			e->line = lx->line;
		}
		t->line = lx->line;
		if (c == '"') {
			size_t start = ++lx->pos;
			while (lx->pos < lx->len && lx->p[lx->pos] != '"') {
				if (lx->p[lx->pos] == '\n') {
					*why = "newline inside a quoted string";
					*errline = t->line;
					return -1;
				}
				if (lx->p[lx->pos] == '\\' && lx->pos + 1 < lx->len && lx->p[lx->pos + 1] != '\n')
					lx->pos++;
				lx->pos++;
			}
			if (lx->pos >= lx->len) {
				*why = "unterminated quoted string";
				*errline = t->line;
				return -1;
			}
			t->s = lx->p + start;
			t->len = lx->pos - start;
			t->quoted = true;
			lx->pos++;
		} else {
			size_t start = lx->pos;
			while (lx->pos < lx->len && !ends_plain(lx->p[lx->pos])) {
				if (lx->p[lx->pos] == '\\' && lx->pos + 1 < lx->len && lx->p[lx->pos + 1] != '\n')
					lx->pos++;
				lx->pos++;
			}
			t->s = lx->p + start;
			t->len = lx->pos - start;
			t->quoted = false;
		}
		line_start = false;
		e->ntok++;
	}
}

struct load_state {
	struct tc_zone *zone;
	const char *source;
	char *err;
	size_t errlen;
	uint8_t origin[TC_DNS_MAX_NAME];
	size_t olen;
	uint8_t owner[TC_DNS_MAX_NAME];
	size_t owner_len;
	bool have_owner;
	uint32_t default_ttl;
	bool have_default_ttl;
	uint32_t last_ttl;
	bool have_last_ttl;
	uint8_t *rdata;    /* 64 KiB scratch */
};

__attribute__((format(printf, 3, 4)))
static int line_fail(struct load_state *st, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st->err && st->errlen)
		snprintf(st->err, st->errlen, "%s:%u: %s", st->source, line, msg);
	return -1;
}

static bool tok_is(const struct tc_zone_token *t, const char *s)
{
	return !t->quoted && strlen(s) == t->len && strncasecmp(t->s, s, t->len) == 0;
}

static int clip(size_t len)
{
	return (int)(len > 64 ? 64 : len);
}

static int directive(struct load_state *st, const struct entry *e)
{
	const struct tc_zone_token *d = &e->tok[0];
	if (tok_is(d, "$ORIGIN")) {
		const char *why;
		uint8_t name[TC_DNS_MAX_NAME];
		size_t nlen;
		if (e->ntok != 2)
			return line_fail(st, d->line, "$ORIGIN takes exactly one name");
		if (tc_dns_name_from_text(e->tok[1].s, e->tok[1].len, st->origin, st->olen, name, &nlen,
					  &why) != 0)
			return line_fail(st, e->tok[1].line, "$ORIGIN: %s", why);
		memcpy(st->origin, name, nlen);
		st->olen = nlen;
		return 0;
	}
	if (tok_is(d, "$TTL")) {
		if (e->ntok != 2)
			return line_fail(st, d->line, "$TTL takes exactly one value");
		if (tc_dns_ttl_from_text(e->tok[1].s, e->tok[1].len, &st->default_ttl) != 0)
			return line_fail(st, e->tok[1].line, "bad $TTL '%.*s'", clip(e->tok[1].len),
					 e->tok[1].s);
		st->have_default_ttl = true;
		return 0;
	}
	if (tok_is(d, "$INCLUDE"))
		return line_fail(st, d->line, "$INCLUDE is not supported");
	return line_fail(st, d->line, "unknown directive '%.*s'", clip(d->len), d->s);
}

static bool class_token(const struct tc_zone_token *t, bool *is_in)
{
	static const char *const classes[] = {"IN", "CH", "HS", "CS", "NONE", "ANY"};
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (tok_is(t, classes[i])) {
			*is_in = i == 0;
			return true;
		}
	}
	if (!t->quoted && t->len > 5 && strncasecmp(t->s, "CLASS", 5) == 0) {
		*is_in = t->len == 6 && t->s[5] == '1';
		return true;
	}
	return false;
}

static int record(struct load_state *st, const struct entry *e)
{
	size_t i = 0;
	const char *why;
	if (e->blank_owner) {
		if (!st->have_owner)
			return line_fail(st, e->line, "no owner name (line starts with white space)");
	} else {
		const struct tc_zone_token *t = &e->tok[i++];
		if (tc_dns_name_from_text(t->s, t->len, st->origin, st->olen, st->owner, &st->owner_len,
					  &why) != 0)
			return line_fail(st, t->line, "owner name: %s", why);
		st->have_owner = true;
	}
	uint32_t ttl = 0;
	bool have_ttl = false, have_class = false;
	while (i < e->ntok && (!have_ttl || !have_class)) {
		const struct tc_zone_token *t = &e->tok[i];
		bool is_in;
		if (!have_class && class_token(t, &is_in)) {
			if (!is_in)
				return line_fail(st, t->line, "only class IN is supported");
			have_class = true;
			i++;
			continue;
		}
		if (!have_ttl && !t->quoted && t->len && t->s[0] >= '0' && t->s[0] <= '9') {
			if (tc_dns_ttl_from_text(t->s, t->len, &ttl) != 0)
				return line_fail(st, t->line, "bad TTL '%.*s'", clip(t->len), t->s);
			have_ttl = true;
			i++;
			continue;
		}
		break;
	}
	if (i >= e->ntok)
		return line_fail(st, e->tok[e->ntok - 1].line, "missing record type");
	const struct tc_zone_token *tt = &e->tok[i++];
	uint16_t type;
	if (tt->quoted || tc_dns_type_from_text(tt->s, tt->len, &type) != 0)
		return line_fail(st, tt->line, "unknown record type '%.*s'", clip(tt->len), tt->s);

	size_t rdlen = 0, bad = 0;
	char rwhy[256];
	if (tc_rdata_from_text(type, e->tok + i, e->ntok - i, st->origin, st->olen, st->rdata, 65535,
			       &rdlen, &bad, rwhy, sizeof(rwhy)) != 0) {
		size_t at = i + bad < e->ntok ? i + bad : e->ntok - 1;
		return line_fail(st, e->tok[at].line, "%s", rwhy);
	}
	if (have_ttl) {
		st->last_ttl = ttl;
		st->have_last_ttl = true;
	} else if (st->have_default_ttl) {
		ttl = st->default_ttl;
	} else if (st->have_last_ttl) {
		ttl = st->last_ttl;
	} else {
		ttl = FALLBACK_TTL;
	}
	char zerr[512];
	if (tc_zone_add_rr(st->zone, st->owner, st->owner_len, type, ttl, st->rdata, rdlen, zerr,
			   sizeof(zerr)) != 0)
		return line_fail(st, e->line, "%s", zerr);
	return 0;
}

int tc_zone_load_text(struct tc_zone *zone, const char *text, size_t len, const char *source,
		      char *err, size_t errlen)
{
	struct load_state st = {.zone = zone, .source = source ? source : "zone", .err = err,
				.errlen = errlen};
	const uint8_t *origin = tc_zone_origin(zone, &st.olen);
	memcpy(st.origin, origin, st.olen);
	struct entry *e = malloc(sizeof(*e));
	st.rdata = malloc(65535);
	int rc = 0;
	if (!e || !st.rdata) {
		rc = line_fail(&st, 0, "out of memory");
		goto out;
	}
	struct lexer lx = {.p = text, .len = len, .pos = 0, .line = 1};
	for (;;) {
		const char *why = NULL;
		unsigned errline = 0;
		int r = next_entry(&lx, e, &why, &errline);
		if (r == 0)
			break;
		if (r < 0) {
			rc = line_fail(&st, errline, "%s", why);
			break;
		}
		if (!e->blank_owner && !e->tok[0].quoted && e->tok[0].len && e->tok[0].s[0] == '$')
			rc = directive(&st, e);
		else
			rc = record(&st, e);
		if (rc != 0)
			break;
	}
out:
	free(e);
	free(st.rdata);
	return rc;
}

int tc_zone_load_file(struct tc_zone *zone, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > MAX_ZONE_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %u octets", path, MAX_ZONE_FILE);
		close(fd);
		return -1;
	}
	size_t size = (size_t)sb.st_size;
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != size) {
		free(buf);
		snprintf(err, errlen, "%s: short read", path);
		return -1;
	}
	int rc = tc_zone_load_text(zone, buf, size, path, err, errlen);
	free(buf);
	return rc;
}
