/* Stand-alone driver for LLVMFuzzerTestOneInput targets, so every parser's
 * fuzz target also runs under gcc + ASan/UBSan in ctest without libFuzzer.
 * It replays the seed files given on the command line, then feeds mutations
 * of them (bit flips, truncations, splices, random bytes) for a bounded
 * number of iterations. With clang, build the same target with
 * -fsanitize=fuzzer (TC_LIBFUZZER=ON) for coverage-guided fuzzing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEEDS 256
#define MAX_INPUT 65536

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	/* xorshift64*: reproducible across runs so a failure can be replayed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t load_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	switch (rng_next() % 6) {
	case 0: /* flip a few bits */
		for (int i = 0; i < 4 && len; i++)
			buf[rng_next() % len] ^= (uint8_t)(1u << (rng_next() % 8));
		return len;
	case 1: /* truncate */
		return len ? rng_next() % len : 0;
	case 2: /* overwrite a byte with an interesting value */
		if (len) {
			static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x3f, 0xc0, 0x01};
			buf[rng_next() % len] = vals[rng_next() % sizeof(vals)];
		}
		return len;
	case 3: /* duplicate a chunk at the end */
		if (len && len < cap) {
			size_t off = rng_next() % len;
			size_t n = rng_next() % (len - off) + 1;
			if (n > cap - len)
				n = cap - len;
			memmove(buf + len, buf + off, n);
			return len + n;
		}
		return len;
	case 4: /* random bytes */
	{
		size_t n = rng_next() % 512;
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rng_next();
		return n;
	}
	default: /* insert a random byte */
		if (len < cap) {
			size_t off = len ? rng_next() % len : 0;
			memmove(buf + off + 1, buf + off, len - off);
			buf[off] = (uint8_t)rng_next();
			return len + 1;
		}
		return len;
	}
}

int main(int argc, char **argv)
{
	long iterations = 20000;
	const char *env = getenv("TC_FUZZ_ITERATIONS");
	if (env)
		iterations = strtol(env, NULL, 10);

	static uint8_t seeds[MAX_SEEDS][MAX_INPUT];
	static size_t seed_len[MAX_SEEDS];
	int nseeds = 0;
	for (int i = 1; i < argc && nseeds < MAX_SEEDS; i++) {
		seed_len[nseeds] = load_file(argv[i], seeds[nseeds], MAX_INPUT);
		LLVMFuzzerTestOneInput(seeds[nseeds], seed_len[nseeds]);
		nseeds++;
	}
	static uint8_t buf[MAX_INPUT];
	for (long it = 0; it < iterations; it++) {
		size_t len = 0;
		if (nseeds) {
			int s = (int)(rng_next() % (uint64_t)nseeds);
			len = seed_len[s];
			memcpy(buf, seeds[s], len);
		}
		int rounds = 1 + (int)(rng_next() % 4);
		for (int r = 0; r < rounds; r++)
			len = mutate(buf, len, MAX_INPUT);
		/* Pass an exact-size heap copy so ASan sees reads past the end. */
		uint8_t *copy = malloc(len ? len : 1);
		if (!copy)
			return 1;
		memcpy(copy, buf, len);
		LLVMFuzzerTestOneInput(copy, len);
		free(copy);
	}
	printf("fuzz: %d seeds, %ld mutated inputs, no crash\n", nseeds, iterations);
	return 0;
}
