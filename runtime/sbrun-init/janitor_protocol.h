/* The channel from sbrun to its janitor (janitor.hpp, janitor.c): lines of
 * text ("mkdir PATH", "pid N", "done"), "done" with the placeholders' held
 * descriptors attached. Plain C: sbrun (C++) and sbrun-init (C) read it. */
#ifndef SBPOLICY_RUNTIME_JANITOR_PROTOCOL_H
#define SBPOLICY_RUNTIME_JANITOR_PROTOCOL_H

enum {
  /* The janitor's end of its channel from sbrun, in the janitor process. */
  SB_JANITOR_CHANNEL_FD = 3,
  /* Descriptors per SCM_RIGHTS message (the kernel's limit is 253). */
  SB_JANITOR_FDS_PER_MESSAGE = 200,
};

#endif
