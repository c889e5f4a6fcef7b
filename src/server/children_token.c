#define _GNU_SOURCE
#include "server/children.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/hex.h"

int tc_make_acme_token(struct tc_supervisor *s)
{
	unsigned char raw[32];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	tc_hex_encode(raw, sizeof(raw), s->acme_token);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/* A memfd nobody can change once sealed: the child reads what we wrote. */
static int sealed_text(const char *name, const char *text)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int tc_acme_token_fd(const struct tc_supervisor *s, int for_acme)
{
	if (!s->acme_token[0]) {
		errno = ENOENT;
		return -1;
	}
	if (for_acme)
		return sealed_text("acme-gateway-token", s->acme_token);
	unsigned char digest[32];
	unsigned int dlen = 0;
	if (EVP_Digest(s->acme_token, strlen(s->acme_token), digest, &dlen, EVP_sha256(), NULL) != 1) {
		errno = EIO;
		return -1;
	}
	char hexd[65], line[160];
	tc_hex_encode(digest, sizeof(digest), hexd);
	snprintf(line, sizeof(line), "%s trustchain-acme * revoke\n", hexd);
	return sealed_text("acme-token-hash", line);
}
