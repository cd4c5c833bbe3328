#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <utf8proc.h>

#include "decode.h"
#include "jsonpath.h"
#include "ssrf.h"
#include "xmalloc.h"

#define SCANNER "ssrf"
#define HOST_MAX 256
#define RESOLVE_MS 500
#define MAX_URLS 32 /* per string */
#define JSON_DEPTH 64

const char *ssrf_class_name(int c)
{
	switch (c) {
	case SSRF_METADATA:
		return "cloud-metadata";
	case SSRF_LOOPBACK:
		return "loopback";
	case SSRF_PRIVATE:
		return "private-address";
	case SSRF_LINKLOCAL:
		return "link-local";
	case SSRF_UNSPECIFIED:
		return "unspecified-address";
	case SSRF_INTERNAL_NAME:
		return "internal-name";
	case SSRF_UNRESOLVED:
		return "unresolved-name";
	default:
		return "public";
	}
}

/* ---- IPv4, the way inet_aton and URL parsers read it ---- */

static int parse_part(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	unsigned base = 10;
	size_t i = 0;

	if (n == 0)
		return -1;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		if (n == 2) {
			*v = 0; /* "0x" alone reads as 0 in URL parsers */
			return 0;
		}
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	for (; i < n; i++) {
		unsigned d;
		unsigned char c = (unsigned char)s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		x = x * base + d;
		if (x > 0xffffffffull)
			return -1;
	}
	*v = x;
	return 0;
}

int ssrf_parse_ipv4(const char *s, size_t n, uint32_t *out)
{
	uint64_t part[4];
	size_t np = 0, i = 0;
	uint32_t a = 0;

	while (n > 0 && s[n - 1] == '.')
		n--; /* "127.0.0.1." */
	if (n == 0)
		return -1;
	while (i <= n) {
		size_t j = i;

		while (j < n && s[j] != '.')
			j++;
		if (np == 4 || parse_part(s + i, j - i, &part[np]) != 0)
			return -1;
		np++;
		i = j + 1;
	}
	for (size_t k = 0; k + 1 < np; k++) {
		if (part[k] > 255)
			return -1;
		a |= (uint32_t)part[k] << (24 - 8 * k);
	}
	if (part[np - 1] > (0xffffffffull >> (8 * (np - 1))))
		return -1;
	a |= (uint32_t)part[np - 1];
	*out = a;
	return 0;
}

/* Strict dotted quad (the IPv4 tail of an IPv6 literal). */
static int quad(const char *s, size_t n, uint8_t o[4])
{
	size_t i = 0;

	for (int k = 0; k < 4; k++) {
		unsigned v = 0;
		size_t d = 0;

		while (i < n && isdigit((unsigned char)s[i]) && d < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			d++;
		}
		if (d == 0 || v > 255)
			return -1;
		o[k] = (uint8_t)v;
		if (k < 3) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
	}
	return i == n ? 0 : -1;
}

int ssrf_parse_ipv6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t g[8];
	int ng = 0, gap = -1;
	size_t i = 0;

	memset(g, 0, sizeof(g));
	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	} else if (n >= 1 && s[0] == ':') {
		return -1;
	}
	while (i < n) {
		size_t j = i;
		unsigned v = 0;

		if (ng == 8)
			return -1;
		while (j < n && isxdigit((unsigned char)s[j]) && j - i < 5)
			j++;
		if (j < n && s[j] == '.') {
			uint8_t q[4];

			if (ng > 6 || quad(s + i, n - i, q) != 0)
				return -1;
			g[ng++] = (uint16_t)(q[0] << 8 | q[1]);
			g[ng++] = (uint16_t)(q[2] << 8 | q[3]);
			i = n;
			break;
		}
		if (j == i || j - i > 4)
			return -1;
		for (size_t k = i; k < j; k++) {
			char c = (char)tolower((unsigned char)s[k]);

			v = v * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10);
		}
		g[ng++] = (uint16_t)v;
		i = j;
		if (i == n)
			break;
		if (s[i] != ':')
			return -1;
		i++;
		if (i < n && s[i] == ':') {
			if (gap >= 0)
				return -1;
			gap = ng;
			i++;
		} else if (i == n) {
			return -1; /* trailing single ':' */
		}
	}
	if (gap >= 0) {
		int tail = ng - gap;

		if (ng == 8)
			return -1;
		memmove(g + 8 - tail, g + gap, (size_t)tail * sizeof(g[0]));
		for (int k = gap; k < 8 - tail; k++)
			g[k] = 0;
	} else if (ng != 8) {
		return -1;
	}
	for (int k = 0; k < 8; k++) {
		out[2 * k] = (uint8_t)(g[k] >> 8);
		out[2 * k + 1] = (uint8_t)g[k];
	}
	return 0;
}

