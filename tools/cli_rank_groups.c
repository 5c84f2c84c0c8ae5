/* --rank-variant RANKS=VARIANT (mpirun ... deltakern diff): which ranks run
 * which variants. A rank runs every variant whose RANKS name it; ranks that
 * run the same variants form a group, which shares the inputs out among its
 * ranks as shards. A variant belongs to one group, so that the groups'
 * results merge into one run of every variant (dk_diff_merge_groups). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/status.h"
#include "deltakern/variant.h"
#include "tools/cli_rank_groups.h"

/* RANKS: K, K-L, or a comma-separated list of them, each below n_ranks. */
static int parse_ranks(const char *s, size_t len, int n_ranks, char *in, char *err, size_t err_size)
{
    char text[256];
    if (len == 0 || len >= sizeof text) goto bad;
    memcpy(text, s, len);
    text[len] = 0;
    for (char *p = text; *p;) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0) goto bad;
        if (*end == '-') {
            char *q = end + 1;
            b = strtol(q, &end, 10);
            if (end == q || b < a) goto bad;
        }
        if (*end && *end != ',') goto bad;
        if (b >= n_ranks) {
            snprintf(err, err_size, "diff: --rank-variant %.*s names rank %ld, and the job has %d rank%s (0-%d)",
                     (int)len, s, b, n_ranks, n_ranks > 1 ? "s" : "", n_ranks - 1);
            return -1;
        }
        for (long r = a; r <= b; r++) in[r] = 1;
        p = *end ? end + 1 : end;
    }
    return 0;
bad:
    snprintf(err, err_size, "diff: --rank-variant '%s': expected RANKS=VARIANT, RANKS being K, K-L or a list "
             "of them (e.g. 0-1=onednn or 2,3=cudnn)", s);
    return -1;
}

/* The variant's index in g, added when new. */
static int variant_slot(dk_cli_rank_groups *g, const dk_variant *v)
{
    char name[256];
    dk_variant_canonical(v, 0, name, sizeof name);
    for (int i = 0; i < g->n_variants; i++)
        if (!strcmp(g->names[i], name)) return i;
    if (g->n_variants == DK_DIFF_MAX_VARIANTS) return -1;
    g->variants[g->n_variants] = *v;
    snprintf(g->names[g->n_variants], sizeof g->names[0], "%s", name);
    return g->n_variants++;
}

static void describe_rank(const dk_cli_rank_groups *g, const char *runs, int rank, char *buf, size_t size)
{
    snprintf(buf, size, "rank %d:", rank);
    for (int v = 0; v < g->n_variants; v++)
        if (runs[(size_t)rank * DK_DIFF_MAX_VARIANTS + v])
            snprintf(buf + strlen(buf), size - strlen(buf), " %s", g->names[v]);
}

int dk_cli_rank_groups_build(const char *const *specs, int n_specs, int n_ranks, dk_cli_rank_groups *g, char *err,
                             size_t err_size)
{
    memset(g, 0, sizeof *g);
    g->n_ranks = n_ranks;
    /* runs[rank][variant] */
    char *runs = calloc((size_t)n_ranks * DK_DIFF_MAX_VARIANTS, 1), *in = calloc((size_t)n_ranks, 1);
    g->group_of = calloc((size_t)n_ranks, sizeof *g->group_of);
    g->index_in_group = calloc((size_t)n_ranks, sizeof *g->index_in_group);
    g->group_size = calloc((size_t)n_ranks, sizeof *g->group_size);
    g->variant_group = calloc(DK_DIFF_MAX_VARIANTS, sizeof *g->variant_group);
    int rc = -1;
    if (!runs || !in || !g->group_of || !g->index_in_group || !g->group_size || !g->variant_group) {
        snprintf(err, err_size, "diff: out of memory");
        goto done;
    }
    for (int s = 0; s < n_specs; s++) {
        const char *eq = strchr(specs[s], '=');
        memset(in, 0, (size_t)n_ranks);
        if (parse_ranks(specs[s], eq ? (size_t)(eq - specs[s]) : 0, n_ranks, in, err, err_size) != 0) goto done;
        dk_variant v[DK_DIFF_MAX_VARIANTS];
        int got = 0;
        if (dk_variant_expand(eq + 1, v, DK_DIFF_MAX_VARIANTS, &got) != DK_OK) {
            snprintf(err, err_size, "diff: --rank-variant %s: %s", specs[s], dk_last_error());
            goto done;
        }
        for (int k = 0; k < got; k++) {
            int slot = variant_slot(g, &v[k]);
            if (slot < 0) {
                snprintf(err, err_size, "diff: --rank-variant: more than %d variants", DK_DIFF_MAX_VARIANTS);
                goto done;
            }
            for (int r = 0; r < n_ranks; r++)
                if (in[r]) runs[(size_t)r * DK_DIFF_MAX_VARIANTS + slot] = 1;
        }
    }
    /* groups: ranks with the same variants, numbered in rank order */
    for (int r = 0; r < n_ranks; r++) {
        const char *mine = runs + (size_t)r * DK_DIFF_MAX_VARIANTS;
        if (!memchr(mine, 1, DK_DIFF_MAX_VARIANTS)) {
            snprintf(err, err_size, "diff: rank %d of %d runs no variant (every rank must be named by a "
                     "--rank-variant)", r, n_ranks);
            goto done;
        }
        int grp = 0;
        while (grp < g->n_groups) {
            int first = 0;
            while (g->group_of[first] != grp) first++;
            if (!memcmp(mine, runs + (size_t)first * DK_DIFF_MAX_VARIANTS, DK_DIFF_MAX_VARIANTS)) break;
            grp++;
        }
        if (grp == g->n_groups) g->n_groups++;
        g->group_of[r] = grp;
        g->index_in_group[r] = g->group_size[grp]++;
    }
    /* a variant in one group only */
    for (int v = 0; v < g->n_variants; v++) {
        int owner = -1, owner_rank = -1;
        for (int r = 0; r < n_ranks; r++) {
            if (!runs[(size_t)r * DK_DIFF_MAX_VARIANTS + v]) continue;
            if (owner < 0) owner = g->group_of[r], owner_rank = r;
            else if (g->group_of[r] != owner) {
                char a[1024], b[1024];
                describe_rank(g, runs, owner_rank, a, sizeof a);
                describe_rank(g, runs, r, b, sizeof b);
                snprintf(err, err_size, "diff: --rank-variant: %s runs on ranks with different variant sets (%s; "
                         "%s): a variant belongs to one group of ranks that run the same variants", g->names[v], a, b);
                goto done;
            }
        }
        g->variant_group[v] = owner;
    }
    rc = 0;
done:
    free(runs);
    free(in);
    if (rc != 0) dk_cli_rank_groups_free(g);
    return rc;
}

void dk_cli_rank_groups_free(dk_cli_rank_groups *g)
{
    free(g->group_of);
    free(g->index_in_group);
    free(g->group_size);
    free(g->variant_group);
    memset(g, 0, sizeof *g);
}
