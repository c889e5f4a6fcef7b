/* An LD_PRELOAD library that records, for the files whose path contains
 * TC_IOREC_MATCH (e.g. "audit.jsonl"), every write with its offset and
 * bytes, every fsync/fdatasync, ftruncate, and renames and unlinks of
 * matching paths, each with the CLOCK_MONOTONIC time it completed. The
 * crash-consistency test (tests/integration/crash_consistency_test.sh,
 * crash_states.py) rebuilds from it the file states a power failure could
 * leave. Each process appends to TC_IOREC_DIR/<pid>.rec, opened when the
 * library loads (before a server child sandboxes itself, so the child's
 * Landlock rules need not allow it).
 *
 * Record format (all integers little-endian):
 *   u8 op ('W' write, 'S' sync, 'T' truncate, 'R' rename, 'U' unlink,
 *          'O' open), u64 time_ns, u32 path_len, path,
 *   'W': u64 offset, u32 len, bytes   'T': u64 length
 *   'R': u32 to_len, to_path          'O', 'S', 'U': nothing more
 * A record is written with one write(2) under a lock, so records from
 * threads never interleave. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 4096

static int log_fd = -1;
static const char *match;
static char *paths[MAX_FD]; /* matching paths by descriptor */

/* 1 when path contains one of the '|'-separated parts of match. */
static int matches(const char *path)
{
	if (!match || !path)
		return 0;
	for (const char *p = match; *p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n && memmem(path, strlen(path), p, n))
			return 1;
		if (!bar)
			break;
		p = bar + 1;
	}
	return 0;
}
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_unlink)(const char *);

/* The libc entry points, found when first needed: a library's own
 * constructor (the ASan runtime's, say) may open or write before ours runs. */
static void *resolve(void **slot, const char *name)
{
	if (!*slot)
		*slot = dlsym(RTLD_NEXT, name);
	return *slot;
}
#define REAL(name) ((__typeof__(real_##name))resolve((void **)&real_##name, #name))

