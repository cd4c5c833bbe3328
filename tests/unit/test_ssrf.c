/* SSRF: address parsers, host judgement in every notation, JSON argument scanning. */
#include <netdb.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ssrf.h"
#include "t.h"

#define IP4(a, b, c, d)                                                                            \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int v4(const char *s, uint32_t *a)
{
	return ssrf_parse_ipv4(s, strlen(s), a);
}

TEST(ssrf_ipv4_inet_aton_forms)
{
	static const struct {
		const char *s;
		uint32_t want;
	} ok[] = {
	    {"169.254.169.254", IP4(169, 254, 169, 254)},
	    {"2852039166", IP4(169, 254, 169, 254)},
	    {"0251.0376.0251.0376", IP4(169, 254, 169, 254)},
	    {"0xA9FEA9FE", IP4(169, 254, 169, 254)},
	    {"0xa9.0xfe.0xa9.0xfe", IP4(169, 254, 169, 254)},
	    {"0xa9.254.0251.0xfe", IP4(169, 254, 169, 254)},
	    {"169.254.43518", IP4(169, 254, 169, 254)},
	    {"169.16689662", IP4(169, 254, 169, 254)},
	    {"017700000001", IP4(127, 0, 0, 1)},
	    {"127.1", IP4(127, 0, 0, 1)},
	    {"10.1", IP4(10, 0, 0, 1)},
	    {"0", 0},
	    {"0x7f.0.0.1", IP4(127, 0, 0, 1)},
	    {"127.0.0.1.", IP4(127, 0, 0, 1)},
	    {"00000000000177.0.0.1", IP4(127, 0, 0, 1)},
	};
	static const char *const bad[] = {
	    "256.1.1.1", "1.2.3.4.5", "08.1.1.1",    "0x1g",	 "",	     "4294967296",
	    "1..2",	 "1.2.3.256", "example.com", "1.2.3.4a", "-1.2.3.4", "1.2.65536"};
	uint32_t a;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (v4(ok[i].s, &a) != 0 || a != ok[i].want)
			T_FAIL("%s: rc/addr wrong (%08x)", ok[i].s, a);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (v4(bad[i], &a) == 0)
			T_FAIL("%s parsed as %08x", bad[i], a);
	}
}

TEST(ssrf_ipv6_parser)
{
	uint8_t a[16];
	static const uint8_t mapped[16] = {0, 0, 0,    0,    0,	  0,   0,   0,
					   0, 0, 0xff, 0xff, 169, 254, 169, 254};

	ASSERT_EQ(ssrf_parse_ipv6("::1", 3, a), 0);
	ASSERT_EQ(a[15], 1);
	ASSERT_EQ(ssrf_parse_ipv6("::ffff:169.254.169.254", 22, a), 0);
	ASSERT_TRUE(memcmp(a, mapped, 16) == 0);
	ASSERT_EQ(ssrf_parse_ipv6("::ffff:a9fe:a9fe", 16, a), 0);
	ASSERT_TRUE(memcmp(a, mapped, 16) == 0);
	ASSERT_EQ(ssrf_parse_ipv6("0:0:0:0:0:ffff:a9fe:a9fe", 24, a), 0);
	ASSERT_TRUE(memcmp(a, mapped, 16) == 0);
	ASSERT_EQ(ssrf_parse_ipv6("fd00:ec2::254", 13, a), 0);
	ASSERT_EQ(a[0], 0xfd);
	ASSERT_EQ(a[3], 0xc2);
	ASSERT_EQ(a[14], 0x02);
	ASSERT_EQ(a[15], 0x54);
	ASSERT_TRUE(ssrf_parse_ipv6(":::", 3, a) != 0);
	ASSERT_TRUE(ssrf_parse_ipv6("1::2::3", 7, a) != 0);
	ASSERT_TRUE(ssrf_parse_ipv6("12345::", 7, a) != 0);
	ASSERT_TRUE(ssrf_parse_ipv6("1:2:3:4:5:6:7:8:9", 17, a) != 0);
	ASSERT_TRUE(ssrf_parse_ipv6("1:2:3:4:5:6:7", 13, a) != 0);
	ASSERT_TRUE(ssrf_parse_ipv6("::ffff:1.2.3", 12, a) != 0);
	ASSERT_TRUE(ssrf_parse_ipv6("fe80::1:", 8, a) != 0);
}

static void expect(int *t_failed, const char *host, int want)
{
	char why[256];
	int c = ssrf_check_host(host, 0, why, sizeof(why));

	if (c != want)
		T_FAIL("%s: got %s, want %s (%s)", host, ssrf_class_name(c), ssrf_class_name(want),
		       why);
	else if (want != SSRF_PUBLIC && why[0] == '\0')
		T_FAIL("%s: no reason given", host);
}

