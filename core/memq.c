/*
 * memq.c - in-process FIFO queues (dmtr_queue).
 *
 * A push copies its bytes into one fresh contiguous array and completes at
 * once: the pusher may reuse its memory as soon as the push completes (the
 * Demikernel API's rule), and the popper owns what it pops, whatever the
 * pusher does next. Items leave in the order they came (FIFO;
 * docs/DESIGN.md "Decisions": a LIFO, as the Demeter documentation says,
 * breaks producer/consumer programs). A pop that finds the queue
 * empty waits; the next push hands its item straight to the oldest waiting
 * pop.
 */
#include "memq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "mbuf.h"
#include "queue.h"

struct item {
    struct rte_mbuf *m;
    void *data;
    uint32_t len;
};

/* A growable ring of items. */
struct memq {
    struct item *items;
    uint32_t cap; /* power of two */
    uint32_t head, tail;
};

static uint32_t memq_len(const struct memq *mq)
{
    return mq->tail - mq->head;
}

static int memq_grow(struct memq *mq)
{
    uint32_t cap = mq->cap ? mq->cap * 2 : 16;
    struct item *items = rte_malloc("sluice_core", cap * sizeof(*items), 0);

    if (items == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < memq_len(mq); i++)
        items[i] = mq->items[(mq->head + i) & (mq->cap - 1)];
    rte_free(mq->items);
    mq->tail = memq_len(mq);
    mq->head = 0;
    mq->items = items;
    mq->cap = cap;
    return 0;
}

static void deliver(struct op *op, struct item *it)
{
    op->result.qr_opcode = DEMI_OPC_POP;
    sga_hand_out(&op->result.qr_value.sga, it->m, it->data, it->len);
    qtoken_complete(op, 0);
}

/* Copies the segments of the checked sga into one new array. */
static int copy_in(const demi_sgarray_t *sga, struct item *it)
{
    size_t len = sga_bytes(sga), off = 0;

    if (len > SGA_MAX_BYTES)
        return -EINVAL;
    it->m = mbuf_alloc_span(len, &it->data);
    if (it->m == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < sga->sga_numsegs; i++) {
        memcpy((char *)it->data + off, sga->sga_segs[i].sgaseg_buf, sga->sga_segs[i].sgaseg_len);
        off += sga->sga_segs[i].sgaseg_len;
    }
    it->len = (uint32_t)len;
    return 0;
}

static int memq_push(struct queue *q, struct op *op)
{
    struct memq *mq = q->impl;
    struct op *waiting = TAILQ_FIRST(&q->pop_ops);
    struct item it;
    int rc;

    if (waiting == NULL && memq_len(mq) == mq->cap && (rc = memq_grow(mq)) != 0)
        return rc;
    rc = copy_in(&op->sga, &it);
    if (rc)
        return rc;
    if (waiting != NULL)
        deliver(waiting, &it);
    else
        mq->items[mq->tail++ & (mq->cap - 1)] = it;
    op->result.qr_opcode = DEMI_OPC_PUSH;
    op->result.qr_value.sga = op->sga;
    qtoken_complete(op, 0);
    return 0;
}

static int memq_pop(struct queue *q, struct op *op)
{
    struct memq *mq = q->impl;

    queue_enqueue_op(q, op);
    if (memq_len(mq) > 0) {
        struct item it = mq->items[mq->head++ & (mq->cap - 1)];
        deliver(op, &it);
    }
    return 0;
}

static void memq_destroy(struct queue *q)
{
    struct memq *mq = q->impl;

    while (memq_len(mq) > 0)
        rte_pktmbuf_free(mq->items[mq->head++ & (mq->cap - 1)].m);
    rte_free(mq->items);
    rte_free(mq);
}

static const struct queue_ops memq_ops = {
    .push = memq_push,
    .pop = memq_pop,
    .poll = NULL,
    .destroy = memq_destroy,
};

int memq_open(void)
{
    struct memq *mq = rte_zmalloc("sluice_core", sizeof(*mq), 0);
    struct queue *q;

    if (mq == NULL)
        return -ENOMEM;
    q = queue_new(QUEUE_MEMQ, &memq_ops, mq);
    if (q == NULL) {
        int err = errno;
        rte_free(mq);
        return -err;
    }
    return q->qd;
}
