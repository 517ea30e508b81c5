/*
 * queue.c - the queue-descriptor tables, one per engine (see queue.h).
 *
 * Descriptors are small integers, lowest free first (as POSIX fds), so a
 * program's qds stay compact; engine k's carry k above ENGINE_QD_SHIFT
 * (engine.h). A table grows by doubling up to queues.max.
 */
#include "queue.h"

#include <errno.h>
#include <stdlib.h>

#include <rte_malloc.h>

#include "engine.h"
#include "runtime.h"

/* The table, in DPDK's heap: shared with processes forked after demi_init
 * (docs/DESIGN.md "Process families"), like the queues themselves. */
struct queue_table {
    struct queue **table;
    int table_len;
    int nopen;
    int qd_base; /* the engine's id << ENGINE_QD_SHIFT */
    struct queue_list poll_list;
};

int queue_table_create(unsigned engine_id, struct queue_table **out)
{
    struct queue_table *qtab = rte_zmalloc("sluice_queues", sizeof(*qtab), 0);

    if (qtab == NULL)
        return -ENOMEM;
    qtab->qd_base = (int)(engine_id << ENGINE_QD_SHIFT);
    TAILQ_INIT(&qtab->poll_list);
    *out = qtab;
    return 0;
}

void queue_table_destroy(struct queue_table *qtab)
{
    if (qtab == NULL)
        return;
    rte_free(qtab->table);
    rte_free(qtab);
}

static struct queue_table *cur(void)
{
    return engine_cur()->qtab;
}

static int grow(struct queue_table *qtab)
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

static int lowest_free(struct queue_table *qtab)
{
    for (int i = 0; i < qtab->table_len; i++)
        if (qtab->table[i] == NULL)
            return i;
    int first_new = qtab->table_len, rc = grow(qtab);
    return rc ? rc : first_new;
}

struct queue *queue_new(enum queue_kind kind, const struct queue_ops *ops, void *impl)
{
    struct queue_table *qtab = cur();
    struct queue *q;
    int qd = lowest_free(qtab);

    if (qd < 0) {
        errno = -qd;
        return NULL;
    }
    q = rte_zmalloc("sluice_queue", sizeof(*q), 0);
    if (q == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    q->qd = qtab->qd_base | qd;
    q->kind = kind;
    q->ops = ops;
    q->impl = impl;
    TAILQ_INIT(&q->push_ops);
    TAILQ_INIT(&q->pop_ops);
    qtab->table[qd] = q;
    qtab->nopen++;
    return q;
}

/* The index of qd in qtab, or -1 when qd is not one of qtab's engine. */
static int index_of(const struct queue_table *qtab, int qd)
{
    const int mask = (1 << ENGINE_QD_SHIFT) - 1;

    if (qd < 0 || (qd & ~mask) != qtab->qd_base || (qd & mask) >= qtab->table_len)
        return -1;
    return qd & mask;
}

struct queue *queue_get(int qd)
{
    if (qd >= 0)
        engine_follow((unsigned)qd >> ENGINE_QD_SHIFT);
    struct queue_table *qtab = cur();
    int i = index_of(qtab, qd);

    return i < 0 ? NULL : qtab->table[i];
}

bool queue_foreign(int qd)
{
    return qd >= 0 && (qd & ~((1 << ENGINE_QD_SHIFT) - 1)) != cur()->qd_base &&
           engine_get((unsigned)qd >> ENGINE_QD_SHIFT) != NULL;
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
    struct queue_table *qtab = cur();
    qtab->table[index_of(qtab, q->qd)] = NULL;
    qtab->nopen--;
    rte_free(q);
}

void queue_poll_arm(struct queue *q)
{
    if (q->on_poll_list)
        return;
    TAILQ_INSERT_TAIL(&cur()->poll_list, q, poll_link);
    q->on_poll_list = true;
}

void queue_poll_disarm(struct queue *q)
{
    if (!q->on_poll_list)
        return;
    TAILQ_REMOVE(&cur()->poll_list, q, poll_link);
    q->on_poll_list = false;
}

int queue_poll_all(void)
{
    struct queue_table *qtab = cur();
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
    struct queue_table *qtab = cur();

    for (int i = 0; i < qtab->table_len; i++)
        if (qtab->table[i] != NULL)
            queue_close(qtab->table[i]);
}

int queue_count(void)
{
    return cur()->nopen;
}
