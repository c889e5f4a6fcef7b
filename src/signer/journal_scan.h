/* Reading the audit journal back inside the signer: the idempotency
 * records at start, the issuer of a serial at a revocation. The journal
 * was verified when it was opened; this only finds records. */
#ifndef TC_SIGNER_JOURNAL_SCAN_H
#define TC_SIGNER_JOURNAL_SCAN_H

#include <jansson.h>

/* Calls fn with each record of the journal at path whose line holds needle
 * (a cheap filter, so only those lines are parsed as JSON) until fn returns
 * non-zero. Returns that value, 0 when fn never stopped, -1 when the file
 * cannot be opened. rec is only valid during the call. */
int tc_journal_scan(const char *path, const char *needle, int (*fn)(json_t *rec, void *arg), void *arg);

#endif
