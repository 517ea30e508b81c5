/*
 * tcp_socket.c - the stream socket queue: demi_accept, demi_connect,
 * demi_push, demi_pop and demi_close on a connection of the stack
 * (stack/tcp.h), and the socket calls socket.c hands over (tcp_socket.h).
 * Read docs/DESIGN.md "Buffers" and the preamble of stack/tcp.h before editing.
 *
 * Pending operations wait in the queue's lists: pushes in push_ops, pops,
 * accepts and the connect in pop_ops (the queue core keeps every op that
 * is not a push there), oldest first. The stack calls on_tcp_event from
 * inside stack_poll whenever something changed; it only arms the queue,
 * and the engine runs tcp_q_poll in the same pass, which looks at the
 * connection through the getters and completes what it can. A queue whose
 * operations wait only for the network is not polled at all: with 10,000
 * idle connections an engine pass costs nothing per connection.
 *
 * Push: zero-copy (docs/DESIGN.md "Buffers"). The bytes of an array of ours reach
 * tcp_send as mbufs that reference the array's memory (indirect mbufs on a
 * data room, slices of an external buffer), which keeps the memory alive
 * until the peer has acknowledged it even if the application frees the
 * array first (free protection). Application memory (sga_buf NULL) is
 * copied once. A push that ends at byte offset E of the stream completes
 * when tcp_bytes_acked() >= E (docs/DESIGN.md "Decisions": a TCP push
 * completes when the peer has acknowledged all of its bytes).
 *
 * Pop: the oldest received segment, as the received mbuf itself when it is
 * one direct mbuf of our pool (zero-copy), else one contiguous copy; end of
 * stream is one segment of length 0, repeated for every later pop.
 *
 * Errors: a connection is dead once the stack puts it in CLOSED (reset,
 * timeout, refused); its pending and later pushes and pops then fail with
 * tcp_error(). An error the stack reports while the connection lives on
 * (a soft error) fails nothing.
 */
#include "tcp_socket.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "engine.h"
#include "mbuf.h"
#include "queue.h"
#include "runtime.h"
#include "stack.h"
#include "tcp.h"

/* Bytes one pop takes at most: a whole received segment always fits, and a
 * copy fits one mbuf (data_len is 16 bits). */
#define POP_MAX UINT16_MAX
/* Bytes of one mbuf of a push built from an external buffer or a copy: the
 * mbuf's buf_len and data_len are 16 bits. */
#define PUSH_PIECE_MAX 61440u

struct tsock {
    struct tcp_conn *c;
    struct queue *q;
    uint64_t pushed;          /* bytes handed to tcp_send: the end offset of the latest push */
    struct rte_mbuf *rx_held; /* bytes taken from the stack that no array could hold yet (out of memory) */
    bool rx_armed;            /* on the poll list since it had something to read */
};

static const struct queue_ops tcp_queue_ops;

struct tsock *tsock_of(struct queue *q)
{
    return q != NULL && q->ops == &tcp_queue_ops ? q->impl : NULL;
}

/* The oldest pending op of kind in pop_ops, or NULL. The list holds at
 * most one connect and, on a listener, accepts; on a connection, pops. */
static struct op *first_of_kind(struct queue *q, enum op_kind kind)
{
    struct op *op;

    TAILQ_FOREACH(op, &q->pop_ops, q_link)
        if (op->kind == kind)
            return op;
    return NULL;
}

/* The stack saw a change: let the engine look, if anything waits. Called
 * inside stack_poll, so it must not call into the stack (getters only).
 * The engine polls armed queues in the order they were armed, and their
 * completions are taken in that order: a queue that gets its first bytes
 * to read in this pass goes to the tail, behind those that got theirs
 * earlier, even if an ACK armed it before - so pops complete in the order
 * segments arrived, and an epoll ready list fed by them (the preload)
 * reports connections in that order, as Linux does. */