static int in4(uint32_t a, uint32_t net, int bits)
{
	uint32_t m = bits == 0 ? 0 : 0xffffffffu << (32 - bits);

	return (a & m) == (net & m);
}

#define IP4(a, b, c, d)                                                                            \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

int ssrf_class_ipv4(uint32_t a)
{
	/* Instance metadata: AWS/GCP/Azure/OCI/DO/OpenStack, ECS task, EKS pod identity,
	 * Alibaba, Azure wire server, Oracle legacy. */
	if (a == IP4(169, 254, 169, 254) || a == IP4(169, 254, 170, 2) ||
	    a == IP4(169, 254, 170, 23) || a == IP4(100, 100, 100, 200) ||
	    a == IP4(168, 63, 129, 16) || a == IP4(192, 0, 0, 192))
		return SSRF_METADATA;
	if (in4(a, IP4(127, 0, 0, 0), 8))
		return SSRF_LOOPBACK;
	if (in4(a, IP4(0, 0, 0, 0), 8))
		return SSRF_UNSPECIFIED; /* 0.0.0.0 reaches local services on Linux */
	if (in4(a, IP4(169, 254, 0, 0), 16))
		return SSRF_LINKLOCAL;
	if (in4(a, IP4(10, 0, 0, 0), 8) || in4(a, IP4(172, 16, 0, 0), 12) ||
	    in4(a, IP4(192, 168, 0, 0), 16) || in4(a, IP4(100, 64, 0, 0), 10) ||
	    in4(a, IP4(198, 18, 0, 0), 15) || in4(a, IP4(192, 0, 0, 0), 24))
		return SSRF_PRIVATE;
	return SSRF_PUBLIC;
}

static uint32_t v4at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int ssrf_class_ipv6(const uint8_t a[16])
{
	static const uint8_t ec2[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

	if (zero(a, 15) && a[15] == 1)
		return SSRF_LOOPBACK;
	if (zero(a, 16))
		return SSRF_UNSPECIFIED;
	/* AWS IMDS/EKS over IPv6: fd00:ec2::254, fd00:ec2::23 */
	if (memcmp(a, ec2, 4) == 0 && zero(a + 4, 10) &&
	    ((a[14] == 0x02 && a[15] == 0x54) || (a[14] == 0 && a[15] == 0x23)))
		return SSRF_METADATA;
	/* v4-mapped ::ffff:a.b.c.d, v4-compatible ::a.b.c.d, SIIT ::ffff:0:a.b.c.d */
	if (zero(a, 10) && a[10] == 0xff && a[11] == 0xff)
		return ssrf_class_ipv4(v4at(a + 12));
	if (zero(a, 12))
		return ssrf_class_ipv4(v4at(a + 12));
	if (zero(a, 8) && a[8] == 0xff && a[9] == 0xff && a[10] == 0 && a[11] == 0)
		return ssrf_class_ipv4(v4at(a + 12));
	/* NAT64 64:ff9b::/96 and the local-use 64:ff9b:1::/48 */
	if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b &&
	    (zero(a + 4, 8) || (a[4] == 0 && a[5] == 1))) {
		int c = ssrf_class_ipv4(v4at(a + 12));

		return c ? c : (a[5] == 1 ? SSRF_PRIVATE : SSRF_PUBLIC);
	}
	/* 6to4 2002:V4ADDR::/48 */
	if (a[0] == 0x20 && a[1] == 0x02)
		return ssrf_class_ipv4(v4at(a + 2));
	/* Teredo 2001:0::/32: the client address is the inverted last 32 bits */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0)
		return ssrf_class_ipv4(~v4at(a + 12));
	if ((a[0] & 0xfe) == 0xfc)
		return SSRF_PRIVATE; /* ULA fc00::/7 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return SSRF_LINKLOCAL; /* fe80::/10 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return SSRF_PRIVATE; /* deprecated site-local fec0::/10 */
	return SSRF_PUBLIC;
}

