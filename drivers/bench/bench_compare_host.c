/* The host's load on each side of a comparison: read from each result's
 * "host_load" (bench_host_load.c), told at the end of the story when a side
 * was disturbed, and carried into the comparison's JSON. Results written
 * before bench recorded it read as "not recorded". */
#include <stdio.h>
#include <string.h>

#include "drivers/bench/bench_compare_internal.h"
#include "drivers/bench/bench_host_load.h"

static void read_side(dk__compare_side *s)
{
    s->load = dk__host_load_read(s->root, s->load_why, sizeof s->load_why);
    if (s->load == 1)
        snprintf(s->load_text, sizeof s->load_text, "disturbed: %s", s->load_why[0] ? s->load_why : "no reason given");
    else
        snprintf(s->load_text, sizeof s->load_text, "%s", dk__host_load_verdict_name(s->load));
}

void dk__compare_host_load(dk_compare *c)
{
    read_side(&c->base);
    read_side(&c->cand);
    int b = c->base.load == 1, k = c->cand.load == 1;
    if (!b && !k) return;
    size_t len = strlen(c->story);
    if (len >= sizeof c->story - 1) return;
    char *p = c->story + len;
    size_t room = sizeof c->story - len;
    if (b && k && !strcmp(c->base.load_why, c->cand.load_why))
        snprintf(p, room, "; both sides measured on a disturbed host: %s - rerun on a quiet host", c->base.load_why);
    else if (b && k)
        snprintf(p, room, "; both sides measured on a disturbed host: base %s, candidate %s - rerun on a quiet host",
                 c->base.load_why, c->cand.load_why);
    else
        snprintf(p, room, "; the %s was measured on a disturbed host: %s - rerun it on a quiet host",
                 b ? "base" : "candidate", b ? c->base.load_why : c->cand.load_why);
}

static cJSON *side_json(const dk__compare_side *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "verdict", dk__host_load_verdict_name(s->load));
    if (s->load == -2) return o;
    if (s->load < 0) cJSON_AddNullToObject(o, "disturbed");
    else cJSON_AddBoolToObject(o, "disturbed", s->load);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(s->root, "host_load");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(h, "reasons");
    cJSON_AddItemToObject(o, "reasons", cJSON_IsArray(r) ? cJSON_Duplicate(r, 1) : cJSON_CreateArray());
    return o;
}

void dk__compare_host_load_json(const dk_compare *c, cJSON *root)
{
    cJSON_AddItemToObject(root, "base_host_load", side_json(&c->base));
    cJSON_AddItemToObject(root, "cand_host_load", side_json(&c->cand));
}

const char *dk_compare_host_load(const dk_compare *c, int cand)
{
    return cand ? c->cand.load_text : c->base.load_text;
}
