/* The op suite's one-node graphs: a seeded random generator and a graph
 * builder whose calls never abort (the first failure sticks in og_case.st and
 * makes later calls no-ops), so that a program, not only a cmocka test, can
 * build graphs and report a broken case instead of exiting.
 *
 * A case owns its graph and the data of its graph inputs; og_end() frees both. */
#ifndef DK_OPS_GRAPH_H
#define DK_OPS_GRAPH_H

#include <stdint.h>

#include "deltakern/graph.h"

/* ---- random numbers --------------------------------------------------------- */

typedef struct og_rng { uint64_t s; } og_rng;

/* splitmix64 step: mixes *x into a well-distributed 64-bit value. */
uint64_t og_mix(uint64_t *x);
void og_rng_seed(og_rng *r, uint64_t seed);
uint64_t og_next(og_rng *r);                       /* xorshift64* */
double og_uniform(og_rng *r, double lo, double hi); /* [lo, hi) */
int64_t og_int(og_rng *r, int64_t lo, int64_t hi);  /* [lo, hi], both inclusive */
int og_chance(og_rng *r, double p);                 /* 1 with probability p */

/* ---- one-node graphs ----------------------------------------------------------- */

#define OG_MAX_IN 8

typedef struct og_case {
    dk_graph *g;
    int node;                       /* the node under test (after og_finish) */
    dk_status st;                   /* first failure while building; DK_OK otherwise */
    og_rng rng;                     /* the case's generator (shapes, parameters, data) */
    int n_data;
    int data_value[OG_MAX_IN];      /* graph input value index of data[i] */
    dk_tensor data[OG_MAX_IN];      /* data of the graph inputs */
    const dk_tensor *in[OG_MAX_IN]; /* node inputs as a backend receives them (NULL: omitted) */
    char desc[400];                 /* human description of shapes and attributes */
} og_case;

/* Starts a case: empty graph of this default opset, generator seeded with seed. */
void og_begin(og_case *c, uint64_t seed, int64_t opset);
/* Frees the graph and the input data. */
void og_end(og_case *c);

/* A graph input of float32 with this shape, data uniform in [lo, hi). Returns
 * the value index (-1 after a failure). */
int og_input(og_case *c, const char *name, int ndim, const int64_t *dims, double lo, double hi);
/* A float32 constant (weights), uniform in [lo, hi). */
int og_const(og_case *c, const char *name, int ndim, const int64_t *dims, double lo, double hi);
/* An int64 constant with these values: 1-D of count values, or a scalar when ndim is 0. */
int og_const_ints(og_case *c, const char *name, int ndim, int64_t count, const int64_t *v);
/* A float32 scalar constant (ndim 0) or graph input (as_input) holding v. */
int og_scalar(og_case *c, const char *name, float v, int as_input);
/* The data tensor of value v (graph input or constant), NULL when it has none. */
dk_tensor *og_tensor(og_case *c, int v);
/* Multiplies every element of value v by a random sign and maps |x| into [lo, hi)
 * (keeps divisors and variances away from zero). */
void og_away_from_zero(og_case *c, int v, double lo, double hi, int random_sign);

/* Adds the node under test reading inputs ins (-1: omitted), with n_out outputs. */
void og_node(og_case *c, dk_op op, const int *ins, int n_in, int n_out);
void og_attr_int(og_case *c, const char *name, int64_t v);
void og_attr_float(og_case *c, const char *name, float v);
void og_attr_ints(og_case *c, const char *name, int count, const int64_t *v);
void og_attr_string(og_case *c, const char *name, const char *s);

/* Appends printf-style text to the description. */
void og_desc(og_case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "1x3x224x224" into one of 8 rotating static buffers. */
const char *og_shape(int ndim, const int64_t *dims);

/* Finalises the graph (shape inference) and fills c->node and c->in. */
dk_status og_finish(og_case *c);

#endif
