/*
 * Argument DLP. Every credential family gets a synthetic token of the right
 * shape, generated here (random characters from a fixed seed; checksums
 * computed), and negatives: the same prefix with a bad checksum, ids and
 * hashes that look random, placeholders, prose.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "dlp.h"
#include "t.h"

static uint64_t rs = 0x243f6a8885a308d3ull;

static unsigned rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (unsigned)(rs >> 11);
}

static const char *alphabet(char c)
{
	switch (c) {
	case 'A':
		return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	case 'a':
		return "abcdefghijklmnopqrstuvwxyz0123456789";
	case 'h':
		return "0123456789abcdef";
	case 'U':
		return "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	case 'L':
		return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	case 'd':
		return "0123456789";
	case 'b':
		return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	case 's':
		return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	case '3':
		return "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	case 'z':
		return "abcdefghijklmnopqrstuvwxyz234567";
	default:
		return NULL;
	}
}

/*
 * Expand a template: text is copied, {Xn} is n random characters from
 * alphabet X. rand_at and rand_n receive the longest random run (to check that
 * findings never carry it).
 */
static void gen(const char *t, char *out, size_t cap, size_t *rand_at, size_t *rand_n)
{
	size_t o = 0, best = 0, at = 0;

	while (*t && o + 1 < cap) {
		if (*t == '{' && alphabet(t[1])) {
			const char *al = alphabet(t[1]);
			size_t al_n = strlen(al);
			int n = atoi(t + 2);

			if (n > (int)best) {
				best = (size_t)n;
				at = o;
			}
			for (int i = 0; i < n && o + 1 < cap; i++)
				out[o++] = al[rnd() % al_n];
			t = strchr(t, '}') + 1;
			continue;
		}
		out[o++] = *t++;
	}
	out[o] = '\0';
	if (rand_at)
		*rand_at = at;
	if (rand_n)
		*rand_n = best;
}

static void init(char **envp)
{
	char err[256];

	if (dlp_init(envp, err, sizeof(err)) != 0) {
		fprintf(stderr, "dlp_init: %s\n", err);
		abort();
	}
}

static void scan(const char *s, struct findings *f)
{
	f->n = f->dropped = 0;
	dlp_scan_text(s, strlen(s), "params.arguments.body", f);
}

static const struct finding *find(const struct findings *f, const char *rule)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].rule, rule) == 0)
			return &f->v[i];
	return NULL;
}

static void dump(const struct findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		fprintf(stderr, "    [%s conf=%d %s]\n", f->v[i].rule, f->v[i].confidence,
			f->v[i].detail);
}

/* The rule fires with the confidence, and the finding does not carry the secret. */
static int fires(int *t_failed, const char *text, const char *rule, enum scan_conf conf, size_t rat,
		 size_t rn)
{
	struct findings f;
	const struct finding *x;

	scan(text, &f);
	x = find(&f, rule);
	if (!x) {
		T_FAIL("%s did not fire on %.90s", rule, text);
		dump(&f);
		return 0;
	}
	if (x->confidence != conf) {
		T_FAIL("%s fired with confidence %d, want %d", rule, x->confidence, conf);
		return 0;
	}
	if (strcmp(x->scanner, "dlp") != 0 || strcmp(x->where, "params.arguments.body") != 0) {
		T_FAIL("%s: scanner %s where %s", rule, x->scanner, x->where);
		return 0;
	}
	if (rn >= 16) {
		char mid[11];

		memcpy(mid, text + rat + rn / 2 - 5, 10);
		mid[10] = '\0';
		if (strstr(x->detail, mid)) {
			T_FAIL("%s: detail carries the secret: %s", rule, x->detail);
			return 0;
		}
	}
	return 1;
}

