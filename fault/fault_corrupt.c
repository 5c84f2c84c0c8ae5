/* The fault wrapper's corruptions of one node's output 0:
 *   noise          y_i += scale * tol_i * z_i, z_i = +-1 from the seed (the same every run)
 *   flaky          the same with signs drawn anew each run (a nondeterministic kernel)
 *   nan            one element (picked by the seed) set to NaN
 *   bias           y_i += scale * tol_i
 *   zero           y := 0
 *   swap-channels  channels 0 and 1 (axis 1) exchanged
 * tol_i is element i's bound from the tolerance table (dk_tolerance_bounds with
 * the node's inputs and its uncorrupted output as the reference, in the
 * variant's precision), so that every noise or bias element lies exactly scale
 * bounds off. Where the table gives no bound (an op without a row) or a bound
 * of 0 (exact ops: selects, copies), tol_i = 1e-3 |y_i| + 1e-6 instead: a
 * relative change big enough to survive float32 rounding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault_internal.h"
#include "runtime/error.h"
#include "runtime/rng.h"

#define FALLBACK_REL 1e-3
#define FALLBACK_ABS 1e-6

/* Does the base keep values in its own memory (see backend_iface.h)? */
static int native(const fault_ctx *c) { return dk__backend_native(c->base); }

/* tol[i] for every element of y; counts the elements that took the fallback. */
static dk_status bounds(const fault_ctx *c, const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                        const dk_tensor *y, double *tol, int64_t *fallback)
{
    int64_t count = dk_tensor_numel(y);
    const float *yv = y->data;
    int have_row = 1;
    double *S = malloc(sizeof(double) * (size_t)(count + 1));
    if (!S) return dk__error(DK_ERR_NOMEM, "out of memory");
    dk_status st = dk_tolerance_bounds(g, n, c->prec, in, y, tol, S);
    free(S);
    if (st == DK_ERR_UNSUPPORTED) {
        dk__error_clear();
        have_row = 0;
    } else if (st != DK_OK) {
        return st;
    }
    *fallback = 0;
    for (int64_t i = 0; i < count; i++)
        if (!have_row || !(tol[i] > 0) || !isfinite(tol[i])) {
            tol[i] = FALLBACK_REL * fabs((double)yv[i]) + FALLBACK_ABS;
            (*fallback)++;
        }
    return DK_OK;
}

/* flaky's signs change with every execution in the process, not per context:
 * a caller that opens a fresh context per run (the op suite does, for a base
 * that keeps values in its own memory) must still see two different runs. */
static uint64_t flaky_draw(void)
{
    static _Atomic uint64_t executions;
    return ++executions;
}

static dk_status add_bounds(const fault_ctx *c, const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                            dk_tensor *y, dk__fault_event *ev)
{
    int64_t count = dk_tensor_numel(y);
    double *tol = malloc(sizeof(double) * (size_t)(count + 1));
    if (!tol) return dk__error(DK_ERR_NOMEM, "out of memory");
    dk_status st = bounds(c, g, n, in, y, tol, &ev->fallback);
    if (st == DK_OK) {
        float *yv = y->data;
        uint64_t state = c->kind == FAULT_FLAKY ? c->seed + 0x9E3779B97F4A7C15ull * flaky_draw() : c->seed;
        for (int64_t i = 0; i < count; i++) {
            double z = c->kind == FAULT_BIAS ? 1.0 : (dk_rng_mix(&state) >> 63) ? 1.0 : -1.0;
            yv[i] = (float)((double)yv[i] + c->scale * tol[i] * z);
        }
    }
    free(tol);
    return st;
}

