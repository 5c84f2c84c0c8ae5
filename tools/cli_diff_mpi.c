/* mpirun -np N deltakern diff ...: rank K runs the shard K/N of the inputs
 * into OUTDIR/ranks/K-of-N and sends its result files to rank 0, which
 * writes them into its own OUTDIR/ranks (so the ranks need no shared file
 * system), merges them into OUTDIR as `deltakern merge` does and reports the
 * progress of the whole job. A rank that fails sends its error instead and
 * the job exits non-zero; a rank that is killed ends the job (mpirun), and
 * the same command with --resume continues every rank from its own state.
 * After a merge the rank directories are removed: OUTDIR then holds what a
 * single run writes. */
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "deltakern/diff.h"
#include "deltakern/file.h"
#include "tools/cli.h"
#include "tools/cli_mpi.h"
#include "tools/cli_mpi_sink.h"
#include "tools/cli_mpi_wait.h"
#include "tools/cli_rank_groups.h"

enum { TAG_PROGRESS = 1, TAG_RESULT = 2, TAG_DATA = 3 };
#define CHUNK (64 << 20) /* bytes per message: MPI counts are ints */

/* what a rank sends back: the files dk_diff_merge reads and copies */
static const char *const rank_files[] = {"state.jsonl", "summary.json",     "summary.csv", "layers.csv",
                                         "flips.csv",   "environment.json"};
#define N_RANK_FILES (int)(sizeof rank_files / sizeof rank_files[0])

typedef struct job {
    int rank, size, progress, tty, sent;
    const dk_cli_rank_groups *groups; /* --rank-variant; NULL: every rank runs every variant */
    int *done, *total; /* rank 0: each rank's last report (total -1: none yet) */
    double last_print, last_send;
} job;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* MPI_Wait without spinning: a rank that has finished would take a core from
 * the ranks still working beside it (tools/cli_mpi_wait.h). */
