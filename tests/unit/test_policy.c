/* Policy loader: defaults, the seed configuration, and errors that name file, line and key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy.h"
#include "t.h"

static char tmpl[] = "/tmp/mg-policy-XXXXXX";

static const char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "%s", tmpl);
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

static struct policy *load_text(const char *text, char *err, size_t errlen)
{
	const char *path = write_tmp(text);
	struct policy *p;

	if (!path)
		return NULL;
	p = policy_load(path, err, errlen);
	unlink(path);
	return p;
}

TEST(policy_defaults_are_secure)
{
	char err[512];
	struct policy *p = policy_load(NULL, err, sizeof(err));

	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(p->tool_scanning.enabled);
	ASSERT_EQ(p->tool_scanning.action, PA_BLOCK);
	ASSERT_TRUE(p->tool_scanning.detect_drift);
	ASSERT_EQ(p->input_scanning.action, PA_BLOCK);
	ASSERT_EQ(p->input_scanning.on_parse_error, PA_BLOCK);
	ASSERT_EQ(p->tool_policy.action, PA_BLOCK);
	ASSERT_EQ(p->response_scanning.action, PA_BLOCK);
	ASSERT_FALSE(p->session_binding.enabled);
	ASSERT_TRUE(p->max_message_bytes >= 1024 * 1024);
	ASSERT_STREQ(p->session_verdict, "quarantine");
	ASSERT_TRUE(p->egress.enabled);
	ASSERT_FALSE(p->egress.allow_loopback);
	ASSERT_TRUE(p->egress.nrules >= 3);
	ASSERT_STREQ(p->egress.rules[0].name, "cloud-metadata");
	ASSERT_EQ(p->egress.rules[0].action, PA_BLOCK);
	ASSERT_EQ(p->egress.rules[0].cidrs[0].family, AF_INET);
	ASSERT_EQ(p->egress.rules[0].cidrs[0].prefixlen, 32);
	ASSERT_EQ(p->egress.rules[0].cidrs[0].addr[0], 169);
	ASSERT_TRUE(p->files.nrules >= 5);
	for (size_t i = 0; i < p->files.nrules; i++)
		ASSERT_EQ(p->files.rules[i].action, PA_BLOCK); /* inherited from files.action */
	ASSERT_TRUE(p->path == NULL);
	policy_free(p);
}

/* The seed article's configuration must load unchanged and do what it says. */
TEST(policy_seed_config_loads)
{
	char err[512] = "";
	struct policy *p = load_text("mcp_tool_scanning:\n"
				     "  enabled: true\n"
				     "  action: warn\n"
				     "  detect_drift: true\n"
				     "mcp_input_scanning:\n"
				     "  enabled: true\n"
				     "  action: warn\n"
				     "  on_parse_error: block\n"
				     "mcp_tool_policy:\n"
				     "  enabled: true\n"
				     "  action: block\n"
				     "  rules:\n"
				     "    - name: \"block-destructive\"\n"
				     "      tool_pattern: \"bash|shell|exec\"\n"
				     "      arg_pattern: \"rm\\\\s+-rf\"\n"
				     "      action: block\n"
				     "    - name: shell-any\n"
				     "      tool_pattern: \"^run_command$\"\n"
				     "tool_chain_detection:\n"
				     "  enabled: true\n"
				     "  action: warn\n"
				     "mcp_session_binding:\n"
				     "  enabled: false\n"
				     "sandbox: {enabled: true, strict: true}\n",
				     err, sizeof(err));

	if (!p)
		T_FAIL("%s", err);
	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(p->tool_scanning.action, PA_WARN);
	ASSERT_EQ(p->input_scanning.action, PA_WARN);
	ASSERT_EQ(p->tool_policy.nrules, 2);
	ASSERT_STREQ(p->tool_policy.rules[0].name, "block-destructive");
	ASSERT_STREQ(p->tool_policy.rules[0].arg_pattern, "rm\\s+-rf");
	ASSERT_EQ(p->tool_policy.rules[0].line, 13);
	ASSERT_EQ(p->tool_policy.rules[1].action, PA_BLOCK); /* took the section's */
	ASSERT_TRUE(p->tool_policy.rules[1].arg_pattern == NULL);
	ASSERT_EQ(p->tool_chain.action, PA_WARN);
	ASSERT_TRUE(p->sandbox.strict);
	/* Sections the file does not mention keep their secure defaults. */
	ASSERT_EQ(p->response_scanning.action, PA_BLOCK);
	ASSERT_TRUE(p->egress.nrules >= 3);
	policy_free(p);
}

TEST(policy_unknown_key_names_file_line_key)
{
	char err[512] = "";
	struct policy *p =
	    load_text("mcp_tool_scanning:\n  enabled: true\n  actoin: block\n", err, sizeof(err));

	ASSERT_TRUE(p == NULL);
	ASSERT_TRUE(strstr(err, "/tmp/mg-policy-") != NULL);
	ASSERT_TRUE(strstr(err, ":3: key 'mcp_tool_scanning.actoin': unknown key") != NULL);
}