static void on_tcp_event(struct tcp_conn *c, void *ctx)
{
    struct tsock *ts = ctx;

    if (TAILQ_EMPTY(&ts->q->push_ops) && TAILQ_EMPTY(&ts->q->pop_ops))
        return;
    if (!ts->rx_armed && (tcp_recv_avail(c) > 0 || tcp_recv_eof(c)) && first_of_kind(ts->q, OPK_POP) != NULL) {
        queue_poll_disarm(ts->q);
        ts->rx_armed = true;
    }
    queue_poll_arm(ts->q);
}

/* The error that ends a dead connection's operations, or 0 while it
 * lives. CLOSED without an error means it never was connected. */
static int dead_error(const struct tsock *ts, int if_none)
{
    int err;

    if (tcp_conn_state(ts->c) != TCPS_CLOSED)
        return 0;
    err = tcp_error(ts->c);
    return err != 0 ? err : if_none;
}

/* ---- push ---- */

/* An mbuf referencing len bytes at p inside array mbuf m (zero-copy), or
 * NULL when the pool is empty. On an external buffer the piece is a slice
 * sharing the buffer's reference count (an indirect mbuf could not reach
 * past the first 64 KiB: data_off is 16 bits); on a data room, an indirect
 * mbuf. Either way the array's memory lives until the piece is freed. */
static struct rte_mbuf *ref_piece(struct rte_mbuf *m, const uint8_t *p, uint16_t len)
{
    struct rte_mbuf *mi = rte_pktmbuf_alloc(g_rt.pool);
    uintptr_t off = (uintptr_t)p - (uintptr_t)m->buf_addr;

    if (mi == NULL)
        return NULL;
    if (RTE_MBUF_HAS_EXTBUF(m)) {
        rte_mbuf_ext_refcnt_update(m->shinfo, 1);
        rte_pktmbuf_attach_extbuf(mi, (void *)(uintptr_t)p, rte_mbuf_iova_get(m) + off, len, m->shinfo);
        mi->data_off = 0;
    } else {
        rte_pktmbuf_attach(mi, m);
        mi->data_off = (uint16_t)off;
    }
    mi->data_len = len;
    mi->pkt_len = len;
    return mi;
}

/* A new mbuf holding a copy of len (<= PUSH_PIECE_MAX) bytes at p, or NULL. */
static struct rte_mbuf *copy_piece(const uint8_t *p, uint32_t len)
{
    void *data;
    struct rte_mbuf *m = mbuf_alloc_span(len, &data);

    if (m != NULL)
        memcpy(data, p, len);
    return m;
}

/* The bytes of a checked sga as one mbuf chain for tcp_send (every segment
 * in order), zero-copy for an array of ours. NULL when mbufs run out or the
 * chain would exceed RTE_MBUF_MAX_NB_SEGS (nothing is half-built then). */
static struct rte_mbuf *stream_payload(const demi_sgarray_t *sga)
{
    struct rte_mbuf *head = NULL, *tail = NULL, *m = sga->sga_buf;

    for (uint32_t i = 0; i < sga->sga_numsegs; i++) {
        const uint8_t *p = sga->sga_segs[i].sgaseg_buf;
        uint32_t left = sga->sga_segs[i].sgaseg_len;

        while (left > 0) {
            /* a segment in a data room fits one indirect mbuf (sga_check
             * put it inside the room, whose size fits 16 bits) */
            uint32_t n = m != NULL && !RTE_MBUF_HAS_EXTBUF(m) ? left : RTE_MIN(left, PUSH_PIECE_MAX);
            struct rte_mbuf *piece = m != NULL ? ref_piece(m, p, (uint16_t)n) : copy_piece(p, n);

            if (piece == NULL || (head != NULL && head->nb_segs == RTE_MBUF_MAX_NB_SEGS)) {
                rte_pktmbuf_free(piece);
                rte_pktmbuf_free(head);
                return NULL;
            }
            if (head == NULL) {
                head = piece;
            } else {
                /* by hand: rte_pktmbuf_chain walks the whole chain each time */
                tail->next = piece;
                head->nb_segs++;
                head->pkt_len += piece->pkt_len;
            }
            tail = piece;
            p += n;
            left -= n;
        }
    }
    return head;
}

