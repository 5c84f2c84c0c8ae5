/* deltakern — running a graph on a backend, node by node.
 *
 * dk_session_create() plans every node (all descriptor and primitive
 * creation, weight preparation) so that dk_session_run() does only the work
 * that is timed. Each node's outputs reach the optional observer as host
 * float32 (or the node's dtype) tensors in NCHW order together with the
 * node's execution time.
 *
 * Ownership: the session keeps a pointer to the graph, which must outlive it;
 * tensors passed to the observer and returned by dk_session_output() belong to
 * the session and stay valid until the next run or dk_session_destroy(). */
#ifndef DELTAKERN_SESSION_H
#define DELTAKERN_SESSION_H

#include "deltakern/backend.h"
#include "deltakern/graph.h"
#include "deltakern/status.h"
#include "deltakern/tensor.h"
#include "deltakern/variant.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dk_session dk_session;

/* Called after node `node` ran; `seconds` is its execution time alone. */
typedef void (*dk_node_observer)(void *user, const dk_graph *g, int node,
                                 const dk_tensor *const *outputs, double seconds);

/* Opens the variant's backend with its options and plans every node. */
dk_status dk_session_create(const dk_graph *g, const dk_variant *variant, dk_session **out);
void dk_session_destroy(dk_session *s);

void dk_session_set_observer(dk_session *s, dk_node_observer fn, void *user);

/* Runs the graph. inputs[i] feeds graph input i (g->inputs[i]); its dtype and
 * shape must match the model's exactly (an error names both otherwise). */
dk_status dk_session_run(dk_session *s, const dk_tensor *inputs, int n_inputs);

/* Graph output i after the last run. */
const dk_tensor *dk_session_output(const dk_session *s, int i);

/* Seconds spent in the last run's node executions (sum over nodes). */
double dk_session_last_seconds(const dk_session *s);

/* Called right before and right after each node's execution (after the
 * backend's sync), around the timed region: for hardware counters. */
typedef void (*dk_node_hook)(void *user, int node);
void dk_session_set_hooks(dk_session *s, dk_node_hook before, dk_node_hook after, void *user);

const dk_graph *dk_session_graph(const dk_session *s);
const dk_variant *dk_session_variant(const dk_session *s);

/* --- driving single nodes: isolated and mixed runs ---------------------- */

/* Host canonical tensor of value v as the session holds it now (after a run,
 * a run_node or a set_value), converted from the backend's own layout or
 * device if needed (never timed). NULL with an error for a value no node
 * uses. Valid until the next call on the session. */
const dk_tensor *dk_session_value(dk_session *s, int v);

/* Overwrites value v with t (dtype and shape must match; an error names
 * both otherwise). A constant (weights) cannot change after planning: setting
 * it to its own data is accepted, to other data is an error. */
dk_status dk_session_set_value(dk_session *s, int v, const dk_tensor *t);

/* NaN in every value the session and its backend hold except the constants
 * (weights) and until the next run or set_value: before a second run on
 * the same input, so that anything it reads without writing it first shows
 * (the determinism check). Values start poisoned when a session is made. */
dk_status dk_session_poison(dk_session *s);

/* Frees the activations (every value but the constants) until the session
 * is used again: the next run, run_node, set_value or value allocates them
 * anew, poisoned (as at creation). For a caller that holds several sessions
 * and needs one at a time (diff: one variant's activations, not all of
 * them). Only the host tensors are freed: a backend that keeps values in
 * its own memory (a device, oneDNN's propagated blocked layouts) keeps that
 * memory, poisoned when the session is used again. */
void dk_session_release(dk_session *s);

/* Runs node k alone on the values the session holds now (the observer and
 * hooks are called as in a full run); *seconds (may be NULL) receives its
 * execution time. */
dk_status dk_session_run_node(dk_session *s, int k, double *seconds);

#ifdef __cplusplus
}
#endif
#endif