/* ---- host names ---- */

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0 &&
	       (n == m || s[n - m - 1] == '.' || suf[0] == '.');
}

/* Services whose names carry the address they resolve to. */
static const char *const embed_suffix[] = {
    ".nip.io",	     ".sslip.io", ".xip.io",  ".traefik.me",	".backname.io",
    ".localtest.me", ".lvh.me",	  ".vcap.me", ".lacolhost.com", ".localhost.run"};

static int embedded_addr(const char *h, char *why, size_t whylen)
{
	size_t n = strlen(h);

	for (size_t k = 0; k < sizeof(embed_suffix) / sizeof(embed_suffix[0]); k++) {
		const char *suf = embed_suffix[k];
		size_t m = strlen(suf), end;
		uint32_t a;
		uint8_t a6[16];

		if (n < m || strcmp(h + n - m, suf) != 0)
			continue;
		if (k >= 5) {
			snprintf(why, whylen, "%s names always resolve to 127.0.0.1", suf + 1);
			return SSRF_LOOPBACK;
		}
		end = n - m;
		/* dotted form: the last four labels before the suffix */
		{
			size_t i = end;
			int dots = 0;

			while (i > 0 && dots < 4) {
				if (h[i - 1] == '.')
					dots++;
				if (dots < 4)
					i--;
			}
			for (size_t st = i; st < end; st++) {
				if (st != 0 && h[st - 1] != '.')
					continue;
				if (quad(h + st, end - st, (uint8_t[4]){0}) == 0 &&
				    ssrf_parse_ipv4(h + st, end - st, &a) == 0) {
					int c = ssrf_class_ipv4(a);

					snprintf(why, whylen, "%s embeds %u.%u.%u.%u", suf + 1,
						 a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
					return c;
				}
			}
		}
		/* dashed or hex form in the last label: name-10-0-0-1, 0a000001, --1 (IPv6) */
		{
			size_t ls = end;
			char lab[HOST_MAX];
			size_t ln;

			while (ls > 0 && h[ls - 1] != '.')
				ls--;
			ln = end - ls;
			if (ln == 0 || ln >= sizeof(lab))
				return SSRF_PUBLIC;
			memcpy(lab, h + ls, ln);
			lab[ln] = '\0';
			if (ln == 8 && strspn(lab, "0123456789abcdef") == 8) {
				char hx[11] = "0x";

				memcpy(hx + 2, lab, 8);
				if (ssrf_parse_ipv4(hx, 10, &a) == 0) {
					snprintf(why, whylen, "%s embeds %s", suf + 1, lab);
					return ssrf_class_ipv4(a);
				}
			}
			for (size_t st = 0; st < ln; st++) {
				char q[HOST_MAX];
				size_t qn = 0;

				if (st != 0 && lab[st - 1] != '-')
					continue;
				for (size_t i = st; i < ln; i++)
					q[qn++] = lab[i] == '-' ? '.' : lab[i];
				if (quad(q, qn, (uint8_t[4]){0}) == 0 &&
				    ssrf_parse_ipv4(q, qn, &a) == 0) {
					snprintf(why, whylen, "%s embeds %.*s", suf + 1, (int)qn,
						 q);
					return ssrf_class_ipv4(a);
				}
				for (size_t i = 0; i < qn; i++)
					q[i] = q[i] == '.' ? ':' : q[i];
				if (ssrf_parse_ipv6(q, qn, a6) == 0) {
					snprintf(why, whylen, "%s embeds IPv6 %.*s", suf + 1,
						 (int)qn, q);
					return ssrf_class_ipv6(a6);
				}
			}
		}
		return SSRF_PUBLIC;
	}
	return -1;
}

static int name_class(const char *h, char *why, size_t whylen)
{
	static const char *const meta[] = {"metadata.google.internal",
					   "metadata.goog",
					   "metadata",
					   "instance-data",
					   "instance-data.ec2.internal",
					   "metadata.azure.com",
					   "metadata.tencentyun.com",
					   "metadata.packet.net",
					   "metadata.platformequinix.com"};
	static const char *const loop[] = {"localhost",	    "localhost.localdomain",
					   "ip6-localhost", "ip6-loopback",
					   "localhost6",    "loopback"};
	static const char *const internal[] = {".internal",  ".local",	       ".localdomain",
					       ".home.arpa", ".cluster.local", ".intranet",
					       ".corp",	     ".lan",	       ".svc"};
	int c;

	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
		if (strcmp(h, meta[i]) == 0) {
			snprintf(why, whylen, "%.100s is a cloud metadata host name", h);
			return SSRF_METADATA;
		}
	for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++)
		if (strcmp(h, loop[i]) == 0) {
			snprintf(why, whylen, "%.100s is the loopback host", h);
			return SSRF_LOOPBACK;
		}
	if (ends_with(h, ".localhost")) {
		snprintf(why, whylen, "*.localhost names are loopback (RFC 6761)");
		return SSRF_LOOPBACK;
	}
	c = embedded_addr(h, why, whylen);
	if (c >= 0)
		return c;
	for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
		if (ends_with(h, internal[i])) {
			snprintf(why, whylen, "%.100s is an internal-only name (%s)", h,
				 internal[i]);
			return SSRF_INTERNAL_NAME;
		}
	return SSRF_PUBLIC;
}

