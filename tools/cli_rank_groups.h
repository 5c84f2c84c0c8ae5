/* --rank-variant RANKS=VARIANT under mpirun: each rank's variants and the
 * groups of ranks that run the same ones (tools/cli_rank_groups.c). */
#ifndef DK_TOOLS_CLI_RANK_GROUPS_H
#define DK_TOOLS_CLI_RANK_GROUPS_H

#include <stddef.h>

#include "deltakern/diff.h"

typedef struct dk_cli_rank_groups {
    int n_ranks, n_groups, n_variants;
    dk_variant variants[DK_DIFF_MAX_VARIANTS];   /* every variant, in the order given */
    char names[DK_DIFF_MAX_VARIANTS][256];       /* their canonical names (the result's) */
    int *variant_group;                          /* per variant: the group running it */
    int *group_of, *index_in_group;              /* per rank: its group, its shard there */
    int *group_size;                             /* per group: its ranks */
} dk_cli_rank_groups;

/* From the --rank-variant values for a job of n_ranks; 0, or -1 with a
 * one-line error in err (a rank named twice is fine, a rank named by none,
 * a rank beyond the job, a variant run by ranks of different variant sets
 * are errors). */
int dk_cli_rank_groups_build(const char *const *specs, int n_specs, int n_ranks, dk_cli_rank_groups *g, char *err,
                             size_t err_size);
void dk_cli_rank_groups_free(dk_cli_rank_groups *g);

#endif