/* Completes the pushes the peer has acknowledged, oldest first, and fails
 * them all when the connection died. Returns how many completed. */
static int push_steps(struct tsock *ts)
{
    uint64_t acked = tcp_bytes_acked(ts->c);
    struct op *op;
    int done = 0, err;

    while ((op = TAILQ_FIRST(&ts->q->push_ops)) != NULL) {
        if (acked >= op->push_end)
            err = 0;
        else if ((err = dead_error(ts, EPIPE)) == 0)
            break;
        qtoken_complete(op, err);
        done++;
    }
    return done;
}

/* ---- pop ---- */

/* Received bytes m as an array the application owns: m itself when it is
 * one direct mbuf of our pool (zero-copy), else one contiguous copy (m is
 * freed). NULL when no memory is free for the copy; m is then untouched. */
static struct rte_mbuf *rx_span(struct rte_mbuf *m, void **data)
{
    uint32_t len = rte_pktmbuf_pkt_len(m);
    struct rte_mbuf *c;

    if (m->nb_segs == 1 && RTE_MBUF_DIRECT(m) && mbuf_is_ours(m)) {
        mbuf_adopt(m);
        *data = rte_pktmbuf_mtod(m, void *);
        return m;
    }
    c = mbuf_alloc_span(len ? len : 1, data);
    if (c == NULL)
        return NULL;
    if (len > 0) {
        const void *p = rte_pktmbuf_read(m, 0, len, *data);
        if (p != *data)
            memcpy(*data, p, len);
    }
    rte_pktmbuf_free(m);
    return c;
}

/* Hands array (span, data, len) to pop op with the peer in sga_addr. */
static void complete_pop(struct tsock *ts, struct op *op, struct rte_mbuf *span, void *data, uint32_t len)
{
    struct sockaddr_in peer = {.sin_family = AF_INET};

    if (tcp_peer(ts->c, &peer.sin_addr.s_addr, &peer.sin_port) != 0)
        memset(&peer, 0, sizeof(peer));
    op->result.qr_opcode = DEMI_OPC_POP;
    sga_hand_out(&op->result.qr_value.sga, span, data, len);
    memcpy(&op->result.qr_value.sga.sga_addr, &peer, sizeof(peer));
    qtoken_complete(op, 0);
}

/* Completes pop op with received bytes, end of stream or the connection's
 * error; false when it must wait (nothing yet, or no memory). */
static bool pop_step(struct tsock *ts, struct op *op, uint64_t now_ns)
{
    struct rte_mbuf *m = ts->rx_held, *span;
    void *data;
    int err;

    if (m == NULL && tcp_recv_avail(ts->c) > 0)
        m = tcp_recv(ts->c, POP_MAX, now_ns);
    if (m != NULL) {
        uint32_t len = rte_pktmbuf_pkt_len(m);
        span = rx_span(m, &data);
        ts->rx_held = span == NULL ? m : NULL; /* the stream must not lose bytes: retry later */
        if (span == NULL)
            return false;
        complete_pop(ts, op, span, data, len);
        return true;
    }
    if (tcp_recv_eof(ts->c)) {
        span = mbuf_alloc_span(0, &data);
        if (span == NULL)
            return false;
        complete_pop(ts, op, span, data, 0);
        return true;
    }
    /* a listener or a never-connected socket has nothing to read (Linux:
     * ENOTCONN); a dead connection fails with its error */
    err = tcp_conn_state(ts->c) == TCPS_LISTEN ? ENOTCONN : dead_error(ts, ENOTCONN);
    if (err == 0)
        return false;
    qtoken_complete(op, err);
    return true;
}

static int pop_steps(struct tsock *ts, uint64_t now_ns)
{
    struct op *op;
    int done = 0;

    while ((op = first_of_kind(ts->q, OPK_POP)) != NULL && pop_step(ts, op, now_ns))
        done++;
    return done;
}

/* ---- connect and accept ---- */

