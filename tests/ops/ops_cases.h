/* The op suite's case generators: for every float32 op of the reference, a
 * one-node graph with random shapes, attributes and data. Each op has a few
 * shape classes taken from real models (1x1, 3x3, strided, grouped, depthwise,
 * 7x7 stride 2, 1x7/7x1, pools with ceil_mode, broadcasting binaries, ...);
 * case k of an op is class k % classes with sizes drawn from the case's seed. */
#ifndef DK_OPS_CASES_H
#define DK_OPS_CASES_H

#include "ops_graph.h"

typedef void (*og_gen_fn)(og_case *c, int cls);

typedef struct og_op_gen {
    dk_op op;
    int classes;
    og_gen_fn gen;
    const char *class_names; /* the classes in order, ';'-separated */
} og_op_gen;

/* Generator i (from 0), NULL past the end. */
const og_op_gen *og_generator(int i);
/* Generator for an op by ONNX name (case-insensitive), NULL when none. */
const og_op_gen *og_generator_by_name(const char *name);
/* The name of class cls of gen ("3x3/s2"), into buf. */
const char *og_class_name(const og_op_gen *gen, int cls, char *buf, size_t n);

#endif
