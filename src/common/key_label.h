/* HSM key labels chosen by a security officer (ceremony
 * rollover-intermediate --label, hsm.keys.*) that also name files
 * (ca/rollover/next, <label>.crl) and fields of space-separated records
 * (the revocation store): one rule for every place that reads them back. */
#ifndef TC_COMMON_KEY_LABEL_H
#define TC_COMMON_KEY_LABEL_H

#include <stddef.h>

#define TC_KEY_LABEL_MAX 48

/* 1 when the n bytes at l are 1-48 of A-Z a-z 0-9 '-' '_' '.', not
 * starting with '.' (no hidden file, no "..", no NUL, space or slash). */
int tc_key_label_ok(const char *l, size_t n);

#endif
