/* deltakern backends: every backend compiled in, with its availability. */
#include <stdio.h>
#include <string.h>

#include "deltakern/backend.h"
#include "deltakern/variant.h"
#include "tools/cli.h"
#include "tools/cli_options.h"

static void print_option(const dk_option_spec *o)
{
    const char *values = !strncmp(o->values, "int:", 4) ? o->values + 4 : o->values;
    if (o->def) printf("%-10s   %s=%s (default %s): %s\n", "", o->key, values, o->def, o->help);
    else printf("%-10s   %s=%s (required): %s\n", "", o->key, values, o->help);
}

int dk_cmd_backends(int argc, char **argv)
{
    const dk_cli_opt opts[] = {{0}};
    const dk_cli_spec spec = {
        .cmd = "backends", .opts = opts,
        .about = "Lists every backend compiled into this build: name, version, whether it\n"
                 "can run on this machine (and why not), what it is, and the options a\n"
                 "variant string \"backend:key=value,...\" may set for it."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    printf("%-10s %-12s %s\n", "backend", "status", "version / description");
    for (int i = 0; i < dk_backend_count(); i++) {
        const dk_backend_iface *b = dk_backend_at(i);
        char reason[256];
        int ok = dk_backend_probe(b, reason, sizeof reason) == DK_OK;
        printf("%-10s %-12s %s — %s\n", dk_backend_name(b), ok ? "available" : "unavailable",
               dk_backend_version(b), dk_backend_description(b));
        if (!ok) printf("%-10s %-12s reason: %s\n", "", "", reason);
        for (int k = 0; dk_backend_option_at(b, k); k++) print_option(dk_backend_option_at(b, k));
    }
    printf("\nwrappers (run the backend named by base=, which takes its own options too):\n");
    for (int i = 0; i < dk_wrapper_count(); i++) {
        const dk_backend_iface *b = dk_wrapper_at(i);
        printf("%-10s %-12s %s — %s\n", dk_backend_name(b), "available", dk_backend_version(b),
               dk_backend_description(b));
        for (int k = 0; dk_backend_option_at(b, k); k++) print_option(dk_backend_option_at(b, k));
    }
    printf("\noptions every backend accepts:\n");
    for (const dk_option_spec *o = dk_common_options(); o->key; o++) print_option(o);
    return DK_EXIT_OK;
}
