/* Files holding secrets or what guards them (TLS key, token hashes, client
 * identities): read only when they are regular files owned by us and
 * unreadable by anyone else, like the signer's PIN file. */
#ifndef TC_GATEWAY_SECRET_FILE_H
#define TC_GATEWAY_SECRET_FILE_H

#include <stddef.h>

/* Reads path (at most max bytes) into a NUL-terminated malloc'ed buffer.
 * what names the config key for errors. Returns 0, or -1 with err set. */
int tc_read_secret_file(const char *what, const char *path, size_t max, char **data, size_t *len,
			char *err, size_t errlen);

/* Wipes and frees a buffer from tc_read_secret_file. */
void tc_secret_free(char *data, size_t len);

#endif