static const struct {
	const char *rule;
	const char *tpl;
	enum scan_conf conf;
} formats[] = {
    /* cloud */
    {"aws-access-key-id", "id AKIA{316} only", CONF_LOW},
    {"aws-access-key-id", "aws_access_key_id = AKIA{316}\naws_secret_access_key = {s40}\n",
     CONF_HIGH},
    {"aws-secret-access-key", "AWS_SECRET_ACCESS_KEY={s40}", CONF_HIGH},
    {"aws-session-token", "token IQoJb3JpZ2luX2Vj{s300}", CONF_HIGH},
    {"gcp-service-account",
     "{\"type\": \"service_account\", \"project_id\": \"p-1\", \"private_key_id\": \"{h40}\"}",
     CONF_HIGH},
    {"google-api-key", "key=AIza{b35}&q=1", CONF_HIGH},
    {"google-oauth-client-secret", "GOCSPX-{b28}", CONF_HIGH},
    {"google-oauth-access-token", "Bearer ya29.{b120}", CONF_HIGH},
    {"google-oauth-refresh-token", "1//0{b90}", CONF_LOW},
    {"azure-storage-key",
     "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={s86}==;EndpointSuffix=core."
     "windows.net",
     CONF_HIGH},
    {"azure-sas-connection-string",
     "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={s43}=",
     CONF_HIGH},
    {"azure-sas-token",
     "https://a.blob.core.windows.net/c/"
     "f?sv=2022-11-02&ss=b&srt=co&sp=r&se=2030-01-01T00:00:00Z&sig={s43}%3D",
     CONF_HIGH},
    {"azure-ad-client-secret", "secret: {A3}8Q~{b34}", CONF_HIGH},
    {"azure-devops-pat", "AZURE_DEVOPS_PAT={z52}", CONF_HIGH},
    {"digitalocean-pat", "dop_v1_{h64}", CONF_HIGH},
    {"digitalocean-oauth-token", "doo_v1_{h64}", CONF_HIGH},
    {"digitalocean-refresh-token", "dor_v1_{h64}", CONF_HIGH},
    {"alibaba-access-key-id", "LTAI{A20}", CONF_LOW},
    {"alibaba-access-key-secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET={A30}", CONF_HIGH},
    {"ibm-cloud-api-key", "IBM_CLOUD_API_KEY={b44}", CONF_HIGH},
    {"oracle-oci-api-key", "OCI_AUTH_TOKEN={A20}", CONF_HIGH},
    {"tencent-secret-id", "AKID{A32}", CONF_LOW},
    {"cloudflare-origin-ca-key", "v1.0-{h24}-{h146}", CONF_HIGH},
    {"cloudflare-api-token", "CLOUDFLARE_API_TOKEN={b40}", CONF_HIGH},
    {"heroku-api-key", "HRKU-{b58}", CONF_HIGH},
    {"heroku-api-key-legacy", "HEROKU_API_KEY={h8}-{h4}-{h4}-{h4}-{h12}", CONF_HIGH},
    {"netlify-token", "nfp_{A36}", CONF_HIGH},
    {"vercel-token", "VERCEL_TOKEN={A24}", CONF_HIGH},
    {"supabase-access-token", "sbp_{h40}", CONF_HIGH},
    {"supabase-secret-key", "sb_secret_{b31}", CONF_HIGH},
    {"planetscale-token", "pscale_pw_{b43}", CONF_HIGH},
    {"flyio-token", "FlyV1 fm2_{s120}", CONF_HIGH},
    /* VCS */
    {"github-fine-grained-pat", "github_pat_{A22}_{A59}", CONF_HIGH},
    {"gitlab-pat", "glpat-{b20}", CONF_HIGH},
    {"gitlab-deploy-token", "gldt-{b20}", CONF_HIGH},
    {"gitlab-runner-token", "glrt-{b20}", CONF_HIGH},
    {"gitlab-runner-registration-token", "GR1348941{b20}", CONF_HIGH},
    {"gitlab-pipeline-trigger-token", "glptt-{h40}", CONF_HIGH},
    {"gitlab-feed-token", "glft-{b20}", CONF_HIGH},
    {"gitlab-oauth-secret", "gloas-{h64}", CONF_HIGH},
    {"gitlab-agent-token", "glagent-{b50}", CONF_HIGH},
    {"bitbucket-app-password", "ATBB{A32}", CONF_HIGH},
    {"bitbucket-access-token", "ATCTT3{b180}", CONF_HIGH},
    {"atlassian-api-token", "ATATT3{b180}", CONF_HIGH},
    /* chat */
    {"slack-bot-token", "xoxb-{d12}-{d13}-{A24}", CONF_HIGH},
    {"slack-user-token", "xoxp-{d12}-{d12}-{d13}-{h32}", CONF_HIGH},
    {"slack-app-token", "xapp-1-{U11}-{d13}-{h64}", CONF_HIGH},
    {"slack-config-token", "xoxe.xoxp-1-{A140}", CONF_HIGH},
    {"slack-refresh-token", "xoxe-1-{A140}", CONF_HIGH},
    {"slack-legacy-token", "xoxs-{d12}-{A40}", CONF_HIGH},
    {"slack-webhook", "https://hooks.slack.com/services/T{U10}/B{U10}/{A24}", CONF_HIGH},
    {"discord-webhook", "https://discord.com/api/webhooks/{d18}/{b68}", CONF_HIGH},
    {"telegram-bot-token", "bot{d10}:AA{b33}/getMe", CONF_HIGH},
    {"teams-webhook",
     "https://contoso.webhook.office.com/webhookb2/"
     "{h8}-{h4}-{h4}-{h4}-{h12}@{h8}-{h4}-{h4}-{h4}-{h12}/IncomingWebhook/{h32}/"
     "{h8}-{h4}-{h4}-{h4}-{h12}",
     CONF_HIGH},
    {"teams-workflow-webhook",
     "https://prod-12.westus.logic.azure.com:443/workflows/{h32}/triggers/manual/paths/"
     "invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={b43}",
     CONF_HIGH},
    /* payment */
    {"stripe-secret-key", "sk_live_{A99}", CONF_HIGH},
    {"stripe-restricted-key", "rk_live_{A99}", CONF_HIGH},
    {"stripe-test-secret-key", "sk_test_{A99}", CONF_LOW},
    {"stripe-webhook-secret", "whsec_{A32}", CONF_HIGH},
    {"square-access-token", "EAAA{b60}", CONF_HIGH},
    {"square-oauth-secret", "sq0csp-{b43}", CONF_HIGH},
    {"square-legacy-token", "sq0atp-{b22}", CONF_HIGH},
    {"braintree-access-token", "access_token$production${a16}${h32}", CONF_HIGH},
    {"paypal-client-secret", "PAYPAL_CLIENT_SECRET={b80}", CONF_HIGH},
    /* package registries */
    {"pypi-token", "pypi-AgEIcHlwaS5vcmc{b150}", CONF_HIGH},
    {"rubygems-api-key", "rubygems_{h48}", CONF_HIGH},
    {"nuget-api-key", "oy2{a43}", CONF_HIGH},
    {"dockerhub-pat", "dckr_pat_{b27}", CONF_HIGH},
    {"dockerhub-oat", "dckr_oat_{b32}", CONF_HIGH},
    {"crates-io-token", "cio{A32}", CONF_HIGH},
    {"clojars-token", "CLOJARS_{a60}", CONF_HIGH},
    {"jfrog-api-key", "AKCp{A69}", CONF_HIGH},
    {"jfrog-reference-token", "cmVmdGtuOjAx{A54}", CONF_HIGH},
    /* AI providers */
    {"openai-api-key", "sk-{A20}T3BlbkFJ{A20}", CONF_HIGH},
    {"openai-api-key", "OPENAI_API_KEY=sk-svcacct-{b70}T3BlbkFJ{b70}", CONF_HIGH},
    {"openai-project-key", "sk-proj-{b120}", CONF_HIGH},
    {"anthropic-api-key", "x-api-key: sk-ant-api03-{b93}AA", CONF_HIGH},
    {"huggingface-token", "hf_{L34}", CONF_HIGH},
    {"huggingface-org-token", "api_org_{L34}", CONF_HIGH},
    {"cohere-api-key", "COHERE_API_KEY={A40}", CONF_HIGH},
    {"replicate-token", "r8_{A37}", CONF_HIGH},
    {"groq-api-key", "gsk_{A52}", CONF_HIGH},
    {"perplexity-api-key", "pplx-{A48}", CONF_HIGH},
    {"xai-api-key", "xai-{A80}", CONF_HIGH},
    {"openrouter-api-key", "sk-or-v1-{h64}", CONF_HIGH},
    {"langsmith-api-key", "lsv2_pt_{h32}_{h10}", CONF_HIGH},
    {"pinecone-api-key", "pcsk_{A5}_{A60}", CONF_HIGH},
    {"mistral-api-key", "MISTRAL_API_KEY={A32}", CONF_HIGH},
    /* SaaS */
    {"twilio-api-key", "SK{h32}", CONF_LOW},
    {"twilio-auth-token", "TWILIO_AUTH_TOKEN={h32}", CONF_HIGH},
    {"sendgrid-api-key", "SG.{b22}.{b43}", CONF_HIGH},
    {"mailgun-api-key", "key-{h32}", CONF_LOW},
    {"mailchimp-api-key", "{h32}-us14", CONF_HIGH},
    {"shopify-access-token", "shpat_{h32}", CONF_HIGH},
    {"shopify-custom-app-token", "shpca_{h32}", CONF_HIGH},
    {"shopify-private-app-token", "shppa_{h32}", CONF_HIGH},
    {"shopify-shared-secret", "shpss_{h32}", CONF_HIGH},
    {"linear-api-key", "lin_api_{A40}", CONF_HIGH},
    {"notion-token", "ntn_{d11}{A35}", CONF_HIGH},
    {"notion-token", "secret_{A43}", CONF_HIGH},
    {"datadog-api-key", "DD_API_KEY={h32}", CONF_HIGH},
    {"datadog-app-key", "DD_APP_KEY={h40}", CONF_HIGH},
    {"newrelic-user-key", "NRAK-{U27}", CONF_HIGH},
    {"newrelic-license-key", "{h36}NRAL", CONF_HIGH},
    {"newrelic-insert-key", "NRII-{b32}", CONF_HIGH},
    {"sentry-org-token", "sntrys_eyJ{b80}", CONF_HIGH},
    {"sentry-user-token", "sntryu_{h64}", CONF_HIGH},
    {"vault-token", "VAULT_TOKEN=hvs.{b90}", CONF_HIGH},
    {"doppler-token", "dp.pt.{A43}", CONF_HIGH},
    {"pulumi-token", "pul-{h40}", CONF_HIGH},
    {"terraform-cloud-token", "{A14}.atlasv1.{b67}", CONF_HIGH},
    {"grafana-service-account-token", "glsa_{A32}_{h8}", CONF_HIGH},
    {"grafana-cloud-token", "glc_{s60}", CONF_HIGH},
    {"postman-api-key", "PMAK-{h24}-{h34}", CONF_HIGH},
    {"airtable-pat", "pat{A14}.{h64}", CONF_HIGH},
    {"dropbox-token", "sl.{b140}", CONF_HIGH},
    {"figma-token", "figd_{b40}", CONF_HIGH},
    {"hubspot-pat", "pat-na1-{h8}-{h4}-{h4}-{h4}-{h12}", CONF_HIGH},
    {"databricks-token", "dapi{h32}", CONF_HIGH},
    {"circleci-token", "CCIPAT_{A22}_{h40}", CONF_HIGH},
    {"buildkite-token", "bkua_{h40}", CONF_HIGH},
    {"typeform-token", "tfp_{b44}_{b14}", CONF_HIGH},
    {"easypost-api-key", "EZAK{h54}", CONF_HIGH},
    {"flutterwave-secret-key", "FLWSECK-{h32}-X", CONF_HIGH},
    {"shippo-token", "shippo_live_{h40}", CONF_HIGH},
    {"mapbox-secret-token", "sk.eyJ{b60}.{b22}", CONF_HIGH},
    {"sourcegraph-token", "sgp_{h16}_{h40}", CONF_HIGH},
    {"prefect-api-key", "pnu_{A36}", CONF_HIGH},
    {"onepassword-service-token", "ops_eyJ{b200}", CONF_HIGH},
    {"tailscale-key", "tskey-auth-{A12}-{A30}", CONF_HIGH},
    {"contentful-token", "CFPAT-{b43}", CONF_HIGH},
    {"readme-api-key", "rdme_{a70}", CONF_HIGH},
    {"dynatrace-token", "dt0c01.{U24}.{U64}", CONF_HIGH},
    {"scalingo-token", "tk-us-{b48}", CONF_HIGH},
    /* private keys */
    {"private-key-rsa",
     "-----BEGIN RSA PRIVATE KEY-----\n{s64}\n{s64}\n-----END RSA PRIVATE KEY-----", CONF_HIGH},
    {"private-key-rsa",
     "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
     "AES-128-CBC,{h32}\n\n{s64}\n",
     CONF_HIGH},
    {"private-key-ec", "-----BEGIN EC PRIVATE KEY-----\n{s64}\n{s32}\n", CONF_HIGH},
    {"private-key-dsa", "-----BEGIN DSA PRIVATE KEY-----\n{s64}\n", CONF_HIGH},
    {"private-key-pkcs8", "-----BEGIN PRIVATE KEY-----\\n{s64}\\n{s64}\\n", CONF_HIGH},
    {"private-key-encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\r\n{s64}\r\n", CONF_HIGH},
    {"private-key-openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE{s50}\n",
     CONF_HIGH},
    {"private-key-pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF{s64}\n", CONF_HIGH},
    {"private-key-ssh2", "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n{s64}\n", CONF_HIGH},
    {"private-key-putty",
     "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: "
     "2\n{s64}\n{s4}\nPrivate-Lines: 1\n{s44}\n",
     CONF_HIGH},
    /* connection strings */
    {"postgres-uri", "postgres://app:{A16}@db.example.net:5432/app", CONF_HIGH},
    {"mysql-uri", "mysql://root:{A16}@10.0.0.2/shop", CONF_HIGH},
    {"mongodb-uri", "mongodb+srv://app:{A16}@cluster0.abcde.mongodb.net/db?retryWrites=true",
     CONF_HIGH},
    {"redis-uri", "redis://:{A16}@cache:6379/0", CONF_HIGH},
    {"amqp-uri", "amqps://app:{A16}@mq.example.net/vhost", CONF_HIGH},
    {"mssql-uri", "sqlserver://sa:{A16}@db:1433", CONF_HIGH},
    {"jdbc-password", "jdbc:postgresql://db:5432/app?user=app&password={A16}", CONF_HIGH},
    {"odbc-connection-string",
     "Server=tcp:db.example.net,1433;Database=app;User ID=app;Password={A16};Encrypt=true",
     CONF_HIGH},
    {"url-credentials", "git clone https://deploy:{A20}@git.example.com/repo.git", CONF_HIGH},
    {"bearer-token", "Authorization: Bearer {b40}", CONF_LOW},
    /* generic */
    {"generic-secret", "api_key = \"{A32}\"", CONF_LOW},
    {"generic-secret", "{\"client_secret\": \"{A40}\"}", CONF_LOW},
    {"password-assignment", "DB_PASSWORD={A14}", CONF_LOW},
};

