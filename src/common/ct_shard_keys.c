/* Every CT log key of the installation: see ct_shard_keys.h. */
#include "common/ct_shard_keys.h"

#include <openssl/pem.h>
#include <stdio.h>

#include "common/ct_shard.h"
#include "common/log.h"

static EVP_PKEY *load_pem(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return k;
}

size_t tc_ct_keys_load(const struct tc_config *cfg, EVP_PKEY **keys)
{
	struct tc_ct_shard sh[TC_CFG_MAX_CT_LOGS], single = {.name = ""};
	size_t n_sh = cfg->ct.log_count ? tc_ct_shards(cfg, sh) : 0, n = 0;
	char path[TC_CFG_STR + 64];
	if (tc_ct_shard_path(cfg, &single, TC_CT_SHARD_PUBLIC_KEY, path, sizeof(path)) == 0 &&
	    (keys[n] = load_pem(path)))
		n++;
	else if (n_sh == 0)
		tc_warn("no CT log key in %s: embedded SCTs cannot be verified", path);
	for (size_t i = 0; i < n_sh; i++) {
		if (tc_ct_shard_path(cfg, &sh[i], TC_CT_SHARD_PUBLIC_KEY, path, sizeof(path)) == 0 &&
		    (keys[n] = load_pem(path)))
			n++;
		else
			tc_warn("no key of CT log '%s' in %s: its SCTs cannot be verified", sh[i].name, path);
	}
	return n;
}

void tc_ct_keys_free(EVP_PKEY **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		EVP_PKEY_free(keys[i]);
}