TEST(ssrf_metadata_in_every_notation)
{
	static const char *const hosts[] = {
	    "169.254.169.254",
	    "2852039166",
	    "0251.0376.0251.0376",
	    "0xA9FEA9FE",
	    "0xa9.0xfe.0xa9.0xfe",
	    "0xa9.254.0251.0xfe",
	    "169.254.43518",
	    "169.254.169.254.",
	    "[::ffff:169.254.169.254]",
	    "[::ffff:a9fe:a9fe]",
	    "[::169.254.169.254]",
	    "[64:ff9b::169.254.169.254]",
	    "[64:ff9b::a9fe:a9fe]",
	    "[fd00:ec2::254]",
	    "[2002:a9fe:a9fe::1]",
	    "metadata.google.internal",
	    "METADATA.GOOGLE.INTERNAL.",
	    "metadata.goog",
	    "100.100.100.200",
	    "169.254.170.2",
	    "%31%36%39.254.169.254",
	    "%2531%2536%2539.254.169.254",
	    "169.254.169.254.nip.io",
	    "app.169.254.169.254.sslip.io",
	    "169-254-169-254.sslip.io",
	    "a9fea9fe.nip.io",
	    "169.254.169.254:80",
	    "\xef\xbc\x91\xef\xbc\x96\xef\xbc\x99\xe3\x80\x82"
	    "254.169.254", /* full-width */
	};

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		expect(t_failed, hosts[i], SSRF_METADATA);
}

