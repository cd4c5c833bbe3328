/* Capability drop after attach. */
#ifndef MG_CAPS_H
#define MG_CAPS_H

/* Keep only what the running loop needs (see caps.c); -1 on failure. */
int caps_drop(void);
/* "cap_bpf,cap_kill,..." as kept, for the banner. */
const char *caps_kept(void);

#endif
