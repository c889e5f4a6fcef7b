/* Fuzz target: trustchain.yaml loading. Any bytes must load or fail with a
 * message, never crash or leak. The input is parsed from memory
 * (tc_config_load_buffer, the same loader the file path uses): writing a
 * file per input held this target to ~40 executions a second. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_NAME "fuzz-input.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_config cfg;
	char err[1024];
	err[0] = '\0';
	int rc = tc_config_load_buffer(&cfg, INPUT_NAME, data, size, err, sizeof(err));
	/* A refusal always explains itself, naming the file. */
	if (rc != 0 && strncmp(err, INPUT_NAME ":", strlen(INPUT_NAME ":")) != 0)
		abort();
	if (rc == 0 && (cfg.ca.permitted_suffixes.count == 0 ||
			cfg.ca.permitted_suffixes.count > TC_CFG_MAX_LIST ||
			cfg.dns.record_count > TC_CFG_MAX_LIST || !cfg.server.data_dir[0] ||
			cfg.dns.quic_port == cfg.dns.udp_port))
		abort();
	return 0;
}
