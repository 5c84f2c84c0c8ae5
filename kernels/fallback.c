/* Falling back to the reference kernels (kernels/fallback.h). */
#include "kernels/fallback.h"
#include "kernels/ref/ref_kernels.h"
#include "runtime/error.h"
#include "runtime/text.h"

int dk__fallback_supports(const dk_node *n) { return dk_ref_kernel_for(n->op) != NULL; }

dk_status dk__fallback_run(const char *backend, const dk_node *n, const dk_tensor *const *in,
                           dk_tensor *const *out)
{
    dk_eval_fn fn = dk_ref_kernel_for(n->op);
    if (!fn)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: node '%s' (%s) has no kernel here or in the reference",
                         backend, n->name, dk_op_name(n->op));
    dk_status st = fn(n, in, out);
    return st == DK_OK ? DK_OK : dk__error_prefix(st, "%s: node '%s' on the reference kernels", backend, DK_ESC(n->name));
}