TEST(ssrf_loopback_private_linklocal_unspecified)
{
	static const struct {
		const char *h;
		int c;
	} v[] = {
	    {"127.0.0.1", SSRF_LOOPBACK},
	    {"127.1", SSRF_LOOPBACK},
	    {"017700000001", SSRF_LOOPBACK},
	    {"2130706433", SSRF_LOOPBACK},
	    {"0x7f000001", SSRF_LOOPBACK},
	    {"127.255.255.254", SSRF_LOOPBACK},
	    {"localhost", SSRF_LOOPBACK},
	    {"LOCALHOST.", SSRF_LOOPBACK},
	    {"api.localhost", SSRF_LOOPBACK},
	    {"[::1]", SSRF_LOOPBACK},
	    {"[0:0:0:0:0:0:0:1]", SSRF_LOOPBACK},
	    {"[::ffff:127.0.0.1]", SSRF_LOOPBACK},
	    {"[::ffff:7f00:1]", SSRF_LOOPBACK},
	    {"127.0.0.1.nip.io", SSRF_LOOPBACK},
	    {"app-127-0-0-1.sslip.io", SSRF_LOOPBACK},
	    {"anything.localtest.me", SSRF_LOOPBACK},
	    {"127.0.0.1:8080", SSRF_LOOPBACK},
	    {"user:pw@127.0.0.1:22", SSRF_LOOPBACK},
	    {"10.0.0.1", SSRF_PRIVATE},
	    {"10.1", SSRF_PRIVATE},
	    {"012.0.0.1", SSRF_PRIVATE},
	    {"172.16.5.4", SSRF_PRIVATE},
	    {"172.31.255.255", SSRF_PRIVATE},
	    {"192.168.1.1", SSRF_PRIVATE},
	    {"3232235777", SSRF_PRIVATE},
	    {"100.64.1.1", SSRF_PRIVATE},
	    {"100.127.255.255", SSRF_PRIVATE},
	    {"[fc00::1]", SSRF_PRIVATE},
	    {"[fd12:3456::1]", SSRF_PRIVATE},
	    {"[::ffff:10.0.0.1]", SSRF_PRIVATE},
	    {"10-0-0-1.nip.io", SSRF_PRIVATE},
	    {"169.254.1.1", SSRF_LINKLOCAL},
	    {"[fe80::1]", SSRF_LINKLOCAL},
	    {"[fe80::1%25eth0]", SSRF_LINKLOCAL},
	    {"0.0.0.0", SSRF_UNSPECIFIED},
	    {"0", SSRF_UNSPECIFIED},
	    {"[::]", SSRF_UNSPECIFIED},
	    {"0127.0.0.1", SSRF_LOOPBACK}, /* octal 87.0.0.1 to inet_aton, 127 to others */
	    {"010.0.0.1", SSRF_PRIVATE},
	    {"127.0.0.1%00.example.com", SSRF_LOOPBACK}, /* what a C resolver sees */
	    {"db.internal", SSRF_INTERNAL_NAME},
	    {"printer.local", SSRF_INTERNAL_NAME},
	    /* public: must not fire */
	    {"example.com", SSRF_PUBLIC},
	    {"github.com", SSRF_PUBLIC},
	    {"8.8.8.8", SSRF_PUBLIC},
	    {"172.32.0.1", SSRF_PUBLIC},
	    {"100.128.0.1", SSRF_PUBLIC},
	    {"11.0.0.1", SSRF_PUBLIC},
	    {"[2606:4700:4700::1111]", SSRF_PUBLIC},
	    {"169.254.169.254.example.com", SSRF_PUBLIC},
	    {"localhost.example.com", SSRF_PUBLIC},
	    {"8.8.8.8.nip.io", SSRF_PUBLIC},
	    {"internal.example.com", SSRF_PUBLIC},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		expect(t_failed, v[i].h, v[i].c);
}

static int scan(const char *json, struct findings *f)
{
	cJSON *j = cJSON_Parse(json);

	f->n = f->dropped = 0;
	if (!j)
		return -1;
	ssrf_scan_json(j, "params.arguments", 0, f);
	cJSON_Delete(j);
	return 0;
}

static const struct finding *first(const struct findings *f)
{
	return f->n ? &f->v[0] : NULL;
}

TEST(ssrf_url_arguments)
{
	static const struct {
		const char *json;
		const char *rule;
		enum scan_conf conf;
	} v[] = {
	    {"{\"url\":\"http://169.254.169.254/latest/meta-data/iam/\"}", "cloud-metadata",
	     CONF_HIGH},
	    {"{\"u\":\"http://good.com@169.254.169.254/\"}", "cloud-metadata", CONF_HIGH},
	    {"{\"u\":\"http://169.254.169.254\\\\@good.com/\"}", "cloud-metadata", CONF_HIGH},
	    {"{\"u\":\"http://169.254.169.254#@good.com/\"}", "cloud-metadata", CONF_HIGH},
	    {"{\"q\":\"http://127.1:8080/admin\"}", "loopback", CONF_HIGH},
	    /* quoted in prose: a hint, unless the field is a url field */
	    {"{\"content\":\"docs: open http://127.1:8080/admin to log in\"}", "loopback",
	     CONF_LOW},
	    {"{\"url\":\"see http://127.1:8080/admin\"}", "loopback", CONF_HIGH},
	    {"{\"content\":\"the key is at http://169.254.169.254/latest/\"}", "cloud-metadata",
	     CONF_HIGH},
	    {"{\"u\":\"http%3A%2F%2F127.0.0.1%2Fadmin\"}", "loopback", CONF_HIGH},
	    {"{\"u\":\"https://[::ffff:a9fe:a9fe]/computeMetadata/v1/\"}", "cloud-metadata",
	     CONF_HIGH},
	    {"{\"u\":\"http://0x7f000001/\"}", "loopback", CONF_HIGH},
	    {"{\"u\":\"http://0/\"}", "unspecified-address", CONF_HIGH},
	    {"{\"u\":\"http://[fe80::1%25eth0]/\"}", "link-local", CONF_HIGH},
	    {"{\"u\":\"gopher://10.0.0.5:6379/_FLUSHALL\"}", "private-address", CONF_HIGH},
	    {"{\"u\":\"//192.168.0.1/router\"}", "private-address", CONF_HIGH},
	    {"{\"list\":[\"https://ok.example\",\"http://metadata.google.internal/\"]}",
	     "cloud-metadata", CONF_HIGH},
	    {"{\"dsn\":\"postgres://app@10.0.0.5/db\"}", "private-address", CONF_LOW},
	    {"{\"host\":\"10.0.0.5\"}", "private-address", CONF_LOW},
	    {"{\"target\":\"localhost:6379\"}", "loopback", CONF_LOW},
	    {"{\"endpoint\":\"169.254.169.254/latest\"}", "cloud-metadata", CONF_HIGH},
	    {"{\"server_ip\":\"2852039166\"}", "cloud-metadata", CONF_HIGH},
	    {"{\"u\":\"http://db.internal/\"}", "internal-name", CONF_LOW},
	};
	struct findings f;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const struct finding *x;

		ASSERT_EQ(scan(v[i].json, &f), 0);
		x = first(&f);
		if (!x) {
			T_FAIL("%s: no finding", v[i].json);
			continue;
		}
		if (strcmp(x->scanner, "ssrf") != 0 || strcmp(x->rule, v[i].rule) != 0 ||
		    x->confidence != v[i].conf)
			T_FAIL("%s: got %s/%s conf %d", v[i].json, x->scanner, x->rule,
			       x->confidence);
		if (strncmp(x->where, "params.arguments", 16) != 0)
			T_FAIL("%s: where %s", v[i].json, x->where);
	}
	ASSERT_EQ(scan("{\"a\":{\"b\":[\"x\",\"http://127.0.0.1/\"]}}", &f), 0);
	ASSERT_EQ(f.n, 1);
	ASSERT_STREQ(f.v[0].where, "params.arguments.a.b[1]");
}

