/*
 * queue.c - the queue-descriptor qtab->table (see queue.h).
 *
 * Descriptors are small integers, lowest free first (as POSIX fds), so a
 * program's qds stay compact. The qtab->table grows by doubling up to
 * queues.max.
 */
#include "queue.h"

#include <errno.h>
#include <stdlib.h>

#include <rte_malloc.h>

#include "runtime.h"

/* The table, in DPDK's heap: shared with processes forked after demi_init
 * (docs/DESIGN.md "Process families"), like the queues themselves. */
struct queue_table {
    struct queue **table;
    int table_len;
    int nopen;
    struct queue_list poll_list;
};
static struct queue_table *qtab;

int queue_table_init(void)
{
    if (qtab != NULL)
        return 0;
    qtab = rte_zmalloc("sluice_queues", sizeof(*qtab), 0);
    if (qtab == NULL)
        return -ENOMEM;
    TAILQ_INIT(&qtab->poll_list);
    return 0;
}

static int grow(void)
{
    int max = (int)g_rt.cfg.max_queues;
    int len = qtab->table_len ? qtab->table_len * 2 : 64;
    struct queue **t;

    if (qtab->table_len >= max)
        return -EMFILE;
    if (len > max)
        len = max;
    t = rte_realloc(qtab->table, (size_t)len * sizeof(*t), 0);
    if (t == NULL)
        return -ENOMEM;
    for (int i = qtab->table_len; i < len; i++)
        t[i] = NULL;
    qtab->table = t;
    qtab->table_len = len;
    return 0;
}

static int lowest_free(void)
{
    for (int i = 0; i < qtab->table_len; i++)
        if (qtab->table[i] == NULL)
            return i;
    int first_new = qtab->table_len, rc = grow();
    return rc ? rc : first_new;
}

struct queue *queue_new(enum queue_kind kind, const struct queue_ops *ops, void *impl)
{
    struct queue *q;
    int qd = lowest_free();

    if (qd < 0) {
        errno = -qd;
        return NULL;
    }
    q = rte_zmalloc("sluice_queue", sizeof(*q), 0);
    if (q == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    q->qd = qd;
    q->kind = kind;
    q->ops = ops;
    q->impl = impl;
    TAILQ_INIT(&q->push_ops);
    TAILQ_INIT(&q->pop_ops);
    qtab->table[qd] = q;
    qtab->nopen++;
    return q;
}

struct queue *queue_get(int qd)
{
    if (qd < 0 || qd >= qtab->table_len)
        return NULL;
    return qtab->table[qd];
}

static void cancel_all(struct op_list *ops)
{
    struct op *op;

    while ((op = TAILQ_FIRST(ops)) != NULL)
        qtoken_complete(op, ECANCELED);
}

void queue_close(struct queue *q)
{
    cancel_all(&q->push_ops);
    cancel_all(&q->pop_ops);
    queue_poll_disarm(q);
    if (q->ops->destroy != NULL)
        q->ops->destroy(q);
    qtab->table[q->qd] = NULL;
    qtab->nopen--;
    rte_free(q);
}

void queue_poll_arm(struct queue *q)
{
    if (q->on_poll_list)
        return;
    TAILQ_INSERT_TAIL(&qtab->poll_list, q, poll_link);
    q->on_poll_list = true;
}

void queue_poll_disarm(struct queue *q)
{
    if (!q->on_poll_list)
        return;
    TAILQ_REMOVE(&qtab->poll_list, q, poll_link);
    q->on_poll_list = false;
}

int queue_poll_all(void)
{
    struct queue *q, *next;
    int done = 0;

    /* a poll may disarm its own queue: walk with a saved successor */
    for (q = TAILQ_FIRST(&qtab->poll_list); q != NULL; q = next) {
        next = TAILQ_NEXT(q, poll_link);
        done += q->ops->poll(q);
    }
    return done;
}

void queue_close_all(void)
{
    for (int i = 0; i < qtab->table_len; i++)
        if (qtab->table[i] != NULL)
            queue_close(qtab->table[i]);
}

int queue_count(void)
{
    return qtab->nopen;
}