/* ---- resolution (bounded in time) ---- */

static int resolve_class(const char *h, char *why, size_t whylen)
{
	struct addrinfo hints, *res;
	struct gaicb *req;
	struct gaicb *list[1];
	struct timespec ts = {RESOLVE_MS / 1000, (RESOLVE_MS % 1000) * 1000000L};
	int rc, worst = SSRF_PUBLIC;

	req = xcalloc(1, sizeof(*req));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	req->ar_name = xstrdup(h);
	req->ar_request = xmalloc(sizeof(hints));
	memcpy((void *)req->ar_request, &hints, sizeof(hints));
	list[0] = req;
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0)
		goto out;
	rc = gai_suspend((const struct gaicb *const *)list, 1, &ts);
	if (rc != 0 && gai_error(req) == EAI_INPROGRESS) {
		snprintf(why, whylen, "%.100s did not resolve within %d ms", h, RESOLVE_MS);
		if (gai_cancel(req) != EAI_CANCELED)
			return SSRF_UNRESOLVED; /* the resolver thread still owns req: left to it */
		worst = SSRF_UNRESOLVED;
		goto out;
	}
	if (gai_error(req) != 0)
		goto out;
	for (res = req->ar_result; res; res = res->ai_next) {
		int c = SSRF_PUBLIC;
		char txt[INET6_ADDRSTRLEN] = "?";

		if (res->ai_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)res->ai_addr;

			c = ssrf_class_ipv4(ntohl(sin->sin_addr.s_addr));
			inet_ntop(AF_INET, &sin->sin_addr, txt, sizeof(txt));
		} else if (res->ai_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)res->ai_addr;

			c = ssrf_class_ipv6(s6->sin6_addr.s6_addr);
			inet_ntop(AF_INET6, &s6->sin6_addr, txt, sizeof(txt));
		}
		if (c != SSRF_PUBLIC && worst == SSRF_PUBLIC) {
			worst = c;
			snprintf(why, whylen, "%.100s resolves to %s", h, txt);
		}
	}
	freeaddrinfo(req->ar_result);
