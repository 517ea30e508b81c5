/*
 * queue.h - I/O queues and the queue-descriptor table.
 *
 * A queue is one of: an in-process FIFO (dmtr_queue), a shared-memory pipe
 * end (demi_create_pipe / demi_open_pipe), or (with the stack) a socket.
 * Each kind supplies queue_ops; the core owns the descriptor, the lists of
 * pending operations and their cancellation on close.
 */
#ifndef SLUICE_QUEUE_H
#define SLUICE_QUEUE_H

#include <stdbool.h>
#include <sys/queue.h>

#include "qtoken.h"

enum queue_kind { QUEUE_MEMQ = 1, QUEUE_PIPE, QUEUE_SOCKET };

struct queue;

struct queue_ops {
    /* Starts op (a push with a checked sga, or a pop). May complete it at
     * once. 0, or -errno to fail the call itself (the op is then freed by
     * the caller and never reported). */
    int (*push)(struct queue *q, struct op *op);
    int (*pop)(struct queue *q, struct op *op);
    /* Moves pending ops forward; returns how many completed. May be NULL
     * for kinds that complete everything synchronously. */
    int (*poll)(struct queue *q);
    /* Frees the kind's state; pending ops were cancelled already. */
    void (*destroy)(struct queue *q);
};

struct queue {
    int qd;
    enum queue_kind kind;
    const struct queue_ops *ops;
    struct op_list push_ops; /* pending pushes, oldest first */
    struct op_list pop_ops;  /* pending pops, oldest first */
    TAILQ_ENTRY(queue) poll_link;
    bool on_poll_list;
    void *impl;
};

TAILQ_HEAD(queue_list, queue);

/* Puts a started op on q's pending list for its kind (oldest first). */
static inline void queue_enqueue_op(struct queue *q, struct op *op)
{
    TAILQ_INSERT_TAIL(op->kind == OPK_PUSH ? &q->push_ops : &q->pop_ops, op, q_link);
    op->q = q;
}

/* Allocates the lowest free descriptor for a new queue. NULL with errno
 * EMFILE when queues.max are open, ENOMEM when memory runs out. */
struct queue *queue_new(enum queue_kind kind, const struct queue_ops *ops, void *impl);

/* The open queue with descriptor qd of the calling thread's engine, or
 * NULL. */
struct queue *queue_get(int qd);

/* Whether qd (>= 0) names a descriptor of another running engine than the
 * calling thread's (the public calls then fail with EXDEV, not EBADF). */
bool queue_foreign(int qd);

/* Cancels every pending op of q (FAILED, ECANCELED), destroys it and frees
 * its descriptor. */
void queue_close(struct queue *q);

/* Puts q on / takes q off the list the calling thread's engine polls
 * (q must be one of its queues). */
void queue_poll_arm(struct queue *q);
void queue_poll_disarm(struct queue *q);

/* One pass over every queue on the poll list; returns ops completed. */
int queue_poll_all(void);

/* Closes every open queue of the calling thread's engine (at exit: a
 * pipe's creator unlinks its name). */
void queue_close_all(void);

/* The descriptor table of engine engine_id (engine.h), in DPDK's heap
 * (shared with processes forked after demi_init). 0 or -ENOMEM. */
struct queue_table;
int queue_table_create(unsigned engine_id, struct queue_table **out);
/* Frees a table whose queues are all closed (queue_close_all). */
void queue_table_destroy(struct queue_table *qtab);

/* Number of open queues. */
int queue_count(void);

#endif
