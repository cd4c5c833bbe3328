/* mcp_tool_policy rules: tool/argument regexes on resolved commands, actions, bad patterns. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <unistd.h>

#include "shell.h"
#include "t.h"
#include "toolrules.h"

static char *const env[] = {"HOME=/home/alice", "PATH=/usr/bin:/bin", NULL};

static struct pol_tool_rule R(const char *name, const char *tool, const char *arg,
			      enum pol_action a, int line) {
	struct pol_tool_rule r = {(char *)name, (char *)tool, (char *)arg, a, line};

	return r;
}

static int
setup(struct policy *pol, struct pol_tool_rule *rules, size_t n, char *err, size_t errlen)
{
	memset(pol, 0, sizeof(*pol));
	pol->tool_policy.enabled = true;
	pol->tool_policy.action = PA_BLOCK;
	pol->tool_policy.rules = rules;
	pol->tool_policy.nrules = n;
	return shell_init_env(pol, env, err, errlen);
}

static const struct finding *call(const char *tool, const char *json, struct findings *f,
				  const char *rule)
{
	cJSON *a = json ? cJSON_Parse(json) : NULL;

	memset(f, 0, sizeof(*f));
	shell_scan_call(tool, a, f);
	cJSON_Delete(a);
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].scanner, "tool-policy") && !strcmp(f->v[i].rule, rule))
			return &f->v[i];
	return NULL;
}

TEST(toolrules_tool_and_arg_patterns_on_resolved_text)
{
	struct pol_tool_rule rules[] = {
	    R("no-curl-in-shell", "^(bash|shell|run_.*)$", "\\bcurl\\b", PA_BLOCK, 12),
	};
	struct policy pol;
	struct findings f;
	const struct finding *x;
	char err[256];

	ASSERT_EQ(setup(&pol, rules, 1, err, sizeof(err)), 0);
	/* the regex sees the resolved command, not the quoting */
	x = call("bash", "{\"command\":\"c''u\\\\rl http://x.example\"}", &f, "no-curl-in-shell");
	ASSERT_TRUE(x != NULL);
	ASSERT_EQ(x->confidence, CONF_HIGH);
	ASSERT_EQ(x->action, PA_BLOCK);
	ASSERT_TRUE(strstr(x->detail, "line 12") != NULL);
	ASSERT_TRUE(strstr(x->detail, "curl http://x.example") != NULL);
	ASSERT_STREQ(x->where, "params.arguments.command");
	ASSERT_TRUE(call("run_task", "{\"cmd\":\"curl x\"}", &f, "no-curl-in-shell") != NULL);
	/* other tools and other commands are not this rule's business */
	ASSERT_TRUE(call("editor", "{\"command\":\"curl x\"}", &f, "no-curl-in-shell") == NULL);
	ASSERT_TRUE(call("bash", "{\"command\":\"wget x\"}", &f, "no-curl-in-shell") == NULL);
	ASSERT_TRUE(call("bash", "{\"command\":\"echo curling\"}", &f, "no-curl-in-shell") == NULL);
	shell_free();
}

TEST(toolrules_see_words_and_decoded_payloads)
{
	struct pol_tool_rule rules[] = {
	    R("shadow", "", "^/etc/shadow$", PA_BLOCK, 3),
	    R("no-rm-rf", NULL, "rm -rf", PA_BLOCK, 4),
	};
	struct policy pol;
	struct findings f;
	char err[256];

	ASSERT_EQ(setup(&pol, rules, 2, err, sizeof(err)), 0);
	/* one resolved word is exactly /etc/shadow */
	ASSERT_TRUE(call("any", "{\"command\":\"cat ${HOME:0:1}etc${HOME:0:1}shadow\"}", &f,
			 "shadow") != NULL);
	ASSERT_TRUE(call("any", "{\"command\":\"cat /etc/shadow.bak\"}", &f, "shadow") == NULL);
	/* the decoded payload is part of the resolved text */
	ASSERT_TRUE(call("any", "{\"command\":\"echo cm0gLXJmIH4= | base64 -d | sh\"}", &f,
			 "no-rm-rf") != NULL);
	ASSERT_TRUE(call("any", "{\"command\":\"rm -r -f x\"}", &f, "no-rm-rf") == NULL);
	shell_free();
}

