/* Internal: the op suite's one-node graphs (drivers/selftest/selftest.h): a seeded
 * random generator and a graph builder whose calls never abort (the first
 * failure sticks in dk__op_case.st and makes later calls no-ops), so that the
 * suite reports a broken case instead of stopping.
 *
 * A case owns its graph and the data of its graph inputs; dk__op_case_end()
 * frees both. */
#ifndef DK_DRIVERS_SELFTEST_SELFTEST_GRAPH_H
#define DK_DRIVERS_SELFTEST_SELFTEST_GRAPH_H

#include <stdint.h>

#include "deltakern/graph.h"
#include "runtime/rng.h"

/* ---- one-node graphs ----------------------------------------------------------- */

#define DK__OP_CASE_MAX_IN 8

typedef struct dk__op_case {
    dk_graph *g;
    int node;                       /* the node under test (after dk__op_case_finish) */
    dk_status st;                   /* first failure while building; DK_OK otherwise */
    dk_rng rng;                     /* the case's generator (shapes, parameters, data) */
    int n_data;
    int data_value[DK__OP_CASE_MAX_IN];      /* graph input value index of data[i] */
    dk_tensor data[DK__OP_CASE_MAX_IN];      /* data of the graph inputs */
    const dk_tensor
        *in[DK__OP_CASE_MAX_IN];    /* node inputs as a backend receives them (NULL: omitted) */
    char desc[400];                 /* human description of shapes and attributes */
} dk__op_case;

/* Starts a case: empty graph of this default opset, generator seeded with seed. */
void dk__op_case_begin(dk__op_case *c, uint64_t seed, int64_t opset);
/* Frees the graph and the input data. */
void dk__op_case_end(dk__op_case *c);

/* A graph input of float32 with this shape, data uniform in [lo, hi). Returns
 * the value index (-1 after a failure). */
int dk__op_case_input(dk__op_case *c, const char *name, int ndim, const int64_t *dims, double lo,
                      double hi);
/* A graph input of any dtype with this shape, data zero: the generator fills
 * it through dk__op_case_tensor (bool masks, integer operands). */
int dk__op_case_input_typed(dk__op_case *c, const char *name, dk_dtype dtype, int ndim,
                            const int64_t *dims);
/* A float32 constant (weights), uniform in [lo, hi). */
int dk__op_case_const(dk__op_case *c, const char *name, int ndim, const int64_t *dims, double lo,
                      double hi);
/* An int64 constant with these values: 1-D of count values, or a scalar when ndim is 0. */
int dk__op_case_const_ints(dk__op_case *c, const char *name, int ndim, int64_t count,
                           const int64_t *v);
/* A float32 scalar constant (ndim 0) or graph input (as_input) holding v. */
int dk__op_case_scalar(dk__op_case *c, const char *name, float v, int as_input);
/* The data tensor of value v (graph input or constant), NULL when it has none. */
dk_tensor *dk__op_case_tensor(dk__op_case *c, int v);
/* Multiplies every element of value v by a random sign and maps |x| into [lo, hi)
 * (keeps divisors and variances away from zero). */
void dk__op_case_away_from_zero(dk__op_case *c, int v, double lo, double hi, int random_sign);

/* Adds the node under test reading inputs ins (-1: omitted), with n_out outputs. */
void dk__op_case_node(dk__op_case *c, dk_op op, const int *ins, int n_in, int n_out);
void dk__op_case_attr_int(dk__op_case *c, const char *name, int64_t v);
void dk__op_case_attr_float(dk__op_case *c, const char *name, float v);
void dk__op_case_attr_ints(dk__op_case *c, const char *name, int count, const int64_t *v);
void dk__op_case_attr_string(dk__op_case *c, const char *name, const char *s);

/* Appends printf-style text to the description. */
void dk__op_case_desc(dk__op_case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "1x3x224x224" into one of 8 rotating static buffers. */
const char *dk__op_case_shape(int ndim, const int64_t *dims);

/* Finalises the graph (shape inference) and fills c->node and c->in. */
dk_status dk__op_case_finish(dk__op_case *c);

#endif
