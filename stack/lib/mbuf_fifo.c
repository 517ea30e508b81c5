/* mbuf_fifo.c - see mbuf_fifo.h. The ring doubles when full, so pushes
 * are amortised O(1) and nothing is ever dropped for lack of room. */
#include "mbuf_fifo.h"
#include "smem.h"

#include <errno.h>
#include <stdlib.h>

#include <rte_mbuf.h>

int mbuf_fifo_push(struct mbuf_fifo *f, struct rte_mbuf *m, uint64_t t)
{
    if (f->len == f->cap) {
        unsigned cap = f->cap ? f->cap * 2 : 64;
        struct mbuf_fifo_entry *v = smem_malloc(cap * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        for (unsigned i = 0; i < f->len; i++)
            v[i] = f->v[(f->head + i) % f->cap];
        smem_free(f->v);
        f->v = v;
        f->cap = cap;
        f->head = 0;
    }
    f->v[(f->head + f->len) % f->cap] = (struct mbuf_fifo_entry){.m = m, .t = t};
    f->len++;
    return 0;
}

struct mbuf_fifo_entry *mbuf_fifo_at(const struct mbuf_fifo *f, unsigned i)
{
    return &f->v[(f->head + i) % f->cap];
}

struct rte_mbuf *mbuf_fifo_pop(struct mbuf_fifo *f)
{
    struct rte_mbuf *m;

    if (f->len == 0)
        return NULL;
    m = mbuf_fifo_at(f, 0)->m;
    f->head = (f->head + 1) % f->cap;
    f->len--;
    return m;
}

void mbuf_fifo_free(struct mbuf_fifo *f)
{
    struct rte_mbuf *m;

    while ((m = mbuf_fifo_pop(f)) != NULL)
        rte_pktmbuf_free(m);
    smem_free(f->v);
    f->v = NULL;
    f->cap = f->head = 0;
}
