/* Ceremony records through the running signer (issue 14). The signer
 * holds the audit journal's lock while it runs, so a ceremony step run
 * then (trustchainctl ceremony ..., ctl/ceremony_session.c) cannot append
 * its record itself; it drops a request in <data_dir>/journal/ceremony-inbox/
 * and the signer appends the record for it. Only root and the signer's
 * own user can write there (journal/ is 0700, owned by the signer's user),
 * which is what makes the request privileged: the signer also refuses a
 * request file owned by anybody else, a link, or one that is not a
 * regular file.
 *
 * A request NAME.req (NAME: 1-32 of [0-9a-f]) holds one JSON object
 * {"step": STEP, "key": LABEL, "data": TEXT, "detail": TEXT}: STEP 1-48 of
 * [a-z0-9-], LABEL "" or a key label, TEXT without NUL. The signer claims
 * it by renaming it NAME.taken (a requester that gave up renames it away
 * first, so a record is never appended for nobody), appends
 * {peer "ceremony", op "ceremony:STEP"} as the ceremony would, and answers
 * NAME.done ("SEQ\n") or NAME.refused ("REASON\n"). */
#ifndef TC_SIGNER_CEREMONY_INBOX_H
#define TC_SIGNER_CEREMONY_INBOX_H

#include <stddef.h>

#define TC_CEREMONY_INBOX "journal/ceremony-inbox"
#define TC_CEREMONY_REQUEST_MAX (512 * 1024)

struct tc_signer;

/* Creates the inbox (0700) when absent. 0, or -1 with err (the signer
 * then takes no ceremony records: ceremonies need it stopped). */
int tc_ceremony_inbox_prepare(struct tc_signer *s, char *err, size_t errlen);

/* Serves every pending request once; the issuers' ticker thread calls it
 * a few times a second (issuers.c). */
void tc_ceremony_inbox_poll(struct tc_signer *s);

#endif
