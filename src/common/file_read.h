/* Whole small files (certificates, transcripts) read with a size bound, so a
 * wrong path pointing at something huge is an error, not an allocation. */
#ifndef TC_COMMON_FILE_READ_H
#define TC_COMMON_FILE_READ_H

#include <stddef.h>

/* Reads a whole file of at most max bytes into a NUL-terminated buffer the
 * caller frees. Returns 0, or -1 with err set ("path: reason"). */
int tc_read_file(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen);

#endif
