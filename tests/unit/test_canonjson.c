/* Canonical JSON: equal meaning gives equal bytes, different meaning different bytes. */
#include <math.h>
#include <stdlib.h>

#include "canonjson.h"
#include "t.h"

/* Parse in, canonicalize, compare with want (NULL: canonicalization must fail). */
static int canon_is(const char *in, const char *want)
{
	cJSON *v = cJSON_Parse(in);
	char *out = v ? canonjson(v, NULL) : NULL;
	int ok = want ? (out && strcmp(out, want) == 0) : out == NULL;

	if (!ok)
		fprintf(stderr, "  canon(%s) = %s; want %s\n", in, out ? out : "(null)",
			want ? want : "(null)");
	free(out);
	cJSON_Delete(v);
	return ok;
}

static int num_is(double d, const char *want)
{
	char buf[64];
	int ok = canonjson_number(d, buf, sizeof(buf)) == 0 && strcmp(buf, want) == 0;

	if (!ok)
		fprintf(stderr, "  number(%.17g) = %s; want %s\n", d, buf, want);
	return ok;
}

TEST(canon_sorts_keys_and_drops_whitespace)
{
	ASSERT_TRUE(canon_is("{ \"b\" : 1,\n \"a\" : [ 2 , {\"z\":null, \"y\":true} ] }",
			     "{\"a\":[2,{\"y\":true,\"z\":null}],\"b\":1}"));
	/* Arrays keep their order: it is meaning, not presentation. */
	ASSERT_TRUE(canon_is("[3,1,2]", "[3,1,2]"));
	ASSERT_TRUE(canon_is("{}", "{}"));
	ASSERT_TRUE(canon_is("\"x\"", "\"x\""));
	/* Prefix sorts first; comparison is by code unit, not locale. */
	ASSERT_TRUE(canon_is("{\"ab\":1,\"a\":2,\"B\":3}", "{\"B\":3,\"a\":2,\"ab\":1}"));
}

TEST(canon_key_order_is_utf16)
{
	/*
	 * U+1F600 (surrogates D83D DE00) sorts before U+FB01 in UTF-16 although
	 * its code point is larger: the RFC 8785 rule, not UTF-8 byte order.
	 */
	ASSERT_TRUE(canon_is("{\"\\ufb01\":1,\"\\ud83d\\ude00\":2,\"\\u00e9\":3}",
			     "{\"\xc3\xa9\":3,\"\xf0\x9f\x98\x80\":2,\"\xef\xac\x81\":1}"));
}

TEST(canon_string_escapes_minimal)
{
	/* \u escapes of printable characters become the characters themselves. */
	ASSERT_TRUE(canon_is("\"\\u0041\\u00e9\\/\"", "\"A\xc3\xa9/\""));
	/* Control characters: the short forms where JSON has them, else \u00xx lowercase. */
	ASSERT_TRUE(canon_is("\"\\u0008\\t\\n\\u000C\\r\\u001F\\u007f\"",
			     "\"\\b\\t\\n\\f\\r\\u001f\x7f\""));
	ASSERT_TRUE(canon_is("\"q\\\"b\\\\\"", "\"q\\\"b\\\\\""));
	/* Line separators are not escaped (only < 0x20, quote and backslash are). */
	ASSERT_TRUE(canon_is("\"\\u2028\"", "\"\xe2\x80\xa8\""));
}

