/*
 * wait.c - demi_wait, demi_wait_any, demi_wait_next_n: drive the engine
 * until operations complete (docs/DESIGN.md "Engine"; current Demikernel C API:
 * interval timeouts, NULL waits forever).
 */
#include "wait.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <demi/wait.h>

#include "engine.h"
#include "export.h"
#include "runtime.h"

static int timeout_ns(const struct timespec *t, uint64_t *ns)
{
    if (t == NULL) {
        *ns = UINT64_MAX;
        return 0;
    }
    if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000L)
        return EINVAL;
    if ((uint64_t)t->tv_sec >= UINT64_MAX / 1000000000u / 2) {
        *ns = UINT64_MAX;
        return 0;
    }
    *ns = (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
    return 0;
}

int wait_until(wait_ready_fn ready, void *arg, const struct timespec *timeout, struct op **out)
{
    uint64_t budget, start, deadline, last_work;
    int rc = timeout_ns(timeout, &budget);

    if (rc)
        return rc;
    if ((*out = ready(arg)) != NULL)
        return 0;
    start = last_work = engine_now_ns();
    deadline = budget > UINT64_MAX - start ? UINT64_MAX : start + budget;
    for (;;) {
        uint64_t now = engine_now_ns();
        if (engine_poll_once(now) > 0)
            last_work = now;
        if ((*out = ready(arg)) != NULL)
            return 0;
        now = engine_now_ns();
        if (now >= deadline)
            return ETIMEDOUT;
        engine_idle(now, last_work, deadline);
    }
}

static struct op *one_ready(void *arg)
{
    struct op *op = arg;
    return op->state == OP_DONE ? op : NULL;
}

/* demi_wait: documented in <demi/wait.h>. */
SLUICE_API int demi_wait(demi_qresult_t *qr_out, demi_qtoken_t qt, const struct timespec *timeout)
{
    struct op *op, *done;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qr_out == NULL || (op = qtoken_lookup(qt)) == NULL)
        return EINVAL;
    rc = wait_until(one_ready, op, timeout, &done);
    if (rc)
        return rc;
    qtoken_take(done, qr_out);
    return 0;
}

struct any_arg {
    struct op **ops;
    int n;
    int found;
};

static struct op *any_ready(void *arg)
{
    struct any_arg *a = arg;

    for (int i = 0; i < a->n; i++) {
        if (a->ops[i]->state == OP_DONE) {
            a->found = i;
            return a->ops[i];
        }
    }
    return NULL;
}

/* The ops of qts, all valid and distinct, or EINVAL. */
static int lookup_all(const demi_qtoken_t qts[], int n, struct op **ops)
{
    for (int i = 0; i < n; i++) {
        ops[i] = qtoken_lookup(qts[i]);
        if (ops[i] == NULL)
            return EINVAL;
    }
    return 0;
}

/* Up to this many tokens are looked up on the stack; more use the heap. */
#define ANY_STACK_OPS 64

/* demi_wait_any: documented in <demi/wait.h>. */
SLUICE_API int demi_wait_any(demi_qresult_t *qr_out, int *ready_offset, const demi_qtoken_t qts[],
                             int num_qts, const struct timespec *timeout)
{
    struct op *stack_ops[ANY_STACK_OPS], **ops = stack_ops, *done;
    struct any_arg a = {.n = num_qts, .found = -1};
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qr_out == NULL || ready_offset == NULL || qts == NULL || num_qts < 1)
        return EINVAL;
    if (num_qts > ANY_STACK_OPS && (ops = malloc((size_t)num_qts * sizeof(*ops))) == NULL)
        return ENOMEM;
    a.ops = ops;
    rc = lookup_all(qts, num_qts, ops);
    if (rc == 0)
        rc = wait_until(any_ready, &a, timeout, &done);
    if (rc == 0) {
        *ready_offset = a.found;
        qtoken_take(done, qr_out);
    }
    if (ops != stack_ops)
        free(ops);
    return rc;
}

static struct op *next_ready(void *arg)
{
    (void)arg;
    return qtoken_first_done();
}

/* demi_wait_next_n: documented in <demi/wait.h>. */
SLUICE_API int demi_wait_next_n(demi_qresult_t *qr_out, int qr_out_size, int *qr_written,
                                const struct timespec *timeout)
{
    struct op *done;
    int rc = runtime_check(), n = 0;

    if (rc)
        return rc;
    if (qr_out == NULL || qr_written == NULL || qr_out_size < 1)
        return EINVAL;
    *qr_written = 0;
    if (timeout == NULL && qtoken_outstanding() == 0)
        return EINVAL;
    rc = wait_until(next_ready, NULL, timeout, &done);
    if (rc)
        return rc;
    while (n < qr_out_size && (done = qtoken_first_done()) != NULL)
        qtoken_take(done, &qr_out[n++]);
    *qr_written = n;
    return 0;
}
