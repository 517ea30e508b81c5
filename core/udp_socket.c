/*
 * udp_socket.c - the socket calls of demi/libos.h (demi_socket, demi_bind,
 * demi_listen, demi_accept, demi_connect, demi_pushto, the option and name
 * calls) and the socket queue kind.
 *
 * Every call checks its own arguments, then finds the socket and goes to
 * its kind: UDP sockets are here (on stack/udp.c), stream sockets in
 * tcp_socket.c (on stack/tcp.h). Errors per the Demikernel man pages: EINVAL for
 * a bad pointer, address or size, EBADF when sockqd is not a socket queue;
 * the rest as Linux returns them for the same call (EOPNOTSUPP for listen
 * on a datagram socket, ENOPROTOOPT for an option we do not implement,
 * never a silent 0).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <demi/libos.h>
#include <sluice/socket.h>

#include "engine.h"
#include "export.h"
#include "mbuf.h"
#include "net.h"
#include "queue.h"
#include "runtime.h"
#include "stack.h"
#include "tcp_socket.h"

/* 65535 - 20 (IPv4 header) - 8 (UDP header) */
#define UDP_PAYLOAD_MAX 65507u

struct sock {
    int type; /* SOCK_DGRAM */
    struct udp_sock *u;
    struct queue *q;
};

static const struct queue_ops udp_queue_ops;

/* The UDP socket queue qd, or NULL (stream sockets, memory queues and
 * pipes are not). */
static struct sock *sock_get(int qd)
{
    struct queue *q = queue_get(qd);

    return q != NULL && q->ops == &udp_queue_ops ? q->impl : NULL;
}

/* Finds socket qd: *u for a UDP socket, *t for a stream socket (the other
 * NULL). 0, EXDEV when qd is another engine's (<sluice/engine.h>), or
 * EBADF when qd is no socket. */
static int sock_find(int qd, struct sock **u, struct tsock **t)
{
    struct queue *q = queue_get(qd);

    *u = sock_get(qd);
    *t = tsock_of(q);
    if (*u != NULL || *t != NULL)
        return 0;
    return queue_foreign(qd) ? EXDEV : EBADF;
}

/* An IPv4 socket address: non-NULL, size at least sizeof(struct
 * sockaddr_in), family AF_INET. 0 or EINVAL (demi_bind(3): "does not point to a
 * valid socket address structure", "size is not valid"). */
static int check_sockaddr(const struct sockaddr *addr, socklen_t size)
{
    if (addr == NULL || size < (socklen_t)sizeof(struct sockaddr_in))
        return EINVAL;
    return addr->sa_family == AF_INET ? 0 : EINVAL;
}

static const struct sockaddr_in *sin_of(const struct sockaddr *addr)
{
    return (const struct sockaddr_in *)(const void *)addr;
}

/* ---- the UDP socket queue ---- */

/* A received datagram as an array the application owns: the frame's own
 * mbuf when it is one segment (zero-copy), else one contiguous copy. */
static struct rte_mbuf *datagram_span(struct rte_mbuf *m, void **data)
{
    struct rte_mbuf *c;
    uint32_t len = rte_pktmbuf_pkt_len(m);

    if (m->nb_segs == 1 && RTE_MBUF_DIRECT(m) && mbuf_is_ours(m)) {
        mbuf_adopt(m);
        *data = rte_pktmbuf_mtod(m, void *);
        return m;
    }
    c = mbuf_alloc_span(len ? len : 1, data);
    if (c != NULL && len > 0) {
        const void *p = rte_pktmbuf_read(m, 0, len, *data);
        if (p != *data)
            memcpy(*data, p, len);
    }
    rte_pktmbuf_free(m);
    return c;
}

/* Completes the oldest pop with a datagram or a pending ICMP error; true
 * if it completed. */
