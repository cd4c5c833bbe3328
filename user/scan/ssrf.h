/*
 * SSRF: tool arguments that point a server at cloud metadata, loopback,
 * private or link-local addresses. Hosts are read the way URL parsers and
 * inet_aton read them (decimal, octal, hex and short IPv4 forms, IPv6 with
 * embedded IPv4, percent-encoding, full-width digits, userinfo, trailing
 * dots), names are judged by suffix (localhost, *.internal, nip.io-style
 * names that embed an address) and, when asked, by what they resolve to.
 * Scanner name "ssrf".
 */
#ifndef MG_SSRF_H
#define MG_SSRF_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "findings.h"

enum ssrf_class {
	SSRF_PUBLIC = 0, /* or unknown: nothing to say */
	SSRF_METADATA,	 /* cloud instance metadata endpoints */
	SSRF_LOOPBACK,
	SSRF_PRIVATE, /* RFC 1918, CGNAT, ULA, benchmarking, IETF protocol range */
	SSRF_LINKLOCAL,
	SSRF_UNSPECIFIED,   /* 0.0.0.0/8, :: */
	SSRF_INTERNAL_NAME, /* *.internal, *.local, *.localdomain, *.home.arpa, ... */
	SSRF_UNRESOLVED,    /* resolve asked for, no answer in time: unknown, said so */
};

/*
 * Every string under args: URLs (scheme://authority anywhere in the string,
 * also percent-encoded) and bare hosts in fields named like url, uri, host,
 * endpoint, address, target, server. resolve != 0 looks names up (short timeout).
 */
void ssrf_scan_json(const cJSON *args, const char *where, int resolve, struct findings *out);
/* Judge one host (brackets, port, trailing dots, %-encoding allowed). Returns enum ssrf_class. */
int ssrf_check_host(const char *host, int resolve, char *why, size_t whylen);

/* Parsers, exposed for tests and other scanners. 0 on success, -1 if not an address. */
int ssrf_parse_ipv4(const char *s, size_t n, uint32_t *out); /* inet_aton forms, host order */
int ssrf_parse_ipv6(const char *s, size_t n, uint8_t out[16]);
int ssrf_class_ipv4(uint32_t a);
int ssrf_class_ipv6(const uint8_t a[16]);
const char *ssrf_class_name(int c);

#endif