out:
	free((void *)req->ar_name);
	free((void *)req->ar_request);
	free(req);
	return worst;
}

/* ---- host normalization ---- */

/*
 * Bring a host to the form a URL parser would connect to: %-decoded (twice at
 * most), NFKC (full-width digits and dots), ideographic dots to '.',
 * lowercase, brackets and zone removed, trailing dots dropped. 0 on success.
 */
static int normalize_host(const char *in, size_t n, char *out, size_t cap, int *v6)
{
	unsigned char a[HOST_MAX * 2], b[HOST_MAX * 2];
	size_t m = n, k = 0;

	*v6 = 0;
	if (n == 0 || n >= sizeof(a))
		return -1;
	memcpy(a, in, n);
	for (int r = 0; r < 2 && dec_has_url_escape((char *)a, m); r++) {
		size_t d = dec_url((char *)a, m, b, sizeof(b));

		if (d == DEC_ERR)
			return -1;
		memcpy(a, b, d);
		m = d;
	}
	/* A C resolver stops at a NUL; "127.0.0.1%00.example.com" is 127.0.0.1 to it. */
	for (size_t i = 0; i < m; i++)
		if (a[i] < 0x20) {
			m = i;
			break;
		}
	if (m == 0 || !dec_is_text(a, m))
		return -1;
	for (size_t i = 0; i < m; i++) {
		if (a[i] >= 0x80) {
			utf8proc_uint8_t *nf = NULL;
			utf8proc_ssize_t r =
			    utf8proc_map(a, (utf8proc_ssize_t)m, &nf,
					 UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE);

			if (r < 0 || (size_t)r >= sizeof(a)) {
				free(nf);
				return -1;
			}
			memcpy(a, nf, (size_t)r);
			m = (size_t)r;
			free(nf);
			break;
		}
	}
	for (size_t i = 0; i < m && k + 1 < cap; i++) {
		/* U+3002, U+FF0E, U+FF61: dots URL parsers map to '.' */
		if (i + 2 < m && ((a[i] == 0xe3 && a[i + 1] == 0x80 && a[i + 2] == 0x82) ||
				  (a[i] == 0xef && a[i + 1] == 0xbc && a[i + 2] == 0x8e) ||
				  (a[i] == 0xef && a[i + 1] == 0xbd && a[i + 2] == 0xa1))) {
			out[k++] = '.';
			i += 2;
			continue;
		}
		out[k++] = (char)tolower(a[i]);
	}
	out[k] = '\0';
	if (out[0] == '[') {
		char *e = strchr(out, ']');

		if (!e)
			return -1;
		*e = '\0';
		memmove(out, out + 1, strlen(out + 1) + 1);
		*v6 = 1;
	}
	if (strchr(out, ':'))
		*v6 = 1;
	if (*v6) {
		char *z = strchr(out, '%');

		if (z)
			*z = '\0'; /* zone id */
	}
	k = strlen(out);
	while (k > 0 && out[k - 1] == '.')
		out[--k] = '\0';
	return k ? 0 : -1;
}

/* Four decimal parts, leading zeros read as decimal. */
static int decimal_quad(const char *h, uint32_t *out)
{
	uint32_t a = 0;
	const char *p = h;

	for (int k = 0; k < 4; k++) {
		unsigned v = 0;
		int digits = 0;

		while (*p >= '0' && *p <= '9' && digits < 12) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (!digits || v > 255 || (k < 3 && *p++ != '.'))
			return -1;
		a = a << 8 | v;
	}
	if (*p)
		return -1;
	*out = a;
	return 0;
}

