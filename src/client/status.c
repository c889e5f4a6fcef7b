#include <stdarg.h>
#include <stdio.h>

#include "client/client_internal.h"

static const char *const code_names[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};

const char *tc_status_code_name(int code)
{
	if (code < 0 || (size_t)code >= sizeof(code_names) / sizeof(code_names[0]))
		return "INVALID_STATUS_CODE";
	return code_names[code];
}

void tc_status_set(struct tc_status *st, int code, const char *reason, const char *fmt, ...)
{
	st->code = code;
	snprintf(st->reason, sizeof(st->reason), "%s", reason ? reason : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
}