static bool udp_pop_step(struct sock *sk)
{
    struct op *op = TAILQ_FIRST(&sk->q->pop_ops);
    struct rte_mbuf *m, *span;
    rte_be32_t addr;
    rte_be16_t port;
    void *data;
    int err;

    if (op == NULL)
        return false;
    err = udp_take_error(sk->u);
    if (err != 0) {
        qtoken_complete(op, err);
        return true;
    }
    m = udp_recv(sk->u, &addr, &port);
    if (m == NULL)
        return false;
    uint32_t len = rte_pktmbuf_pkt_len(m);
    span = datagram_span(m, &data);
    if (span == NULL) {
        qtoken_complete(op, ENOMEM); /* the datagram is lost, and said so */
        return true;
    }
    op->result.qr_opcode = DEMI_OPC_POP;
    sga_hand_out(&op->result.qr_value.sga, span, data, len);
    op->result.qr_value.sga.sga_addr.sin_family = AF_INET;
    op->result.qr_value.sga.sga_addr.sin_addr.s_addr = addr;
    op->result.qr_value.sga.sga_addr.sin_port = port;
    qtoken_complete(op, 0);
    return true;
}

static int sock_poll(struct queue *q)
{
    struct sock *sk = q->impl;
    int done = 0;

    while (udp_pop_step(sk))
        done++;
    if (TAILQ_EMPTY(&q->pop_ops))
        queue_poll_disarm(q);
    return done;
}

/* The stack has something for this socket: let the engine look. */
static void on_udp_event(struct udp_sock *u, void *ctx)
{
    struct sock *sk = ctx;

    (void)u;
    if (!TAILQ_EMPTY(&sk->q->pop_ops))
        queue_poll_arm(sk->q);
}

/* The bytes of a checked sga as a payload mbuf: zero-copy (an indirect
 * mbuf on the array, which keeps it alive) when the segment lies within
 * what the array's mbuf describes, else a copy. NULL when out of mbufs. */
static struct rte_mbuf *payload_of(const demi_sgarray_t *sga)
{
    const demi_sgaseg_t *seg = &sga->sga_segs[0];
    struct rte_mbuf *m = sga->sga_buf, *mi;
    void *data;

    if (m != NULL) {
        uintptr_t off = (uintptr_t)seg->sgaseg_buf - (uintptr_t)m->buf_addr;
        if (off + seg->sgaseg_len <= m->buf_len && (mi = rte_pktmbuf_alloc(g_rt.pool)) != NULL) {
            rte_pktmbuf_attach(mi, m);
            mi->data_off = (uint16_t)off;
            mi->data_len = (uint16_t)seg->sgaseg_len;
            mi->pkt_len = seg->sgaseg_len;
            return mi;
        }
    }
    m = mbuf_alloc_span(seg->sgaseg_len, &data);
    if (m != NULL)
        memcpy(data, seg->sgaseg_buf, seg->sgaseg_len);
    return m;
}

/* Sends the sga to addr:port (0:0 = the connected peer) and completes op. */
static void udp_send_op(struct sock *sk, struct op *op, rte_be32_t addr, rte_be16_t port)
{
    struct rte_mbuf *m;
    int rc = -EMSGSIZE;

    if (sga_bytes(&op->sga) <= UDP_PAYLOAD_MAX) {
        m = payload_of(&op->sga);
        rc = m == NULL ? -ENOBUFS : udp_sendto(sk->u, m, addr, port, engine_now_ns());
    }
    op->result.qr_opcode = DEMI_OPC_PUSH;
    op->result.qr_value.sga = op->sga;
    qtoken_complete(op, -rc);
}

static int sock_push(struct queue *q, struct op *op)
{
    udp_send_op(q->impl, op, 0, 0);
    return 0;
}

static int sock_pop(struct queue *q, struct op *op)
{
    queue_enqueue_op(q, op);
    sock_poll(q);
    if (!TAILQ_EMPTY(&q->pop_ops))
        queue_poll_arm(q);
    return 0;
}

static void sock_destroy(struct queue *q)
{
    struct sock *sk = q->impl;

    udp_close(sk->u);
    rte_free(sk);
}

static const struct queue_ops udp_queue_ops = {
    .push = sock_push,
    .pop = sock_pop,
    .poll = sock_poll,
    .destroy = sock_destroy,
};

