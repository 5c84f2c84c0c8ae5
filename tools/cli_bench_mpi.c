/* mpirun -np N deltakern bench ...: every rank benchmarks the same model,
 * variants and input (rank 0's seed) on its own host. Ranks that share a
 * host take turns, a token passed in rank order among them, so that no rank
 * measures while another works beside it; ranks on different hosts measure
 * at once. Each rank sends its whole result, built in memory (the ranks need
 * no shared file system), or its error to rank 0, which prints every rank's
 * summary and writes one file: its own result as a single run writes it
 * plus "nodes", every rank's result with its host (docs/bench.md). Nothing
 * is written when any rank failed. A waiting rank sleeps between polls:
 * MPI's own blocking calls spin, and would take a core from the rank that
 * measures beside it. */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>

#include "deltakern/bench.h"
#include "tools/cli.h"
#include "tools/cli_bench.h"
#include "tools/cli_mpi.h"
#include "tools/cli_mpi_sink.h"
#include "tools/cli_mpi_wait.h"

enum { TAG_TOKEN = 21, TAG_RESULT = 22, TAG_DATA = 23 };
#define CHUNK (16 << 20) /* bytes per message: MPI counts are ints */
#define HOST_MAX MPI_MAX_PROCESSOR_NAME
#define ERRORS_LISTED 8  /* ranks named in one error line */

typedef struct job {
    int rank, size;
    char *hosts;    /* size * HOST_MAX: each rank's processor name */
    int prev, next; /* the ranks before and after this one on its host; -1: none */
} job;

/* A rank's outcome: its result and printed summary, or its error. */
typedef struct outcome {
    int code; /* exit code: 0, or the error's */
    char *msg, *summary, *json;
} outcome;

static void mpi_ok(int rc, const char *what)
{
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "MPI error %d", rc);
    dk_cli_error("bench: %s: %s", what, msg);
    MPI_Abort(MPI_COMM_WORLD, DK_EXIT_FAILURE);
}

static void *alloc_or_abort(size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    if (!p) {
        dk_cli_error("bench: out of memory (%zu bytes)", n);
        MPI_Abort(MPI_COMM_WORLD, DK_EXIT_FAILURE);
    }
    return p;
}

/* MPI_Waitall without spinning (tools/cli_mpi_wait.h). */
static void wait_quietly(int n, MPI_Request *r, const char *what)
{
    mpi_ok(dk_cli_mpi_wait(n, r, 0), what);
}

static const char *host_of(const job *j, int k) { return j->hosts + (size_t)k * HOST_MAX; }

/* Every rank's host, and this rank's neighbours in turn on its own. */
static void find_hosts(job *j)
{
    char name[HOST_MAX];
    int len = 0;
    memset(name, 0, sizeof name);
    mpi_ok(MPI_Get_processor_name(name, &len), "MPI_Get_processor_name");
    j->hosts = alloc_or_abort((size_t)j->size * HOST_MAX);
    mpi_ok(MPI_Allgather(name, HOST_MAX, MPI_CHAR, j->hosts, HOST_MAX, MPI_CHAR, MPI_COMM_WORLD), "MPI_Allgather");
    j->prev = j->next = -1;
    for (int k = 0; k < j->size; k++) {
        if (k == j->rank || strcmp(host_of(j, k), name)) continue;
        if (k < j->rank) j->prev = k;
        else if (j->next < 0) j->next = k;
    }
}

static int host_count(const job *j)
{
    int n = 0;
    for (int k = 0; k < j->size; k++) {
        int seen = 0;
        for (int i = 0; i < k && !seen; i++) seen = !strcmp(host_of(j, i), host_of(j, k));
        n += !seen;
    }
    return n;
}

/* Rank 0: the launcher's binding can leave a rank fewer cores than the
 * machine has (Open MPI binds each rank to a core for two ranks or fewer):
 * threads=0 variants then run that many threads. Said once. */
