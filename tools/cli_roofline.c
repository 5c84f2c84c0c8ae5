/* deltakern roofline: the machine's fp32 peak and memory bandwidth, measured
 * with kernels of our own and cached (measure/roofline.h). */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "deltakern/fingerprint.h"
#include "deltakern/roofline.h"
#include "deltakern/topology.h"
#include "tools/cli.h"
#include "tools/cli_options.h"

int dk_cmd_roofline(int argc, char **argv)
{
    int force = 0, json = 0;
    const dk_cli_opt opts[] = {
        {"force", 0, DK_CLI_FLAG, &force, .flags = DK_CLI_USAGE, .help = "measure again and replace the cached entry"},
        {"json", 0, DK_CLI_FLAG, &json, .flags = DK_CLI_USAGE, .help = "print the result as JSON"},
        {0}};
    const dk_cli_spec spec = {
        .cmd = "roofline", .opts = opts,
        .about = "Prints the fp32 peak (GFLOP/s) and memory bandwidth (GB/s) that `bench`\n"
                 "judges attainment against. Measured once with an FMA-bound loop (AVX-512,\n"
                 "AVX2 or plain C, chosen at run time) on every OpenMP thread and the STREAM\n"
                 "triad over arrays much larger than the last-level cache, then cached in\n"
                 "$XDG_CACHE_HOME/deltakern/roofline.json (~/.cache/... without it) per CPU\n"
                 "model and thread count (OMP_NUM_THREADS). The peak sums each thread's rate\n"
                 "over its own CPU time, so other load on the host does not lower it; the\n"
                 "bandwidth is timed by the wall clock: measure it on an idle machine."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    dk_roofline r;
    dk_status st;
    if (force) {
        st = dk_roofline_measure(&r);
        if (st == DK_OK) st = dk_roofline_store(&r);
    } else {
        st = dk_roofline_get(1, &r);
    }
    if (st != DK_OK) return dk_cli_fail(st);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    double ghz = dk_roofline_clock_ghz();
    double per_cycle = ghz > 0 ? r.peak_gflops / (threads * ghz) : 0;
    char path[1024] = "", model[256];
    dk_roofline_cache_path(path, sizeof path);
    dk_cpu_model(model, sizeof model);
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "cpu_model", model);
        cJSON_AddNumberToObject(j, "peak_gflops", r.peak_gflops);
        cJSON_AddNumberToObject(j, "bandwidth_gbs", r.bandwidth_gbs);
        cJSON_AddNumberToObject(j, "ridge_flops_per_byte", r.peak_gflops / r.bandwidth_gbs);
        cJSON_AddNumberToObject(j, "threads", threads);
        if (ghz > 0) {
            cJSON_AddNumberToObject(j, "clock_ghz", ghz);
            cJSON_AddNumberToObject(j, "flops_per_cycle_per_core", per_cycle);
        }
        cJSON_AddStringToObject(j, "source", r.source);
        cJSON_AddStringToObject(j, "cache", path);
        cJSON_AddItemToObject(j, "topology", dk_topology_json());
        char *text = cJSON_Print(j);
        cJSON_Delete(j);
        if (!text) {
            dk_cli_error("roofline: out of memory");
            return DK_EXIT_FAILURE;
        }
        printf("%s\n", text);
        cJSON_free(text);
    } else {
        printf("cpu:               %s\n", model);
        printf("fp32 peak:         %.1f GFLOP/s\n", r.peak_gflops);
        printf("memory bandwidth:  %.1f GB/s\n", r.bandwidth_gbs);
        printf("ridge point:       %.1f flop/byte\n", r.peak_gflops / r.bandwidth_gbs);
        if (ghz > 0)
            printf("core clock now:    %.2f GHz (dependent adds): the peak is %.1f flop/cycle on each of %d threads\n",
                   ghz, per_cycle, threads);
        printf("source:            %s\n", r.source);
    }
    return DK_EXIT_OK;
}