static int udp_socket_new(int *qd_out)
{
    struct stack *st = net_stack();
    struct sock *sk;
    int rc;

    if (st == NULL)
        return -errno;
    sk = rte_zmalloc("sluice_core", sizeof(*sk), 0);
    if (sk == NULL)
        return -ENOMEM;
    sk->type = SOCK_DGRAM;
    rc = udp_open(st, on_udp_event, sk, &sk->u);
    if (rc) {
        rte_free(sk);
        return rc;
    }
    sk->q = queue_new(QUEUE_SOCKET, &udp_queue_ops, sk);
    if (sk->q == NULL) {
        rc = -errno;
        udp_close(sk->u);
        rte_free(sk);
        return rc;
    }
    *qd_out = sk->q->qd;
    return 0;
}

/* ---- the calls ---- */

/* demi_socket: documented in <demi/libos.h>. */
SLUICE_API int demi_socket(int *sockqd_out, int domain, int type, int protocol)
{
    struct stack *st;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (sockqd_out == NULL)
        return EINVAL;
    if (domain != AF_INET)
        return EAFNOSUPPORT;
    if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)) {
        st = net_stack();
        return st == NULL ? errno : -tsock_new(st, sockqd_out);
    }
    if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        return -udp_socket_new(sockqd_out);
    return EPROTONOSUPPORT;
}

/* demi_bind: documented in <demi/libos.h>. */
SLUICE_API int demi_bind(int sockqd, const struct sockaddr *addr, socklen_t size)
{
    struct sock *sk;
    struct tsock *ts;
    int rc = runtime_check();

    if (rc)
        return rc;
    rc = check_sockaddr(addr, size);
    if (rc)
        return rc;
    rc = sock_find(sockqd, &sk, &ts);
    if (rc)
        return rc;
    if (ts != NULL)
        return -tsock_bind(ts, sin_of(addr)->sin_addr.s_addr, sin_of(addr)->sin_port);
    return -udp_bind(sk->u, sin_of(addr)->sin_addr.s_addr, sin_of(addr)->sin_port);
}

/* demi_listen: documented in <demi/libos.h>. */
SLUICE_API int demi_listen(int sockqd, int backlog)
{
    struct sock *sk;
    struct tsock *ts;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (backlog < 0)
        return EINVAL;
    rc = sock_find(sockqd, &sk, &ts);
    if (rc)
        return rc;
    return ts != NULL ? -tsock_listen(ts, backlog) : EOPNOTSUPP;
}

/* demi_accept: documented in <demi/libos.h>. */
SLUICE_API int demi_accept(demi_qtoken_t *qt_out, int sockqd)
{
    struct sock *sk;
    struct tsock *ts;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qt_out == NULL)
        return EINVAL;
    rc = sock_find(sockqd, &sk, &ts);
    if (rc)
        return rc;
    return ts != NULL ? -tsock_accept(ts, qt_out) : EOPNOTSUPP;
}

/* demi_connect: documented in <demi/libos.h>. */
SLUICE_API int demi_connect(demi_qtoken_t *qt_out, int sockqd, const struct sockaddr *addr, socklen_t size)
{
    struct sock *sk;
    struct tsock *ts;
    struct op *op;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qt_out == NULL)
        return EINVAL;
    rc = check_sockaddr(addr, size);
    if (rc)
        return rc;
    rc = sock_find(sockqd, &sk, &ts);
    if (rc)
        return rc;
    if (ts != NULL)
        return -tsock_connect(ts, sin_of(addr)->sin_addr.s_addr, sin_of(addr)->sin_port, qt_out);
    op = qtoken_new(OPK_CONNECT, sockqd);
    if (op == NULL)
        return EAGAIN;
    op->result.qr_opcode = DEMI_OPC_CONNECT;
    qtoken_complete(op, -udp_connect(sk->u, sin_of(addr)->sin_addr.s_addr, sin_of(addr)->sin_port));
    *qt_out = qtoken_of(op);
    return 0;
}