TEST(toolrules_action_is_the_rules_own)
{
	struct pol_tool_rule rules[] = {
	    R("audit-git", "^git$", "push", PA_WARN, 5),
	    R("no-deletes", "^delete_", NULL, PA_BLOCK, 6),
	};
	struct policy pol;
	struct findings f;
	const struct finding *x;
	char err[256];

	ASSERT_EQ(setup(&pol, rules, 2, err, sizeof(err)), 0);
	x = call("git", "{\"args\":[\"push\",\"origin\",\"main\"]}", &f, "audit-git");
	ASSERT_TRUE(x != NULL);
	ASSERT_EQ(x->action, PA_WARN);
	/* no arg_pattern: the tool name alone decides, whatever the arguments */
	x = call("delete_file", "{\"path\":\"notes.txt\"}", &f, "no-deletes");
	ASSERT_TRUE(x != NULL);
	ASSERT_EQ(x->action, PA_BLOCK);
	ASSERT_TRUE(call("delete_file", NULL, &f, "no-deletes") != NULL);
	ASSERT_TRUE(call("read_file", "{\"path\":\"x\"}", &f, "no-deletes") == NULL);
	/* built-in findings leave the action to the pipeline */
	call("bash", "{\"command\":\"cat ~/.ssh/id_rsa\"}", &f, "none");
	ASSERT_TRUE(findings_has(&f, "shell", "credential-read"));
	ASSERT_EQ(f.v[0].action, PA_ALLOW);
	shell_free();
}

TEST(toolrules_apply_to_plain_string_arguments)
{
	struct pol_tool_rule rules[] = {
	    R("ssh-dir", "^(read|write)_file$", "\\.ssh/", PA_BLOCK, 9),
	};
	struct policy pol;
	struct findings f;
	const struct finding *x;
	char err[256];

	ASSERT_EQ(setup(&pol, rules, 1, err, sizeof(err)), 0);
	x = call("read_file", "{\"path\":\"/home/u/.ssh/id_rsa\"}", &f, "ssh-dir");
	ASSERT_TRUE(x != NULL);
	ASSERT_STREQ(x->where, "params.arguments.path");
	ASSERT_TRUE(call("read_file", "{\"opts\":{\"paths\":[\"a\",\"/x/.ssh/k\"]}}", &f,
			 "ssh-dir") != NULL);
	ASSERT_TRUE(call("read_file", "{\"path\":\"/home/u/notes\"}", &f, "ssh-dir") == NULL);
	shell_free();
}

TEST(toolrules_bad_regex_names_rule_and_line)
{
	struct pol_tool_rule bad1[] = {R("ok", "^a$", NULL, PA_BLOCK, 3),
				       R("bad-tool", "([", NULL, PA_BLOCK, 7)};
	struct pol_tool_rule bad2[] = {R("bad-arg", "^bash$", "a{2,1}", PA_WARN, 11)};
	struct policy pol;
	char err[256];
	struct toolrules *tr;

	ASSERT_EQ(setup(&pol, bad1, 2, err, sizeof(err)), -1);
	ASSERT_TRUE(strstr(err, "'bad-tool'") != NULL);
	ASSERT_TRUE(strstr(err, "line 7") != NULL);
	ASSERT_TRUE(strstr(err, "tool_pattern") != NULL);
	ASSERT_EQ(setup(&pol, bad2, 1, err, sizeof(err)), -1);
	ASSERT_TRUE(strstr(err, "'bad-arg'") != NULL);
	ASSERT_TRUE(strstr(err, "line 11") != NULL);
	ASSERT_TRUE(strstr(err, "arg_pattern") != NULL);
	tr = toolrules_new(&pol, err, sizeof(err));
	ASSERT_TRUE(tr == NULL);
	/* a failed init leaves the scanner off, not half on */
	{
		struct findings f = {0};

		shell_scan_command("rm -rf /", 8, "w", 1, &f);
		ASSERT_EQ(f.n, 0);
	}
}