/* Completes the pending connect once the handshake is done or failed. */
static int connect_step(struct tsock *ts)
{
    struct op *op = first_of_kind(ts->q, OPK_CONNECT);
    enum tcp_state st;

    if (op == NULL)
        return 0;
    st = tcp_conn_state(ts->c);
    if (tcp_state_is_synchronized(st)) {
        qtoken_complete(op, 0);
        return 1;
    }
    if (st != TCPS_CLOSED)
        return 0;
    qtoken_complete(op, dead_error(ts, ECONNABORTED));
    return 1;
}

/* Gives accept op the oldest completed connection of listener ls, in a new
 * socket queue. The queue is made first, so that when none can be made
 * (EMFILE, ENOMEM) the op fails and the connection stays for a later
 * accept. */
static void accept_one(struct tsock *ls, struct op *op)
{
    struct sockaddr_in peer = {.sin_family = AF_INET};
    struct tsock *ts = rte_zmalloc("sluice_core", sizeof(*ts), 0);
    int err;

    if (ts == NULL) {
        qtoken_complete(op, ENOMEM);
        return;
    }
    ts->q = queue_new(QUEUE_SOCKET, &tcp_queue_ops, ts);
    if (ts->q == NULL) {
        err = errno;
        rte_free(ts);
        qtoken_complete(op, err);
        return;
    }
    err = -tcp_accept(ls->c, &ts->c);
    if (err != 0) { /* tcp_accept_ready said yes: not expected */
        ts->c = NULL;
        queue_close(ts->q);
        qtoken_complete(op, err);
        return;
    }
    tcp_set_event(ts->c, on_tcp_event, ts);
    if (tcp_peer(ts->c, &peer.sin_addr.s_addr, &peer.sin_port) != 0)
        memset(&peer, 0, sizeof(peer));
    op->result.qr_value.ares.qd = ts->q->qd;
    memcpy(&op->result.qr_value.ares.addr, &peer, sizeof(peer));
    qtoken_complete(op, 0);
}

static int accept_steps(struct tsock *ls)
{
    struct op *op;
    int done = 0;

    while ((op = first_of_kind(ls->q, OPK_ACCEPT)) != NULL && tcp_accept_ready(ls->c)) {
        accept_one(ls, op);
        done++;
    }
    return done;
}

/* ---- the queue kind ---- */

/* Moves every pending op forward. Stays on the engine's poll list only
 * while bytes wait for memory to free up; everything else is woken by the
 * stack's events. */
static int tcp_q_poll(struct queue *q)
{
    struct tsock *ts = q->impl;
    int done = connect_step(ts) + push_steps(ts) + pop_steps(ts, engine_now_ns()) + accept_steps(ts);

    ts->rx_armed = false;
    if (ts->rx_held != NULL && first_of_kind(q, OPK_POP) != NULL)
        queue_poll_arm(q);
    else
        queue_poll_disarm(q);
    return done;
}

static int tcp_q_push(struct queue *q, struct op *op)
{
    struct tsock *ts = q->impl;
    size_t len = sga_bytes(&op->sga);
    struct rte_mbuf *m;
    int rc;

    op->result.qr_opcode = DEMI_OPC_PUSH;
    op->result.qr_value.sga = op->sga;
    m = stream_payload(&op->sga);
    if (m == NULL) {
        qtoken_complete(op, ENOBUFS);
        return 0;
    }
    rc = tcp_send(ts->c, m, engine_now_ns());
    if (rc != 0) {
        qtoken_complete(op, -rc);
        return 0;
    }
    ts->pushed += len;
    op->push_end = ts->pushed;
    queue_enqueue_op(q, op);
    tcp_q_poll(q);
    return 0;
}

static int tcp_q_pop(struct queue *q, struct op *op)
{
    queue_enqueue_op(q, op);
    tcp_q_poll(q);
    return 0;
}

/* demi_close: pending ops were cancelled by the queue core; the stack
 * sends what is queued, then the FIN (or an RST: SO_LINGER 0, unread
 * bytes) and finishes the close on its own. */
