/* Big-endian integer packing shared by the TLS encoder and the store's keys.
 * TLS (RFC 5246 4.4) and our LevelDB keys are both network byte order, the
 * latter so that lexicographic key order equals numeric order. */
#ifndef TC_TRANSPARENCY_BE_BYTES_H
#define TC_TRANSPARENCY_BE_BYTES_H

#include <stdint.h>

static inline void tc_be_put(unsigned char *p, uint64_t v, unsigned nbytes)
{
	for (unsigned i = 0; i < nbytes; i++)
		p[i] = (unsigned char)(v >> (8 * (nbytes - 1 - i)));
}

static inline uint64_t tc_be_get(const unsigned char *p, unsigned nbytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < nbytes; i++)
		v = (v << 8) | p[i];
	return v;
}

#endif
