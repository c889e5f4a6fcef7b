/* Filesystem helpers for ceremony outputs: directories created with explicit
 * modes, files published atomically and never overwritten, since a ceremony
 * artefact replaced behind the operator's back is worse than a failed step. */
#ifndef TC_CTL_FILES_H
#define TC_CTL_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p; directories that exist keep their mode. */
int tc_ctl_mkdirs(const char *path, mode_t mode, char *err, size_t errlen);

int tc_ctl_file_exists(const char *path);

/* Writes path through a temporary file in the same directory, fsyncs it,
 * links it into place (failing if path exists) and fsyncs the directory. */
int tc_ctl_write_new_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
			  size_t errlen);

#endif