static int judge(const char *host, int resolve, char *why, size_t whylen)
{
	char h[HOST_MAX];
	int v6, c;
	uint32_t a;
	uint8_t a6[16];

	why[0] = '\0';
	if (normalize_host(host, strlen(host), h, sizeof(h), &v6) != 0)
		return SSRF_PUBLIC;
	if (v6) {
		if (ssrf_parse_ipv6(h, strlen(h), a6) != 0)
			return SSRF_PUBLIC;
		c = ssrf_class_ipv6(a6);
		if (c)
			snprintf(why, whylen, "IPv6 %.100s is %s", h, ssrf_class_name(c));
		return c;
	}
	if (ssrf_parse_ipv4(h, strlen(h), &a) == 0) {
		uint32_t d;

		c = ssrf_class_ipv4(a);
		/* 0127.0.0.1 is octal to inet_aton and URL parsers, decimal to some others */
		if (!c && decimal_quad(h, &d) == 0 && ssrf_class_ipv4(d)) {
			a = d;
			c = ssrf_class_ipv4(d);
		}
		if (c)
			snprintf(why, whylen, "%.100s reads as %u.%u.%u.%u (%s)", h, a >> 24,
				 (a >> 16) & 255, (a >> 8) & 255, a & 255, ssrf_class_name(c));
		return c;
	}
	c = name_class(h, why, whylen);
	if (c != SSRF_PUBLIC && c != SSRF_INTERNAL_NAME)
		return c;
	if (resolve) {
		char w2[160];
		int r = resolve_class(h, w2, sizeof(w2));

		if (r != SSRF_PUBLIC) {
			snprintf(why, whylen, "%s", w2);
			return r;
		}
	}
	return c;
}

int ssrf_check_host(const char *host, int resolve, char *why, size_t whylen)
{
	char tmp[HOST_MAX];
	const char *p = host, *at;
	size_t n;

	if (!host)
		return SSRF_PUBLIC;
	/* userinfo@host and host:port are accepted here too */
	at = strrchr(p, '@');
	if (at)
		p = at + 1;
	n = strlen(p);
	if (n == 0 || n >= sizeof(tmp))
		return SSRF_PUBLIC;
	memcpy(tmp, p, n + 1);
	if (tmp[0] != '[') {
		char *c = strrchr(tmp, ':');

		if (c && c == strchr(tmp, ':')) {
			char *e = c + 1;

			while (isdigit((unsigned char)*e))
				e++;
			if (*e == '\0')
				*c = '\0';
		}
	} else {
		char *e = strchr(tmp, ']');

		if (e)
			e[1] = '\0';
	}
	return judge(tmp, resolve, why, whylen);
}

/* ---- JSON ---- */

struct sctx {
	struct findings *out;
	int resolve;
	int nlow; /* low-confidence findings: capped so they cannot crowd out the rest */
	char seen[8][HOST_MAX]; /* hosts already reported for this string */
	int nseen;
};

static int web_scheme(const char *s, size_t n)
{
	static const char *const w[] = {"http", "https", "ws",	  "wss",  "ftp",  "ftps", "gopher",
					"dict", "ldap",	 "ldaps", "tftp", "sftp", "smb",  "telnet"};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strlen(w[i]) == n && strncasecmp(s, w[i], n) == 0)
			return 1;
	return 0;
}

/* The schemes a WHATWG URL parser treats as special (file: aside). */
static int special_scheme(const char *s, size_t n)
{
	static const char *const w[] = {"http", "https", "ws", "wss", "ftp"};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strlen(w[i]) == n && strncasecmp(s, w[i], n) == 0)
			return 1;
	return 0;
}

static void report(struct sctx *x, const char *where, const char *host, int c, int high_in,
		   const char *why, const char *how)
{
	int high = c == SSRF_METADATA || (high_in && c != SSRF_UNRESOLVED);

	for (int i = 0; i < x->nseen; i++)
		if (strcmp(x->seen[i], host) == 0)
			return;
	if (!high && x->nlow++ >= 16)
		return;
	if (x->nseen < 8)
		mg_strlcpy(x->seen[x->nseen++], host, HOST_MAX);
	findings_add(x->out, SCANNER, ssrf_class_name(c), high ? CONF_HIGH : CONF_LOW, where,
		     "%s %.80s: %.140s", how, host, why);
}

