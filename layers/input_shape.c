/* Parsing "NAME=1x3x48x320": the shape a user gives a graph input. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "deltakern/onnx.h"
#include "runtime/checked.h"
#include "runtime/error.h"

#define EXAMPLE "expected NAME=DxDx...xD, e.g. x=1x3x224x224"

dk_status dk_input_shape_parse(const char *text, dk_input_shape *out)
{
    memset(out, 0, sizeof *out);
    const char *eq = strrchr(text, '='); /* the last '=': a name may hold one */
    if (!eq || eq == text) return dk__error(DK_ERR_INVALID, "input shape '%s': no input name (" EXAMPLE ")", text);
    size_t len = (size_t)(eq - text);
    if (len >= sizeof out->name)
        return dk__error(DK_ERR_INVALID, "input shape '%.40s...': input name longer than %zu bytes", text,
                         sizeof out->name - 1);
    memcpy(out->name, text, len);
    out->name[len] = 0;
    const char *p = eq + 1;
    if (!*p) return dk__error(DK_ERR_INVALID, "input shape '%s': no dimensions (" EXAMPLE ")", text);
    for (;;) {
        if (out->ndim == DK_MAX_DIMS)
            return dk__error(DK_ERR_INVALID, "input shape '%s': more than %d dimensions", text, DK_MAX_DIMS);
        if (!isdigit((unsigned char)*p))
            return dk__error(DK_ERR_INVALID, "input shape '%s': axis %d is not a positive integer (" EXAMPLE ")",
                             text, out->ndim);
        int64_t v = 0;
        /* digit by digit, stopping past the limit: no overflow however long */
        for (; isdigit((unsigned char)*p); p++)
            if (v <= DK_MAX_DIM) v = v * 10 + (*p - '0');
        if (v < 1 || v > DK_MAX_DIM)
            return dk__error(DK_ERR_INVALID, "input shape '%s': axis %d is out of range (1 to " DK_MAX_LIMIT_STR ")",
                             text, out->ndim);
        out->dims[out->ndim++] = v;
        if (!*p) return DK_OK;
        if (*p != 'x')
            return dk__error(DK_ERR_INVALID, "input shape '%s': unexpected character 0x%02x after axis %d (" EXAMPLE ")",
                             text, (unsigned char)*p, out->ndim - 1);
        p++;
    }
}
