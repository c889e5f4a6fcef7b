#include "signer/journal_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tc_journal_scan(const char *path, const char *needle, int (*fn)(json_t *rec, void *arg), void *arg)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int stop = 0;
	while (!stop && getline(&line, &cap, f) > 0) {
		if (!strstr(line, needle))
			continue;
		/* A record is its JSON object, then a tab and the chain hash. */
		char *tab = strrchr(line, '\t');
		if (tab)
			*tab = '\0';
		json_t *rec = json_loads(line, 0, NULL);
		if (rec)
			stop = fn(rec, arg);
		json_decref(rec);
	}
	free(line);
	fclose(f);
	return stop;
}