TEST(dlp_kinds_at_least_sixty)
{
	init(NULL);
	ASSERT_TRUE(dlp_kinds() >= 60);
}

TEST(dlp_every_format_fires)
{
	char text[2048];
	size_t rat, rn;
	int bad = 0;

	init(NULL);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		gen(formats[i].tpl, text, sizeof(text), &rat, &rn);
		if (!fires(t_failed, text, formats[i].rule, formats[i].conf, rat, rn))
			bad++;
	}
	ASSERT_EQ(bad, 0);
}

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* prefix + 30 random base62 + base62(CRC32(random)) in 6 characters */
static void checksummed(const char *prefix, char *out, int good)
{
	char rnd30[31];
	unsigned long crc;
	size_t p = strlen(prefix);

	gen("{A30}", rnd30, sizeof(rnd30), NULL, NULL);
	crc = crc32(0, (const unsigned char *)rnd30, 30);
	memcpy(out, prefix, p);
	memcpy(out + p, rnd30, 30);
	for (int i = 5; i >= 0; i--) {
		out[p + 30 + i] = B62[crc % 62];
		crc /= 62;
	}
	if (!good)
		out[p + 35] = out[p + 35] == 'A' ? 'B' : 'A';
	out[p + 36] = '\0';
}

TEST(dlp_github_npm_checksums)
{
	static const struct {
		const char *prefix, *rule;
	} v[] = {{"ghp_", "github-pat"},
		 {"gho_", "github-oauth-token"},
		 {"ghu_", "github-user-to-server-token"},
		 {"ghs_", "github-server-to-server-token"},
		 {"ghr_", "github-refresh-token"},
		 {"npm_", "npm-token"}};
	char tok[64], text[128];
	struct findings f;

	init(NULL);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		checksummed(v[i].prefix, tok, 1);
		ASSERT_TRUE(dlp_base62_crc_ok(tok, strlen(tok)));
		snprintf(text, sizeof(text), "token: %s", tok);
		if (!fires(t_failed, text, v[i].rule, CONF_HIGH, 11, 30))
			return;
		/* same prefix, one checksum character wrong: not a token */
		checksummed(v[i].prefix, tok, 0);
		ASSERT_FALSE(dlp_base62_crc_ok(tok, strlen(tok)));
		snprintf(text, sizeof(text), "see %s", tok);
		scan(text, &f);
		if (f.n) {
			T_FAIL("%s with a bad checksum fired %s", v[i].prefix, f.v[0].rule);
			return;
		}
	}
	/* a token inside a longer word is not a token */
	checksummed("ghp_", tok, 1);
	snprintf(text, sizeof(text), "xghp_%s", tok + 4);
	scan(text, &f);
	ASSERT_FALSE(find(&f, "github-pat"));
	snprintf(text, sizeof(text), "%sZ", tok);
	scan(text, &f);
	ASSERT_FALSE(find(&f, "github-pat"));
}