/* Exchanges channels 0 and 1 of every batch item (any element type). */
static void swap_channels(dk_tensor *y)
{
    size_t esize = dk_dtype_size(y->dtype);
    int64_t inner = 1;
    for (int d = 2; d < y->ndim; d++) inner *= y->dims[d];
    size_t block = (size_t)inner * esize;
    unsigned char *p = y->data, tmp[256];
    for (int64_t b = 0; b < y->dims[0]; b++) {
        unsigned char *c0 = p + (size_t)b * (size_t)y->dims[1] * block, *c1 = c0 + block;
        for (size_t off = 0; off < block; off += sizeof tmp) {
            size_t len = block - off < sizeof tmp ? block - off : sizeof tmp;
            memcpy(tmp, c0 + off, len);
            memcpy(c0 + off, c1 + off, len);
            memcpy(c1 + off, tmp, len);
        }
    }
}

/* Host copies of the node's inputs for the bound. A base with its own memory
 * converts a value it holds into the copy; for a value it keeps on the host its
 * to_canonical does nothing and the copy keeps the host tensor's contents.
 * Graph inputs and constants are always current on the host. */
static dk_status host_inputs(const fault_ctx *c, const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                             const dk_tensor **hin, dk_tensor *copies)
{
    for (int i = 0; i < n->n_inputs; i++) {
        hin[i] = in[i];
        int v = n->inputs[i];
        if (!native(c) || v < 0 || !in[i] || g->values[v].kind != DK_VALUE_ACTIVATION) continue;
        DK_TRY(dk_tensor_copy(&copies[i], in[i]));
        DK_TRY(dk__backend_to_canonical(c->base, c->base_ctx, g, v, &copies[i]));
        hin[i] = &copies[i];
    }
    return DK_OK;
}

static dk_status corrupt_host(const fault_ctx *c, const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                              dk_tensor *y, dk__fault_event *ev)
{
    switch (c->kind) {
    case FAULT_ZERO: memset(y->data, 0, dk_tensor_nbytes(y)); return DK_OK;
    case FAULT_SWAP: swap_channels(y); return DK_OK;
    case FAULT_NAN: {
        uint64_t state = c->seed;
        int64_t count = dk_tensor_numel(y);
        if (count) ((float *)y->data)[dk_rng_mix(&state) % (uint64_t)count] = NAN;
        return DK_OK;
    }
    case FAULT_NOISE:
    case FAULT_BIAS:
    case FAULT_FLAKY: break;
    default: return dk__error(DK_ERR_INTERNAL, "fault: kind %s corrupts nothing", c->kind_name);
    }
    const dk_tensor **hin = calloc((size_t)n->n_inputs + 1, sizeof *hin);
    dk_tensor *copies = calloc((size_t)n->n_inputs + 1, sizeof *copies);
    dk_status st = hin && copies ? host_inputs(c, g, n, in, hin, copies) : dk__error(DK_ERR_NOMEM, "out of memory");
    if (st == DK_OK) st = add_bounds(c, g, n, (const dk_tensor *const *)hin, y, ev);
    for (int i = 0; copies && i < n->n_inputs; i++) dk_tensor_reset(&copies[i]);
    free(copies);
    free(hin);
    return st;
}

dk_status dk__fault_corrupt(fault_ctx *c, const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                            dk_tensor *const *out, dk__fault_event *ev)
{
    ev->count = dk_tensor_numel(out[0]);
    if (!native(c)) return corrupt_host(c, g, n, in, out[0], ev);
    /* The base may hold the output: corrupt a converted copy and hand it back,
     * to the host tensor too (the base may keep this value on the host). */
    dk_tensor y = {0};
    int v = n->outputs[0];
    dk_status st = dk_tensor_copy(&y, out[0]);
    if (st == DK_OK) st = dk__backend_to_canonical(c->base, c->base_ctx, g, v, &y);
    if (st == DK_OK) st = corrupt_host(c, g, n, in, &y, ev);
    if (st == DK_OK) {
        memcpy(out[0]->data, y.data, dk_tensor_nbytes(&y));
        st = dk__backend_from_canonical(c->base, c->base_ctx, g, v, &y);
    }
    dk_tensor_reset(&y);
    return st;
}
