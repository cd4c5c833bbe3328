/* The default policy, compiled in from policy/default.yaml so there is one source of truth. */
__asm__(".section .rodata\n"
	".global mg_default_policy\n"
	".type mg_default_policy, @object\n"
	"mg_default_policy:\n"
	".incbin \"policy/default.yaml\"\n"
	".byte 0\n"
	".global mg_default_policy_end\n"
	"mg_default_policy_end:\n"
	".previous\n");
