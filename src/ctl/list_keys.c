/* list-keys: every object on the token with the attributes an auditor asks
 * about, read with raw PKCS#11 so nothing is hidden by libp11's filtering. */
#include <stdio.h>
#include <stdlib.h>

#include "ctl/ceremony.h"
#include "signer/pkcs11_keys.h"

#define MAX_OBJECTS 64

static const char *flag(int v) { return v < 0 ? "-" : v ? "yes" : "no"; }

int ceremony_list_keys(struct ceremony_session *s)
{
	const struct tc_config *cfg = s->cfg;
	if (ceremony_read_pin(s) != 0)
		return -1;
	char err[1024];
	struct tc_p11_object_info *objs = calloc(MAX_OBJECTS, sizeof(*objs));
	if (!objs) {
		tc_ctl_error("out of memory");
		return -1;
	}
	struct tc_p11 *p = tc_p11_load(cfg->hsm.module, err, sizeof(err));
	int n = p ? tc_p11_list_objects(p, cfg->hsm.token_label, s->pin, objs, MAX_OBJECTS, err,
					sizeof(err))
		  : -1;
	tc_p11_unload(p);
	if (n < 0) {
		tc_ctl_error("%s", err);
		free(objs);
		return -1;
	}
	printf("token '%s': %d object%s\n", cfg->hsm.token_label, n, n == 1 ? "" : "s");
	printf("%-11s %-4s %-20s %-32s %-9s %-11s %-16s %s\n", "CLASS", "TYPE", "LABEL", "CKA_ID",
	       "SENSITIVE", "EXTRACTABLE", "ALWAYS_SENSITIVE", "NEVER_EXTRACTABLE");
	for (int i = 0; i < n; i++)
		printf("%-11s %-4s %-20s %-32s %-9s %-11s %-16s %s\n", objs[i].klass,
		       objs[i].key_type[0] ? objs[i].key_type : "-", objs[i].label[0] ? objs[i].label : "-",
		       objs[i].id_hex[0] ? objs[i].id_hex : "-", flag(objs[i].sensitive),
		       flag(objs[i].extractable), flag(objs[i].always_sensitive),
		       flag(objs[i].never_extractable));
	free(objs);
	return 0;
}
