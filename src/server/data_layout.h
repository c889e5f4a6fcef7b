/* Who owns which part of server.data_dir (DESIGN.md section 1: the signer
 * alone reads the PIN and the token, only transparency the CT store ...).
 *
 *   <data_dir>/          root:<group> 0750   every child may enter; root's own files
 *     hsm/  journal/     signer 0700         token, PINs, audit journal
 *     ca/                signer:<group> 0750 public certificates; revocations 0600
 *     ct/                transparency:<group> 0750   log public key (public)
 *       log/ submissions/ transparency 0700  the log's LevelDB stores
 *     dns/               resolver:<group> 0750       DoQ certificate, zone key (public)
 *     acme/              acme 0700           ACME state (LevelDB), EAB keys
 *     run/               root:<group> 0750   the CT log's socket (transparency:<group> 0660)
 *
 * <group> is the shared group every child has as supplementary group. The
 * supervisor makes it so at every start, as root, before any child runs
 * (so nothing can race the walk), creating what is missing and repairing
 * ownership and modes below each part; other entries (ceremony transcripts,
 * server.status) stay root's. */
#ifndef TC_SERVER_DATA_LAYOUT_H
#define TC_SERVER_DATA_LAYOUT_H

#include <stddef.h>

#include "server/children.h"

/* Creates and repairs the layout. Without privileges to drop, only creates
 * what is missing. Returns 0, or -1 with err set. */
int tc_data_layout_repair(const struct tc_supervisor *s, char *err, size_t errlen);

#endif
