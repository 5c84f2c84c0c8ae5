/* Internal to kernels/onednn and its tests: what a plan of the onednn backend
 * says about itself. Every plan starts with this struct, so a plan pointer is
 * also a pointer to its info; the header needs no oneDNN, so tests compile
 * where oneDNN is absent (they then skip). */
#ifndef DK_KERNELS_ONEDNN_ONEDNN_PLAN_INFO_H
#define DK_KERNELS_ONEDNN_ONEDNN_PLAN_INFO_H

typedef struct dk_onednn_plan_info {
    int fallback;           /* run by the reference backend's kernels */
    int post_in_c;          /* a Conv's fused post-ops run after it in plain C (fuse=off) */
    char note[1024];        /* oneDNN's implementation, algorithm and reorders, or why it
                               falls back; at opt=3 also every candidate's time */
} dk_onednn_plan_info;

#endif