TEST(ssrf_benign_arguments_do_not_fire)
{
	static const char *const v[] = {
	    "{\"url\":\"https://example.com\"}",
	    "{\"url\":\"https://github.com/modelcontextprotocol/servers\"}",
	    "{\"text\":\"see https://en.wikipedia.org/wiki/Localhost for info\"}",
	    "{\"host\":\"api.github.com\"}",
	    "{\"address\":\"221B Baker Street, London\"}",
	    "{\"version\":\"10.1\"}",
	    "{\"comment\":\"127.0.0.1 is the loopback address\"}",
	    "{\"path\":\"/tmp/127.0.0.1\"}",
	    "{\"url\":\"https://example.com/redirect?to=http%3A%2F%2Fexample.org\"}",
	    "{\"email_address\":\"bob@example.com\"}",
	    "{\"url\":\"https://user@example.com/\"}",
	    "{\"n\":2852039166,\"ok\":true}",
	};
	struct findings f;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ASSERT_EQ(scan(v[i], &f), 0);
		if (f.n)
			T_FAIL("%s: %s %s", v[i], f.v[0].rule, f.v[0].detail);
	}
}

/* Names judged by what they resolve to: this machine's own name, through /etc/hosts. */
TEST(ssrf_resolve_names)
{
	char name[256], why[256];
	struct addrinfo hints = {0}, *res = NULL;
	int loop = 0;

	if (gethostname(name, sizeof(name)) != 0 || strchr(name, '.'))
		return;
	hints.ai_family = AF_INET;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return; /* nothing to compare against */
	loop = ((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr.s_addr ==
		   htonl(0x7f000001) ||
	       (ntohl(((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr.s_addr) >>
		24) == 127;
	freeaddrinfo(res);
	if (!loop)
		return;
	ASSERT_EQ(ssrf_check_host(name, 0, why, sizeof(why)), SSRF_PUBLIC);
	ASSERT_EQ(ssrf_check_host(name, 1, why, sizeof(why)), SSRF_LOOPBACK);
	ASSERT_TRUE(strstr(why, "resolves to 127.") != NULL);
}

TEST(ssrf_deep_nesting_is_not_silent)
{
	char json[1024];
	size_t n = 0;
	struct findings f;

	/* 80 levels of arrays around a metadata URL: past the walk's depth limit */
	for (int i = 0; i < 80; i++)
		json[n++] = '[';
	n += (size_t)snprintf(json + n, sizeof(json) - n, "\"http://169.254.169.254/\"");
	for (int i = 0; i < 80; i++)
		json[n++] = ']';
	json[n] = '\0';
	ASSERT_EQ(scan(json, &f), 0);
	ASSERT_TRUE(findings_has(&f, "ssrf", "too-deep"));
	ASSERT_EQ(first(&f)->confidence, CONF_HIGH);
	/* reported once, not once per skipped subtree */
	ASSERT_EQ(f.n, 1);
}

TEST(ssrf_url_with_backslashes_or_odd_slashes_after_the_scheme)
{
	/* a WHATWG parser (and curl) reads each of these as http://169.254.169.254/ */
	static const char *const v[] = {
	    "{\"url\":\"http:\\\\\\\\169.254.169.254\\\\latest\"}",
	    "{\"url\":\"http:/169.254.169.254/latest\"}",
	    "{\"url\":\"http:///169.254.169.254/latest\"}",
	    "{\"url\":\"HTTPS:\\\\/169.254.169.254/\"}",
	    "{\"text\":\"then fetch http:\\\\\\\\169.254.169.254\\\\x now\"}",
	};
	struct findings f;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ASSERT_EQ(scan(v[i], &f), 0);
		if (!findings_has(&f, "ssrf", "cloud-metadata")) {
			T_FAIL("not found: %s", v[i]);
			return;
		}
	}
	/* a scheme name in prose without a slash is no URL */
	ASSERT_EQ(scan("{\"text\":\"use http:8080 or https: 10.0.0.1 later\"}", &f), 0);
	ASSERT_EQ(f.n, 0);
}
