/*
 * dmtr.c - the older Demeter API (its dmtr_* documentation) as thin wrappers over
 * the demi_* core. Shapes differ (dmtr structs are not packed, and there is
 * no qr_ret), so arrays and results are converted at the boundary; the
 * errno of a failed operation becomes the return value of dmtr_poll,
 * dmtr_wait and dmtr_wait_any.
 */
#include <errno.h>
#include <string.h>

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <dmtr/libos.h>
#include <dmtr/sga.h>
#include <dmtr/wait.h>

#include "engine.h"
#include "export.h"
#include "libos.h"
#include "qtoken.h"
#include "queue.h"
#include "runtime.h"

_Static_assert(sizeof(dmtr_qtoken_t) == sizeof(demi_qtoken_t), "tokens are interchangeable");
_Static_assert(DMTR_SGARRAY_MAXSIZE <= DEMI_SGARRAY_MAXSIZE, "a dmtr array fits a demi one");

static void sga_to_demi(const dmtr_sgarray_t *in, demi_sgarray_t *out)
{
    memset(out, 0, sizeof(*out));
    out->sga_buf = in->sga_buf;
    out->sga_numsegs = in->sga_numsegs;
    for (uint32_t i = 0; i < DMTR_SGARRAY_MAXSIZE; i++) {
        out->sga_segs[i].sgaseg_buf = in->sga_segs[i].sgaseg_buf;
        out->sga_segs[i].sgaseg_len = in->sga_segs[i].sgaseg_len;
    }
    out->sga_addr = in->sga_addr;
}

static void sga_to_dmtr(const demi_sgarray_t *in, dmtr_sgarray_t *out)
{
    memset(out, 0, sizeof(*out));
    out->sga_buf = in->sga_buf;
    out->sga_numsegs = in->sga_numsegs;
    for (uint32_t i = 0; i < DMTR_SGARRAY_MAXSIZE; i++) {
        out->sga_segs[i].sgaseg_buf = in->sga_segs[i].sgaseg_buf;
        out->sga_segs[i].sgaseg_len = in->sga_segs[i].sgaseg_len;
    }
    out->sga_addr = in->sga_addr;
}

/* Converts a demi result; returns what the dmtr call returns: 0, or the
 * errno of a failed operation. */
static int result_to_dmtr(const demi_qresult_t *in, dmtr_qresult_t *out)
{
    memset(out, 0, sizeof(*out));
    out->qr_qd = in->qr_qd;
    out->qr_qt = in->qr_qt;
    switch (in->qr_opcode) {
    case DEMI_OPC_PUSH: out->qr_opcode = DMTR_OPC_PUSH; break;
    case DEMI_OPC_POP: out->qr_opcode = DMTR_OPC_POP; break;
    case DEMI_OPC_CONNECT: out->qr_opcode = DMTR_OPC_CONNECT; break;
    case DEMI_OPC_ACCEPT:
        out->qr_opcode = DMTR_OPC_ACCEPT;
        out->qr_value.ares.qd = in->qr_value.ares.qd;
        out->qr_value.ares.addr = in->qr_value.ares.addr;
        return 0;
    case DEMI_OPC_FAILED:
        out->qr_opcode = DMTR_OPC_FAILED;
        return (int)in->qr_ret;
    default: out->qr_opcode = DMTR_OPC_INVALID; return 0;
    }
    sga_to_dmtr(&in->qr_value.sga, &out->qr_value.sga);
    return 0;
}

