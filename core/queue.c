/*
 * queue.c - the queue-descriptor table (see queue.h).
 *
 * Descriptors are small integers, lowest free first (as POSIX fds), so a
 * program's qds stay compact. The table grows by doubling up to
 * queues.max.
 */
#include "queue.h"

#include <errno.h>
#include <stdlib.h>

#include "runtime.h"

static struct queue **table;
static int table_len;
static int nopen;
static struct queue_list poll_list = TAILQ_HEAD_INITIALIZER(poll_list);

static int grow(void)
{
    int max = (int)g_rt.cfg.max_queues;
    int len = table_len ? table_len * 2 : 64;
    struct queue **t;

    if (table_len >= max)
        return -EMFILE;
    if (len > max)
        len = max;
    t = realloc(table, (size_t)len * sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    for (int i = table_len; i < len; i++)
        t[i] = NULL;
    table = t;
    table_len = len;
    return 0;
}

static int lowest_free(void)
{
    for (int i = 0; i < table_len; i++)
        if (table[i] == NULL)
            return i;
    int first_new = table_len, rc = grow();
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
    q = calloc(1, sizeof(*q));
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
    table[qd] = q;
    nopen++;
    return q;
}

struct queue *queue_get(int qd)
{
    if (qd < 0 || qd >= table_len)
        return NULL;
    return table[qd];
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
    table[q->qd] = NULL;
    nopen--;
    free(q);
}

void queue_poll_arm(struct queue *q)
{
    if (q->on_poll_list)
        return;
    TAILQ_INSERT_TAIL(&poll_list, q, poll_link);
    q->on_poll_list = true;
}

void queue_poll_disarm(struct queue *q)
{
    if (!q->on_poll_list)
        return;
    TAILQ_REMOVE(&poll_list, q, poll_link);
    q->on_poll_list = false;
}

int queue_poll_all(void)
{
    struct queue *q, *next;
    int done = 0;

    /* a poll may disarm its own queue: walk with a saved successor */
    for (q = TAILQ_FIRST(&poll_list); q != NULL; q = next) {
        next = TAILQ_NEXT(q, poll_link);
        done += q->ops->poll(q);
    }
    return done;
}

void queue_close_all(void)
{
    for (int i = 0; i < table_len; i++)
        if (table[i] != NULL)
            queue_close(table[i]);
}

int queue_count(void)
{
    return nopen;
}
