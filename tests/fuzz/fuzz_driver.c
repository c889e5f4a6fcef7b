/* Stand-alone driver for LLVMFuzzerTestOneInput targets, so every parser's
 * fuzz target also runs under gcc + ASan/UBSan in ctest without libFuzzer.
 * It replays the seed files given on the command line (a directory stands
 * for every file in it: a libFuzzer corpus), then feeds mutations of them
 * (bit flips, truncations, splices, random bytes) for a bounded number of
 * iterations (TC_FUZZ_ITERATIONS; 0 only replays, e.g. for coverage). With clang, build the same target with
 * -fsanitize=fuzzer (TC_LIBFUZZER=ON) for coverage-guided fuzzing. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, as in libFuzzer: one-time set-up before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define DRIVER_MAX_SEEDS 4096
#define DRIVER_MAX_INPUT 65536

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	/* xorshift64*: reproducible across runs so a failure can be replayed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

struct seed {
	uint8_t *data;
	size_t len;
};

static struct seed seeds[DRIVER_MAX_SEEDS];
static int nseeds;

/* Loads one file as a seed (up to DRIVER_MAX_INPUT bytes) and runs it once. */
static void add_file(const char *path)
{
	if (nseeds >= DRIVER_MAX_SEEDS)
		return;
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	uint8_t *buf = malloc(DRIVER_MAX_INPUT);
	size_t n = buf ? fread(buf, 1, DRIVER_MAX_INPUT, f) : 0;
	fclose(f);
	if (!buf)
		return;
	/* An exact-size copy, so ASan sees reads past the end of a seed too. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return;
	}
	memcpy(exact, buf, n);
	free(buf);
	seeds[nseeds].data = exact;
	seeds[nseeds].len = n;
	nseeds++;
	LLVMFuzzerTestOneInput(exact, n);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory stands for its regular files, in name order (reproducible). */
static void add_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		add_file(path);
		return;
	}
	DIR *d = opendir(path);
	if (!d)
		return;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **grown = realloc(names, cap * sizeof(*names));
			if (!grown)
				break;
			names = grown;
		}
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		if (!(names[n] = malloc(len)))
			break;
		snprintf(names[n], len, "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			add_file(names[i]);
		free(names[i]);
	}
	free(names);
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

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		add_path(argv[i]);
	static uint8_t buf[DRIVER_MAX_INPUT];
	for (long it = 0; it < iterations; it++) {
		size_t len = 0;
		if (nseeds) {
			int s = (int)(rng_next() % (uint64_t)nseeds);
			len = seeds[s].len;
			memcpy(buf, seeds[s].data, len);
		}
		int rounds = 1 + (int)(rng_next() % 4);
		for (int r = 0; r < rounds; r++)
			len = mutate(buf, len, DRIVER_MAX_INPUT);
		/* Pass an exact-size heap copy so ASan sees reads past the end. */
		uint8_t *copy = malloc(len ? len : 1);
		if (!copy)
			return 1;
		memcpy(copy, buf, len);
		LLVMFuzzerTestOneInput(copy, len);
		free(copy);
	}
	printf("fuzz: %d seeds, %ld mutated inputs, no crash\n", nseeds, iterations);
	for (int i = 0; i < nseeds; i++)
		free(seeds[i].data);
	return 0;
}