static void wait_quietly(MPI_Request *r)
{
    if (dk_cli_mpi_wait(1, r, 0) != MPI_SUCCESS) {
        fprintf(stderr, "deltakern: error: diff: an MPI wait failed\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

static void bcast_quietly(int *value)
{
    MPI_Request r;
    MPI_Ibcast(value, 1, MPI_INT, 0, MPI_COMM_WORLD, &r);
    wait_quietly(&r);
}

/* ---- progress: every rank reports to rank 0, which prints the job's ---------- */

static void drain_progress(job *j)
{
    int flag = 0;
    MPI_Status s;
    while (MPI_Iprobe(MPI_ANY_SOURCE, TAG_PROGRESS, MPI_COMM_WORLD, &flag, &s) == MPI_SUCCESS && flag) {
        int v[2];
        MPI_Recv(v, 2, MPI_INT, s.MPI_SOURCE, TAG_PROGRESS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        j->done[s.MPI_SOURCE] = v[0], j->total[s.MPI_SOURCE] = v[1];
    }
}

static void print_progress(job *j, int final)
{
    double t = now();
    if (!j->progress || (!final && t - j->last_print < (j->tty ? 0.25 : 10.0))) return;
    long done = 0, total = 0;
    int known = 0;
    for (int i = 0; i < j->size; i++) {
        done += j->done[i];
        if (j->total[i] >= 0) total += j->total[i], known++;
    }
    if (!final && known == j->size && done == total) return; /* the final line says it */
    j->last_print = t;
    fprintf(stderr, "%sdiff: %ld/%ld inputs on %d ranks", j->tty ? "\r" : "", done, total, j->size);
    if (known < j->size) fprintf(stderr, " (%d still starting)", j->size - known);
    fputs(j->tty && !final ? "   " : "\n", stderr);
    fflush(stderr);
}

static void on_input(void *ctx, int done, int total)
{
    job *j = ctx;
    if (j->rank == 0) {
        j->done[0] = done, j->total[0] = total;
        drain_progress(j);
        print_progress(j, 0);
        return;
    }
    double t = now();
    if (j->sent && done < total && t - j->last_send < 0.5) return; /* a few messages a second at most */
    j->sent = 1, j->last_send = t;
    int v[2] = {done, total};
    MPI_Send(v, 2, MPI_INT, 0, TAG_PROGRESS, MPI_COMM_WORLD);
}

/* ---- a rank's result as bytes: 'E' code message, or 'R' complete files -------- */

typedef struct buf {
    char *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const void *data, size_t n)
{
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void pack_error(buf *b, int code, const char *msg)
{
    int32_t c = code;
    put(b, "E", 1);
    put(b, &c, sizeof c);
    put(b, msg, strlen(msg) + 1);
}

/* The rank directory's result files; a file that cannot be read is an error. */
static void pack_result(buf *b, const char *dir, int complete)
{
    int32_t c = complete;
    put(b, "R", 1);
    put(b, &c, sizeof c);
    for (int i = 0; i < N_RANK_FILES && !b->oom; i++) {
        char path[4352];
        snprintf(path, sizeof path, "%s/%s", dir, rank_files[i]);
        int e = 0;
        FILE *f = fopen(path, "rb");
        if (!f) {
            if (errno == ENOENT) continue;
            e = errno;
            goto unreadable;
        }
        struct stat st;
        char *data = NULL;
        int ok = fstat(fileno(f), &st) == 0 && (data = malloc((size_t)st.st_size + 1)) &&
                 fread(data, 1, (size_t)st.st_size, f) == (size_t)st.st_size;
        e = errno;
        fclose(f);
        if (!ok) {
            free(data);
            goto unreadable;
        }
        int64_t size = st.st_size;
        put(b, rank_files[i], strlen(rank_files[i]) + 1);
        put(b, &size, sizeof size);
        put(b, data, (size_t)size);
        free(data);
        continue;
    unreadable:;
        char msg[4608];
        snprintf(msg, sizeof msg, "diff: reading %s: %s", path, strerror(e ? e : EIO));
        b->n = 0;
        pack_error(b, DK_EXIT_FAILURE, msg);
        return;
    }
}

static void send_bytes(const buf *b)
{
    int64_t n = (int64_t)b->n;
    MPI_Request r;
    MPI_Isend(&n, 1, MPI_INT64_T, 0, TAG_RESULT, MPI_COMM_WORLD, &r);
    wait_quietly(&r);
    for (int64_t off = 0; off < n; off += CHUNK) {
        MPI_Isend(b->p + off, (int)(n - off < CHUNK ? n - off : CHUNK), MPI_BYTE, 0, TAG_DATA, MPI_COMM_WORLD, &r);
        wait_quietly(&r);
    }
}

/* Rank 0: the next rank's result (progress reports in between are kept). */
static int recv_bytes(job *j, buf *b, int *source)
{
    MPI_Status s;
    for (;;) {
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &s);
        if (!flag) {
            dk_cli_mpi_pause(); /* not MPI_Probe: it spins */
            continue;
        }
        if (s.MPI_TAG != TAG_PROGRESS) break;
        drain_progress(j);
        print_progress(j, 0);
    }
    *source = s.MPI_SOURCE;
    int64_t n;
    MPI_Recv(&n, 1, MPI_INT64_T, s.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    b->n = 0;
    char *p = malloc(n > 0 ? (size_t)n : 1);
    /* out of memory: still take every message, or the sender blocks */
    char *sink = p ? NULL : dk_cli_mpi_sink(CHUNK);
    if (!p && !sink) {
        dk_cli_error("diff: out of memory receiving rank %d's result", s.MPI_SOURCE);
        MPI_Abort(MPI_COMM_WORLD, DK_EXIT_FAILURE);
    }
    for (int64_t off = 0; off < n; off += CHUNK) {
        int len = (int)(n - off < CHUNK ? n - off : CHUNK);
        MPI_Recv(p ? p + off : sink, len, MPI_BYTE, s.MPI_SOURCE, TAG_DATA, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    if (!p) return 0;
    free(b->p);
    b->p = p, b->n = b->cap = (size_t)n;
    return 1;
}

/* Rank 0: writes rank `source`'s files into dir; returns an exit code and
 * the rank's error (or complete flag). */
static int unpack_result(const buf *b, const char *dir, int *complete, char *err, size_t err_size)
{
    const char *p = b->p, *end = b->p + b->n;
    int32_t c;
    if (b->n < 1 + sizeof c) goto corrupt;
    memcpy(&c, p + 1, sizeof c);
    if (p[0] == 'E') {
        snprintf(err, err_size, "%.*s", (int)(end - p - 1 - (long)sizeof c), p + 1 + sizeof c);
        return c ? c : DK_EXIT_FAILURE;
    }
    if (p[0] != 'R') goto corrupt;
    *complete = c;
    p += 1 + sizeof c;
    dk_status st = dk_file_mkdirs(dir);
    while (p < end && st == DK_OK) {
        const char *name = p;
        const char *nul = memchr(p, 0, (size_t)(end - p));
        int64_t size;
        if (!nul || (size_t)(end - nul - 1) < sizeof size) goto corrupt;
        memcpy(&size, nul + 1, sizeof size);
        p = nul + 1 + sizeof size;
        if (size < 0 || size > end - p || strchr(name, '/')) goto corrupt;
        char path[4352];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        st = dk_file_write_atomic(path, p, (size_t)size);
        p += size;
    }
    if (st != DK_OK) {
        snprintf(err, err_size, "%s", dk_last_error());
        return DK_EXIT_FAILURE;
    }
    return DK_EXIT_OK;
corrupt:
    snprintf(err, err_size, "diff: a rank's result arrived garbled (%zu bytes)", b->n);
    return DK_EXIT_FAILURE;
}

/* ---- OUTDIR -------------------------------------------------------------------- */

static int exists(const char *dir, const char *name)
{
    char path[4352];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* Rank 0, before any rank starts: what OUTDIR may hold. */
static int check_out(const dk_diff_run_options *ro, char *err, size_t err_size)
{
    char ranks[4096];
    snprintf(ranks, sizeof ranks, "%s/ranks", ro->out);
    if (ro->shard_count > 0)
        snprintf(err, err_size, "diff: --shard and mpirun: each rank is one shard already");
    else if (ro->cfg.save)
        snprintf(err, err_size, "diff: --save under mpirun: each rank would hold part of the bundle; save it in a "
                                "run without mpirun and give it to the ranks with --against");
    else if (ro->force && ro->resume)
        snprintf(err, err_size, "diff: --force and --resume contradict each other");
    else if (ro->resume && access(ranks, F_OK) != 0)
        snprintf(err, err_size, "diff: --resume under mpirun continues %s (the ranks' states), and there is none",
                 ranks);
    else if (!ro->force && !ro->resume && (exists(ro->out, "state.jsonl") || exists(ro->out, "summary.json")))
        snprintf(err, err_size, "diff: %s holds results (use --force to overwrite or --resume to continue)", ro->out);
    else
        return DK_EXIT_OK;
    return DK_EXIT_USAGE;
}

/* Removes a rank directory deltakern made (its files, then itself). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[4352];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void rank_dir(char *dir, size_t size, const char *out, int rank, int n)
{
    snprintf(dir, size, "%s/ranks/%d-of-%d", out, rank, n);
}

/* A rank bound to fewer cores than the machine has (Open MPI binds each rank
 * to a core when there are at most two) runs threads=0 variants on fewer
 * threads than a run outside mpirun, and multi-threaded sums round
 * otherwise: said once, by rank 0. */
static void note_binding(const job *j)
{
    cpu_set_t set;
    long all = sysconf(_SC_NPROCESSORS_ONLN);
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) >= all) return;
    fprintf(stderr,
            "diff: note: rank 0 may use %d of the %ld cores (the launcher's binding); variants with threads=0 "
            "run that many threads, and their sums may round otherwise than outside mpirun (mpirun --bind-to "
            "none, or threads=N in the variants)\n",
            CPU_COUNT(&set), all);
}

/* ---- the job --------------------------------------------------------------------- */

/* One rank's shard; the result (or error) packed for rank 0. */
static void run_shard(const dk_diff_run_options *ro, job *j, const char *dir, buf *out, int *complete)
{
    dk_diff_run_options o = *ro;
    dk_diff_run_result r = {0};
    o.out = dir;
    o.shard_index = j->rank, o.shard_count = j->size;
    if (j->groups) { /* the rank's group's variants, and its shard among the group's ranks */
        const dk_cli_rank_groups *g = j->groups;
        int grp = g->group_of[j->rank];
        o.cfg.n_variants = 0;
        for (int v = 0; v < g->n_variants; v++)
            if (g->variant_group[v] == grp) o.cfg.variants[o.cfg.n_variants++] = g->variants[v];
        o.shard_index = g->index_in_group[j->rank], o.shard_count = g->group_size[grp];
        o.record_logits = g->n_groups > 1;
    }
    o.progress = 0;
    o.on_input = on_input, o.on_input_ctx = j;
    /* a rank killed before it wrote its state starts afresh */
    o.resume = ro->resume && exists(dir, "state.jsonl");
    dk_status st = dk_file_mkdirs(dir);
    if (st == DK_OK) st = dk_diff_run(&o, &r);
    free(r.table);
    *complete = r.complete;
    if (st != DK_OK)
        pack_error(out, dk_status_is_user_error(st) ? DK_EXIT_USAGE : DK_EXIT_FAILURE, dk_last_error());
    else
        pack_result(out, dir, r.complete);
}

static void group_dir(char *dir, size_t size, const char *out, int group, int n)
{
    snprintf(dir, size, "%s/ranks/group-%d-of-%d", out, group, n);
}

/* Rank 0: merges the ranks of `group` (-1: all) into out, as deltakern merge
 * merges shards. */
static dk_status merge_ranks(const dk_diff_run_options *ro, const job *j, int group, const char *out,
                             dk_diff_merge_result *mr)
{
    const char **shards = calloc((size_t)j->size, sizeof *shards);
    char **paths = calloc((size_t)j->size, sizeof *paths);
    int n = 0;
    char dir[4096];
    for (int k = 0; shards && paths && k < j->size; k++) {
        if (group >= 0 && j->groups->group_of[k] != group) continue;
        rank_dir(dir, sizeof dir, ro->out, k, j->size);
        shards[n] = paths[n] = strdup(dir);
        n++;
    }
    dk_diff_merge_options mo = {.shards = shards, .n_shards = n, .out = out, .force = 1,
                                .command = group < 0 ? ro->command : NULL};
    dk_status st = shards && paths ? dk_diff_merge(&mo, mr) : DK_ERR_NOMEM;
    for (int k = 0; paths && k < n; k++) free(paths[k]);
    free(paths);
    free(shards);
    return st;
}

/* Rank 0, with rank groups running different variants: each group's ranks
 * merged into OUTDIR/ranks/group-G-of-N, the groups into OUTDIR. */
static dk_status merge_groups(const dk_diff_run_options *ro, const job *j, dk_diff_merge_result *mr)
{
    const dk_cli_rank_groups *g = j->groups;
    char **dirs = calloc((size_t)g->n_groups, sizeof *dirs);
    const char *names[DK_DIFF_MAX_VARIANTS];
    dk_status st = dirs ? DK_OK : DK_ERR_NOMEM;
    for (int grp = 0; grp < g->n_groups && st == DK_OK; grp++) {
        char dir[4096];
        group_dir(dir, sizeof dir, ro->out, grp, g->n_groups);
        dk_diff_merge_result gr = {0};
        if (!(dirs[grp] = strdup(dir))) st = DK_ERR_NOMEM;
        if (st == DK_OK) st = merge_ranks(ro, j, grp, dir, &gr);
        free(gr.table);
    }
    for (int v = 0; v < g->n_variants; v++) names[v] = g->names[v];
    dk_diff_merge_groups_options go = {.groups = (const char *const *)dirs, .n_groups = g->n_groups,
                                       .variants = names, .n_variants = g->n_variants, .out = ro->out,
                                       .command = ro->command};
    if (st == DK_OK) st = dk_diff_merge_groups(&go, mr);
    for (int grp = 0; dirs && grp < g->n_groups; grp++) free(dirs[grp]);
    free(dirs);
    return st;
}

/* Rank 0: every other rank's result into OUTDIR/ranks, then the merge. */
static int gather_and_merge(const dk_diff_run_options *ro, const char *report, job *j, buf *own, int argc,
                            char **argv)
{
    int rc = DK_EXIT_OK, all_complete = 1, complete = 0;
    char err[8192], dir[4096];
    if (own->p && own->p[0] == 'E') {
        rc = unpack_result(own, NULL, &complete, err, sizeof err);
        dk_cli_error("%s", err);
    } else {
        int32_t c = 0;
        if (own->p) memcpy(&c, own->p + 1, sizeof c);
        all_complete = c;
    }
    char *first_err = rc ? strdup(err) : NULL;
    for (int k = 1; k < j->size; k++) {
        buf b = {0};
        int source = -1;
        if (!recv_bytes(j, &b, &source)) {
            dk_cli_error("diff: out of memory receiving a rank's result");
            rc = DK_EXIT_FAILURE;
            continue;
        }
        rank_dir(dir, sizeof dir, ro->out, source, j->size);
        complete = 0;
        int r = unpack_result(&b, dir, &complete, err, sizeof err);
        free(b.p);
        if (r != DK_EXIT_OK) {
            if (!first_err || strcmp(first_err, err)) dk_cli_error("rank %d of %d: %s", source, j->size, err);
            if (!first_err) first_err = strdup(err);
            if (rc == DK_EXIT_OK) rc = r;
        } else {
            all_complete &= complete;
        }
    }
    free(first_err);
    print_progress(j, 1);
    if (rc != DK_EXIT_OK) return rc;
    if (!all_complete) {
        fprintf(stderr, "deltakern: interrupted; partial results in %s/ranks (continue with --resume)\n", ro->out);
        return 130;
    }
    dk_diff_merge_result mr = {0};
    dk_status st = j->groups && j->groups->n_groups > 1 ? merge_groups(ro, j, &mr) : merge_ranks(ro, j, -1, ro->out, &mr);
    if (st != DK_OK) return dk_cli_fail(st);
    if (mr.table) fputs(mr.table, stdout);
    free(mr.table);
    fflush(stdout);
    return report ? dk_cli_report_after(ro->out, report, argc, argv) : DK_EXIT_OK;
}

int dk_cli_diff_mpi(const dk_diff_run_options *ro, const char *const *rank_variants, int n_rank_variants,
                    const char *report, int argc, char **argv)
{
    job j = {.progress = ro->progress, .tty = isatty(2)};
    MPI_Init(NULL, NULL);
    MPI_Comm_rank(MPI_COMM_WORLD, &j.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &j.size);
    char err[4608], dir[4096];
    int rc = DK_EXIT_OK;
    dk_cli_rank_groups groups;
    memset(&groups, 0, sizeof groups);
    if (n_rank_variants > 0) { /* every rank works the same groups out; rank 0 says what is wrong */
        if (dk_cli_rank_groups_build(rank_variants, n_rank_variants, j.size, &groups, err, sizeof err) != 0)
            rc = DK_EXIT_USAGE;
        else
            j.groups = &groups;
    }
    if (j.rank == 0 && rc == DK_EXIT_OK) rc = check_out(ro, err, sizeof err);
    if (j.rank == 0 && rc != DK_EXIT_OK) dk_cli_error("%s", err);
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc != DK_EXIT_OK) {
        dk_cli_rank_groups_free(&groups);
        MPI_Finalize();
        return rc;
    }
    if (j.rank == 0) {
        note_binding(&j);
        j.done = calloc((size_t)j.size, sizeof *j.done);
        j.total = malloc((size_t)j.size * sizeof *j.total);
        for (int k = 0; j.total && k < j.size; k++) j.total[k] = -1;
        if (!j.done || !j.total) MPI_Abort(MPI_COMM_WORLD, DK_EXIT_FAILURE);
    }
    rank_dir(dir, sizeof dir, ro->out, j.rank, j.size);
    buf own = {0};
    int complete = 0;
    run_shard(ro, &j, dir, &own, &complete);
    if (own.oom) {
        own.n = 0, own.oom = 0;
        pack_error(&own, DK_EXIT_FAILURE, "diff: out of memory packing the rank's result");
    }
    if (j.rank == 0)
        rc = gather_and_merge(ro, report, &j, &own, argc, argv);
    else
        send_bytes(&own);
    free(own.p);
    bcast_quietly(&rc);
    /* merged: the rank directories go (each rank its own first, for ranks
     * without a shared file system; then rank 0 every copy it holds) */
    if (rc == DK_EXIT_OK && j.rank != 0) remove_dir(dir);
    MPI_Request barrier;
    MPI_Ibarrier(MPI_COMM_WORLD, &barrier);
    wait_quietly(&barrier);
    if (rc == DK_EXIT_OK && j.rank == 0) {
        for (int k = 0; k < j.size; k++) {
            rank_dir(dir, sizeof dir, ro->out, k, j.size);
            remove_dir(dir);
        }
        for (int grp = 0; j.groups && grp < groups.n_groups; grp++) {
            group_dir(dir, sizeof dir, ro->out, grp, groups.n_groups);
            remove_dir(dir);
        }
        snprintf(dir, sizeof dir, "%s/ranks", ro->out);
        rmdir(dir); /* stays when it holds other splits' directories */
    }
    free(j.done);
    free(j.total);
    dk_cli_rank_groups_free(&groups);
    MPI_Finalize();
    return rc;
}