/* Luhn check digit for the first n-1 digits. */
static void luhn_complete(char *d, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i + 1 < n; i++) {
		unsigned v = (unsigned)(d[n - 2 - i] - '0');

		if (i % 2 == 0) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	d[n - 1] = (char)('0' + (10 - sum % 10) % 10);
	d[n] = '\0';
}

TEST(dlp_payment_cards)
{
	static const char *const iin[] = {"4", "51", "2221", "6011", "3530", "62"};
	char d[24], text[96];
	struct findings f;

	init(NULL);
	for (size_t i = 0; i < sizeof(iin) / sizeof(iin[0]); i++) {
		size_t p = strlen(iin[i]);

		memcpy(d, iin[i], p);
		for (size_t k = p; k < 15; k++)
			d[k] = (char)('0' + rnd() % 10);
		luhn_complete(d, 16);
		ASSERT_TRUE(dlp_luhn_ok(d, 16));
		snprintf(text, sizeof(text), "pay with %.4s %.4s %.4s %.4s thanks", d, d + 4, d + 8,
			 d + 12);
		if (!fires(t_failed, text, "payment-card-number", CONF_HIGH, 0, 0))
			return;
		snprintf(text, sizeof(text), "card number: %s", d);
		if (!fires(t_failed, text, "payment-card-number", CONF_HIGH, 0, 0))
			return;
		/* bare, no context: heuristic */
		snprintf(text, sizeof(text), "ref %s", d);
		if (!fires(t_failed, text, "payment-card-number", CONF_LOW, 0, 0))
			return;
		/* a wrong check digit */
		d[15] = (char)('0' + (d[15] - '0' + 1) % 10);
		snprintf(text, sizeof(text), "card %.4s %.4s %.4s %.4s", d, d + 4, d + 8, d + 12);
		scan(text, &f);
		ASSERT_FALSE(find(&f, "payment-card-number"));
	}
	/* Amex: 15 digits, 4-6-5 */
	memcpy(d, "37", 2);
	for (size_t k = 2; k < 14; k++)
		d[k] = (char)('0' + rnd() % 10);
	luhn_complete(d, 15);
	snprintf(text, sizeof(text), "%.4s %.6s %.5s", d, d + 4, d + 10);
	ASSERT_TRUE(fires(t_failed, text, "payment-card-number", CONF_HIGH, 0, 0));
	/* Luhn-valid but no card network starts with 9; test numbers are heuristic only */
	memcpy(d, "9", 1);
	for (size_t k = 1; k < 15; k++)
		d[k] = (char)('0' + rnd() % 10);
	luhn_complete(d, 16);
	snprintf(text, sizeof(text), "card %.4s %.4s %.4s %.4s", d, d + 4, d + 8, d + 12);
	scan(text, &f);
	ASSERT_FALSE(find(&f, "payment-card-number"));
	scan("card 4111 1111 1111 1111", &f);
	ASSERT_TRUE(find(&f, "payment-card-number") &&
		    find(&f, "payment-card-number")->confidence == CONF_LOW);
	/* longer digit runs (ids, timestamps) are not cards */
	scan("order 45391488034364671234 id 1700000000123456789", &f);
	ASSERT_FALSE(find(&f, "payment-card-number"));
}