__attribute__((constructor)) static void init(void)
{
	match = getenv("TC_IOREC_MATCH");
	const char *dir = getenv("TC_IOREC_DIR");
	if (!match || !*match || !dir)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%ld.rec", dir, (long)getpid());
	log_fd = REAL(open)(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put(unsigned char **p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		*(*p)++ = (unsigned char)(v >> (8 * i));
}

/* One record; extra/extra_len is the op's tail (already encoded). */
static void emit(char op, const char *path, const void *head, size_t head_len, const void *data, size_t len)
{
	if (log_fd < 0 || !path)
		return;
	size_t plen = strlen(path);
	size_t total = 1 + 8 + 4 + plen + head_len + len;
	unsigned char *buf = malloc(total), *p = buf;
	if (!buf)
		return;
	*p++ = (unsigned char)op;
	put(&p, now_ns(), 8);
	put(&p, plen, 4);
	memcpy(p, path, plen);
	p += plen;
	if (head_len)
		memcpy(p, head, head_len);
	p += head_len;
	if (len)
		memcpy(p, data, len);
	REAL(write)(log_fd, buf, total);
	free(buf);
}

static const char *path_of(int fd)
{
	return fd >= 0 && fd < MAX_FD ? paths[fd] : NULL;
}

static void opened(int fd, const char *path)
{
	if (fd < 0 || fd >= MAX_FD || !match || log_fd < 0)
		return;
	pthread_mutex_lock(&lock);
	free(paths[fd]);
	paths[fd] = NULL;
	if (matches(path)) {
		paths[fd] = strdup(path);
		emit('O', path, NULL, 0, NULL, 0);
	}
	pthread_mutex_unlock(&lock);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	int fd = REAL(open)(path, flags, mode);
	opened(fd, path);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	int fd = REAL(open64)(path, flags, mode);
	opened(fd, path);
	return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	int fd = REAL(openat)(dirfd, path, flags, mode);
	opened(fd, path);
	return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	int fd = REAL(openat64)(dirfd, path, flags, mode);
	opened(fd, path);
	return fd;
}

int close(int fd)
{
	if (fd >= 0 && fd < MAX_FD && paths[fd]) {
		pthread_mutex_lock(&lock);
		free(paths[fd]);
		paths[fd] = NULL;
		pthread_mutex_unlock(&lock);
	}
	return REAL(close)(fd);
}

/* Records n bytes just written at the descriptor's offset (the offset
 * after the write minus n: right for O_APPEND too). */
static void wrote(int fd, const void *data, ssize_t n, off_t at)
{
	const char *path = path_of(fd);
	if (!path || n <= 0)
		return;
	if (at < 0)
		at = lseek(fd, 0, SEEK_CUR) - n;
	unsigned char head[12], *p = head;
	put(&p, (uint64_t)at, 8);
	put(&p, (uint64_t)n, 4);
	pthread_mutex_lock(&lock);
	emit('W', path, head, sizeof(head), data, (size_t)n);
	pthread_mutex_unlock(&lock);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (!path_of(fd))
		return REAL(write)(fd, buf, len);
	/* The offset and the record must match this write: no other thread
	 * writes the same descriptor between them (the journal has one
	 * writer; LevelDB one per file). */
	ssize_t n = REAL(write)(fd, buf, len);
	wrote(fd, buf, n, -1);
	return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n = REAL(pwrite)(fd, buf, len, off);
	wrote(fd, buf, n, off);
	return n;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n = REAL(pwrite64)(fd, buf, len, off);
	wrote(fd, buf, n, off);
	return n;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (!path_of(fd))
		return REAL(writev)(fd, iov, cnt);
	ssize_t n = REAL(writev)(fd, iov, cnt);
	if (n > 0) {
		off_t end = lseek(fd, 0, SEEK_CUR), at = end - n;
		ssize_t left = n;
		for (int i = 0; i < cnt && left > 0; i++) {
			ssize_t part = (ssize_t)iov[i].iov_len < left ? (ssize_t)iov[i].iov_len : left;
			wrote(fd, iov[i].iov_base, part, at);
			at += part;
			left -= part;
		}
	}
	return n;
}

static void synced(int fd, int rc)
{
	const char *path = path_of(fd);
	if (!path || rc != 0)
		return;
	pthread_mutex_lock(&lock);
	emit('S', path, NULL, 0, NULL, 0);
	pthread_mutex_unlock(&lock);
}

int fsync(int fd)
{
	int rc = REAL(fsync)(fd);
	synced(fd, rc);
	return rc;
}

int fdatasync(int fd)
{
	int rc = REAL(fdatasync)(fd);
	synced(fd, rc);
	return rc;
}

static void truncated(int fd, off_t len, int rc)
{
	const char *path = path_of(fd);
	if (!path || rc != 0)
		return;
	unsigned char head[8], *p = head;
	put(&p, (uint64_t)len, 8);
	pthread_mutex_lock(&lock);
	emit('T', path, head, sizeof(head), NULL, 0);
	pthread_mutex_unlock(&lock);
}

int ftruncate(int fd, off_t len)
{
	int rc = REAL(ftruncate)(fd, len);
	truncated(fd, len, rc);
	return rc;
}

int ftruncate64(int fd, off_t len)
{
	int rc = REAL(ftruncate64)(fd, len);
	truncated(fd, len, rc);
	return rc;
}

static void renamed(const char *from, const char *to, int rc)
{
	if (rc != 0 || log_fd < 0 || (!matches(from) && !matches(to)))
		return;
	size_t tlen = strlen(to);
	unsigned char *head = malloc(4 + tlen), *p = head;
	if (!head)
		return;
	put(&p, tlen, 4);
	memcpy(p, to, tlen);
	pthread_mutex_lock(&lock);
	emit('R', from, head, 4 + tlen, NULL, 0);
	pthread_mutex_unlock(&lock);
	free(head);
}

int rename(const char *from, const char *to)
{
	int rc = REAL(rename)(from, to);
	renamed(from, to, rc);
	return rc;
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	int rc = REAL(renameat)(fromfd, from, tofd, to);
	renamed(from, to, rc);
	return rc;
}

int unlink(const char *path)
{
	int rc = REAL(unlink)(path);
	if (rc == 0 && log_fd >= 0 && matches(path)) {
		pthread_mutex_lock(&lock);
		emit('U', path, NULL, 0, NULL, 0);
		pthread_mutex_unlock(&lock);
	}
	return rc;
}
