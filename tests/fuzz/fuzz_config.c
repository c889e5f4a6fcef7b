/* Fuzz target: trustchain.yaml loading. Any bytes must load or fail with a
 * message, never crash or leak. The loader takes a path, so each input is
 * written to a private temporary file first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char input_path[64];

static void remove_input(void)
{
	unlink(input_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!input_path[0]) {
		snprintf(input_path, sizeof(input_path), "/tmp/tc-fuzz-config-%ld.yaml", (long)getpid());
		atexit(remove_input);
	}
	FILE *f = fopen(input_path, "wb");
	if (!f)
		abort(); /* the harness itself is broken: say so loudly */
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);

	static struct tc_config cfg;
	char err[1024];
	err[0] = '\0';
	int rc = tc_config_load(&cfg, input_path, err, sizeof(err));
	/* A refusal always explains itself, naming the file. */
	if (rc != 0 && strncmp(err, input_path, strlen(input_path)) != 0)
		abort();
	if (rc == 0 && (cfg.ca.permitted_suffixes.count == 0 ||
			cfg.ca.permitted_suffixes.count > TC_CFG_MAX_LIST ||
			cfg.dns.record_count > TC_CFG_MAX_LIST || !cfg.server.data_dir[0] ||
			cfg.dns.quic_port == cfg.dns.udp_port))
		abort();
	return 0;
}
