/* deltakern backends: every backend compiled in, with its availability. */
#include <stdio.h>
#include <string.h>

#include "deltakern/backend.h"
#include "tools/cli.h"

int dk_cmd_backends(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: deltakern backends\n\n"
                   "Lists every backend compiled into this build: name, version, whether it\n"
                   "can run on this machine (and why not), and what it is.\n");
            return DK_EXIT_OK;
        }
        dk_cli_error("backends: unknown option '%s' (see deltakern backends --help)", argv[i]);
        return DK_EXIT_USAGE;
    }
    printf("%-10s %-12s %s\n", "backend", "status", "version / description");
    for (int i = 0; i < dk_backend_count(); i++) {
        const dk_backend_iface *b = dk_backend_at(i);
        char reason[256];
        int ok = dk_backend_probe(b, reason, sizeof reason) == DK_OK;
        printf("%-10s %-12s %s — %s\n", dk_backend_name(b), ok ? "available" : "unavailable",
               dk_backend_version(b), dk_backend_description(b));
        if (!ok) printf("%-10s %-12s reason: %s\n", "", "", reason);
    }
    return DK_EXIT_OK;
}