TEST(toolrules_runaway_regex_fails_closed)
{
	struct pol_tool_rule rules[] = {R("slow", NULL, "^(a|aa)+$", PA_BLOCK, 2)};
	struct policy pol;
	struct findings f;
	const struct finding *x;
	char err[256], json[128];

	ASSERT_EQ(setup(&pol, rules, 1, err, sizeof(err)), 0);
	snprintf(json, sizeof(json), "{\"path\":\"%s\"}",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	x = call("t", json, &f, "slow");
	ASSERT_TRUE(x != NULL);
	ASSERT_TRUE(strstr(x->detail, "limit") != NULL);
	shell_free();
}

TEST(toolrules_section_disabled_means_no_findings)
{
	struct pol_tool_rule rules[] = {R("any", NULL, NULL, PA_BLOCK, 1)};
	struct policy pol;
	struct findings f;
	char err[256];

	ASSERT_EQ(setup(&pol, rules, 1, err, sizeof(err)), 0);
	ASSERT_TRUE(call("t", "{\"command\":\"rm -rf /\"}", &f, "any") != NULL);
	pol.tool_policy.enabled = false;
	ASSERT_EQ(shell_init_env(&pol, env, err, sizeof(err)), 0);
	call("t", "{\"command\":\"rm -rf /\"}", &f, "any");
	ASSERT_EQ(f.n, 0);
	shell_free();
}

TEST(toolrules_empty_policy_and_counts)
{
	struct pol_tool_rule rules[] = {R("a", NULL, "x", PA_BLOCK, 1),
					R("b", "^t$", NULL, PA_WARN, 2)};
	struct policy pol;
	char err[256];
	struct toolrules *tr = toolrules_new(NULL, err, sizeof(err));

	ASSERT_TRUE(tr != NULL);
	ASSERT_EQ(toolrules_count(tr), 0);
	toolrules_free(tr);
	memset(&pol, 0, sizeof(pol));
	pol.tool_policy.rules = rules;
	pol.tool_policy.nrules = 2;
	tr = toolrules_new(&pol, err, sizeof(err));
	ASSERT_TRUE(tr != NULL);
	ASSERT_EQ(toolrules_count(tr), 2);
	ASSERT_TRUE(toolrules_tool_match(tr, 0, "anything"));
	ASSERT_TRUE(toolrules_tool_match(tr, 1, "t"));
	ASSERT_FALSE(toolrules_tool_match(tr, 1, "tt"));
	toolrules_free(tr);
}

TEST(toolrules_from_a_policy_file)
{
	static const char yaml[] = "mcp_tool_policy:\n"
				   "  enabled: true\n"
				   "  action: block\n"
				   "  rules:\n"
				   "    - name: no-secrets-dir\n"
				   "      tool_pattern: \"^(bash|exec)$\"\n"
				   "      arg_pattern: \"/secrets/\"\n"
				   "      action: warn\n";
	char path[] = "/tmp/mg-toolrules-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct policy *pol;
	struct findings f;
	const struct finding *x;

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, yaml, sizeof(yaml) - 1), (long long)(sizeof(yaml) - 1));
	close(fd);
	pol = policy_load(path, err, sizeof(err));
	unlink(path);
	if (!pol)
		fprintf(stderr, "  policy_load: %s\n", err);
	ASSERT_TRUE(pol != NULL);
	ASSERT_EQ(shell_init_env(pol, env, err, sizeof(err)), 0);
	x = call("exec", "{\"command\":\"cat /srv/sec\\\"\\\"rets/db\"}", &f, "no-secrets-dir");
	ASSERT_TRUE(x != NULL);
	ASSERT_EQ(x->action, PA_WARN);
	shell_free();
	policy_free(pol);
}
