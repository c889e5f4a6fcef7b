/* Writing a whole buffer to a file descriptor: write(2) may take less than
 * it was given (a signal, a full pipe, a disk near full), and every caller
 * that wants all of it needs the same loop. */
#ifndef TC_COMMON_WRITE_FULL_H
#define TC_COMMON_WRITE_FULL_H

#include <stddef.h>

/* Writes len bytes of buf to fd, retrying after EINTR and short writes.
 * 0 when all were written; -1 otherwise with errno set (ENOSPC for a write
 * that took nothing, so a caller never loops on a disk that is full). Bytes
 * may have reached fd before a failure: a caller that needs all-or-nothing
 * truncates or discards the file itself. */
int tc_write_full(int fd, const void *buf, size_t len);

#endif