/* dmtr_init: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_init(int argc, char *argv[])
{
    if (argc < 0 || (argc > 0 && argv == NULL))
        return EINVAL;
    return libos_init(argc > 1 ? argc : 0, argc > 1 ? argv : NULL);
}

/* dmtr_queue: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_queue(int *qd_out)
{
    return libos_memq_open(qd_out);
}

/* dmtr_socket: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_socket(int *qd_out, int domain, int type, int protocol)
{
    return demi_socket(qd_out, domain, type, protocol);
}

/* dmtr_getsockname: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_getsockname(int qd, struct sockaddr *saddr, socklen_t *size)
{
    return demi_getsockname(qd, saddr, size);
}

/* dmtr_listen: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_listen(int fd, int backlog)
{
    return demi_listen(fd, backlog);
}

/* dmtr_bind: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_bind(int qd, const struct sockaddr *saddr, socklen_t size)
{
    return demi_bind(qd, saddr, size);
}

/* dmtr_accept: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_accept(dmtr_qtoken_t *qtok_out, int sockqd)
{
    return demi_accept(qtok_out, sockqd);
}

/* dmtr_connect: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_connect(int qd, const struct sockaddr *saddr, socklen_t size)
{
    demi_qtoken_t qt;
    demi_qresult_t qr;
    int rc = demi_connect(&qt, qd, saddr, size);

    if (rc)
        return rc;
    rc = demi_wait(&qr, qt, NULL);
    if (rc)
        return rc;
    return qr.qr_opcode == DEMI_OPC_FAILED ? (int)qr.qr_ret : 0;
}

/* dmtr_close: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_close(int qd)
{
    return demi_close(qd);
}

/* dmtr_is_qd_valid: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_is_qd_valid(int *flag_out, int qd)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    if (flag_out == NULL)
        return EINVAL;
    *flag_out = queue_get(qd) != NULL;
    return 0;
}

/* dmtr_push: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_push(dmtr_qtoken_t *qtok_out, int qd, const dmtr_sgarray_t *sga)
{
    demi_sgarray_t d;

    if (sga == NULL) {
        int rc = runtime_check();
        return rc ? rc : EINVAL;
    }
    sga_to_demi(sga, &d);
    return demi_push(qtok_out, qd, &d);
}

/* dmtr_pop: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_pop(dmtr_qtoken_t *qt_out, int qd)
{
    return demi_pop(qt_out, qd);
}

/* dmtr_poll: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_poll(dmtr_qresult_t *qr_out, dmtr_qtoken_t qt)
{
    struct op *op;
    demi_qresult_t qr;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qr_out == NULL || (op = qtoken_lookup(qt)) == NULL)
        return EINVAL;
    if (op->state != OP_DONE)
        engine_poll_once(engine_now_ns());
    if (op->state != OP_DONE)
        return EAGAIN;
    qtoken_take(op, &qr);
    return result_to_dmtr(&qr, qr_out);
}

/* dmtr_drop: documented in <dmtr/libos.h>. */
SLUICE_API int dmtr_drop(dmtr_qtoken_t qt)
{
    struct op *op;
    int rc = runtime_check();

    if (rc)
        return rc;
    op = qtoken_lookup(qt);
    if (op == NULL)
        return EINVAL;
    qtoken_drop(op);
    return 0;
}

/* dmtr_wait: documented in <dmtr/wait.h>. */
SLUICE_API int dmtr_wait(dmtr_qresult_t *qr_out, dmtr_qtoken_t qt)
{
    demi_qresult_t qr;
    int rc;

    if (qr_out == NULL) {
        rc = runtime_check();
        return rc ? rc : EINVAL;
    }
    rc = demi_wait(&qr, qt, NULL);
    return rc ? rc : result_to_dmtr(&qr, qr_out);
}

/* dmtr_wait_any: documented in <dmtr/wait.h>. */
SLUICE_API int dmtr_wait_any(dmtr_qresult_t *qr_out, int *ready_offset, dmtr_qtoken_t qts[], int num_qts)
{
    demi_qresult_t qr;
    int rc;

    if (qr_out == NULL) {
        rc = runtime_check();
        return rc ? rc : EINVAL;
    }
    rc = demi_wait_any(&qr, ready_offset, qts, num_qts, NULL);
    return rc ? rc : result_to_dmtr(&qr, qr_out);
}

/* dmtr_sgaalloc: documented in <dmtr/sga.h>. */
SLUICE_API int dmtr_sgaalloc(dmtr_sgarray_t *sga_out, size_t size)
{
    demi_sgarray_t d;

    if (sga_out == NULL) {
        int rc = runtime_check();
        return rc ? rc : EINVAL;
    }
    d = demi_sgaalloc(size);
    if (d.sga_numsegs == 0)
        return errno;
    sga_to_dmtr(&d, sga_out);
    return 0;
}

/* dmtr_sgafree: documented in <dmtr/sga.h>. */
SLUICE_API int dmtr_sgafree(dmtr_sgarray_t *sga)
{
    demi_sgarray_t d;

    if (sga == NULL) {
        int rc = runtime_check();
        return rc ? rc : EINVAL;
    }
    sga_to_demi(sga, &d);
    return demi_sgafree(&d);
}
