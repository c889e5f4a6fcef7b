/* Whole small files replaced durably: after a crash the path holds either
 * the old content or the new, never a mix, and a replacement that returned
 * 0 survives a power cut. */
#ifndef TC_COMMON_FILE_REPLACE_H
#define TC_COMMON_FILE_REPLACE_H

#include <stddef.h>
#include <sys/types.h>

/* Writes data to a new "<path>.tmp-XXXXXX" (given mode before any byte,
 * whatever the umask; no link followed), syncs it,
 * renames it over path and syncs the directory. Returns 0, or -1 with err
 * ("file: reason") and no temporary file left. */
int tc_file_replace(const char *path, const void *data, size_t len, mode_t mode, char *err, size_t errlen);

#endif
