/* deltakern selftest (include/deltakern/selftest.h): which variants, the two
 * suites run on them, and the verdict. The report's tables are printed by
 * selftest_print.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deltakern/backend.h"
#include "deltakern/selftest.h"
#include "drivers/selftest/selftest.h"
#include "drivers/selftest/selftest_print.h"
#include "runtime/error.h"
#include "runtime/text.h"

#define MAX_TARGETS 64

void dk_selftest_options_default(dk_selftest_options *o)
{
    memset(o, 0, sizeof *o);
    o->run_ops = o->run_conformance = 1;
    o->cases = 12;
    o->only_case = -1;
    o->max_ratio = 1.0;
    o->margin = 0.5;
    o->data = DK_SELFTEST_DATA;
}

/* ---- the variants under test ---------------------------------------------------- */

typedef struct target_list {
    int n;
    char text[MAX_TARGETS][256];
} target_list;

static dk_status add_text(target_list *l, const char *fmt, const char *a, const char *b)
{
    if (l->n == MAX_TARGETS) return dk__error(DK_ERR_INVALID, "selftest: more than %d variants", MAX_TARGETS);
    snprintf(l->text[l->n++], sizeof l->text[0], fmt, a, b);
    return DK_OK;
}

/* One variant per non-default value of each of b's enumerated options
 * ("a|b|c"), plus threads=1 for backends other than ref: every option value
 * is exercised once, each against the reference. An unavailable backend is
 * listed once, with its defaults (its row says why it is skipped). */
static dk_status add_option_values(target_list *l, const dk_backend_iface *b)
{
    char reason[64];
    if (dk_backend_probe(b, reason, sizeof reason) != DK_OK) {
        dk__error_clear();
        return DK_OK;
    }
    const char *name = dk_backend_name(b);
    if (strcmp(name, "ref")) DK_TRY(add_text(l, "%s:threads=1%s", name, ""));
    for (int i = 0; dk_backend_option_at(b, i); i++) {
        const dk_option_spec *o = dk_backend_option_at(b, i);
        if (!strchr(o->values, '|') || !strncmp(o->values, "int:", 4)) continue;
        for (const char *p = o->values; *p;) {
            size_t len = strcspn(p, "|");
            if (strlen(o->def) != len || strncmp(p, o->def, len)) {
                char kv[160];
                snprintf(kv, sizeof kv, "%s=%.*s", o->key, (int)len, p);
                DK_TRY(add_text(l, "%s:%s", name, kv));
            }
            p += len + (p[len] == '|');
        }
    }
    return DK_OK;
}

/* The backend named at the start of a variant: a backend compiled out or
 * unusable here is skipped before its options are parsed (a stub declares
 * none, so cudnn:layout=nhwc would not parse where cuDNN is not built). */
static const dk_backend_iface *backend_of(const char *text)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(text, ":"), text);
    return dk_backend_find(name);
}

static dk_status collect(const dk_selftest_options *o, target_list *l)
{
    l->n = 0;
    if (o->n_variants == 0) {
        for (int i = 0; i < dk_backend_count(); i++) {
            DK_TRY(add_text(l, "%s%s", dk_backend_name(dk_backend_at(i)), ""));
            if (o->all_options) DK_TRY(add_option_values(l, dk_backend_at(i)));
        }
        return DK_OK;
    }
    for (int p = 0; p < o->n_variants; p++) {
        const dk_backend_iface *b = backend_of(o->variants[p]);
        if (!b) return dk__error_prefix(DK_ERR_INVALID, "selftest: --backend '%s'", o->variants[p]);
        char reason[256];
        if (dk_backend_probe(b, reason, sizeof reason) != DK_OK) { /* listed as it is, SKIPPED */
            dk__error_clear();
            DK_TRY(add_text(l, "%s%s", o->variants[p], ""));
            continue;
        }
        dk_variant vs[MAX_TARGETS];
        int count = 0;
        if (dk_variant_expand(o->variants[p], vs, MAX_TARGETS, &count) != DK_OK)
            return dk__error_prefix(DK_ERR_INVALID, "selftest: --backend '%s'", o->variants[p]);
        for (int i = 0; i < count; i++) {
            char text[256];
            DK_TRY(add_text(l, "%s%s", dk_variant_canonical(&vs[i], 0, text, sizeof text), ""));
        }
    }
    return DK_OK;
}

