/* The one way a function reports why it failed into a caller's buffer. */
#ifndef TC_COMMON_ERRORF_H
#define TC_COMMON_ERRORF_H

#include <stddef.h>

/* Formats the reason into err (when err and errlen are non-zero) and returns
 * -1, so a check reads `return tc_errorf(err, errlen, "...", ...);`. */
int tc_errorf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
