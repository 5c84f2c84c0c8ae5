/* The page as a growing string: escaping, numbers, ids, the frame with its
 * inline CSS and sort script, and sortable tables. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/report/report_internal.h"

void dk__html_free(dk_html *h)
{
    free(h->buf);
    memset(h, 0, sizeof *h);
}

dk_status dk__html_status(const dk_html *h)
{
    return h->oom ? dk__error(DK_ERR_NOMEM, "report: out of memory building the page") : DK_OK;
}

static int reserve(dk_html *h, size_t more)
{
    if (h->oom) return 0;
    if (h->len + more + 1 <= h->cap) return 1;
    size_t cap = h->cap ? h->cap : 1 << 16;
    while (cap < h->len + more + 1) cap *= 2;
    char *b = realloc(h->buf, cap);
    if (!b) {
        h->oom = 1;
        return 0;
    }
    h->buf = b;
    h->cap = cap;
    return 1;
}

static void append(dk_html *h, const char *s, size_t n)
{
    if (!reserve(h, n)) return;
    memcpy(h->buf + h->len, s, n);
    h->len += n;
    h->buf[h->len] = 0;
}

void dk__html_raw(dk_html *h, const char *s)
{
    if (s) append(h, s, strlen(s));
}

void dk__html_printf(dk_html *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(h, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(h->buf + h->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    h->len += (size_t)n;
}

void dk__html_text(dk_html *h, const char *s)
{
    if (!s) return;
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            /* control characters from a foreign file would make the page invalid */
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') rep = "\xEF\xBF\xBD";
        }
        if (!rep) continue;
        append(h, run, (size_t)(s - run));
        dk__html_raw(h, rep);
        run = s + 1;
    }
    append(h, run, (size_t)(s - run));
}

void dk__html_num(dk_html *h, double v, int digits)
{
    if (isnan(v)) dk__html_raw(h, "-");
    else if (isinf(v) || fabs(v) >= 1e307) dk__html_raw(h, v < 0 ? "−∞" : "∞");
    else dk__html_printf(h, "%.*g", digits, v);
}

void dk__html_id(dk_html *h, const char *prefix, const char *name)
{
    dk__html_raw(h, prefix);
    dk__html_raw(h, "-");
    for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-')
            append(h, (const char *)p, 1);
        else
            dk__html_printf(h, "_%02x", *p);
    }
}

/* Colours: one per variant (v0..v7), chosen to stay apart for colour-blind
 * readers (Okabe-Ito). */
