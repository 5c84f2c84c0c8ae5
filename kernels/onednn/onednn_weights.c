/* Constant weights reordered once per process: every plan that wants the
 * same data in the same layout shares one buffer (the default and bf16
 * variants of a model mostly pick the same weights layout, and graphs cloned
 * from one model share their constants' data). Keyed by the source data
 * pointer (constants are never written), its descriptor and the target
 * descriptor; counted, and freed with the last plan that uses it, which is
 * before the graph holding the source data can go. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/onednn/onednn_internal.h"
#include "runtime/big_alloc.h"

typedef struct shared_weights {
    const void *src;
    dk_dnnl_md src_md, dst_md;
    void *buf;
    int refs;
    struct shared_weights *next;
} shared_weights;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static shared_weights *entries;

void *dk_onednn_weights_acquire(const void *src, const dk_dnnl_md *src_md, const dk_dnnl_md *dst_md, int *ready)
{
    pthread_mutex_lock(&lock);
    shared_weights *e = entries;
    while (e && !(e->src == src && dk_dnnl_md_equal(&e->src_md, src_md) && dk_dnnl_md_equal(&e->dst_md, dst_md)))
        e = e->next;
    *ready = e != NULL;
    if (!e && (e = calloc(1, sizeof *e))) {
        if (!(e->buf = dk_big_alloc(DK_ONEDNN_ALIGN, dk_dnnl_md_size(dst_md)))) {
            free(e);
            e = NULL;
        } else {
            e->src = src;
            e->src_md = *src_md;
            e->dst_md = *dst_md;
            e->next = entries;
            entries = e;
        }
    }
    if (e) e->refs++;
    pthread_mutex_unlock(&lock);
    return e ? e->buf : NULL;
}

void dk_onednn_weights_release(void *buf)
{
    if (!buf) return;
    pthread_mutex_lock(&lock);
    for (shared_weights **p = &entries; *p; p = &(*p)->next)
        if ((*p)->buf == buf) {
            shared_weights *e = *p;
            if (--e->refs == 0) {
                *p = e->next;
                free(e->buf);
                free(e);
            }
            break;
        }
    pthread_mutex_unlock(&lock);
}