/* Check one authority (between "//" and the path); both the WHATWG and the RFC 3986 reading. */
static void check_authority(struct sctx *x, const char *where, const char *auth, size_t n, int web)
{
	static const char *const stops[2] = {"/?#\\", "/?#"};
	size_t prev_e = (size_t)-1;

	for (int k = 0; k < 2; k++) {
		char host[HOST_MAX], why[192];
		size_t e = 0, hs = 0;
		int c;

		while (e < n && !strchr(stops[k], auth[e]) && !isspace((unsigned char)auth[e]) &&
		       auth[e] != '"' && auth[e] != '\'' && auth[e] != '<' && auth[e] != '>')
			e++;
		if (e == prev_e)
			break; /* no backslash: both readings agree */
		prev_e = e;
		for (size_t i = 0; i < e; i++)
			if (auth[i] == '@')
				hs = i + 1;
		if (e - hs == 0 || e - hs >= sizeof(host))
			continue;
		memcpy(host, auth + hs, e - hs);
		host[e - hs] = '\0';
		c = ssrf_check_host(host, x->resolve, why, sizeof(why));
		if (c != SSRF_PUBLIC) {
			report(x, where, host, c, web && c != SSRF_INTERNAL_NAME, why,
			       hs ? "URL (after userinfo) names" : "URL names");
			return;
		}
	}
}

/*
 * A string that is a URL (or sits in a url-like field) is what a fetching tool
 * will open: its internal hosts are high confidence. A URL quoted inside prose
 * (a README being written, a message) is only a hint.
 */
static int scan_urls(struct sctx *x, const char *where, const char *s, size_t n, int keyurl)
{
	const char *p = s, *end = s + n;
	int found = 0;
	size_t lead = 0, tail = n;
	int one_word = 1;

	while (lead < n && isspace((unsigned char)s[lead]))
		lead++;
	while (tail > lead && isspace((unsigned char)s[tail - 1]))
		tail--;
	for (size_t i = lead; i < tail; i++)
		if (isspace((unsigned char)s[i]))
			one_word = 0;

	for (int cnt = 0; cnt < MAX_URLS && p < end; cnt++) {
		const char *m = memmem(p, (size_t)(end - p), "//", 2);
		const char *sch;

		if (!m)
			break;
		sch = m;
		if (m > s && m[-1] == ':') {
			sch = m - 1;
			while (sch > s && (isalnum((unsigned char)sch[-1]) || sch[-1] == '+' ||
					   sch[-1] == '.' || sch[-1] == '-'))
				sch--;
			if (sch == m - 1 || !isalpha((unsigned char)*sch)) {
				p = m + 2;
				continue;
			}
			check_authority(x, where, m + 2, (size_t)(end - m - 2),
					web_scheme(sch, (size_t)(m - 1 - sch)) &&
					    (keyurl || (one_word && sch == s + lead)));
			found = 1;
		} else if (m == s + lead) {
			/* scheme-relative //host/path */
			check_authority(x, where, m + 2, (size_t)(end - m - 2), keyurl || one_word);
			found = 1;
		}
		p = m + 2;
	}
	/*
	 * After a special scheme a URL parser (WHATWG, curl) reads any run of '/' and
	 * '\\' as the "//": http:\\host, http:/host and http:///host all name host.
	 */
	p = s;
	for (int cnt = 0; cnt < MAX_URLS && p < end; p++) {
		const char *q = memchr(p, ':', (size_t)(end - p)), *sch, *a;

		if (!q)
			break;
		p = q;
		sch = q;
		while (sch > s && isalpha((unsigned char)sch[-1]))
			sch--;
		if ((sch > s && isalnum((unsigned char)sch[-1])) ||
		    !special_scheme(sch, (size_t)(q - sch)))
			continue;
		for (a = q + 1; a < end && (*a == '/' || *a == '\\'); a++)
			;
		if (a == q + 1 || (a == q + 3 && q[1] == '/' && q[2] == '/'))
			continue; /* no slash at all, or the usual "//" seen above */
		cnt++;
		check_authority(x, where, a, (size_t)(end - a),
				keyurl || (one_word && sch == s + lead));
		found = 1;
	}
	return found;
}

