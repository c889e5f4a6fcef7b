/* The zone journal: see zone_journal.h. */
#include "resolver/zone_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_replace.h"
#include "common/write_full.h"
#include "resolver/dns_name.h"
#include "resolver/dns_wire.h"

#define HEAD 40   /* magic 4 + length 4 + SHA-256 32 */
static const uint8_t magic[4] = {'T', 'C', 'Z', 'J'};

struct tc_zone_journal {
	int fd;
	off_t size;   /* of the good records: a failed append is cut back to it */
};

static int sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
	unsigned int n = 0;
	return EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

size_t tc_zone_journal_scan(const uint8_t *buf, size_t len, uint8_t *out, size_t cap,
			    size_t *out_len, size_t *records)
{
	size_t pos = 0, n = 0, count = 0;
	while (len - pos >= HEAD && memcmp(buf + pos, magic, 4) == 0) {
		size_t plen = tc_dns_get32(buf + pos + 4);
		if (plen > TC_ZONE_JOURNAL_MAX_RECORD || plen > len - pos - HEAD)
			break;
		uint8_t digest[32];
		const uint8_t *payload = buf + pos + HEAD;
		if (sha256(payload, plen, digest) != 0 || CRYPTO_memcmp(digest, buf + pos + 8, 32) != 0)
			break;
		if (out) {
			if (n + plen > cap)
				break;
			memcpy(out + n, payload, plen);
		}
		n += plen;
		count++;
		pos += HEAD + plen;
	}
	*out_len = n;
	*records = count;
	return pos;
}

int tc_zone_journal_open(const char *path, struct tc_zone_journal **out, uint8_t **ops,
			 size_t *ops_len, size_t *records, char *err, size_t errlen)
{
	*out = NULL;
	*ops = NULL;
	*ops_len = 0;
	*records = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	uint8_t *payloads = malloc(size ? size : 1);
	size_t got = 0;
	while (buf && got < size) {
		ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (!buf || !payloads || got != size) {
		snprintf(err, errlen, "%s: cannot read it: %s", path, buf ? strerror(errno) : "out of memory");
		free(buf);
		free(payloads);
		close(fd);
		return -1;
	}
	size_t good = tc_zone_journal_scan(buf, size, payloads, size, ops_len, records);
	free(buf);
	/* A torn tail is cut, so the next record starts at a good boundary. */
	if (good != size && (ftruncate(fd, (off_t)good) != 0 || fdatasync(fd) != 0)) {
		snprintf(err, errlen, "%s: cannot cut the damaged tail: %s", path, strerror(errno));
		free(payloads);
		close(fd);
		return -1;
	}
	if (lseek(fd, 0, SEEK_END) < 0 || !(*out = calloc(1, sizeof(**out)))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(payloads);
		close(fd);
		return -1;
	}
	(*out)->fd = fd;
	(*out)->size = (off_t)good;
	*ops = payloads;
	return 0;
}

/* Writes the record head of payload at out (HEAD octets). */
static int record_head(uint8_t *out, const uint8_t *payload, size_t len)
{
	memcpy(out, magic, 4);
	tc_dns_put32(out + 4, (uint32_t)len);
	return sha256(payload, len, out + 8);
}

int tc_zone_journal_compact(struct tc_zone_journal *j, const char *path, const uint8_t *ops, size_t len,
			    char *err, size_t errlen)
{
	/* At most one head per change plus one: a change is at least 11
	 * octets (root name + fixed fields), so this bounds the image. */
	size_t cap = len + HEAD * (len / 11 + 1);
	uint8_t *img = malloc(cap);
	if (!img) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t pos = 0, out = 0;
	while (pos < len) {
		/* One record: as many whole changes as fit. */
		size_t end = pos;
		while (end < len) {
			size_t nlen = tc_dns_name_wire_len(ops + end, len - end);
			if (nlen == 0 || len - end - nlen < 10 ||
			    len - end - nlen - 10 < tc_dns_get16(ops + end + nlen + 8)) {
				snprintf(err, errlen, "folded changes: bad layout at %zu", end);
				free(img);
				return -1;
			}
			size_t one = nlen + 10 + tc_dns_get16(ops + end + nlen + 8);
			if (end - pos + one > TC_ZONE_JOURNAL_MAX_RECORD)
				break;
			end += one;
		}
		if (end == pos) { /* a single change over the record limit: never written by updates */
			snprintf(err, errlen, "folded change at %zu too large", pos);
			free(img);
			return -1;
		}
		if (record_head(img + out, ops + pos, end - pos) != 0) {
			snprintf(err, errlen, "SHA-256 failed");
			free(img);
			return -1;
		}
		memcpy(img + out + HEAD, ops + pos, end - pos);
		out += HEAD + (end - pos);
		pos = end;
	}
	int rc = tc_file_replace(path, img, out, 0600, err, errlen);
	free(img);
	if (rc != 0)
		return -1;
	/* The old descriptor names the replaced file now: appends go to the
	 * new one, or nowhere. */
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	close(j->fd);
	j->fd = fd;
	if (fd < 0 || lseek(fd, 0, SEEK_END) != (off_t)out) {
		snprintf(err, errlen, "%s: reopening after compaction: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		j->fd = -1;
		return -1;
	}
	j->size = (off_t)out;
	return 0;
}

int tc_zone_journal_append(struct tc_zone_journal *j, const uint8_t *payload, size_t len)
{
	if (j->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (len > TC_ZONE_JOURNAL_MAX_RECORD)
		return -1;
	uint8_t *rec = malloc(HEAD + len);
	if (!rec)
		return -1;
	if (record_head(rec, payload, len) != 0) {
		free(rec);
		return -1;
	}
	memcpy(rec + HEAD, payload, len);
	int written = tc_write_full(j->fd, rec, HEAD + len) == 0;
	free(rec);
	if (!written) {
		/* A torn record must not stay for the next append to follow. */
		if (ftruncate(j->fd, j->size) != 0 || lseek(j->fd, j->size, SEEK_SET) < 0)
			return -1;
		return -1;
	}
	if (fdatasync(j->fd) != 0)
		return -1;
	j->size += (off_t)(HEAD + len);
	return 0;
}

void tc_zone_journal_close(struct tc_zone_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}