static void b64url(const char *in, char *out)
{
	static const char *A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(in), m = 0;

	for (size_t k = 0; k < n; k += 3) {
		unsigned v = (unsigned char)in[k] << 16;

		if (k + 1 < n)
			v |= (unsigned char)in[k + 1] << 8;
		if (k + 2 < n)
			v |= (unsigned char)in[k + 2];
		out[m++] = A[v >> 18 & 63];
		out[m++] = A[v >> 12 & 63];
		if (k + 1 < n)
			out[m++] = A[v >> 6 & 63];
		if (k + 2 < n)
			out[m++] = A[v & 63];
	}
	out[m] = '\0';
}

TEST(dlp_jwt_discord_age_basic)
{
	char h[128], p[256], sig[64], text[1024], id[64];
	struct findings f;

	init(NULL);
	b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", h);
	b64url("{\"sub\":\"42\",\"name\":\"Ada\",\"iat\":1700000000}", p);
	gen("{b43}", sig, sizeof(sig), NULL, NULL);
	snprintf(text, sizeof(text), "Authorization: %s.%s.%s", h, p, sig);
	ASSERT_TRUE(fires(t_failed, text, "jwt", CONF_HIGH, 0, 0));
	/* unsigned: heuristic */
	b64url("{\"alg\":\"none\"}", h);
	snprintf(text, sizeof(text), "%s.%s.", h, p);
	ASSERT_TRUE(fires(t_failed, text, "jwt", CONF_LOW, 0, 0));
	/* three base64url parts whose header has no "alg": not a JWT */
	b64url("{\"kind\":\"thing\",\"v\":1}", h);
	snprintf(text, sizeof(text), "%s.%s.%s", h, p, sig);
	scan(text, &f);
	ASSERT_FALSE(find(&f, "jwt"));

	/* Discord: base64 of the bot's numeric id, a timestamp, an HMAC */
	b64url("112233445566778899", id);
	gen("{b6}", h, sizeof(h), NULL, NULL);
	gen("{b38}", sig, sizeof(sig), NULL, NULL);
	snprintf(text, sizeof(text), "DISCORD %s.%s.%s", id, h, sig);
	ASSERT_TRUE(fires(t_failed, text, "discord-bot-token", CONF_HIGH, 0, 0));
	b64url("not-a-numeric-id!!", id); /* same shape, no snowflake inside */
	snprintf(text, sizeof(text), "DISCORD %s.%s.%s", id, h, sig);
	scan(text, &f);
	ASSERT_FALSE(find(&f, "discord-bot-token"));

	/* HTTP Basic: base64 of user:password */
	b64url("deploy:Zq81mfLx02pQ", p);
	snprintf(text, sizeof(text), "Authorization: Basic %s", p);
	ASSERT_TRUE(fires(t_failed, text, "http-basic-auth", CONF_HIGH, 0, 0));
	b64url("user:password", p);
	snprintf(text, sizeof(text), "Authorization: Basic %s", p);
	scan(text, &f);
	ASSERT_FALSE(find(&f, "http-basic-auth"));
}

