#include <stdio.h>
#include <string.h>

#include "jsonpath.h"

static size_t cut(char *path, size_t plen, size_t cap, int w)
{
	if (w < 0) {
		path[plen] = '\0';
		return plen;
	}
	if ((size_t)w >= cap - plen) {
		memcpy(path + cap - 4, "...", 4);
		return cap - 1;
	}
	return plen + (size_t)w;
}

size_t jpath_key(char *path, size_t plen, size_t cap, const char *key)
{
	if (plen >= cap - 1)
		return plen;
	return cut(path, plen, cap,
		   snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", key));
}

size_t jpath_index(char *path, size_t plen, size_t cap, size_t i)
{
	if (plen >= cap - 1)
		return plen;
	return cut(path, plen, cap, snprintf(path + plen, cap - plen, "[%zu]", i));
}