TEST(canon_numbers_ecmascript_form)
{
	ASSERT_TRUE(num_is(0.0, "0"));
	ASSERT_TRUE(num_is(-0.0, "0"));
	ASSERT_TRUE(num_is(1.0, "1"));
	ASSERT_TRUE(num_is(-42.0, "-42"));
	ASSERT_TRUE(num_is(0.1, "0.1"));
	ASSERT_TRUE(num_is(0.1 + 0.2, "0.30000000000000004"));
	ASSERT_TRUE(num_is(1e21, "1e+21"));
	ASSERT_TRUE(num_is(1e20, "100000000000000000000"));
	ASSERT_TRUE(num_is(123456789012345680000.0, "123456789012345680000"));
	ASSERT_TRUE(num_is(1e-6, "0.000001"));
	ASSERT_TRUE(num_is(1e-7, "1e-7"));
	ASSERT_TRUE(num_is(-1.5e-9, "-1.5e-9"));
	ASSERT_TRUE(num_is(5e-324, "5e-324"));
	ASSERT_TRUE(num_is(1.7976931348623157e308, "1.7976931348623157e+308"));
	ASSERT_TRUE(num_is(4.5, "4.5"));
	ASSERT_TRUE(num_is(333333333.33333329, "333333333.3333333"));
	char buf[8];
	ASSERT_EQ(canonjson_number(NAN, buf, sizeof(buf)), -1);
	ASSERT_EQ(canonjson_number(INFINITY, buf, sizeof(buf)), -1);
	ASSERT_EQ(canonjson_number(1.7976931348623157e308, buf, sizeof(buf)), -1); /* too small */
}

TEST(canon_numbers_in_documents_normalized)
{
	/* Different spellings of one number canonicalize alike. */
	ASSERT_TRUE(canon_is("[1.0, 1e0, 10E-1, 100e-2, -0, 0.50]", "[1,1,1,1,0,0.5]"));
	ASSERT_TRUE(canon_is("{\"n\":1E+2}", "{\"n\":100}"));
}

TEST(canon_equal_meaning_equal_hash)
{
	cJSON *a = cJSON_Parse("{\"name\":\"t\",\"inputSchema\":{\"type\":\"object\","
			       "\"properties\":{\"p\":{\"type\":\"string\"}}}}");
	cJSON *b = cJSON_Parse("{ \"inputSchema\" : { \"properties\" : { \"p\" : "
			       "{ \"type\" : \"string\" } }, \"type\" : \"object\" }, "
			       "\"name\" : \"\\u0074\" }");
	cJSON *c = cJSON_Parse("{\"name\":\"t\",\"inputSchema\":{\"type\":\"object\","
			       "\"properties\":{\"p\":{\"type\":\"number\"}}}}");
	unsigned char ha[32], hb[32], hc[32];
	char hex[65];

	ASSERT_TRUE(a && b && c);
	ASSERT_EQ(canonjson_sha256(a, ha), 0);
	ASSERT_EQ(canonjson_sha256(b, hb), 0);
	ASSERT_EQ(canonjson_sha256(c, hc), 0);
	ASSERT_TRUE(memcmp(ha, hb, 32) == 0);
	ASSERT_FALSE(memcmp(ha, hc, 32) == 0);
	canonjson_hex(ha, hex);
	ASSERT_EQ(strlen(hex), 64);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);

	/* The empty string hashes to the well-known SHA-256 of "\"\"". */
	cJSON *e = cJSON_CreateString("");
	ASSERT_EQ(canonjson_sha256(e, ha), 0);
	canonjson_hex(ha, hex);
	ASSERT_STREQ(hex, "12ae32cb1ec02d01eda3581b127c1fee3b0dc53572ed6baf239721a03d82e126");
	cJSON_Delete(e);
}

TEST(canon_rejects_unrepresentable)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "x", cJSON_CreateNumber(INFINITY));
	ASSERT_TRUE(canonjson(o, NULL) == NULL);
	cJSON_Delete(o);
	o = cJSON_CreateRaw("{\"a\": 1}");
	ASSERT_TRUE(canonjson(o, NULL) == NULL);
	cJSON_Delete(o);

	/* Too deep: refused, not a stack overflow. */
	cJSON *root = cJSON_CreateArray(), *cur = root;
	for (int i = 0; i < CANON_MAX_DEPTH + 5; i++) {
		cJSON *n = cJSON_CreateArray();
		cJSON_AddItemToArray(cur, n);
		cur = n;
	}
	ASSERT_TRUE(canonjson(root, NULL) == NULL);
	cJSON_Delete(root);
}