/* age secret keys are bech32 with a checksum: build one, then break it. */
static uint32_t polymod(const unsigned char *v, size_t n)
{
	static const uint32_t g[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
	uint32_t c = 1;

	for (size_t i = 0; i < n; i++) {
		uint32_t b = c >> 25;

		c = ((c & 0x1ffffff) << 5) ^ v[i];
		for (int k = 0; k < 5; k++)
			if ((b >> k) & 1)
				c ^= g[k];
	}
	return c;
}

TEST(dlp_age_key_checksum)
{
	static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	const char *hrp = "age-secret-key-";
	unsigned char v[128];
	size_t hl = strlen(hrp), k = 0;
	unsigned char data[52];
	char key[96], text[128];
	uint32_t pm;
	struct findings f;

	init(NULL);
	for (size_t i = 0; i < hl; i++)
		v[k++] = (unsigned char)hrp[i] >> 5;
	v[k++] = 0;
	for (size_t i = 0; i < hl; i++)
		v[k++] = (unsigned char)hrp[i] & 31;
	for (size_t i = 0; i < 52; i++)
		v[k++] = data[i] = (unsigned char)(rnd() % 32);
	memset(v + k, 0, 6);
	pm = polymod(v, k + 6) ^ 1;
	snprintf(key, sizeof(key), "AGE-SECRET-KEY-1");
	for (size_t i = 0; i < 52; i++)
		key[16 + i] = (char)(cs[data[i]] - 32 * (cs[data[i]] >= 'a'));
	for (int i = 0; i < 6; i++) {
		char c = cs[(pm >> (5 * (5 - i))) & 31];

		key[68 + i] = (char)(c >= 'a' ? c - 32 : c);
	}
	key[74] = '\0';
	snprintf(text, sizeof(text), "# created: 2024\n%s\n", key);
	ASSERT_TRUE(fires(t_failed, text, "age-secret-key", CONF_HIGH, 0, 0));
	key[73] = key[73] == 'Q' ? 'P' : 'Q';
	snprintf(text, sizeof(text), "%s", key);
	scan(text, &f);
	ASSERT_FALSE(find(&f, "age-secret-key"));
}

TEST(dlp_benign_text_does_not_fire)
{
	static const char *const v[] = {
	    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
	    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam.",
	    "commit 3f786850e387550fdab836ed7e6dc881de23001b\nAuthor: Ada <ada@example.com>",
	    "request id 550e8400-e29b-41d4-a716-446655440000 done",
	    "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "md5 d41d8cd98f00b204e9800998ecf8427e",
	    "password=changeme",
	    "password: ${DB_PASSWORD}",
	    "api_key = \"YOUR_API_KEY_HERE\"",
	    "token: <insert token>",
	    "export GITHUB_TOKEN=$(gh auth token)",
	    "password = os.environ.get(\"DB_PASSWORD\")",
	    "secret_key = settings.SECRET_KEY",
	    "-----BEGIN RSA PRIVATE KEY-----",
	    "grep -r 'BEGIN OPENSSH PRIVATE KEY' ~/.ssh",
	    "postgres://user:password@localhost/db",
	    "postgres://postgres:postgres@localhost:5432/test",
	    "https://example.com/path?q=1&page=2",
	    "https://github.com/modelcontextprotocol/servers",
	    "use the sk-ant- prefix for keys and ghp_ for GitHub",
	    "total tokens: 1234, max_tokens=4096",
	    "the quick brown fox jumps over the lazy dog 0123456789",
	    "call 4000 1234 5678 9999 from 9am",
	    "ISBN 978-0-596-52068-7 and phone +1 415 555 0132",
	    "data:image/"
	    "png;base64,"
	    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU"
	    "5ErkJggg==",
	    "AKIA is the prefix of AWS key ids",
	    "eyJhbGciOiJIUzI1NiJ9 alone is only a header",
	};
	struct findings f;

	init(NULL);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		scan(v[i], &f);
		if (f.n) {
			T_FAIL("benign text fired: %.70s", v[i]);
			dump(&f);
		}
	}
}

/* A token-shaped stretch between the '+' and '/' of a base64 blob is chance, not a key. */
TEST(dlp_token_shapes_inside_base64_blobs)
{
	char blob[512], tok[80];
	struct findings f;

	init(NULL);
	gen("EAAA{b60}", tok, sizeof(tok), NULL, NULL);
	gen("{s100}", blob, sizeof(blob), NULL, NULL);
	snprintf(blob + 100, sizeof(blob) - 100, "+%s/", tok);
	gen("{s100}", blob + strlen(blob), sizeof(blob) - strlen(blob), NULL, NULL);
	scan(blob, &f);
	ASSERT_FALSE(find(&f, "square-access-token"));
	/* the same token standing alone, or in a URL path, is one */
	snprintf(blob, sizeof(blob), "https://squareup.example/v2/%s", tok);
	scan(blob, &f);
	ASSERT_TRUE(find(&f, "square-access-token") != NULL);
}