static const char css[] =
    ":root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--hl:#fff8c5}"
    "*{box-sizing:border-box}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg);"
    "margin:0 auto;padding:12px 16px 48px;max-width:1240px;overflow-wrap:break-word}"
    "h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);"
    "padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}"
    "p.note,.muted{color:var(--muted)}code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
    "font-size:12.5px;overflow-wrap:anywhere}td.mono{min-width:16em}"
    "nav a{margin-right:12px}"
    ".scroll{overflow-x:auto;max-width:100%;margin:6px 0}"
    "table{border-collapse:collapse;font-size:13px}th,td{border:1px solid var(--line);padding:3px 7px;"
    "text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "th{background:#f6f8fa;position:sticky;top:0}table.sortable th{cursor:pointer;user-select:none}"
    "table.sortable th.asc::after{content:' \\25B4'}table.sortable th.desc::after{content:' \\25BE'}"
    "tr:target{background:var(--hl)}tr.bad td{background:#ffebe9}"
    "table.kv th{width:11em}"
    ".story{font-size:16px;padding:8px 12px;border-left:4px solid #0969da;background:#f6f8fa}"
    ".verdict-bad{color:#cf222e;font-weight:600}.verdict-ok{color:#1a7f37}"
    ".plotbox{overflow-x:auto;max-width:100%}"
    "svg.plot{display:block;width:100%;min-width:900px;height:auto;background:#fff;margin:4px 0 12px}"
    "svg.plot text{font:11px system-ui,sans-serif;fill:#1b1f24}svg.plot .title{font-size:13px;font-weight:600}"
    "svg.plot .grid{stroke:#eaeef2;stroke-width:1}svg.plot .axis{stroke:#57606a;stroke-width:1}"
    "svg.plot .bound{stroke:#cf222e;stroke-dasharray:5 3;stroke-width:1.2}"
    "svg.plot .l0{fill:none;stroke:#0072b2;stroke-width:1.4}svg.plot .l1{fill:none;stroke:#e69f00;stroke-width:1.4}"
    "svg.plot .p0{fill:#0072b2}svg.plot .p1{fill:#e69f00}svg.plot .p2{fill:#009e73}svg.plot .p3{fill:#cc79a7}"
    "svg.plot .p4{fill:#56b4e9}svg.plot .p5{fill:#d55e00}svg.plot .p6{fill:#f0e442}svg.plot .p7{fill:#000}"
    "svg.plot .faulty{fill:#cf222e;stroke:#fff;stroke-width:1}svg.plot .amp{fill:none;stroke:#6f42c1;stroke-width:2}"
    "svg.plot .whisker{stroke:#1b1f24;stroke-width:1}svg.plot .up{fill:#cf222e}svg.plot .down{fill:#1a7f37}"
    "svg.plot .net{fill:#57606a}svg.plot a:hover circle,svg.plot a:hover rect{stroke:#000;stroke-width:1.5}"
    "img.thumb{width:96px;height:auto;image-rendering:auto;border:1px solid var(--line)}"
    "@media (max-width:600px){body{padding:8px}h1{font-size:18px}table{font-size:12px}}";

/* Sorting without a library: numbers by data-sort (or the text when it
 * parses as one), else text; a second click reverses. */
static const char script[] =
    "document.querySelectorAll('table.sortable').forEach(function(t){"
    "var hs=t.tHead?t.tHead.rows[0].cells:[];"
    "Array.prototype.forEach.call(hs,function(th,i){th.addEventListener('click',function(){"
    "var asc=!th.classList.contains('asc');"
    "Array.prototype.forEach.call(hs,function(o){o.classList.remove('asc','desc')});"
    "th.classList.add(asc?'asc':'desc');"
    "var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);"
    "function key(r){var c=r.cells[i];if(!c)return '';var s=c.getAttribute('data-sort');"
    "if(s===null)s=c.textContent.trim();var x=parseFloat(s);return isNaN(x)||!/^[-+0-9.eE]+$/.test(s)?s:x}"
    "rows.sort(function(a,c){var x=key(a),y=key(c),r;"
    "if(typeof x==='number'&&typeof y==='number')r=x-y;"
    "else if(typeof x==='number')r=-1;else if(typeof y==='number')r=1;"
    "else r=x<y?-1:x>y?1:0;return asc?r:-r});"
    "rows.forEach(function(r){b.appendChild(r)})})})});";

void dk__html_page_begin(dk_html *h, const char *title)
{
    dk__html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                    /* nothing may be fetched: the page is complete in itself */
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
                    "<title>");
    dk__html_text(h, title);
    dk__html_raw(h, "</title><style>");
    dk__html_raw(h, css);
    dk__html_raw(h, "</style></head><body>\n");
}

void dk__html_page_end(dk_html *h)
{
    dk__html_raw(h, "<script>");
    dk__html_raw(h, script);
    dk__html_raw(h, "</script>\n</body></html>\n");
}

void dk__html_table_begin(dk_html *h, const char *cls, const char *const *headers, int n_headers)
{
    dk__html_printf(h, "<div class=\"scroll\"><table class=\"%s\"><thead><tr>", cls ? cls : "sortable");
    for (int i = 0; i < n_headers; i++) {
        dk__html_raw(h, "<th>");
        dk__html_text(h, headers[i]);
        dk__html_raw(h, "</th>");
    }
    dk__html_raw(h, "</tr></thead><tbody>\n");
}

void dk__html_table_end(dk_html *h)
{
    dk__html_raw(h, "</tbody></table></div>\n");
}

void dk__html_row_begin(dk_html *h, const char *id_prefix, const char *id_name)
{
    if (!id_prefix) {
        dk__html_raw(h, "<tr>");
        return;
    }
    dk__html_raw(h, "<tr id=\"");
    dk__html_id(h, id_prefix, id_name);
    dk__html_raw(h, "\">");
}

void dk__html_row_end(dk_html *h)
{
    dk__html_raw(h, "</tr>\n");
}

void dk__html_td_text(dk_html *h, const char *s)
{
    dk__html_raw(h, "<td>");
    dk__html_text(h, s);
    dk__html_raw(h, "</td>");
}

void dk__html_td_num(dk_html *h, double v, int digits)
{
    /* the key sorts unknowns last in ascending order */
    if (isnan(v)) dk__html_raw(h, "<td class=\"n\" data-sort=\"1e308\">");
    else dk__html_printf(h, "<td class=\"n\" data-sort=\"%.17g\">", isinf(v) ? (v < 0 ? -1e308 : 1e308) : v);
    dk__html_num(h, v, digits);
    dk__html_raw(h, "</td>");
}

void dk__html_td_link(dk_html *h, const char *prefix, const char *name)
{
    dk__html_raw(h, "<td class=\"mono\"><a href=\"#");
    dk__html_id(h, prefix, name);
    dk__html_raw(h, "\" title=\"");
    dk__html_text(h, name);
    dk__html_raw(h, "\">");
    dk__html_text(h, name);
    dk__html_raw(h, "</a></td>");
}

const char *dk__j_str(const cJSON *o, const char *key, const char *dflt)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : dflt;
}

double dk__j_num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}
