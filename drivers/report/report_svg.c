/* SVG plots: a frame with linear or log axes, ticks and grid, and the marks
 * drawn in data coordinates. The SVG scales with the page (viewBox). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "drivers/report/report_internal.h"

static int usable(const dk_axis *a, double v)
{
    return isfinite(v) && (!a->log || v > 0);
}

dk_axis dk__axis_fit(const double *v, int n, int log, const char *label)
{
    dk_axis a = {NAN, NAN, log, label};
    for (int i = 0; i < n; i++) dk__axis_include(&a, v[i]);
    return a;
}

void dk__axis_include(dk_axis *a, double v)
{
    if (!usable(a, v)) return;
    if (!(a->lo <= v)) a->lo = v;
    if (!(a->hi >= v)) a->hi = v;
}

/* The range drawn: nothing usable gives [0, 1] (log [1, 10]); a single value
 * is widened; log ranges snap to decades, linear ones get 4% of air. */
static void settle(dk_axis *a)
{
    if (!isfinite(a->lo) || !isfinite(a->hi)) {
        a->lo = a->log ? 1 : 0;
        a->hi = a->log ? 10 : 1;
    }
    if (a->log) {
        a->lo = pow(10, floor(log10(a->lo)));
        a->hi = pow(10, ceil(log10(a->hi)));
        if (a->hi <= a->lo) a->hi = a->lo * 10;
        return;
    }
    if (a->hi <= a->lo) {
        double d = a->lo ? fabs(a->lo) * 0.5 : 1;
        a->lo -= d;
        a->hi += d;
    }
    double air = (a->hi - a->lo) * 0.04;
    if (a->lo != 0) a->lo -= air; /* a range starting at 0 stays there (bars) */
    a->hi += air;
}

