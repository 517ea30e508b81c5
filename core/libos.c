/*
 * libos.c - the demi_* calls of demi/libos.h and demi/sga.h: argument
 * checks, then dispatch to the queue kinds.
 *
 * Errors are those of the man pages in the seeds: positive errno values.
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

/**
 * demi_init - starts Sluice (config, DPDK EAL, mbuf pool).
 * @args: may be NULL; when set, argc >= 0 and argv non-NULL if argc > 0
 * (the arguments are the program's own and are not parsed).
 * Returns 0; EEXIST when already started; EINVAL for bad args, a bad config
 * file or SLUICE_* variable (the log line names the key and line) or EAL
 * arguments; EIO when DPDK does not start (the log line says how to fix
 * it); ENOMEM when the mbuf pool cannot be created.
 */
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

/**
 * demi_create_pipe - creates a shared-memory pipe named name (1..200 bytes
 * of [A-Za-z0-9._-]) and opens its first end into *memqd_out.
 * Returns 0; EINVAL for NULL arguments or a bad name; EEXIST if a pipe of
 * that name exists; EMFILE when queues.max queues are open; ENOMEM; ENOSYS
 * before demi_init.
 */
SLUICE_API int demi_create_pipe(int *memqd_out, const char *name)
{
    int rc = pipe_args(memqd_out, name);

    return rc ? rc : qd_result(pipe_create(name), memqd_out);
}

/**
 * demi_open_pipe - opens the second end of the pipe named name.
 * Returns 0; EINVAL as demi_create_pipe; ENOENT if no such pipe exists;
 * EBUSY if its second end is already open; EPROTO if name is not a Sluice
 * pipe; EMFILE; ENOSYS before demi_init.
 */
SLUICE_API int demi_open_pipe(int *memqd_out, const char *name)
{
    int rc = pipe_args(memqd_out, name);

    return rc ? rc : qd_result(pipe_open(name), memqd_out);
}

/**
 * demi_close - closes queue qd. Its pending operations complete with
 * DEMI_OPC_FAILED and qr_ret ECANCELED; results already completed stay
 * readable. Returns 0, EBADF if qd is not open, ENOSYS before demi_init.
 */
SLUICE_API int demi_close(int qd)
{
    struct queue *q;
    int rc = runtime_check();

    if (rc)
        return rc;
    q = queue_get(qd);
    if (q == NULL)
        return EBADF;
    queue_close(q);
    return 0;
}

/* Creates the op, hands it to the queue kind, and returns its token. */
static int start_op(struct queue *q, enum op_kind kind, const demi_sgarray_t *sga, demi_qtoken_t *qt_out)
{
    struct op *op = qtoken_new(kind, q->qd);
    int rc;

    if (op == NULL)
        return EAGAIN; /* seeds: "failed to create an asynchronous co-routine" */
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

/**
 * demi_push - pushes the bytes of sga to queue qd; *qt_out names the push.
 * Zero-copy where the queue allows: the memory must not change until the
 * push completes. A memory queue copies and completes at once; a pipe
 * completes when every byte is in the pipe; an array from demi_sgaalloc may
 * be freed at once (free protection).
 * Returns 0; EINVAL for NULL qt_out, a NULL sga, 0 or more than
 * DEMI_SGARRAY_MAXSIZE segments, a NULL or zero-length segment, an sga_buf
 * Sluice did not hand out (or already freed), a segment outside its array;
 * EBADF if qd is not open; EAGAIN when no token is free; ENOMEM when a
 * memory queue cannot copy; ENOSYS before demi_init.
 */
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
        return EBADF;
    return start_op(q, OPK_PUSH, sga, qt_out);
}

/**
 * demi_pop - pops the next data of queue qd; *qt_out names the pop. Its
 * result's qr_value.sga is a new array the caller owns (free it with
 * demi_sgafree); a pipe or connection at end of file gives one segment of
 * length 0 (free it too).
 * Returns 0; EINVAL for NULL qt_out; EBADF if qd is not open; EAGAIN when no
 * token is free; ENOSYS before demi_init.
 */
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
        return EBADF;
    return start_op(q, OPK_POP, NULL, qt_out);
}

/**
 * demi_sgaalloc - allocates one contiguous segment of size bytes
 * (1..1 GiB) backed by the mbuf pool (larger than one data room: an
 * external buffer attached to an mbuf). The caller owns it until
 * demi_sgafree or a push that it then frees.
 * On failure sga_numsegs is 0 and errno is ENOSYS (before demi_init),
 * EINVAL (size 0 or above 1 GiB) or ENOMEM (pool or memory exhausted).
 */
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

/**
 * demi_sgafree - gives back an array from demi_sgaalloc or a completed pop.
 * Returns 0; EINVAL for NULL, an array Sluice did not hand out, or one
 * already freed; ENOSYS before demi_init.
 */
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