/* demi_pushto: documented in <demi/libos.h>. */
SLUICE_API int demi_pushto(demi_qtoken_t *qt_out, int sockqd, const demi_sgarray_t *sga,
                           const struct sockaddr *dest_addr, socklen_t size)
{
    struct rte_mbuf *m;
    struct sock *sk;
    struct tsock *ts;
    struct op *op;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qt_out == NULL || sga_check(sga, &m) != 0)
        return EINVAL;
    rc = check_sockaddr(dest_addr, size);
    if (rc)
        return rc;
    rc = sock_find(sockqd, &sk, &ts);
    if (rc)
        return rc;
    if (ts != NULL)
        return -tsock_pushto(ts, sga, qt_out);
    op = qtoken_new(OPK_PUSH, sockqd);
    if (op == NULL)
        return EAGAIN;
    op->sga = *sga;
    udp_send_op(sk, op, sin_of(dest_addr)->sin_addr.s_addr, sin_of(dest_addr)->sin_port);
    *qt_out = qtoken_of(op);
    return 0;
}

/* demi_setsockopt: documented in <demi/libos.h>. */
SLUICE_API int demi_setsockopt(int qd, int level, int optname, const void *optval, socklen_t optlen)
{
    struct sock *sk;
    struct tsock *ts;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (optval == NULL || optlen == 0)
        return EINVAL;
    rc = sock_find(qd, &sk, &ts);
    if (rc)
        return rc;
    if (ts != NULL)
        return -tsock_setsockopt(ts, level, optname, optval, optlen);
    return -udp_setsockopt(sk->u, level, optname, optval, optlen);
}

/* demi_getsockopt: documented in <demi/libos.h>. */
SLUICE_API int demi_getsockopt(int qd, int level, int optname, void *optval, socklen_t *optlen)
{
    struct sock *sk;
    struct tsock *ts;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (optval == NULL || optlen == NULL)
        return EINVAL;
    rc = sock_find(qd, &sk, &ts);
    if (rc)
        return rc;
    if (ts != NULL)
        return -tsock_getsockopt(ts, level, optname, optval, optlen);
    return -udp_getsockopt(sk->u, level, optname, optval, optlen);
}

/* Writes an AF_INET address into (addr, *addrlen) as getsockname(2) does:
 * truncated to *addrlen, *addrlen set to the full size. */
static void put_sockaddr(struct sockaddr *addr, socklen_t *addrlen, rte_be32_t a, rte_be16_t p)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = p, .sin_addr = {.s_addr = a}};
    size_t n = *addrlen < sizeof(sin) ? *addrlen : sizeof(sin);

    memcpy(addr, &sin, n);
    *addrlen = sizeof(sin);
}

static int name_call(int qd, struct sockaddr *addr, socklen_t *addrlen, struct sock **sk, struct tsock **ts)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    if (addr == NULL || addrlen == NULL)
        return EINVAL;
    return sock_find(qd, sk, ts);
}

/* demi_getpeername: documented in <demi/libos.h>. */
SLUICE_API int demi_getpeername(int qd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct sock *sk;
    struct tsock *ts;
    rte_be32_t a;
    rte_be16_t p;
    int rc = name_call(qd, addr, addrlen, &sk, &ts);

    if (rc)
        return rc;
    if (ts != NULL)
        rc = -tsock_peer(ts, &a, &p);
    else if (udp_peer(sk->u, &a, &p) != 0)
        rc = ENOTCONN;
    if (rc)
        return rc;
    put_sockaddr(addr, addrlen, a, p);
    return 0;
}

/* sluice_shutdown: documented in <sluice/socket.h>. */
SLUICE_API int sluice_shutdown(int qd, int how)
{
    struct sock *sk;
    struct tsock *ts;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return EINVAL;
    rc = sock_find(qd, &sk, &ts);
    if (rc)
        return rc;
    if (ts == NULL)
        return EOPNOTSUPP;
    return -tsock_shutdown(ts, how != SHUT_WR, how != SHUT_RD);
}

/* demi_getsockname: documented in <demi/libos.h>. */
SLUICE_API int demi_getsockname(int qd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct sock *sk;
    struct tsock *ts;
    rte_be32_t a;
    rte_be16_t p;
    int rc = name_call(qd, addr, addrlen, &sk, &ts);

    if (rc)
        return rc;
    if (ts != NULL)
        tsock_local(ts, &a, &p);
    else
        udp_local(sk->u, &a, &p);
    put_sockaddr(addr, addrlen, a, p);
    return 0;
}
