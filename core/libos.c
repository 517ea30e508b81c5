/*
 * libos.c - the demi_* calls of demi/libos.h and demi/sga.h: argument
 * checks, then dispatch to the queue kinds.
 *
 * Errors are those the Demikernel man pages list: positive errno values.
 * Order of checks, the same in every call: ENOSYS before demi_init; then
 * the caller's pointers and sizes (EINVAL); then the queue descriptor (EBADF
 * if it is not open or not of a kind the call accepts); then what depends
 * on the queue.
 */
#include "libos.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <demi/libos.h>
#include <demi/sga.h>

#include "export.h"
#include "log.h"
#include "mbuf.h"
#include "memq.h"
#include "pipe.h"
#include "queue.h"
#include "runtime.h"

int libos_init(int eal_argc, char **eal_argv)
{
    char err[512];
    int rc;

    if (g_rt.running)
        return EEXIST;
    if (g_rt.eal_failed)
        return EIO;
    sluice_config_free(&g_rt.cfg);
    if (sluice_config_load(&g_rt.cfg, err, sizeof(err)) != 0) {
        SLOG_ERR("%s", err);
        return EINVAL;
    }
    sluice_log_set_level(g_rt.cfg.log_level);
    rc = runtime_start(eal_argc, eal_argv);
    return -rc;
}

/* demi_init: documented in <demi/types.h>. */
SLUICE_API int demi_init(const struct demi_args *args)
{
    if (args != NULL && (args->argc < 0 || (args->argc > 0 && args->argv == NULL)))
        return EINVAL;
    return libos_init(0, NULL);
}

/* Validates a pipe call: 0 or EINVAL/ENOSYS. */
static int pipe_args(int *qd_out, const char *name)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    return qd_out == NULL || name == NULL ? EINVAL : 0;
}

static int qd_result(int rc, int *qd_out)
{
    if (rc < 0)
        return -rc;
    *qd_out = rc;
    return 0;
}

/* demi_create_pipe: documented in <demi/libos.h>. */
SLUICE_API int demi_create_pipe(int *memqd_out, const char *name)
{
    int rc = pipe_args(memqd_out, name);

    return rc ? rc : qd_result(pipe_create(name), memqd_out);
}

/* demi_open_pipe: documented in <demi/libos.h>. */
SLUICE_API int demi_open_pipe(int *memqd_out, const char *name)
{
    int rc = pipe_args(memqd_out, name);

    return rc ? rc : qd_result(pipe_open(name), memqd_out);
}

/* demi_close: documented in <demi/libos.h>. */
SLUICE_API int demi_close(int qd)
{
    struct queue *q;
    int rc = runtime_check();

    if (rc)
        return rc;
    q = queue_get(qd);
    if (q == NULL)
        return queue_foreign(qd) ? EXDEV : EBADF;
    queue_close(q);
    return 0;
}

/* Creates the op, hands it to the queue kind, and returns its token. */
static int start_op(struct queue *q, enum op_kind kind, const demi_sgarray_t *sga, demi_qtoken_t *qt_out)
{
    struct op *op = qtoken_new(kind, q->qd);
    int rc;

    if (op == NULL)
        return EAGAIN; /* demi_push(3): "failed to create an asynchronous co-routine" */
    if (sga != NULL)
        op->sga = *sga;
    rc = kind == OPK_PUSH ? q->ops->push(q, op) : q->ops->pop(q, op);
    if (rc) {
        qtoken_drop(op);
        return -rc;
    }
    *qt_out = qtoken_of(op);
    return 0;
}

/* demi_push: documented in <demi/libos.h>. */
SLUICE_API int demi_push(demi_qtoken_t *qt_out, int qd, const demi_sgarray_t *sga)
{
    struct rte_mbuf *m;
    struct queue *q;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qt_out == NULL || sga_check(sga, &m) != 0)
        return EINVAL;
    q = queue_get(qd);
    if (q == NULL)
        return queue_foreign(qd) ? EXDEV : EBADF;
    return start_op(q, OPK_PUSH, sga, qt_out);
}

/* demi_pop: documented in <demi/libos.h>. */
SLUICE_API int demi_pop(demi_qtoken_t *qt_out, int qd)
{
    struct queue *q;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qt_out == NULL)
        return EINVAL;
    q = queue_get(qd);
    if (q == NULL)
        return queue_foreign(qd) ? EXDEV : EBADF;
    return start_op(q, OPK_POP, NULL, qt_out);
}

/* demi_sgaalloc: documented in <demi/sga.h>. */
SLUICE_API demi_sgarray_t demi_sgaalloc(size_t size)
{
    demi_sgarray_t sga;
    struct rte_mbuf *m;
    void *data;
    int rc = runtime_check();

    memset(&sga, 0, sizeof(sga));
    if (rc) {
        errno = rc;
        return sga;
    }
    if (size == 0 || size > SGA_MAX_BYTES) {
        errno = EINVAL;
        return sga;
    }
    m = mbuf_alloc_span(size, &data);
    if (m == NULL)
        return sga; /* errno set */
    sga_hand_out(&sga, m, data, (uint32_t)size);
    return sga;
}

/* demi_sgafree: documented in <demi/sga.h>. */
SLUICE_API int demi_sgafree(demi_sgarray_t *sga)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    return sga_release(sga) ? EINVAL : 0;
}

int libos_memq_open(int *qd_out)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qd_out == NULL)
        return EINVAL;
    return qd_result(memq_open(), qd_out);
}