TEST(dlp_decoded_layers)
{
	char tok[64], text[1024], enc[512];
	struct findings f;
	const struct finding *x;

	init(NULL);
	checksummed("ghp_", tok, 1);
	/* base64 of a url-encoded assignment of the token */
	snprintf(text, sizeof(text), "token%%3D%s%%26x%%3D1", tok);
	b64url(text, enc);
	snprintf(text, sizeof(text), "payload=%s", enc);
	scan(text, &f);
	x = find(&f, "github-pat");
	ASSERT_TRUE(x != NULL);
	ASSERT_TRUE(strstr(x->detail, "base64") != NULL);
	ASSERT_TRUE(strstr(x->detail, tok + 10) == NULL);
	/* hex */
	for (size_t i = 0; tok[i]; i++)
		snprintf(enc + 2 * i, 3, "%02x", (unsigned char)tok[i]);
	scan(enc, &f);
	ASSERT_TRUE(find(&f, "github-pat") != NULL);
	/* JSON unicode escapes */
	enc[0] = '\0';
	for (size_t i = 0; tok[i]; i++)
		snprintf(enc + 6 * i, 7, "\\u%04x", (unsigned char)tok[i]);
	scan(enc, &f);
	ASSERT_TRUE(find(&f, "github-pat") != NULL);
	/* percent-encoding of every byte */
	for (size_t i = 0; tok[i]; i++)
		snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)tok[i]);
	scan(enc, &f);
	ASSERT_TRUE(find(&f, "github-pat") != NULL);
}

TEST(dlp_split_across_arguments)
{
	char tok[64], json[512];
	cJSON *j;
	struct findings f;
	const struct finding *x;

	init(NULL);
	checksummed("ghp_", tok, 1);
	snprintf(json, sizeof(json),
		 "{\"name\":\"send\",\"arguments\":{\"a\":\"%.20s\",\"b\":\"%s\"}}", tok, tok + 20);
	j = cJSON_Parse(json);
	ASSERT_TRUE(j != NULL);
	f.n = f.dropped = 0;
	dlp_scan_json(j, "params", &f);
	cJSON_Delete(j);
	x = find(&f, "github-pat");
	ASSERT_TRUE(x != NULL);
	ASSERT_TRUE(strstr(x->detail, "split across") != NULL);
	ASSERT_STREQ(x->where, "params");

	/* AWS id in one argument, its secret in another: context across arguments */
	{
		char id[32], sec[64];

		gen("AKIA{316}", id, sizeof(id), NULL, NULL);
		gen("{s40}", sec, sizeof(sec), NULL, NULL);
		snprintf(json, sizeof(json), "{\"arguments\":{\"key\":\"%s\",\"other\":\"%s\"}}",
			 id, sec);
		j = cJSON_Parse(json);
		f.n = f.dropped = 0;
		dlp_scan_json(j, "params", &f);
		cJSON_Delete(j);
		x = find(&f, "aws-access-key-id");
		ASSERT_TRUE(x != NULL);
		ASSERT_STREQ(x->where, "params.arguments.key");
		ASSERT_EQ(x->confidence, CONF_HIGH); /* its secret sits in the other argument */
	}

	/* an intact token in a nested argument: the JSON path names it */
	snprintf(json, sizeof(json), "{\"arguments\":{\"msg\":[\"hi\",{\"body\":\"x %s y\"}]}}",
		 tok);
	j = cJSON_Parse(json);
	f.n = f.dropped = 0;
	dlp_scan_json(j, "params", &f);
	cJSON_Delete(j);
	ASSERT_EQ(f.n, 1);
	ASSERT_STREQ(f.v[0].where, "params.arguments.msg[1].body");
	ASSERT_STREQ(f.v[0].rule, "github-pat");
}

TEST(dlp_secret_named_fields)
{
	struct findings f;
	cJSON *j;

	init(NULL);
	j = cJSON_Parse(
	    "{\"arguments\":{\"apiKey\":\"q8Zr2LmX0pW7vNc4Tg9Y\",\"password\":\"Tr0ub4dor&3x\","
	    "\"pageToken\":\"CAESGgoYCAESFGZvb2Jhcgo0xyz12\",\"name\":\"Ada\"}}");
	ASSERT_TRUE(j != NULL);
	f.n = f.dropped = 0;
	dlp_scan_json(j, "params", &f);
	cJSON_Delete(j);
	ASSERT_TRUE(find(&f, "generic-secret") != NULL);
	ASSERT_STREQ(find(&f, "generic-secret")->where, "params.arguments.apiKey");
	ASSERT_EQ(find(&f, "generic-secret")->confidence, CONF_LOW);
	ASSERT_TRUE(find(&f, "password-assignment") != NULL);
	ASSERT_STREQ(find(&f, "password-assignment")->where, "params.arguments.password");
	for (size_t i = 0; i < f.n; i++)
		ASSERT_TRUE(strstr(f.v[i].where, "pageToken") == NULL);
}