dk_status dk_selftest_list_variants(const dk_selftest_options *o, FILE *out)
{
    static target_list l;
    DK_TRY(collect(o, &l));
    for (int i = 0; i < l.n; i++) fprintf(out, "%s\n", l.text[i]);
    return DK_OK;
}

/* ---- the suites ---------------------------------------------------------------------- */

static void print_line(void *user, const char *line) { fprintf((FILE *)user, "%s\n", line); }

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static dk_status ops_config(const dk_selftest_options *o, FILE *out, dk__ops_config *c)
{
    dk__ops_config_default(c);
    c->seed = o->seed;
    c->cases = o->cases;
    c->only_case = o->only_case;
    c->max_ratio = o->max_ratio;
    c->inject_set = o->inject_set;
    c->inject = o->inject;
    c->verbose = o->verbose;
    c->log = print_line;
    c->log_user = out;
    for (int i = 0; i < o->n_ops; i++) {
        const dk__op_gen *gen = dk__op_gen_find(o->ops[i]);
        if (!gen) {
            char names[1024] = "";
            for (int k = 0; dk__op_gen_at(k); k++) dk_join(names, sizeof names, ", ", dk_op_name(dk__op_gen_at(k)->op));
            return dk__error(DK_ERR_INVALID, "selftest: --op '%s': the op suite has no cases for it (ops: %s)",
                             o->ops[i], names);
        }
        if (c->n_ops < DK__OPS_MAX_OPS) c->ops[c->n_ops++] = gen;
    }
    return DK_OK;
}

static void conf_config(const dk_selftest_options *o, FILE *out, dk__conf_config *c)
{
    memset(c, 0, sizeof *c);
    c->filter = o->filter;
    c->inject_set = o->inject_set;
    c->inject = o->inject;
    c->seed = o->seed;
    c->verbose = o->verbose;
    c->quiet_skips = !o->verbose;
    c->log = print_line;
    c->log_user = out;
    if (o->require_families) dk__conf_required_families(c);
    if (o->n_required) {
        c->required = o->required, c->n_required = o->n_required;
        c->except = o->except, c->n_except = o->n_except;
        c->excused = o->excused, c->n_excused = o->n_excused;
    }
}

/* Both conformance suites (or the roots given) on every available target. */
static dk_status run_conformance(const dk_selftest_options *o, FILE *out, dk__st_target *t, int n,
                                 dk__conf_result *res, int *found)
{
    char dirs[16][4096];
    int n_dirs = 0;
    *found = 0;
    if (!o->n_roots && !is_dir(o->data)) {
        fprintf(out, "conformance: %s not found (install Debian's libonnx-testdata): skipped\n", o->data);
        return DK_OK;
    }
    if (o->n_roots) {
        for (int r = 0; r < o->n_roots && n_dirs < 16; r++) snprintf(dirs[n_dirs++], sizeof dirs[0], "%s", o->roots[r]);
    } else {
        snprintf(dirs[n_dirs++], sizeof dirs[0], "%s/node", o->data);
        snprintf(dirs[n_dirs++], sizeof dirs[0], "%s/pytorch-converted", o->data);
    }
    dk__conf_config cfg;
    conf_config(o, out, &cfg);
    for (int d = 0; d < n_dirs; d++) {
        if (!is_dir(dirs[d])) {
            fprintf(out, "conformance: %s not found: that suite is skipped\n", dirs[d]);
            continue;
        }
        *found = 1;
        for (int i = 0; i < n; i++) {
            if (!t[i].available) continue;
            char repro[4500], inject[64] = "";
            if (o->inject_set) snprintf(inject, sizeof inject, " --inject %g", o->inject);
            snprintf(repro, sizeof repro, "deltakern selftest --backend '%.255s' --no-ops --root %.4000s --seed %llu%s",
                     t[i].text, dirs[d], (unsigned long long)o->seed, inject);
            cfg.repro = repro;
            DK_TRY(dk__conformance_run_root(&cfg, &t[i].v, dirs[d], &res[i]));
        }
    }
    return DK_OK;
}

