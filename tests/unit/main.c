/* Unit-test runner: runs every registered TEST, or those whose name contains argv[1]. */
#include <stdlib.h>

#include "t.h"

static struct t_case *head, **tail = &head;

void t_register(struct t_case *c)
{
	*tail = c;
	tail = &c->next;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (struct t_case *c = head; c; c = c->next) {
		int f = 0;

		if (argc > 1 && !strstr(c->name, argv[1]))
			continue;
		c->fn(&f);
		if (f) {
			printf("not ok - %s (%s)\n", c->name, c->file);
			failed++;
		} else {
			printf("ok - %s\n", c->name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
