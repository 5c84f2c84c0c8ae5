/* Helpers shared by the unit tests (tests/unit/test_*.c): a seeded random
 * generator, one-node graphs built by hand, kernels run on poisoned outputs,
 * tolerance and error checks, and a scratch directory. They report failures
 * through cmocka, so they are called from inside cmocka tests and fixtures. */
#ifndef DK_TESTS_UNIT_TEST_UTIL_H
#define DK_TESTS_UNIT_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deltakern/graph.h"
#include "layers/op_table.h"

#define TU_NODE "test_node"              /* name of the node tu_add_node adds */
#define TU_PYTHON "/usr/bin/python3"     /* interpreter for the reference tools */
#define TU_REFS_TOOL DK_SOURCE_DIR "/tests/tools/input_refs.py"

/* ---- random numbers (printed seed; DK_TEST_SEED repeats a run) ----------- */

/* Names the test and seeds the generator from DK_TEST_SEED or the clock, printing the seed. */
void tu_init(const char *test_name);
/* Next 64 random bits (runtime/rng.h). */
uint64_t tu_rng_next(void);
/* Uniform double in [lo, hi). */
double tu_rng_uniform(double lo, double hi);
/* Uniform integer in [lo, hi], both inclusive. */
int64_t tu_rng_int(int64_t lo, int64_t hi);
/* Fills t with uniform values in [lo, hi] (whole numbers for integer dtypes). */
void tu_fill_uniform(dk_tensor *t, double lo, double hi);

/* ---- hand-built graphs ---------------------------------------------------- */

/* An empty graph of the given default opset (source "unit_test.onnx" for messages). */
dk_graph *tu_new_graph(int64_t opset);
/* Adds a value of dtype and shape; allocated and filled uniformly in [lo, hi] when lo <= hi. */
int tu_add_value(dk_graph *g, const char *name, dk_value_kind kind, dk_dtype dt, int ndim,
                 const int64_t *dims, double lo, double hi);
/* tu_add_value for a graph input. */
int tu_add_input(dk_graph *g, const char *name, dk_dtype dt, int ndim, const int64_t *dims,
                 double lo, double hi);
/* Adds node TU_NODE reading ins (-1 = omitted) with n_out graph outputs; returns its index. */
int tu_add_node(dk_graph *g, dk_op op, const int *ins, int n_in, int n_out);
/* Adds node `name` reading ins with one output value `out` (not a graph
 * output); returns its index. */
int tu_add_named_node(dk_graph *g, const char *name, dk_op op, const int *ins, int n_in, const char *out);
/* Appends an attribute of the given type, zeroed, to node k. */
dk_attr *tu_add_attr(dk_graph *g, int k, const char *name, dk_attr_type type);
/* Appends an INT attribute to node k. */
void tu_attr_int(dk_graph *g, int k, const char *name, int64_t v);
/* Appends a FLOAT attribute to node k. */
void tu_attr_float(dk_graph *g, int k, const char *name, float v);
/* Appends a STRING attribute to node k. */
void tu_attr_string(dk_graph *g, int k, const char *name, const char *s);
/* Appends an INTS attribute of count values to node k. */
void tu_attr_ints(dk_graph *g, int k, const char *name, int count, const int64_t *v);
/* Appends a FLOATS attribute of count values to node k. */
void tu_attr_floats(dk_graph *g, int k, const char *name, int count, const float *v);
/* Output o of node k. */
const dk_tensor *tu_output(const dk_graph *g, int k, int o);

/* ---- running kernels and checking results --------------------------------- */

/* Allocates ys[0..n_out) like node k's outputs and poisons them (NaN; 0xA5
 * bytes for integers); outs[o] = &ys[o]. */
void tu_alloc_poisoned(const dk_graph *g, int k, dk_tensor *ys, int n_out, dk_tensor **outs);
/* Allocates ys[0..n_out) like node k's outputs, poisons them (NaN; 0xA5 bytes
 * for integers) and runs fn on the node's inputs. */
dk_status tu_run_kernel(dk_graph *g, int k, dk_eval_fn fn, dk_tensor *ys, int n_out);
/* t must have exactly this shape. */
void tu_assert_shape(const dk_tensor *t, int ndim, const int64_t *dims);
/* |y - ref| <= 2^-23 |ref| + 1e-12 * scale (one float rounding after double math). */
void tu_assert_close(const char *what, int64_t i, double y, double ref, double scale);
/* dk_graph_finalize(g) must fail with want, naming TU_NODE and containing fragment (if any). */
void tu_expect_finalize_error(dk_graph *g, dk_status want, const char *fragment);
/* got must be want and, when needle is set, the last error message must contain it. */
void tu_assert_status(dk_status got, dk_status want, const char *needle);

/* ---- files ------------------------------------------------------------------ */

/* cmocka group setup: creates the scratch directory /tmp/dk_<test name>_XXXXXX. */
int tu_tmpdir_setup(void **state);
/* cmocka group teardown: removes the scratch directory and the files in it. */
int tu_tmpdir_teardown(void **state);
/* The scratch directory. */
const char *tu_tmpdir(void);
/* tmpdir/name, in one of 8 rotating static buffers. */
const char *tu_tmp_path(const char *name);
/* Writes n bytes to path, replacing it. */
void tu_write_file(const char *path, const void *data, size_t n);
/* Reads a whole file (malloc'ed, one spare byte); *n receives its size. */
unsigned char *tu_read_file(const char *path, size_t *n);
/* TU_PYTHON exists and imports the comma-separated modules. */
int tu_python_has(const char *modules);

#endif