static void note_binding(void)
{
    cpu_set_t set;
    long all = sysconf(_SC_NPROCESSORS_ONLN);
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) >= all) return;
    printf("note: rank 0 may use %d of the %ld cores (the launcher's binding); variants with threads=0 run that "
           "many threads (mpirun --bind-to none, or threads=N in the variants)\n",
           CPU_COUNT(&set), all);
}

/* ---- one rank's turn ------------------------------------------------------------ */

static void fail_outcome(outcome *o, dk_status st)
{
    const char *msg = dk_last_error();
    o->code = dk_status_is_user_error(st) ? DK_EXIT_USAGE : DK_EXIT_FAILURE;
    o->msg = strdup(msg[0] ? msg : dk_status_name(st));
    if (!o->msg) o->code = DK_EXIT_FAILURE;
}

static void measure(dk_cli_bench *c, const job *j, dk_bench **b, outcome *o)
{
    *b = NULL;
    dk_status st = dk_cli_bench_prepare(c);
    if (j->rank != 0) c->shapes.load.note = NULL; /* rank 0 alone prints */
    if (st == DK_OK) st = dk_bench_run(&c->o, b);
    if (st == DK_OK) st = dk_bench_json_text(*b, &o->json);
    if (st != DK_OK) {
        fail_outcome(o, st);
        return;
    }
    size_t n = 0;
    FILE *f = open_memstream(&o->summary, &n);
    if (f) {
        dk_cli_bench_print(f, *b, c->o.model);
        if (fclose(f) != 0) {
            free(o->summary);
            o->summary = NULL;
        }
    }
    if (!o->summary) o->summary = strdup(""); /* the summary is for reading only: its loss is no error */
}

/* ---- a rank's outcome as bytes: 'E' code message, or 'R' summary json ------------ */

static char *pack(const outcome *o, size_t *n)
{
    const char *a = o->code ? (o->msg ? o->msg : "out of memory") : o->summary;
    const char *b = o->code ? "" : o->json;
    size_t la = strlen(a) + 1, lb = strlen(b) + 1;
    int32_t code = o->code;
    *n = 1 + sizeof code + la + lb;
    char *p = alloc_or_abort(*n);
    p[0] = o->code ? 'E' : 'R';
    memcpy(p + 1, &code, sizeof code);
    memcpy(p + 1 + sizeof code, a, la);
    memcpy(p + 1 + sizeof code + la, b, lb);
    return p;
}

static void unpack(const char *p, size_t n, outcome *o)
{
    int32_t code;
    const char *a = p + 1 + sizeof code, *end = p + n;
    const char *nul = n > 1 + sizeof code ? memchr(a, 0, (size_t)(end - a)) : NULL;
    if (!nul || end[-1] != 0 || nul == end - 1 || (p[0] != 'E' && p[0] != 'R')) {
        char msg[96];
        snprintf(msg, sizeof msg, "its result arrived garbled (%zu bytes)", n);
        o->code = DK_EXIT_FAILURE;
        o->msg = strdup(msg);
        return;
    }
    memcpy(&code, p + 1, sizeof code);
    if (p[0] == 'E') {
        o->code = code ? code : DK_EXIT_FAILURE;
        o->msg = strdup(a);
    } else {
        o->summary = strdup(a);
        o->json = strdup(nul + 1);
        if (!o->summary || !o->json) o->code = DK_EXIT_FAILURE;
    }
}

static void send_outcome(const outcome *o)
{
    size_t n;
    char *p = pack(o, &n);
    int64_t len = (int64_t)n;
    int chunks = (int)((n + CHUNK - 1) / CHUNK);
    MPI_Request *r = alloc_or_abort(sizeof *r * (size_t)(chunks + 1));
    mpi_ok(MPI_Isend(&len, 1, MPI_INT64_T, 0, TAG_RESULT, MPI_COMM_WORLD, &r[0]), "sending the result");
    for (int i = 0; i < chunks; i++) {
        size_t off = (size_t)i * CHUNK;
        int part = (int)(n - off < CHUNK ? n - off : CHUNK);
        mpi_ok(MPI_Isend(p + off, part, MPI_BYTE, 0, TAG_DATA, MPI_COMM_WORLD, &r[i + 1]), "sending the result");
    }
    wait_quietly(chunks + 1, r, "sending the result");
    free(r);
    free(p);
}

