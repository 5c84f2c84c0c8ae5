/* Internal: the op suite's case generators (drivers/selftest/selftest.h): for every
 * float32 op of the reference, a one-node graph with random shapes,
 * attributes and data. Each op has a few
 * shape classes taken from real models (1x1, 3x3, strided, grouped, depthwise,
 * 7x7 stride 2, 1x7/7x1, pools with ceil_mode, broadcasting binaries, ...);
 * case k of an op is class k % classes with sizes drawn from the case's seed. */
#ifndef DK_DRIVERS_SELFTEST_SELFTEST_CASES_H
#define DK_DRIVERS_SELFTEST_SELFTEST_CASES_H

#include "drivers/selftest/selftest_graph.h"

typedef void (*dk__op_gen_fn)(dk__op_case *c, int cls);

typedef struct dk__op_gen {
    dk_op op;
    int classes;
    dk__op_gen_fn gen;
    const char *class_names; /* the classes in order, ';'-separated */
} dk__op_gen;

/* selftest_cases_resample.c */
void dk__gen_convtranspose(dk__op_case *c, int cls);
void dk__gen_resize(dk__op_case *c, int cls);
void dk__gen_upsample(dk__op_case *c, int cls);
void dk__gen_instancenorm(dk__op_case *c, int cls);

/* Generator i (from 0), NULL past the end. */
const dk__op_gen *dk__op_gen_at(int i);
/* Generator for an op by ONNX name (case-insensitive), NULL when none. */
const dk__op_gen *dk__op_gen_find(const char *name);
/* The name of class cls of gen ("3x3/s2"), into buf. */
const char *dk__op_gen_class_name(const dk__op_gen *gen, int cls, char *buf, size_t n);

#endif
