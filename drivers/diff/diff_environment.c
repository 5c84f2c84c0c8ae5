/* OUTDIR/environment.json: where and how the result was made (the command
 * line, its directory, the fingerprint of the baseline's environment and
 * the topology), for deltakern report. Kept apart from summary.json, whose
 * bytes must not depend on the host. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "deltakern/file.h"
#include "deltakern/fingerprint.h"
#include "deltakern/topology.h"
#include "drivers/diff/diff_internal.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/timer.h"

cJSON *dk__diff_environment_begin(const char *command)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "deltakern-diff-environment/1");
    char when[32];
    dk__utc_stamp(when, sizeof when);
    cJSON_AddStringToObject(root, "created", when);
    if (command) cJSON_AddStringToObject(root, "command", command);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) cJSON_AddStringToObject(root, "cwd", cwd);
    return root;
}

cJSON *dk__diff_environment_read(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, DK__DIFF_ENVIRONMENT_FILE);
    unsigned char *data;
    size_t size;
    cJSON *env = NULL;
    if (dk__read_regular(path, 64u << 20, 1, &data, &size) == DK_OK) {
        env = cJSON_ParseWithLength((const char *)data, size);
        free(data);
    }
    dk__error_clear(); /* a result without one (older, or cut short) has none */
    return env;
}

void dk__diff_environment_adopt(cJSON *root, const cJSON *env)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(env, "environment");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(env, "topology");
    if (e) cJSON_AddItemToObject(root, "environment", cJSON_Duplicate(e, 1));
    if (t) cJSON_AddItemToObject(root, "topology", cJSON_Duplicate(t, 1));
}

dk_status dk__diff_environment_finish(cJSON *root, const char *dir)
{
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return dk__error(DK_ERR_NOMEM, "out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, DK__DIFF_ENVIRONMENT_FILE);
    dk_status st = dk_file_write_text(path, text);
    free(text);
    return st;
}

dk_status dk__diff_write_environment(const dk_diff_run_options *o, int resumed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->out, DK__DIFF_ENVIRONMENT_FILE);
    if (resumed && access(path, F_OK) == 0) return DK_OK; /* the run's own, from its start */
    cJSON *root = dk__diff_environment_begin(o->command);
    cJSON *env = dk_environment_json(&o->cfg.baseline);
    if (env) cJSON_AddItemToObject(root, "environment", env);
    cJSON *topo = dk_topology_json();
    if (topo) cJSON_AddItemToObject(root, "topology", topo);
    return dk__diff_environment_finish(root, o->out);
}