TEST(policy_bad_action_names_choices)
{
	char err[512] = "";
	struct policy *p = load_text("egress:\n  rules:\n    - name: x\n      cidr: 10.0.0.0/8\n"
				     "      action: strip\n",
				     err, sizeof(err));

	ASSERT_TRUE(p == NULL);
	ASSERT_TRUE(strstr(err, ":5: key 'egress.rules[0].action': expected one of allow, warn, "
				"block, got 'strip'") != NULL);
}

TEST(policy_rejects_duplicate_keys_and_second_document)
{
	char err[512] = "";

	ASSERT_TRUE(load_text("audit: false\naudit: true\n", err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, ":2: key 'audit': given twice") != NULL);
	ASSERT_TRUE(load_text("audit: false\n---\naudit: true\n", err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "only one YAML document") != NULL);
}

TEST(policy_cidr_parsing)
{
	struct pol_cidr c;

	ASSERT_EQ(pol_parse_cidr("10.0.0.0/8", &c), 0);
	ASSERT_EQ(c.prefixlen, 8);
	ASSERT_EQ(pol_parse_cidr("fd00:ec2::254", &c), 0);
	ASSERT_EQ(c.family, AF_INET6);
	ASSERT_EQ(c.prefixlen, 128);
	ASSERT_EQ(pol_parse_cidr("10.0.0.1/8", &c), -1); /* host bits set */
	ASSERT_EQ(pol_parse_cidr("10.0.0.0/33", &c), -1);
	ASSERT_EQ(pol_parse_cidr("10.0.0.0/", &c), -1);
	ASSERT_EQ(pol_parse_cidr("example.com", &c), -1);
	ASSERT_EQ(pol_parse_cidr("::/0", &c), 0);
}

TEST(policy_file_list_replaces_default_list)
{
	char err[512] = "";
	struct policy *p = load_text("egress:\n  default: block\n  allow_loopback: true\n  rules:\n"
				     "    - name: api\n      host: [api.github.com]\n"
				     "      ports: [443]\n      action: allow\n",
				     err, sizeof(err));

	if (!p)
		T_FAIL("%s", err);
	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(p->egress.nrules, 1);
	ASSERT_EQ(p->egress.default_action, PA_BLOCK);
	ASSERT_TRUE(p->egress.allow_loopback);
	ASSERT_STREQ(p->egress.rules[0].hosts[0], "api.github.com");
	ASSERT_EQ(p->egress.rules[0].nports, 1);
	ASSERT_EQ(p->egress.rules[0].ports[0], 443);
	policy_free(p);
}

TEST(policy_basename_patterns_checked)
{
	char err[512] = "";

	ASSERT_TRUE(load_text("files:\n  rules:\n    - name: x\n      basenames: [\"a*b\"]\n", err,
			      sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, ":4: key 'files.rules[0].basenames'") != NULL);
	ASSERT_TRUE(load_text("files:\n  rules:\n    - name: x\n      paths: [relative/x]\n", err,
			      sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "must start with / or ~/") != NULL);
	ASSERT_TRUE(load_text("egress:\n  rules:\n    - name: x\n      ports: [0]\n      cidr: "
			      "[1.2.3.4]\n      action: allow\n",
			      err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "out of range 1..65535") != NULL);
}

TEST(policy_yaml_syntax_error_has_line)
{
	char err[512] = "";

	ASSERT_TRUE(load_text("audit: false\nfiles:\n  rules: [\n", err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "YAML syntax error") != NULL);
	ASSERT_TRUE(policy_load("/nonexistent/policy.yaml", err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "/nonexistent/policy.yaml: No such file") != NULL);
}

/* The kernel keeps one value per prefix: a second rule for the same prefix is refused. */
TEST(policy_same_prefix_in_two_rules_refused)
{
	char err[512] = "";
	struct policy *p =
	    load_text("egress:\n  rules:\n"
		      "    - name: api\n      cidr: [10.1.0.0/16]\n      ports: [443]\n"
		      "      action: allow\n"
		      "    - name: lan\n      cidr: [192.168.0.0/16, 10.1.0.0/16]\n"
		      "      action: block\n",
		      err, sizeof(err));

	ASSERT_TRUE(p == NULL);
	ASSERT_TRUE(strstr(err, ":8: key 'egress.rules[1].cidr': 10.1.0.0/16 is already named by "
				"rule 'api' (line 4)") != NULL);
	/* An IPv4-mapped IPv6 prefix is the same key in the kernel as the IPv4 one. */
	p = load_text(
	    "egress:\n  rules:\n    - name: api\n      cidr: [10.1.0.0/16]\n      action: "
	    "allow\n    - name: lan\n      cidr: ['::ffff:10.1.0.0/112']\n      action: "
	    "block\n",
	    err, sizeof(err));
	ASSERT_TRUE(p == NULL);
	ASSERT_TRUE(strstr(err, "already named by rule 'api'") != NULL);
	/* Different prefix lengths are different prefixes. */
	p = load_text("egress:\n  rules:\n    - name: a\n      cidr: [10.0.0.0/8]\n      action: "
		      "block\n    - name: b\n      cidr: [10.1.0.0/16]\n      action: allow\n",
		      err, sizeof(err));
	if (!p)
		T_FAIL("%s", err);
	ASSERT_TRUE(p != NULL);
	policy_free(p);
}
