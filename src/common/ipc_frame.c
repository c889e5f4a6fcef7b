#include "common/ipc_frame.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

void tc_frame_reader_init(struct tc_frame_reader *r) { tc_frame_reader_init_max(r, TC_IPC_MAX_FRAME); }

void tc_frame_reader_init_max(struct tc_frame_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void tc_frame_reader_free(struct tc_frame_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Drops the frame handed out by the previous tc_frame_reader_next(). */
static void drop_handed_out(struct tc_frame_reader *r)
{
	if (!r->handed_out)
		return;
	memmove(r->buf, r->buf + r->handed_out, r->len - r->handed_out);
	r->len -= r->handed_out;
	r->handed_out = 0;
}

int tc_frame_reader_append(struct tc_frame_reader *r, const uint8_t *data, size_t len)
{
	drop_handed_out(r);
	/* Never buffer more than one maximal frame plus its header: a peer that
	 * streams bytes without ever completing a valid frame is cut off by
	 * tc_frame_reader_next() before memory grows further. */
	if (r->len + len > r->max + 4 + 65536)
		return -1;
	if (r->len + len > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + len)
			cap *= 2;
		uint8_t *nb = realloc(r->buf, cap);
		if (!nb)
			return -1;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	return 0;
}

enum tc_frame_status tc_frame_reader_next(struct tc_frame_reader *r, const uint8_t **payload,
					  size_t *payload_len, const char **errmsg)
{
	drop_handed_out(r);
	if (r->len < 4)
		return TC_FRAME_NEED_MORE;
	uint32_t n = be32(r->buf);
	if (n == 0 || n > r->max) {
		if (errmsg)
			*errmsg = n == 0 ? "empty frame"
			      : r->max == TC_IPC_MAX_FRAME ? "frame larger than the 1 MiB limit"
							   : "frame larger than the answer limit";
		return TC_FRAME_ERROR;
	}
	if (r->len < 4 + (size_t)n)
		return TC_FRAME_NEED_MORE;
	r->handed_out = 4 + (size_t)n;
	*payload = r->buf + 4;
	*payload_len = n;
	return TC_FRAME_READY;
}

int tc_frame_bound_writes(int fd, int timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int frame_write(int fd, const uint8_t *payload, size_t len, size_t max)
{
	if (len == 0 || len > max) {
		errno = EMSGSIZE;
		return -1;
	}
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
	/* Header and payload in one system call (on the signer's hot path the
	 * second write was a measurable share of each request), and no SIGPIPE
	 * when the peer is gone: that is an error to return, not a reason to die. */
	struct iovec iov[2] = {{hdr, 4}, {(void *)payload, len}};
	size_t left = 4 + len;
	int idx = 0;
	while (left > 0) {
		struct msghdr mh = {.msg_iov = iov + idx, .msg_iovlen = (size_t)(2 - idx)};
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		left -= (size_t)w;
		while (idx < 2 && (size_t)w >= iov[idx].iov_len) {
			w -= (ssize_t)iov[idx].iov_len;
			idx++;
		}
		if (idx < 2) {
			iov[idx].iov_base = (uint8_t *)iov[idx].iov_base + w;
			iov[idx].iov_len -= (size_t)w;
		}
	}
	return 0;
}

int tc_frame_write(int fd, const uint8_t *payload, size_t len)
{
	return frame_write(fd, payload, len, TC_IPC_MAX_FRAME);
}

int tc_frame_write_answer(int fd, const uint8_t *payload, size_t len)
{
	return frame_write(fd, payload, len, TC_IPC_MAX_ANSWER_FRAME);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads exactly len bytes before the deadline; 1 done, 0 EOF at offset 0, -1 error. */
static int read_full(int fd, uint8_t *buf, size_t len, long deadline)
{
	size_t off = 0;
	while (off < len) {
		if (deadline >= 0) {
			long left = deadline - now_ms();
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			int pr = poll(&pfd, 1, (int)left);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr <= 0) {
				if (pr == 0)
					errno = ETIMEDOUT;
				return -1;
			}
		}
		ssize_t r = read(fd, buf + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			if (off == 0)
				return 0;
			errno = EPROTO; /* truncated frame */
			return -1;
		}
		off += (size_t)r;
	}
	return 1;
}

int tc_frame_read(int fd, uint8_t **payload, size_t *len, int timeout_ms)
{
	long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	uint8_t hdr[4];
	int rc = read_full(fd, hdr, 4, deadline);
	if (rc <= 0)
		return rc;
	uint32_t n = be32(hdr);
	if (n == 0 || n > TC_IPC_MAX_FRAME) {
		errno = EMSGSIZE;
		return -1;
	}
	uint8_t *buf = malloc(n);
	if (!buf)
		return -1;
	rc = read_full(fd, buf, n, deadline);
	if (rc != 1) {
		free(buf);
		if (rc == 0)
			errno = EPROTO;
		return -1;
	}
	*payload = buf;
	*len = n;
	return 1;
}
