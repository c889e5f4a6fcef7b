/* What the ceremony files share: one session per trustchainctl run holding
 * the user PIN and the audit journal. Holding the journal also serialises
 * ceremonies against each other and against a running signer (the journal
 * is flock()ed by whoever appends to it). */
#ifndef TC_CTL_CEREMONY_H
#define TC_CTL_CEREMONY_H

#include <jansson.h>
#include <stddef.h>

#include "ctl/ctl.h"
#include "signer/journal.h"
#include "signer/pin.h"

struct ceremony_session {
	struct tc_ctl *ctl;
	const struct tc_config *cfg;
	char pin[TC_PIN_MAX];        /* user PIN; wiped by ceremony_session_end() */
	int have_pin;
	struct tc_journal *journal;  /* NULL until a step needs it */
	int via_signer;              /* the running signer holds it: records go through it */
	int dev;                     /* transcripts are marked "dev": true */
};

/* The create steps, in the order "ceremony dev" runs them. */
enum ceremony_key {
	CEREMONY_AUDIT,
	CEREMONY_ROOT,
	CEREMONY_INTERMEDIATE,
	CEREMONY_CT_LOG,
	CEREMONY_DNS_ZONE,
	CEREMONY_KEY_COUNT
};

void ceremony_session_begin(struct ceremony_session *s, struct tc_ctl *ctl);
void ceremony_session_end(struct ceremony_session *s);
int ceremony_read_pin(struct ceremony_session *s);
/* Opens (and locks) <data_dir>/journal/audit.jsonl; when a running signer
 * holds the lock, the records go through it instead
 * (signer/ceremony_inbox.h). */
int ceremony_open_journal(struct ceremony_session *s);

/* Run as root on a data dir whose hsm/ the signer's user owns (the server
 * made it so): the token objects a step just made are given to that user,
 * so a running signer can read them (SoftHSM keeps one file per object). */
int ceremony_reown_hsm(const struct tc_config *cfg);

/* Transcript fields every step shares: step, operator, time, dev. */
json_t *ceremony_transcript_base(const struct ceremony_session *s, const char *step);
/* Appends one ceremony record to the audit journal; 0 on success. */
int ceremony_journal(struct ceremony_session *s, const char *step, const char *key_label,
		     const char *data, const char *detail, unsigned long long *seq);

/* Paths of the dev token's files. */
int ceremony_so_pin_path(const struct tc_config *cfg, char *out, size_t outlen);

/* dev: softhsm2.conf, token directory and PIN files, each created when absent. */
int ceremony_dev_hsm_files(const struct tc_config *cfg, char *err, size_t errlen);
/* 1 when the configured token exists, 0 when not, -1 on error. */
int ceremony_token_exists(const struct tc_config *cfg, char *err, size_t errlen);
/* init-token: refuses an existing token. so_pin_file NULL means the dev SO PIN. */
int ceremony_init_token(struct ceremony_session *s, const char *so_pin_file);

const char *ceremony_key_step(enum ceremony_key k);   /* "create-root", "create-key ct-log" */
const char *ceremony_key_label(const struct tc_config *cfg, enum ceremony_key k);
/* Runs one create step; refuses a key label that is taken. */
int ceremony_create(struct ceremony_session *s, enum ceremony_key k);
/* The key of one CT log shard (ct.logs); ceremony dev: every shard's key
 * not on the token yet. 0, or -1 (reported). */
struct tc_ct_shard;
int ceremony_create_ct_shard(struct ceremony_session *s, const struct tc_ct_shard *sh);
int ceremony_dev_ct_shards(struct ceremony_session *s);

/* Key rollover (issue 14 part 8). root: a new root key label (P-384) with
 * its self-signed certificate and a cross certificate from the current
 * root (ca/rollover/<label>.pem, <label>-cross.pem). Otherwise a new
 * issuing key label (P-256) whose intermediate issuer_label's root signs,
 * to take over at cutover (RFC 3339, in the transcript):
 * ca/rollover/<label>.pem and <label>-chain.pem. */
int ceremony_rollover(struct ceremony_session *s, int root, const char *label, const char *issuer_label,
		      const char *cutover);

/* finalize-rollover: after the cut-over of ca/rollover/next, appends it to
 * ca/rollover/finalized (the intermediate issuing after a restart) and
 * journals it; refused before the cut-over with the reason. */
int ceremony_finalize_rollover(struct ceremony_session *s);

/* Labels of the private keys on the token, as a bit set over enum
 * ceremony_key; -1 on error. */
int ceremony_existing_keys(struct ceremony_session *s, unsigned *present);

int ceremony_list_keys(struct ceremony_session *s);

#endif
