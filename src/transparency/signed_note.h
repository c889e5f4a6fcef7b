/* Signed notes (C2SP signed-note): a UTF-8 text ending in a newline, a
 * blank line, then one or more signature lines
 *
 *   "— " key-name " " base64(key ID (4 bytes, big-endian) || signature) "\n"
 *
 * The parser is strict (it reads what any web server hands the monitor):
 * valid UTF-8, no control character but the newline, a non-empty key name
 * without spaces or '+', canonical base64 of at least 4 bytes, at most
 * TC_NOTE_MAX_SIGS signatures (the spec asks verifiers for at least 16) and
 * TC_NOTE_MAX_LEN bytes. What a signature means is up to its type: see
 * checkpoint.h for the one this log makes. */
#ifndef TC_TRANSPARENCY_SIGNED_NOTE_H
#define TC_TRANSPARENCY_SIGNED_NOTE_H

#include <stddef.h>
#include <stdint.h>

#define TC_NOTE_MAX_SIGS 32
#define TC_NOTE_MAX_LEN (1u << 20)
#define TC_NOTE_MAX_NAME 255

/* Signature type bytes of the key ID recipe (signed-note "Signature types"). */
enum { TC_NOTE_SIG_ED25519 = 0x01, TC_NOTE_SIG_RFC6962 = 0x05 };

struct tc_note_sig {
	char name[TC_NOTE_MAX_NAME + 1];
	uint32_t key_id;
	unsigned char *sig; /* the bytes after the key ID (malloc'd by the parser) */
	size_t sig_len;
};

struct tc_note {
	const char *text; /* points into the parsed buffer; ends with '\n' */
	size_t text_len;
	struct tc_note_sig sigs[TC_NOTE_MAX_SIGS];
	size_t n_sigs;
};

/* Parses buf[0..len). 0, or -1 when it is not a well-formed signed note.
 * Release with tc_note_free (also after a failure). */
int tc_note_parse(const char *buf, size_t len, struct tc_note *out);
void tc_note_free(struct tc_note *n);

/* SHA-256(name || 0x0A || type || key)[:4] as a big-endian uint32. */
uint32_t tc_note_key_id(const char *name, unsigned char type, const unsigned char *key, size_t key_len);

/* The signature line "— name base64(key_id || sig)\n", malloc'd and
 * NUL-terminated; NULL when out of memory or the name is not valid. */
char *tc_note_sig_line(const char *name, uint32_t key_id, const unsigned char *sig, size_t sig_len);

/* Checks a note text: valid UTF-8, ends with '\n', no control characters
 * but '\n', no empty last line. 0 or -1. */
int tc_note_text_ok(const char *text, size_t len);

#endif
