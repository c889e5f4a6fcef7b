/* Length-prefixed frames on a stream socket: a 4-byte big-endian length,
 * then that many bytes of protobuf. A frame larger than TC_IPC_MAX_FRAME, or
 * a zero-length frame, is a protocol error: the connection is closed.
 * Answers of the signer may be larger, up to TC_IPC_MAX_ANSWER_FRAME: only a
 * reader made for them takes them (tc_frame_reader_init_max). */
#ifndef TC_COMMON_IPC_FRAME_H
#define TC_COMMON_IPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define TC_IPC_MAX_FRAME (1024u * 1024u)
/* A CRL lists every revoked certificate not yet expired, about 49 bytes
 * each: 1 MiB held ~21,000 (the chaos soak passed that and the gateway's
 * signer link broke on the CRL). 64 MiB is ~1.3 million. Only peers read
 * frames this large, from the signer, which is trusted with more than
 * their memory; the signer reads requests within TC_IPC_MAX_FRAME. */
#define TC_IPC_MAX_ANSWER_FRAME (64u * 1024u * 1024u)

/* Incremental decoder for non-blocking readers. */
struct tc_frame_reader {
	uint8_t *buf;
	size_t len;   /* bytes buffered */
	size_t cap;
	size_t handed_out; /* size of the frame returned last, dropped on the next call */
	size_t max;        /* largest frame taken */
};

enum tc_frame_status {
	TC_FRAME_NEED_MORE = 0,  /* no complete frame yet */
	TC_FRAME_READY = 1,      /* payload and payload_len hold one frame */
	TC_FRAME_ERROR = -1,     /* oversized or empty frame: close the peer */
};

/* A reader of frames up to TC_IPC_MAX_FRAME, or up to max. */
void tc_frame_reader_init(struct tc_frame_reader *r);
void tc_frame_reader_init_max(struct tc_frame_reader *r, size_t max);
void tc_frame_reader_free(struct tc_frame_reader *r);
/* Appends received bytes; returns -1 if memory runs out. */
int tc_frame_reader_append(struct tc_frame_reader *r, const uint8_t *data, size_t len);
/* Extracts the next frame. The payload stays valid until the next call to
 * tc_frame_reader_next/append; errmsg (may be NULL) explains an error. */
enum tc_frame_status tc_frame_reader_next(struct tc_frame_reader *r, const uint8_t **payload,
					  size_t *payload_len, const char **errmsg);

/* Writes one whole frame to a blocking stream socket (retrying short writes and EINTR).
 * Returns 0, or -1 with errno set. */
int tc_frame_write(int fd, const uint8_t *payload, size_t len);
/* The same for an answer of the signer (up to TC_IPC_MAX_ANSWER_FRAME). */
int tc_frame_write_answer(int fd, const uint8_t *payload, size_t len);
/* Bounds how long one write to fd may block (SO_SNDTIMEO): a server whose
 * threads write answers must not be held by a peer that stops reading;
 * tc_frame_write then fails with EAGAIN and the caller drops that peer.
 * Returns 0, or -1 with errno set. */
int tc_frame_bound_writes(int fd, int timeout_ms);
/* Reads one whole frame from a blocking fd into a malloc'ed buffer.
 * Returns 1 on success, 0 on clean EOF before a frame, -1 on error. */
int tc_frame_read(int fd, uint8_t **payload, size_t *len, int timeout_ms);

#endif