static void tcp_q_destroy(struct queue *q)
{
    struct tsock *ts = q->impl;

    if (ts->c != NULL)
        tcp_close(ts->c, engine_now_ns());
    rte_pktmbuf_free(ts->rx_held);
    rte_free(ts);
}

static const struct queue_ops tcp_queue_ops = {
    .push = tcp_q_push,
    .pop = tcp_q_pop,
    .poll = tcp_q_poll,
    .destroy = tcp_q_destroy,
};

/* ---- the socket calls (see tcp_socket.h) ---- */

int tsock_new(struct stack *st, int *qd_out)
{
    struct tsock *ts = rte_zmalloc("sluice_core", sizeof(*ts), 0);
    int rc;

    if (ts == NULL)
        return -ENOMEM;
    rc = tcp_open(st, on_tcp_event, ts, &ts->c);
    if (rc) {
        rte_free(ts);
        return rc;
    }
    ts->q = queue_new(QUEUE_SOCKET, &tcp_queue_ops, ts);
    if (ts->q == NULL) {
        rc = -errno;
        tcp_close(ts->c, engine_now_ns());
        rte_free(ts);
        return rc;
    }
    *qd_out = ts->q->qd;
    return 0;
}

int tsock_bind(struct tsock *ts, rte_be32_t addr, rte_be16_t port)
{
    return tcp_bind(ts->c, addr, port);
}

int tsock_listen(struct tsock *ts, int backlog)
{
    return tcp_listen(ts->c, backlog);
}

int tsock_accept(struct tsock *ts, demi_qtoken_t *qt_out)
{
    struct op *op;

    if (tcp_conn_state(ts->c) != TCPS_LISTEN)
        return -EINVAL; /* Linux accept(2) on a socket that does not listen */
    op = qtoken_new(OPK_ACCEPT, ts->q->qd);
    if (op == NULL)
        return -EAGAIN;
    op->result.qr_opcode = DEMI_OPC_ACCEPT;
    queue_enqueue_op(ts->q, op);
    *qt_out = qtoken_of(op);
    tcp_q_poll(ts->q);
    return 0;
}

int tsock_connect(struct tsock *ts, rte_be32_t addr, rte_be16_t port, demi_qtoken_t *qt_out)
{
    struct op *op = qtoken_new(OPK_CONNECT, ts->q->qd);
    int rc;

    if (op == NULL)
        return -EAGAIN;
    rc = tcp_connect(ts->c, addr, port, engine_now_ns());
    if (rc) {
        qtoken_drop(op);
        return rc;
    }
    op->result.qr_opcode = DEMI_OPC_CONNECT;
    queue_enqueue_op(ts->q, op);
    *qt_out = qtoken_of(op);
    tcp_q_poll(ts->q);
    return 0;
}

int tsock_pushto(struct tsock *ts, const demi_sgarray_t *sga, demi_qtoken_t *qt_out)
{
    struct op *op = qtoken_new(OPK_PUSH, ts->q->qd);

    if (op == NULL)
        return -EAGAIN;
    op->sga = *sga;
    *qt_out = qtoken_of(op);
    return tcp_q_push(ts->q, op);
}

int tsock_setsockopt(struct tsock *ts, int level, int optname, const void *optval, socklen_t optlen)
{
    return tcp_setsockopt(ts->c, level, optname, optval, optlen);
}

int tsock_getsockopt(struct tsock *ts, int level, int optname, void *optval, socklen_t *optlen)
{
    return tcp_getsockopt(ts->c, level, optname, optval, optlen);
}

void tsock_local(const struct tsock *ts, rte_be32_t *addr, rte_be16_t *port)
{
    tcp_local(ts->c, addr, port);
}

int tsock_shutdown(struct tsock *ts, bool rd, bool wr)
{
    int rc = tcp_shutdown(ts->c, rd, wr, engine_now_ns());

    if (rc)
        return rc;
    tcp_q_poll(ts->q);
    return 0;
}

int tsock_peer(const struct tsock *ts, rte_be32_t *addr, rte_be16_t *port)
{
    return tcp_peer(ts->c, addr, port);
}
