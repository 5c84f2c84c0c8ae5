/* Internal: what the library's own drivers ask a session beyond the public
 * API (include/deltakern/session.h). */
#ifndef DK_EXEC_SESSION_INTERNAL_H
#define DK_EXEC_SESSION_INTERNAL_H

#include "deltakern/session.h"

/* Node k's plan traits (DK_PLAN_MAY_DIFFER, DK_PLAN_TRANSFORM:
 * kernels/backend_iface.h); 0 for a node out of range. */
unsigned dk__session_node_traits(const dk_session *s, int k);

#endif
