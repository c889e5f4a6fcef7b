/* The public keys of every CT log of this installation, for whoever
 * checks SCTs (the gateway's Validate): the single log's
 * (ct/log_public_key.pem, also kept when ct.logs is set: the SCTs it
 * issued before the shards stay valid) and each temporal shard's
 * (ct/keys/<name>.pem, common/ct_shard.h). */
#ifndef TC_COMMON_CT_SHARD_KEYS_H
#define TC_COMMON_CT_SHARD_KEYS_H

#include <openssl/evp.h>
#include <stddef.h>

#include "common/config.h"

#define TC_CT_KEYS_MAX (TC_CFG_MAX_CT_LOGS + 1)

/* Fills keys (room for TC_CT_KEYS_MAX) with the keys whose files exist
 * and decode; a missing shard key is logged (its SCTs cannot verify).
 * Returns how many; free them with tc_ct_keys_free. */
size_t tc_ct_keys_load(const struct tc_config *cfg, EVP_PKEY **keys);
void tc_ct_keys_free(EVP_PKEY **keys, size_t n);

#endif
