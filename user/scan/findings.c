#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "findings.h"
#include "xmalloc.h"

void findings_add(struct findings *f, const char *scanner, const char *rule, enum scan_conf conf,
		  const char *where, const char *fmt, ...)
{
	struct finding *x;
	va_list ap;

	if (f->n >= MG_MAX_FINDINGS) {
		f->dropped++;
		return;
	}
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->scanner = scanner;
	mg_strlcpy(x->rule, rule ? rule : "", sizeof(x->rule));
	x->confidence = conf;
	x->action = PA_ALLOW;
	mg_strlcpy(x->where, where ? where : "", sizeof(x->where));
	va_start(ap, fmt);
	vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
	va_end(ap);
}

int findings_has(const struct findings *f, const char *scanner, const char *rule)
{
	for (size_t i = 0; i < f->n; i++) {
		if (scanner && strcmp(f->v[i].scanner, scanner) != 0)
			continue;
		if (rule && strcmp(f->v[i].rule, rule) != 0)
			continue;
		return 1;
	}
	return 0;
}

void redact(const char *s, size_t len, char *out, size_t outlen)
{
	size_t keep = len < 12 ? 0 : 4;
	char head[5] = {0};

	for (size_t i = 0; i < keep; i++)
		head[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') ? s[i] : '?';
	snprintf(out, outlen, "%s...(%zu chars)", head, len);
}