static int host_field(const char *k)
{
	static const char *const names[] = {
	    "url",	"uri",	  "host",    "endpoint",    "address", "target", "server",
	    "hostname", "domain", "webhook", "callback",    "link",    "href",	 "origin",
	    "proxy",	"ip",	  "dest",    "destination", "remote",  "base"};
	char f[64];
	size_t n = 0;

	if (!k)
		return 0;
	for (; *k && n + 1 < sizeof(f); k++)
		f[n++] = (char)tolower((unsigned char)*k);
	f[n] = '\0';
	if (strstr(f, "email") || strstr(f, "mail"))
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t l = strlen(names[i]);

		if (strcmp(names[i], "ip") == 0) {
			if (strcmp(f, "ip") == 0 || (n > 3 && strcmp(f + n - 3, "_ip") == 0))
				return 1;
			continue;
		}
		if (strstr(f, names[i]) && l > 0)
			return 1;
	}
	return 0;
}

static void scan_string(struct sctx *x, const char *key, const char *s, const char *where)
{
	size_t n = strlen(s);
	int urls, keyurl = host_field(key);

	x->nseen = 0;
	urls = scan_urls(x, where, s, n, keyurl);
	if (dec_has_url_escape(s, n) && n < 8192) {
		unsigned char *d = xmalloc(n + 1);
		size_t dn = dec_url(s, n, d, n);

		if (dn != DEC_ERR)
			urls |= scan_urls(x, where, (char *)d, dn, keyurl);
		free(d);
	}
	if (!urls && keyurl && n > 0 && n < HOST_MAX) {
		char h[HOST_MAX], why[192];
		size_t e = 0;
		int c;

		while (e < n && s[e] != '/' && s[e] != '?' && s[e] != '#' && s[e] != ' ')
			e++;
		if (e == 0 || strcspn(s, " \t\r\n") != n)
			return; /* prose, not a host */
		memcpy(h, s, e);
		h[e] = '\0';
		c = ssrf_check_host(h, x->resolve, why, sizeof(why));
		if (c != SSRF_PUBLIC)
			report(x, where, h, c, 0, why, "host field names");
	}
}

#define PATH_CAP 256

/* path holds plen bytes and room for PATH_CAP; children extend it in place. */
static void walk(struct sctx *x, const cJSON *v, const char *key, char *path, size_t plen,
		 int depth)
{
	const cJSON *e;

	if (!v)
		return;
	if (depth > JSON_DEPTH) {
		/* not silently: a URL nested this deep was not looked at */
		if (!findings_has(x->out, SCANNER, "too-deep"))
			findings_add(x->out, SCANNER, "too-deep", CONF_HIGH, path,
				     "JSON nested deeper than %d levels was not scanned",
				     JSON_DEPTH);
		return;
	}
	if (cJSON_IsString(v) && v->valuestring) {
		scan_string(x, key, v->valuestring, path);
		return;
	}
	if (cJSON_IsArray(v)) {
		size_t i = 0;

		cJSON_ArrayForEach(e, v)
		{
			walk(x, e, key, path, jpath_index(path, plen, PATH_CAP, i++), depth + 1);
			path[plen] = '\0';
		}
		return;
	}
	if (cJSON_IsObject(v)) {
		cJSON_ArrayForEach(e, v)
		{
			const char *k = e->string ? e->string : "";

			walk(x, e, k, path, jpath_key(path, plen, PATH_CAP, k), depth + 1);
			path[plen] = '\0';
		}
	}
}

void ssrf_scan_json(const cJSON *args, const char *where, int resolve, struct findings *out)
{
	struct sctx x;
	char path[PATH_CAP];
	size_t pl;

	x.out = out;
	x.resolve = resolve;
	x.nlow = 0;
	x.nseen = 0;
	pl = mg_strlcpy(path, where ? where : "", sizeof(path));
	walk(&x, args, NULL, path, pl < sizeof(path) ? pl : sizeof(path) - 1, 0);
}