static void summarise(const dk_selftest_options *o, const dk__st_target *t, int n, const dk__ops_result *ops,
                      const dk__conf_result *conf, int conf_found, dk_selftest_summary *s)
{
    int counted = 0;
    s->variants = n;
    for (int i = 0; i < n; i++) {
        if (!t[i].available) continue;
        s->available++;
        int fail = 0;
        if (o->run_ops) {
            dk__ops_stats st;
            dk__ops_totals(ops, i, &st);
            fail |= st.failed > 0;
            counted += st.failed;
        }
        if (o->run_conformance && conf_found) {
            fail |= conf[i].failed > 0;
            s->conf_passed += conf[i].passed;
            s->conf_failed += conf[i].failed;
            s->conf_skipped += conf[i].skipped;
        }
        s->failed += fail;
    }
    for (int k = 0; o->run_ops && k < ops->n_ops * ops->n_targets; k++) {
        const dk__ops_stats *st = &ops->rows[k];
        s->ops_cases += st->cases;
        s->ops_passed += st->passed;
        s->ops_failed += st->failed;
        s->ops_mistrusted += st->mistrusted;
        s->ops_skipped += st->skipped;
        s->ops_differed += st->differed;
        s->ops_transform += st->transform;
    }
    s->broken = o->run_ops ? ops->failures - counted : 0;
    s->conf_found = conf_found;
}

dk_status dk_selftest_run(const dk_selftest_options *o, FILE *out, dk_selftest_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    if (!o->run_ops && !o->run_conformance)
        return dk__error(DK_ERR_INVALID, "selftest: --no-ops and --no-conformance leave nothing to run");
    static target_list l;
    static dk__st_target targets[MAX_TARGETS];
    static dk__conf_result conf[MAX_TARGETS];
    dk__ops_config ocfg;
    DK_TRY(ops_config(o, out, &ocfg));
    DK_TRY(collect(o, &l));
    dk__st_target ref;
    memset(&ref, 0, sizeof ref);
    memset(conf, 0, sizeof conf);
    int n = 0, conf_found = 0;
    dk__ops_result ops = {0};
    dk_status st = DK_OK;
    for (int i = 0; i < l.n && st == DK_OK; i++) st = dk__st_target_open(&targets[n++], l.text[i]);
    if (st == DK_OK && (dk__st_target_open(&ref, "ref") != DK_OK || !ref.available))
        st = dk__error(DK_ERR_INTERNAL, "selftest: the reference backend is unavailable: %s", ref.reason);
    if (st == DK_OK) {
        dk__selftest_print_header(o, out, targets, n);
        if (o->run_ops) st = dk__ops_run(&ocfg, &ref, targets, n, &ops);
    }
    if (st == DK_OK && o->run_conformance) st = run_conformance(o, out, targets, n, conf, &conf_found);
    if (st == DK_OK) {
        summarise(o, targets, n, &ops, conf, conf_found, sum);
        dk__selftest_print_report(o, out, targets, n, o->run_ops ? &ops : NULL,
                                  o->run_conformance && conf_found ? conf : NULL, sum);
    }
    dk__ops_result_free(&ops);
    for (int i = 0; i < n; i++) dk__st_target_close(&targets[i]);
    dk__st_target_close(&ref);
    return st;
}
