/* The table of graph passes and the driver that runs them by level. */
#include <stdio.h>
#include <string.h>

#include "deltakern/passes.h"
#include "layers/passes_internal.h"
#include "runtime/error.h"
#include "runtime/text.h"

typedef struct pass {
    dk_pass_info info;
    dk_status (*run)(dk_graph *g);
} pass;

static const pass passes[] = {
    {{"fold_batchnorm", 1, "fold BatchNormalization into the preceding Conv's weights and bias"},
     dk__pass_fold_batchnorm},
    {{"fold_pad", 2, "fold a zero Pad into the AveragePool it feeds (its padding, counted in the divisor)"},
     dk__pass_fold_pad},
    {{"fuse_residual", 2, "fuse an Add of a Conv's output and another value into the Conv (sum post-op)"},
     dk__pass_fuse_residual},
    {{"fuse_activation", 2, "fuse a Relu or constant-bound Clip after a Conv into it (eltwise post-op)"},
     dk__pass_fuse_activation},
    {{"propagate_layout", 3, "keep activations in the layout their producer chose (no reorders between layers)"},
     dk__pass_propagate_layout},
    {{"choose_algorithm", 3, "time each convolution's algorithms at plan time and keep the fastest"},
     dk__pass_choose_algorithm},
};
#define N_PASSES ((int)(sizeof passes / sizeof passes[0]))

int dk_pass_count(void) { return N_PASSES; }

const dk_pass_info *dk_pass_at(int i) { return i >= 0 && i < N_PASSES ? &passes[i].info : NULL; }

/* Is `name` one of the '+'-separated names in list? */
static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *plus = strchr(p, '+');
        size_t plen = plus ? (size_t)(plus - p) : strlen(p);
        if (plen == len && !strncmp(p, name, len)) return 1;
        p += plen + (plus ? 1 : 0);
    }
    return 0;
}

static dk_status check_disabled(const char *disabled)
{
    char word[64];
    for (const char *p = disabled; p && *p;) {
        const char *plus = strchr(p, '+');
        size_t plen = plus ? (size_t)(plus - p) : strlen(p);
        snprintf(word, sizeof word, "%.*s", (int)(plen < 63 ? plen : 63), p);
        int known = 0;
        for (int i = 0; i < N_PASSES; i++) known |= !strcmp(passes[i].info.name, word);
        if (!known) {
            char names[256] = "";
            for (int i = 0; i < N_PASSES; i++) dk_join(names, sizeof names, ", ", passes[i].info.name);
            return dk__error(DK_ERR_INVALID, "unknown graph pass '%s' (passes: %s)", word, names);
        }
        p += plen + (plus ? 1 : 0);
    }
    return DK_OK;
}

dk_status dk_graph_optimize(dk_graph *g, int opt, const char *disabled)
{
    if (opt < 0 || opt > DK_OPT_MAX) return dk__error(DK_ERR_INVALID, "opt=%d: expected 0 to %d", opt, DK_OPT_MAX);
    DK_TRY(check_disabled(disabled));
    for (int i = 0; i < N_PASSES; i++) {
        if (passes[i].info.level > opt || listed(disabled, passes[i].info.name)) continue;
        dk_status s = passes[i].run(g);
        if (s != DK_OK) return dk__error_prefix(s, "%s: pass %s", g->source ? g->source : "graph", passes[i].info.name);
    }
    return DK_OK;
}
