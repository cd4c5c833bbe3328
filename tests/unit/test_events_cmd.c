/* `mcpguard events` rendering of daemon event lines. */
#include <string.h>

/* The proxy's modules are not in the library: compile this one in. */
#include "../../user/proxy/events.c"
#include "t.h"

TEST(events_render_kernel_deny)
{
	char out[512];

	ASSERT_EQ(
	    evcmd_render("{\"time\":\"2026-11-25T10:00:00Z\",\"pid\":42,\"comm\":\"node\","
			 "\"hook\":\"connect4\",\"target\":\"169.254.169.254:80\","
			 "\"rule\":\"cloud-metadata\",\"action\":\"block\",\"exe\":\"/usr/bin/"
			 "node\",\"cgroup\":\"/mcp/s1\"}",
			 0, out, sizeof(out)),
	    0);
	ASSERT_TRUE(strstr(out, "block") != NULL);
	ASSERT_TRUE(strstr(out, "node[42] connect -> 169.254.169.254:80 (rule cloud-metadata)") !=
		    NULL);
	ASSERT_TRUE(strstr(out, "\033[") == NULL); /* no colour when not asked */
	ASSERT_EQ(evcmd_render("{\"action\":\"block\",\"hook\":\"file_open\",\"target\":\"/x\"}", 1,
			       out, sizeof(out)),
		  0);
	ASSERT_TRUE(strstr(out, "\033[1;31mblock") != NULL);
	ASSERT_TRUE(strstr(out, "open -> /x") != NULL);
}

TEST(events_render_rejects_non_events)
{
	char out[128];

	ASSERT_EQ(evcmd_render("not json", 0, out, sizeof(out)), -1);
	ASSERT_EQ(evcmd_render("[1,2]", 0, out, sizeof(out)), -1);
	/* A long line is cut, never overflowed. */
	char big[4096];
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"target\":\"", 11);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	ASSERT_EQ(evcmd_render(big, 0, out, sizeof(out)), 0);
	ASSERT_TRUE(strlen(out) < sizeof(out));
}

/* The guarded process names itself and its targets: its escapes never reach the terminal. */
TEST(events_render_strips_terminal_escapes_from_event_fields)
{
	char out[512];

	ASSERT_EQ(evcmd_render("{\"action\":\"block\",\"hook\":\"file_open\",\"comm\":"
			       "\"x\\u001b[2K\\r\",\"target\":\"/home/u/.ssh/id_rsa\\u001b[1A\","
			       "\"exe\":\"/tmp/a\\u009b2J\\u0007\"}",
			       0, out, sizeof(out)),
		  0);
	ASSERT_TRUE(strchr(out, '\033') == NULL);
	ASSERT_TRUE(strchr(out, '\r') == NULL);
	ASSERT_TRUE(strchr(out, '\a') == NULL);
	ASSERT_TRUE(strstr(out, "\xc2\x9b") == NULL);
	ASSERT_TRUE(strstr(out, "open -> /home/u/.ssh/id_rsa?[1A") != NULL);
	/* Colour asked for: only the listing's own escapes are there. */
	ASSERT_EQ(
	    evcmd_render("{\"action\":\"block\",\"comm\":\"\\u001b[0m\"}", 1, out, sizeof(out)), 0);
	ASSERT_TRUE(strstr(out, "?[0m") != NULL);
}
