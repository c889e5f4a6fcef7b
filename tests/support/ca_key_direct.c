#include "support/ca_key_direct.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "signer/cert_sign.h"
#include "signer/hsm.h"
#include "signer/pin.h"
#include "signer/tbs_template.h"

int tc_ca_key_sign_leaf(const char *config_path, const unsigned char *tmpl, size_t tmpl_len,
			const unsigned char *serial, const unsigned char *sct_list, size_t sct_len, unsigned char **der,
			size_t *der_len, char *err, size_t errlen)
{
	struct tc_config cfg;
	char pin[TC_PIN_MAX];
	unsigned char sn[TC_SERIAL_LEN], fp[32];
	if (serial) {
		memcpy(sn, serial, TC_SERIAL_LEN);
	} else if (RAND_bytes(sn, sizeof(sn)) == 1) {
		sn[0] = (unsigned char)((sn[0] & 0x7f) | 0x40); /* positive, 16 bytes: as the signer's */
	} else {
		snprintf(err, errlen, "no random serial");
		return -1;
	}
	if (tc_config_load(&cfg, config_path, err, errlen) != 0 || tc_pin_read(&cfg, pin, err, errlen) != 0)
		return -1;
	if (cfg.hsm.softhsm_conf[0])
		setenv("SOFTHSM2_CONF", cfg.hsm.softhsm_conf, 1);
	struct tc_hsm *hsm = tc_hsm_open(cfg.hsm.module, cfg.hsm.token_label, pin, err, errlen);
	tc_pin_wipe(pin);
	if (!hsm)
		return -1;
	struct tc_hsm_key key;
	struct tc_issuer issuer = {0};
	struct tc_tbs_view view;
	struct tc_leaf leaf = {0};
	int rc = -1;
	if (tc_hsm_find_key(hsm, cfg.hsm.intermediate_key_label, &key, err, errlen) == 0 &&
	    tc_issuer_init(&issuer, &key, err, errlen) == 0 &&
	    tc_template_parse(tmpl, tmpl_len, &view, err, errlen) == 0 &&
	    tc_leaf_complete(&view, &issuer, sn, &leaf, fp, err, errlen) == 0 &&
	    tc_leaf_sign(&leaf, &issuer, 0, sct_list, sct_list ? sct_len : 0, der, der_len, err, errlen) == 0)
		rc = 0;
	tc_leaf_free(&leaf);
	tc_issuer_fini(&issuer);
	tc_hsm_close(hsm);
	return rc;
}
