/*
 * qtoken.h - queue tokens: one asynchronous operation each.
 *
 * A token is (generation << 32 | engine << QTOKEN_ENGINE_SHIFT | slot):
 * each engine (engine.h) has a table of its own. It completes once; its result is
 * taken once (by a wait or dmtr_poll), or abandoned by dmtr_drop; then the
 * slot's generation moves on, so a stale token is refused (EINVAL), never
 * confused with a newer operation. Token 0 is never valid.
 */
#ifndef SLUICE_QTOKEN_H
#define SLUICE_QTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <demi/types.h>

struct queue;
struct rte_mbuf;

enum op_state { OP_FREE = 0, OP_PENDING, OP_DONE };
enum op_kind { OPK_PUSH = 1, OPK_POP, OPK_ACCEPT, OPK_CONNECT };

struct op {
    uint32_t gen;
    uint32_t slot;             /* in its engine's table */
    uint16_t engine;           /* the engine whose table holds it */
    enum op_state state;
    enum op_kind kind;
    struct queue *q;           /* while pending: the queue it waits on */
    TAILQ_ENTRY(op) q_link;    /* in q->push_ops / q->pop_ops while pending */
    TAILQ_ENTRY(op) done_link; /* in the completion list while done */
    demi_qresult_t result;
    /* push: what to send and the mbuf reference it holds */
    demi_sgarray_t sga;
    struct rte_mbuf *ref;
    /* push on a pipe: bytes of sga already written into the ring */
    size_t pipe_written;
    /* push on a TCP socket: the stream offset (bytes since the connection
     * opened) at which its bytes end; done once the peer acknowledged it */
    uint64_t push_end;
    uint32_t next_free;
};

TAILQ_HEAD(op_list, op);

/* Largest number of tokens outstanding at once, per engine. */
#define QTOKEN_MAX (1u << 20)
/* Where a token's engine id starts in its low word. */
#define QTOKEN_ENGINE_SHIFT 20

/* A new pending operation of kind on descriptor qd (reported in its
 * result); not yet on any queue (see queue_enqueue_op). NULL when QTOKEN_MAX
 * tokens are outstanding or memory runs out. */
/* The token table of engine engine_id, in DPDK's heap (shared with
 * processes forked after demi_init). 0 or -ENOMEM. The calls below use the
 * calling thread's engine's table. */
struct qtoken_state;
int qtoken_table_create(unsigned engine_id, struct qtoken_state **out);
/* Frees a table (its tokens are gone). */
void qtoken_table_destroy(struct qtoken_state *qs);

struct op *qtoken_new(enum op_kind kind, int qd);

/* The operation a token names, or NULL if it is not outstanding in the
 * calling thread's engine. */
struct op *qtoken_lookup(demi_qtoken_t qt);

static inline demi_qtoken_t qtoken_of(const struct op *op)
{
    return ((uint64_t)op->gen << 32) | ((uint32_t)op->engine << QTOKEN_ENGINE_SHIFT) | op->slot;
}

/* Completes a pending op: detaches it from its queue and appends it to the
 * completion list. ret 0 keeps op->result.qr_opcode (set by the caller);
 * ret > 0 (an errno) makes it DEMI_OPC_FAILED with qr_ret = ret. */
void qtoken_complete(struct op *op, int ret);

/* Takes the result of a done op into *qr and frees the token. */
void qtoken_take(struct op *op, demi_qresult_t *qr);

/* Abandons an op: cancels it if pending, releases a result nobody will
 * read (a popped array), frees the token. */
void qtoken_drop(struct op *op);

/* The oldest done op not yet taken, or NULL. */
struct op *qtoken_first_done(void);

/* Drops every done op not yet taken (a popped array goes back to the
 * pool): an engine that stops, after its queues were closed. */
void qtoken_drop_all_done(void);

/* Number of tokens outstanding (pending or done, not taken). */
size_t qtoken_outstanding(void);

#endif