TEST(canon_invalid_utf8_kept_distinct)
{
	/* Two different invalid byte strings must not collapse into one form. */
	cJSON *a = cJSON_CreateString("a\xff"), *b = cJSON_CreateString("a\xfe");
	char *ca = canonjson(a, NULL), *cb = canonjson(b, NULL);

	ASSERT_TRUE(ca && cb);
	ASSERT_TRUE(strcmp(ca, cb) != 0);
	free(ca);
	free(cb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* xorshift64*: deterministic, so a failure reproduces. */
static unsigned long long rnd(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

TEST(canon_numbers_round_trip_exactly)
{
	unsigned long long seed = 0x9e3779b97f4a7c15ull;
	char buf[64];

	for (int i = 0; i < 20000; i++) {
		unsigned long long bits = rnd(&seed);
		double d;

		/* Half raw bit patterns (all magnitudes), half small decimals. */
		if (i & 1)
			memcpy(&d, &bits, sizeof(d));
		else {
			/* The double nearest to a short decimal such as -417.724. */
			char dec[32];
			long long v = (long long)(bits % 2000001) - 1000000;

			snprintf(dec, sizeof(dec), "%s%lld.%03lld", v < 0 ? "-" : "",
				 llabs(v) / 1000, llabs(v) % 1000);
			d = strtod(dec, NULL);
		}
		if (!isfinite(d))
			continue;
		if (canonjson_number(d, buf, sizeof(buf)) != 0) {
			T_FAIL("no form for %.17g", d);
			return;
		}
		/* Reads back as the very same double, and -0 only as 0. */
		double back = strtod(buf, NULL);
		if (back != d || (d == 0 && strcmp(buf, "0") != 0)) {
			T_FAIL("%.17g -> %s -> %.17g", d, buf, back);
			return;
		}
		/* A value written with at most 7 significant digits prints with no more. */
		if (!(i & 1)) {
			size_t sig = 0;
			const char *p = buf + (buf[0] == '-');

			while (*p == '0' || *p == '.')
				p++;
			for (; *p; p++)
				sig += *p >= '0' && *p <= '9';
			if (sig > 7) {
				T_FAIL("%.17g -> %s: not the shortest form", d, buf);
				return;
			}
		}
	}
}

TEST(canon_idempotent_on_random_documents)
{
	unsigned long long seed = 12345;

	for (int doc = 0; doc < 300; doc++) {
		cJSON *root = cJSON_CreateObject(), *cur = root;

		for (int i = 0; i < 40; i++) {
			char key[8];
			unsigned long long r = rnd(&seed);
			cJSON *v;

			snprintf(key, sizeof(key), "%c%c", 'a' + (int)(r % 26),
				 'A' + (int)(r / 26 % 26));
			switch (r / 1000 % 6) {
			case 0:
				v = cJSON_CreateNumber((double)(long long)(r % 100000) / 7.0);
				break;
			case 1:
				v = cJSON_CreateString(i & 1 ? "tab\tquote\"\xc3\xa9"
							     : "\xf0\x9f\x98\x80x");
				break;
			case 2:
				v = cJSON_CreateBool(r & 1);
				break;
			case 3:
				v = cJSON_CreateNull();
				break;
			default:
				v = (r & 1) ? cJSON_CreateArray() : cJSON_CreateObject();
				break;
			}
			if (cJSON_IsArray(cur))
				cJSON_AddItemToArray(cur, v);
			else
				cJSON_AddItemToObject(cur, key, v);
			if (cJSON_IsArray(v) || cJSON_IsObject(v))
				cur = v;
		}
		char *c1 = canonjson(root, NULL);
		cJSON *again = c1 ? cJSON_Parse(c1) : NULL;
		char *c2 = again ? canonjson(again, NULL) : NULL;

		ASSERT_TRUE(c1 && c2);
		ASSERT_STREQ(c1, c2);
		free(c1);
		free(c2);
		cJSON_Delete(again);
		cJSON_Delete(root);
	}
}
