/* Variants under test, opened once so that single nodes can be driven
 * through the backend interface (plan, execute) without a session. */
#include <stdio.h>
#include <string.h>

#include "deltakern/backend.h"
#include "drivers/selftest/selftest.h"
#include "runtime/error.h"

dk_status dk__st_target_open(dk__st_target *t, const char *text)
{
    memset(t, 0, sizeof *t);
    snprintf(t->text, sizeof t->text, "%s", text);
    /* the backend first: one compiled out or unusable here is skipped before
     * its options are parsed (a stub declares none) */
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(text, ":"), text);
    if (!(t->b = dk_backend_find(name))) return dk__error_prefix(DK_ERR_INVALID, "variant '%s'", text);
    if (dk_backend_probe(t->b, t->reason, sizeof t->reason) != DK_OK) {
        dk__error_clear();
        return DK_OK;
    }
    DK_TRY(dk_variant_parse(text, &t->v));
    t->b = t->v.backend;
    t->prec = dk_variant_precision(&t->v);
    t->threads = (int)dk_variant_get_int(&t->v, "threads", 0);
    if (dk_variant_probe(&t->v, t->reason, sizeof t->reason) != DK_OK) {
        dk__error_clear();
        return DK_OK;
    }
    if (dk__backend_open(t->b, &t->v, &t->ctx) != DK_OK) {
        snprintf(t->reason, sizeof t->reason, "cannot open: %s", dk_last_error());
        return DK_OK;
    }
    t->available = 1;
    return DK_OK;
}

void dk__st_target_close(dk__st_target *t)
{
    if (t->available) dk__backend_close(t->b, t->ctx);
    t->available = 0;
    t->ctx = NULL;
}