static double frac(const dk_axis *a, double v)
{
    if (a->log) return (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    return (v - a->lo) / (a->hi - a->lo);
}

double dk__plot_x(const dk_plot *p, double v)
{
    return p->left + frac(&p->x, v) * (p->width - p->left - p->right);
}

double dk__plot_y(const dk_plot *p, double v)
{
    return p->height - p->bottom - frac(&p->y, v) * (p->height - p->top - p->bottom);
}

int dk__plot_in(const dk_plot *p, double x, double y)
{
    return usable(&p->x, x) && usable(&p->y, y);
}

/* Tick values: decades on a log axis (every k-th when there are many), else
 * 1-2-5 steps giving about five ticks. */
static int ticks(const dk_axis *a, double *t, int max)
{
    int n = 0;
    if (a->log) {
        int d0 = (int)floor(log10(a->lo) + 1e-9), d1 = (int)ceil(log10(a->hi) - 1e-9);
        int step = (d1 - d0) / 8 + 1;
        for (int d = d0; d <= d1 && n < max; d += step) t[n++] = pow(10, d);
        return n;
    }
    double span = a->hi - a->lo, raw = span / 5, mag = pow(10, floor(log10(raw))), step = mag;
    if (raw / mag > 5) step = 10 * mag;
    else if (raw / mag > 2) step = 5 * mag;
    else if (raw / mag > 1) step = 2 * mag;
    for (double v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-9 && n < max; v += step)
        t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    return n;
}

static void tick_label(char *buf, size_t n, const dk_axis *a, double v)
{
    if (a->log) {
        int e = (int)lround(log10(v));
        if (e >= -2 && e <= 3) snprintf(buf, n, "%g", v);
        else snprintf(buf, n, "1e%d", e);
    } else {
        snprintf(buf, n, "%.3g", v);
    }
}

void dk__plot_begin(dk_plot *p, dk_html *h, const char *title, int width, int height, dk_axis x, dk_axis y)
{
    memset(p, 0, sizeof *p);
    p->h = h;
    p->width = width;
    p->height = height;
    p->left = 64;
    p->right = 16;
    p->top = 44; /* the title, then a row of legend entries */
    p->bottom = 44;
    settle(&x);
    settle(&y);
    p->x = x;
    p->y = y;
    /* below 900 px the labels would be unreadable: narrow screens scroll */
    dk__html_raw(h, "<div class=\"plotbox\">");
    dk__html_printf(h, "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                    "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"", width, height, width, height);
    dk__html_text(h, title);
    dk__html_printf(h, "\"><text class=\"title\" x=\"%g\" y=\"17\">", p->left);
    dk__html_text(h, title);
    dk__html_raw(h, "</text>\n");
    double t[32];
    char label[32];
    double x0 = p->left, x1 = width - p->right, y0 = p->top, y1 = height - p->bottom;
    int n = ticks(&p->y, t, 32);
    for (int i = 0; i < n; i++) {
        double yy = dk__plot_y(p, t[i]);
        tick_label(label, sizeof label, &p->y, t[i]);
        dk__html_printf(h, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                        x0, x1, yy, yy, x0 - 4, yy + 4, label);
    }
    n = ticks(&p->x, t, 32);
    for (int i = 0; i < n; i++) {
        double xx = dk__plot_x(p, t[i]);
        tick_label(label, sizeof label, &p->x, t[i]);
        dk__html_printf(h, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                        xx, xx, y0, y1, xx, y1 + 15, label);
    }
    dk__html_printf(h, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                    "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
                    x0, x1, y1, y1, x0, x0, y0, y1);
    if (x.label) {
        dk__html_printf(h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (x0 + x1) / 2, (double)height - 6);
        dk__html_text(h, x.label);
        dk__html_raw(h, "</text>\n");
    }
    if (y.label) {
        dk__html_printf(h, "<text transform=\"translate(13 %.1f) rotate(-90)\" text-anchor=\"middle\">", (y0 + y1) / 2);
        dk__html_text(h, y.label);
        dk__html_raw(h, "</text>\n");
    }
}

void dk__plot_end(dk_plot *p)
{
    dk__html_raw(p->h, "</svg></div>\n");
}

void dk__plot_polyline(dk_plot *p, const double *xs, const double *ys, int n, const char *cls)
{
    int open = 0;
    for (int i = 0; i < n; i++) {
        if (!dk__plot_in(p, xs[i], ys[i])) {
            if (open) dk__html_raw(p->h, "\"/>\n");
            open = 0;
            continue;
        }
        if (!open) dk__html_printf(p->h, "<polyline class=\"%s\" points=\"", cls);
        dk__html_printf(p->h, "%s%.1f,%.1f", open ? " " : "", dk__plot_x(p, xs[i]), dk__plot_y(p, ys[i]));
        open = 1;
    }
    if (open) dk__html_raw(p->h, "\"/>\n");
}

void dk__plot_point(dk_plot *p, double x, double y, double r, const char *cls, const char *title,
                    const char *href_prefix, const char *href_name)
{
    if (!dk__plot_in(p, x, y)) return;
    if (href_prefix) {
        dk__html_raw(p->h, "<a href=\"#");
        dk__html_id(p->h, href_prefix, href_name);
        dk__html_raw(p->h, "\">");
    }
    dk__html_printf(p->h, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\">", cls, dk__plot_x(p, x),
                    dk__plot_y(p, y), r);
    if (title) {
        dk__html_raw(p->h, "<title>");
        dk__html_text(p->h, title);
        dk__html_raw(p->h, "</title>");
    }
    dk__html_raw(p->h, "</circle>");
    if (href_prefix) dk__html_raw(p->h, "</a>");
    dk__html_raw(p->h, "\n");
}

void dk__plot_hline(dk_plot *p, double y, const char *cls, const char *label)
{
    if (!usable(&p->y, y) || y < p->y.lo || y > p->y.hi) return;
    double yy = dk__plot_y(p, y);
    dk__html_printf(p->h, "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", cls, p->left,
                    p->width - p->right, yy, yy);
    if (label) {
        dk__html_printf(p->h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", p->width - p->right - 2, yy - 3);
        dk__html_text(p->h, label);
        dk__html_raw(p->h, "</text>");
    }
    dk__html_raw(p->h, "\n");
}

/* Clamps a value into the axis range for drawing (a bar starting at 0 on a
 * log axis starts at the bottom). */
static double clamp(const dk_axis *a, double v)
{
    if (a->log && !(v > 0)) return a->lo;
    return v < a->lo ? a->lo : v > a->hi ? a->hi : v;
}

void dk__plot_rect(dk_plot *p, double x0, double y0, double x1, double y1, const char *cls, const char *title)
{
    if (!isfinite(x0) || !isfinite(x1) || !isfinite(y0) || !isfinite(y1)) return;
    double a = dk__plot_x(p, clamp(&p->x, x0)), b = dk__plot_x(p, clamp(&p->x, x1));
    double c = dk__plot_y(p, clamp(&p->y, y0)), d = dk__plot_y(p, clamp(&p->y, y1));
    dk__html_printf(p->h, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.2f\">", cls,
                    fmin(a, b), fmin(c, d), fabs(b - a), fmax(fabs(d - c), 0.5));
    if (title) {
        dk__html_raw(p->h, "<title>");
        dk__html_text(p->h, title);
        dk__html_raw(p->h, "</title>");
    }
    dk__html_raw(p->h, "</rect>\n");
}

void dk__plot_vsegment(dk_plot *p, double x, double y0, double y1, const char *cls)
{
    if (!usable(&p->x, x) || !usable(&p->y, y0) || !usable(&p->y, y1)) return;
    double xx = dk__plot_x(p, x);
    dk__html_printf(p->h, "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", cls, xx, xx,
                    dk__plot_y(p, clamp(&p->y, y0)), dk__plot_y(p, clamp(&p->y, y1)));
}

void dk__plot_text(dk_plot *p, double x, double y, const char *cls, const char *s)
{
    if (!dk__plot_in(p, x, y)) return;
    dk__html_printf(p->h, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\">", cls ? cls : "", dk__plot_x(p, x) + 4,
                    dk__plot_y(p, y) - 4);
    dk__html_text(p->h, s);
    dk__html_raw(p->h, "</text>\n");
}

void dk__plot_legend(dk_plot *p, int slot, const char *cls, const char *s)
{
    double x = p->left + 290 * slot, y = 28;
    dk__html_printf(p->h, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"4\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\">", cls, x, y, x + 16, y + 5);
    dk__html_text(p->h, s);
    dk__html_raw(p->h, "</text>\n");
}
