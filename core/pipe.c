/*
 * pipe.c - shared-memory pipe queues: a byte stream each way between two
 * processes (like a TCP connection), on shm_pipe rings.
 *
 * A push completes when all its bytes are in the ring (it reads the pushed
 * memory until then, so the API's rule "do not modify until the push
 * completes" is what makes this safe). A pop completes with the bytes
 * waiting, up to one mbuf data room, in a new array the popper owns. When
 * the other end has closed and every byte has been popped, a pop completes
 * with a zero-length segment: end of file. A push after the other end closed
 * fails with EPIPE.
 */
#include "pipe.h"

#include <errno.h>
#include <stdlib.h>

#include <rte_mbuf.h>

#include "mbuf.h"
#include "queue.h"
#include "runtime.h"
#include "shm_pipe.h"

/* Moves the oldest push forward; true if it completed. */
static bool push_step(struct queue *q, struct shm_pipe *p)
{
    struct op *op = TAILQ_FIRST(&q->push_ops);
    const demi_sgaseg_t *seg;

    if (op == NULL)
        return false;
    if (shm_pipe_peer_closed(p)) {
        qtoken_complete(op, EPIPE);
        return true;
    }
    seg = &op->sga.sga_segs[0];
    op->pipe_written += shm_pipe_write(p, (const char *)seg->sgaseg_buf + op->pipe_written,
                                       seg->sgaseg_len - op->pipe_written);
    if (op->pipe_written < seg->sgaseg_len)
        return false;
    op->result.qr_opcode = DEMI_OPC_PUSH;
    op->result.qr_value.sga = op->sga;
    qtoken_complete(op, 0);
    return true;
}

/* Completes the oldest pop with the bytes waiting, or with EOF; true if it
 * completed. With the pool empty it waits for the next poll. */
static bool pop_step(struct queue *q, struct shm_pipe *p)
{
    struct op *op = TAILQ_FIRST(&q->pop_ops);
    size_t n;
    struct rte_mbuf *m;
    void *data;

    if (op == NULL)
        return false;
    n = shm_pipe_readable(p);
    if (n == 0 && !shm_pipe_peer_closed(p))
        return false;
    /* re-read after the closed check: bytes written just before the close count */
    n = RTE_MIN(shm_pipe_readable(p), (size_t)g_rt.cfg.mbuf_data_room);
    m = mbuf_alloc_span(n, &data);
    if (m == NULL)
        return false;
    if (n > 0)
        shm_pipe_read(p, data, n);
    op->result.qr_opcode = DEMI_OPC_POP;
    sga_hand_out(&op->result.qr_value.sga, m, data, (uint32_t)n);
    qtoken_complete(op, 0);
    return true;
}

static int pipe_poll(struct queue *q)
{
    struct shm_pipe *p = q->impl;
    int done = 0;

    while (push_step(q, p))
        done++;
    while (pop_step(q, p))
        done++;
    if (TAILQ_EMPTY(&q->push_ops) && TAILQ_EMPTY(&q->pop_ops))
        queue_poll_disarm(q);
    return done;
}

static int pipe_push(struct queue *q, struct op *op)
{
    /* free protection: the pushed array stays alive until the push ends,
     * even if the application frees it first */
    if (op->sga.sga_buf != NULL) {
        op->ref = op->sga.sga_buf;
        rte_mbuf_refcnt_update(op->ref, 1);
    }
    queue_enqueue_op(q, op);
    queue_poll_arm(q);
    pipe_poll(q);
    return 0;
}

static int pipe_pop(struct queue *q, struct op *op)
{
    queue_enqueue_op(q, op);
    queue_poll_arm(q);
    pipe_poll(q);
    return 0;
}

static void pipe_destroy(struct queue *q)
{
    shm_pipe_close(q->impl);
}

static const struct queue_ops pipe_ops = {
    .push = pipe_push,
    .pop = pipe_pop,
    .poll = pipe_poll,
    .destroy = pipe_destroy,
};

static int pipe_queue(struct shm_pipe *p)
{
    struct queue *q = queue_new(QUEUE_PIPE, &pipe_ops, p);

    if (q == NULL) {
        int err = errno;
        shm_pipe_close(p);
        return -err;
    }
    return q->qd;
}

int pipe_create(const char *name)
{
    struct shm_pipe *p;
    int rc = shm_pipe_create(name, (size_t)g_rt.cfg.pipe_ring_kib * 1024, &p);

    return rc ? rc : pipe_queue(p);
}

int pipe_open(const char *name)
{
    struct shm_pipe *p;
    int rc = shm_pipe_open(name, &p);

    return rc ? rc : pipe_queue(p);
}