/* Rank 0: the next rank's outcome, whichever comes first. */
static int recv_outcome(outcome *all)
{
    MPI_Status s;
    for (;;) {
        int flag = 0;
        mpi_ok(MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &s), "waiting for the ranks");
        if (flag) break;
        dk_cli_mpi_pause();
    }
    int source = s.MPI_SOURCE;
    int64_t len = 0;
    mpi_ok(MPI_Recv(&len, 1, MPI_INT64_T, source, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "receiving");
    size_t n = len > 0 ? (size_t)len : 0;
    char *p = malloc(n ? n : 1);
    /* out of memory: still take every message, or the sender waits for ever */
    char *sink = p ? NULL : dk_cli_mpi_sink(CHUNK);
    if (!p && !sink) {
        dk_cli_error("bench: out of memory receiving rank %d's result (%zu bytes)", source, n);
        MPI_Abort(MPI_COMM_WORLD, DK_EXIT_FAILURE);
    }
    for (size_t off = 0; off < n; off += CHUNK) {
        int part = (int)(n - off < CHUNK ? n - off : CHUNK);
        mpi_ok(MPI_Recv(p ? p + off : sink, part, MPI_BYTE, source, TAG_DATA, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
               "receiving");
    }
    if (p) unpack(p, n, &all[source]);
    else all[source].code = DK_EXIT_FAILURE, all[source].msg = strdup("out of memory receiving its result");
    free(p);
    return source;
}

/* ---- rank 0: every rank's outcome, then the one file ---------------------------- */

static void print_rank(const job *j, int k, const outcome *o)
{
    printf("rank %d of %d on %s:%s\n", k, j->size, host_of(j, k), o->code ? " failed" : "");
    if (!o->code && o->summary) fputs(o->summary, stdout);
    fflush(stdout);
}

/* One line per distinct error, naming the ranks that gave it. */
static int report_errors(const job *j, const outcome *all)
{
    int rc = DK_EXIT_OK;
    for (int k = 0; k < j->size; k++) {
        const char *msg = all[k].msg ? all[k].msg : "out of memory";
        int first = 1;
        for (int i = 0; i < k && first; i++) first = !all[i].code || strcmp(all[i].msg ? all[i].msg : "out of memory", msg);
        if (!all[k].code || !first) continue;
        if (rc == DK_EXIT_OK) rc = all[k].code;
        char who[256];
        int len = 0, same = 0;
        for (int i = k; i < j->size; i++) {
            if (!all[i].code || strcmp(all[i].msg ? all[i].msg : "out of memory", msg)) continue;
            if (same++ < ERRORS_LISTED && len >= 0 && (size_t)len < sizeof who)
                len += snprintf(who + len, sizeof who - (size_t)len, "%s%d", same > 1 ? ", " : "", i);
        }
        if (same > ERRORS_LISTED && len >= 0 && (size_t)len < sizeof who)
            snprintf(who + len, sizeof who - (size_t)len, " and %d more", same - ERRORS_LISTED);
        if (same == 1)
            dk_cli_error("bench: rank %s of %d (on %s): %s", who, j->size, host_of(j, k), msg);
        else
            dk_cli_error("bench: ranks %s of %d: %s", who, j->size, msg);
    }
    return rc;
}

static int write_all(const dk_cli_bench *c, const job *j, const outcome *all, const dk_bench *own, int argc,
                     char **argv)
{
    dk_bench_node *nodes = alloc_or_abort(sizeof *nodes * (size_t)j->size);
    for (int k = 0; k < j->size; k++) nodes[k] = (dk_bench_node){.rank = k, .host = host_of(j, k), .json = all[k].json};
    dk_status st = dk_bench_write_nodes(c->out, nodes, j->size, c->force);
    free(nodes);
    if (st == DK_OK) printf("wrote %s (rank 0's result and \"nodes\": %d ranks on %d host%s)\n", c->out, j->size,
                            host_count(j), host_count(j) > 1 ? "s" : "");
    if (st == DK_OK && c->trace && (st = dk_bench_write_trace(own, c->trace, c->force)) == DK_OK)
        printf("wrote %s (rank 0's; open in https://ui.perfetto.dev)\n", c->trace);
    fflush(stdout);
    if (st != DK_OK) return dk_cli_fail(st);
    return c->report ? dk_cli_report_after(c->out, c->report, argc, argv) : DK_EXIT_OK;
}

static int gather(const dk_cli_bench *c, const job *j, outcome *all, const dk_bench *own, int argc, char **argv)
{
    print_rank(j, 0, &all[0]);
    for (int k = 1; k < j->size; k++) {
        int source = recv_outcome(all);
        print_rank(j, source, &all[source]);
    }
    int rc = report_errors(j, all);
    return rc != DK_EXIT_OK ? rc : write_all(c, j, all, own, argc, argv);
}

/* ---- the job ---------------------------------------------------------------------- */

int dk_cli_bench_mpi(dk_cli_bench *c, int argc, char **argv)
{
    job j = {0};
    mpi_ok(MPI_Init(NULL, NULL), "MPI_Init");
    mpi_ok(MPI_Comm_rank(MPI_COMM_WORLD, &j.rank), "MPI_Comm_rank");
    mpi_ok(MPI_Comm_size(MPI_COMM_WORLD, &j.size), "MPI_Comm_size");
    /* rank 0 writes the files, so rank 0 alone checks them; its seed for all */
    int rc = j.rank == 0 ? dk_cli_bench_check_outputs(c) : DK_EXIT_OK;
    uint64_t seed = c->o.seed;
    mpi_ok(MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
    mpi_ok(MPI_Bcast(&seed, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
    if (rc != DK_EXIT_OK) {
        MPI_Finalize();
        return rc;
    }
    c->o.seed = seed;
    find_hosts(&j);
    if (j.rank == 0) {
        int hosts = host_count(&j);
        printf("bench: %d ranks on %d host%s%s\n", j.size, hosts, hosts > 1 ? "s" : "",
               hosts < j.size ? "; ranks on one host measure in turn" : "");
        if (!c->o.input)
            printf("input: random, uniform in [-1, 1), seed %llu (--seed %llu repeats it)\n",
                   (unsigned long long)seed, (unsigned long long)seed);
        note_binding();
        fflush(stdout);
    }
    /* this host's turn: after the rank before, then the one after */
    MPI_Request r;
    int token = j.rank;
    if (j.prev >= 0) {
        mpi_ok(MPI_Irecv(&token, 1, MPI_INT, j.prev, TAG_TOKEN, MPI_COMM_WORLD, &r), "waiting for the turn");
        wait_quietly(1, &r, "waiting for the turn");
    }
    dk_bench *b = NULL;
    outcome *all = alloc_or_abort(sizeof *all * (size_t)j.size);
    measure(c, &j, &b, &all[j.rank]);
    if (j.next >= 0) {
        token = j.rank;
        mpi_ok(MPI_Isend(&token, 1, MPI_INT, j.next, TAG_TOKEN, MPI_COMM_WORLD, &r), "passing the turn");
        wait_quietly(1, &r, "passing the turn");
    }
    if (j.rank == 0)
        rc = gather(c, &j, all, b, argc, argv);
    else
        send_outcome(&all[j.rank]);
    /* every rank exits with the job's code */
    mpi_ok(MPI_Ibcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD, &r), "MPI_Ibcast");
    wait_quietly(1, &r, "MPI_Ibcast");
    for (int k = 0; k < j.size; k++) free(all[k].msg), free(all[k].summary), free(all[k].json);
    free(all);
    free(j.hosts);
    dk_bench_destroy(b);
    MPI_Finalize();
    return rc;
}