TEST(dlp_env_secrets)
{
	char *envp[] = {"MY_SERVICE_API_KEY=s3cr3t-Value-9172",
			"HOME=/root",
			"SSH_AUTH_SOCK=/tmp/ssh-x/agent.1",
			"AUTHOR_NAME=Ada Lovelace",
			"DB_PASSWORD=hunter2-but-longer",
			"SHORT_TOKEN=abc",
			"PATH=/usr/bin",
			"PRIVATE_REGISTRY=registry.example.com",
			"AUTH_URL=https://login.example.com/x",
			NULL};
	struct findings f;
	const struct finding *x;
	char enc[128];

	init(envp);
	ASSERT_EQ(dlp_env_secrets(), 2);
	scan("please post s3cr3t-Value-9172 to the form", &f);
	x = find(&f, "env-secret");
	ASSERT_TRUE(x != NULL);
	ASSERT_EQ(x->confidence, CONF_HIGH);
	ASSERT_TRUE(strstr(x->detail, "MY_SERVICE_API_KEY") != NULL);
	ASSERT_TRUE(strstr(x->detail, "Value-9172") == NULL);
	/* decoded forms */
	b64url("pw=hunter2-but-longer", enc);
	scan(enc, &f);
	ASSERT_TRUE(find(&f, "env-secret") != NULL);
	scan("hunter2%2Dbut%2Dlonger", &f);
	ASSERT_TRUE(find(&f, "env-secret") != NULL);
	/* not secrets: names without a secret word, paths, short values */
	scan("Ada Lovelace wrote /tmp/ssh-x/agent.1 and abc at registry.example.com", &f);
	ASSERT_FALSE(find(&f, "env-secret"));
	init(NULL);
	ASSERT_EQ(dlp_env_secrets(), 0);
	scan("please post s3cr3t-Value-9172 to the form", &f);
	ASSERT_FALSE(find(&f, "env-secret"));
}

TEST(dlp_throughput_benign_1mb)
{
	static const char *const words[] = {"the",
					    "server",
					    "returned",
					    "a",
					    "list",
					    "of",
					    "files",
					    "in",
					    "/home/user/project",
					    "with",
					    "sizes",
					    "1024",
					    "and",
					    "dates",
					    "2024-05-01T12:00:00Z",
					    "see",
					    "https://example.com/docs/page?id=42",
					    "for",
					    "details;",
					    "function",
					    "returns",
					    "value",
					    "error:",
					    "none",
					    "{\"ok\":",
					    "true}",
					    "README.md",
					    "configuration",
					    "tokens",
					    "password",
					    "reset",
					    "link",
					    "was",
					    "sent."};
	size_t n = 1 << 20, o = 0;
	char *buf = malloc(n + 64);
	struct findings f;
	struct timespec a, b;
	double secs, best = 1e9;

	init(NULL);
	ASSERT_TRUE(buf != NULL);
	while (o < n) {
		const char *w = words[rnd() % (sizeof(words) / sizeof(words[0]))];
		size_t l = strlen(w);

		memcpy(buf + o, w, l);
		o += l;
		buf[o++] = (rnd() % 12) ? ' ' : '\n';
	}
	for (int r = 0; r < 3; r++) {
		f.n = f.dropped = 0;
		clock_gettime(CLOCK_MONOTONIC, &a);
		dlp_scan_text(buf, n, "result", &f);
		clock_gettime(CLOCK_MONOTONIC, &b);
		secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (secs < best)
			best = secs;
	}
	fprintf(stderr, "  dlp_scan_text: 1 MiB benign text in %.3f ms (%.0f MB/s)\n", best * 1e3,
		(double)n / best / 1e6);
	free(buf);
	ASSERT_EQ(f.n, 0);
	ASSERT_TRUE(best < 1.0); /* a second per MiB would stall the proxy */
}

/* Many heuristic hits first must not push a real token out of the findings array. */
TEST(dlp_low_findings_cannot_crowd_out_high)
{
	char *text = malloc(8192), tok[64], pw[16];
	size_t o = 0;
	struct findings f;
	const struct finding *x;
	size_t low = 0;

	init(NULL);
	ASSERT_TRUE(text != NULL);
	for (int i = 0; i < 100; i++) {
		gen("{A12}", pw, sizeof(pw), NULL, NULL);
		o += (size_t)snprintf(text + o, 8192 - o, "password%d=%s\n", i, pw);
	}
	checksummed("ghp_", tok, 1);
	snprintf(text + o, 8192 - o, "token %s\n", tok);
	scan(text, &f);
	free(text);
	x = find(&f, "github-pat");
	ASSERT_TRUE(x != NULL);
	ASSERT_EQ(x->confidence, CONF_HIGH);
	for (size_t i = 0; i < f.n; i++)
		low += f.v[i].confidence == CONF_LOW;
	ASSERT_TRUE(low > 0 && low <= 16);
	ASSERT_EQ(f.dropped, 0);
}

TEST(dlp_secret_in_an_object_key)
{
	char tok[64], json[256];
	cJSON *j;
	struct findings f;
	const struct finding *x;

	init(NULL);
	checksummed("ghp_", tok, 1);
	/* the token as a property name: it reaches the server all the same */
	snprintf(json, sizeof(json), "{\"arguments\":{\"notes\":{\"%s\":true}}}", tok);
	j = cJSON_Parse(json);
	ASSERT_TRUE(j != NULL);
	f.n = f.dropped = 0;
	dlp_scan_json(j, "params", &f);
	cJSON_Delete(j);
	x = find(&f, "github-pat");
	ASSERT_TRUE(x != NULL);
	ASSERT_TRUE(strncmp(x->where, "params.arguments.notes.", 23) == 0);
}
