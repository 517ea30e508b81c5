/*
 * tcp_conn.c - the life of a TCP connection: the 4-tuple table (rte_hash),
 * local ports and listeners, creation and freeing, and the calls of tcp.h
 * that the queue core makes.
 *
 * Read first: RFC 9293 §3.3.2 (states), §3.9.1 (the user calls: OPEN,
 * SEND, RECEIVE, CLOSE, ABORT, and what each does per state), §3.10.1-
 * 3.10.6; RFC 1122 4.2.2.13 (close with unread data may reset); RFC 6335
 * (ephemeral ports); RFC 6056 §3.3.2 (the ephemeral port search).
 *
 * A connection is freed only at the end of a pass (the dead list), so that
 * nothing on the input or timer path can touch freed memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "mbuf_chain.h"
#include "smem.h"
#include "tcp_conn.h"

#define EPHEMERAL_FIRST 49152u /* RFC 6335 §6: the dynamic ports */
#define EPHEMERAL_COUNT 16384u

void tcp_params_defaults(struct tcp_params *p)
{
    memset(p, 0, sizeof(*p));
    p->rto_min_ns = TCP_RTO_MIN_DEFAULT_NS;
    p->rto_max_ns = TCP_RTO_MAX_DEFAULT_NS;
    p->msl_ns = 30ull * 1000000000u;
    p->delack_ns = 40ull * 1000000u;
    p->keepidle_ns = 7200ull * 1000000000u;
    p->keepintvl_ns = 75ull * 1000000000u;
    p->keepcnt = 9;
    p->syn_retries = 6;
    p->synack_retries = 5;
    p->retries = 15;
    p->sndbuf = 256u * 1024;
    p->rcvbuf = 256u * 1024;
    p->rcvbuf_max = 4u * 1024 * 1024;
    p->max_conns = 65536;
    p->backlog_max = 4096;
    p->ooo_max_segs = 256;
    p->cc_algo = TCP_CC_CUBIC;
    p->sack = p->timestamps = p->wscale = true;
    p->syncookies = true;
}

const char *tcp_state_name(enum tcp_state st)
{
    static const char *const names[] = {
        [TCPS_CLOSED] = "CLOSED",         [TCPS_LISTEN] = "LISTEN",         [TCPS_SYN_SENT] = "SYN-SENT",
        [TCPS_SYN_RECEIVED] = "SYN-RECEIVED", [TCPS_ESTABLISHED] = "ESTABLISHED", [TCPS_CLOSE_WAIT] = "CLOSE-WAIT",
        [TCPS_FIN_WAIT_1] = "FIN-WAIT-1", [TCPS_CLOSING] = "CLOSING",       [TCPS_LAST_ACK] = "LAST-ACK",
        [TCPS_FIN_WAIT_2] = "FIN-WAIT-2", [TCPS_TIME_WAIT] = "TIME-WAIT",
    };

    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

/* ---- the table ---- */

int tcp_create(struct stack *s, const struct tcp_params *p)
{
    char name[RTE_HASH_NAMESIZE];
    struct tcp_table *t = smem_calloc(1, sizeof(*t));
    int rc;

    if (t == NULL)
        return -ENOMEM;
    t->p = *p;
    TAILQ_INIT(&t->all);
    TAILQ_INIT(&t->pending);
    TAILQ_INIT(&t->dead);
    t->next_ephemeral = (uint16_t)(rte_be_to_cpu_32(s->addr) * 2246822519u % EPHEMERAL_COUNT);
    rc = tcp_isn_init(&t->isn);
    rc = rc ? rc : tcp_syncookie_init(&t->cookie_key);
    if (rc) {
        smem_free(t);
        return rc;
    }
    /* rte_hash names are global to the process: make ours unique */
    snprintf(name, sizeof(name), "tcp%p", (void *)s);
    struct rte_hash_parameters hp = {
        .name = name,
        .entries = p->max_conns < 1024 ? 1024 : p->max_conns,
        .key_len = sizeof(struct tcp_key),
        .hash_func = rte_jhash,
        .socket_id = SOCKET_ID_ANY,
    };
    t->hash = rte_hash_create(&hp);
    if (t->hash == NULL) {
        smem_free(t);
        return -ENOMEM;
    }
    s->tcp = t;
    return 0;
}

static void conn_free(struct tcp_conn *c);

void tcp_destroy(struct stack *s)
{
    struct tcp_conn *c;

    if (s->tcp == NULL)
        return;
    tcp_conn_reap(s);
    while ((c = TAILQ_FIRST(&s->tcp->all)) != NULL)
        conn_free(c);
    rte_hash_free(s->tcp->hash);
    smem_free(s->tcp);
    s->tcp = NULL;
}

static struct tcp_key key_of(rte_be32_t laddr, rte_be16_t lport, rte_be32_t raddr, rte_be16_t rport)
{
    struct tcp_key k;

    memset(&k, 0, sizeof(k));
    k.laddr = laddr;
    k.raddr = raddr;
    k.lport = lport;
    k.rport = rport;
    return k;
}

struct tcp_conn *tcp_conn_lookup(struct stack *s, rte_be32_t laddr, rte_be16_t lport, rte_be32_t raddr,
                                 rte_be16_t rport)
{
    struct tcp_key k = key_of(laddr, lport, raddr, rport);
    void *data = NULL;

    if (rte_hash_lookup_data(s->tcp->hash, &k, &data) < 0)
        return NULL;
    return data;
}

int tcp_conn_hash_add(struct tcp_conn *c)
{
    struct tcp_key k = key_of(c->laddr, c->lport, c->raddr, c->rport);

    if (rte_hash_lookup(c->s->tcp->hash, &k) >= 0)
        return -EADDRINUSE;
    if (rte_hash_add_key_data(c->s->tcp->hash, &k, c) < 0)
        return -ENOMEM;
    c->flags |= TF_IN_HASH;
    if (c->s->steer != NULL)
        c->s->steer->conn_changed(c->s->steer_ctx, c->raddr, c->rport, c->lport, true);
    return 0;
}

static void hash_del(struct tcp_conn *c)
{
    struct tcp_key k = key_of(c->laddr, c->lport, c->raddr, c->rport);

    if (!(c->flags & TF_IN_HASH))
        return;
    rte_hash_del_key(c->s->tcp->hash, &k);
    c->flags &= ~TF_IN_HASH;
    if (c->s->steer != NULL)
        c->s->steer->conn_changed(c->s->steer_ctx, c->raddr, c->rport, c->lport, false);
}

/* ---- ports ---- */

static void port_take(struct tcp_conn *c, uint16_t port)
{
    struct tcp_table *t = c->s->tcp;

    t->port_refs[port]++;
    if (!(c->flags & TF_REUSEADDR)) {
        t->port_strict[port]++;
        c->flags |= TF_STRICT_PORT;
    }
    c->lport = rte_cpu_to_be_16(port);
    c->flags |= TF_BOUND;
}

/* A connection that stops being strict about its port (TIME_WAIT, or a
 * listener closing) lets SO_REUSEADDR binds through, as in Linux. */
static void port_unstrict(struct tcp_conn *c)
{
    if (c->flags & TF_STRICT_PORT) {
        c->s->tcp->port_strict[rte_be_to_cpu_16(c->lport)]--;
        c->flags &= ~TF_STRICT_PORT;
    }
}

static void port_release(struct tcp_conn *c)
{
    uint16_t port = rte_be_to_cpu_16(c->lport);

    if (!(c->flags & TF_BOUND))
        return;
    port_unstrict(c);
    c->s->tcp->port_refs[port]--;
    if (c->s->tcp->listeners[port] == c) {
        c->s->tcp->listeners[port] = NULL;
        if (c->s->steer != NULL)
            c->s->steer->listen_changed(c->s->steer_ctx, c->lport, false);
    }
    c->flags &= ~TF_BOUND;
}

/* RFC 6056 §3.3.2-like: a moving start in the dynamic range, first free
 * port. Ports held by any socket (TIME_WAIT included) are skipped so that
 * a 4-tuple is never reused while the old one may still have segments in
 * flight. */
static int pick_ephemeral(const struct stack *s, struct tcp_table *t)
{
    for (unsigned i = 0; i < EPHEMERAL_COUNT; i++) {
        uint16_t port = (uint16_t)(EPHEMERAL_FIRST + (t->next_ephemeral + i) % EPHEMERAL_COUNT);
        if (t->port_refs[port] == 0 && stack_eph_mine(s, port)) {
            t->next_ephemeral = (uint16_t)((t->next_ephemeral + i + 1) % EPHEMERAL_COUNT);
            return port;
        }
    }
    return -EAGAIN;
}

/* ---- creation and freeing ---- */

struct tcp_conn *tcp_conn_alloc(struct stack *s)
{
    struct tcp_table *t = s->tcp;
    struct tcp_conn *c;

    if (t->nconns >= t->p.max_conns)
        return NULL;
    c = smem_calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (tcp_reass_init(&c->reass, t->p.ooo_max_segs) != 0) {
        smem_free(c);
        return NULL;
    }
    c->s = s;
    c->state = TCPS_CLOSED;
    c->sndbuf = t->p.sndbuf;
    c->rcvbuf = t->p.rcvbuf;
    c->keepidle_ns = t->p.keepidle_ns;
    c->keepintvl_ns = t->p.keepintvl_ns;
    c->keepcnt = t->p.keepcnt;
    c->cc_algo = t->p.cc_algo;
    TAILQ_INIT(&c->syn_q);
    TAILQ_INIT(&c->accept_q);
    tcp_sack_sb_init(&c->sb);
    tcp_rtt_init(&c->rtt, t->p.rto_min_ns, t->p.rto_max_ns);
    tcp_timers_init(c);
    TAILQ_INSERT_TAIL(&t->all, c, all_link);
    t->nconns++;
    return c;
}

static void conn_free(struct tcp_conn *c)
{
    struct tcp_table *t = c->s->tcp;

    tcp_timers_cancel(c);
    hash_del(c);
    port_release(c);
    mbuf_fifo_free(&c->sndq);
    mbuf_fifo_free(&c->rcvq);
    tcp_reass_free(&c->reass);
    if (c->flags & TF_PENDING)
        TAILQ_REMOVE(&t->pending, c, pending_link);
    if (c->flags & TF_DEAD)
        TAILQ_REMOVE(&t->dead, c, pending_link);
    tcp_conn_child_unlink(c);
    TAILQ_REMOVE(&t->all, c, all_link);
    t->nconns--;
    smem_free(c);
}

void tcp_conn_child_unlink(struct tcp_conn *c)
{
    struct tcp_conn *l = c->listener;

    if (l == NULL)
        return;
    if (c->child_q == TCP_CHILD_SYN_Q) {
        TAILQ_REMOVE(&l->syn_q, c, child_link);
        l->syn_q_len--;
    } else if (c->child_q == TCP_CHILD_ACCEPT_Q) {
        TAILQ_REMOVE(&l->accept_q, c, child_link);
        l->accept_q_len--;
    }
    c->child_q = TCP_CHILD_NONE;
    c->listener = NULL;
    /* nobody owns it now: it finishes (or is freed) on its own */
    c->flags |= TF_ORPHAN;
}

/* Puts c on the dead list (freed at the end of the pass). */
static void conn_kill(struct tcp_conn *c)
{
    if (c->flags & TF_DEAD)
        return;
    tcp_conn_child_unlink(c);
    tcp_timers_cancel(c);
    hash_del(c);
    port_release(c); /* the port is free for bind at once, as after close(2) */
    if (c->flags & TF_PENDING) {
        TAILQ_REMOVE(&c->s->tcp->pending, c, pending_link);
        c->flags &= ~TF_PENDING;
    }
    c->flags |= TF_DEAD;
    TAILQ_INSERT_TAIL(&c->s->tcp->dead, c, pending_link);
}

void tcp_conn_reap(struct stack *s)
{
    struct tcp_conn *c;

    while ((c = TAILQ_FIRST(&s->tcp->dead)) != NULL) {
        TAILQ_REMOVE(&s->tcp->dead, c, pending_link);
        c->flags &= ~TF_DEAD;
        /* a child still listed by its listener leaves that list in conn_free */
        conn_free(c);
    }
}

void tcp_conn_notify(struct tcp_conn *c)
{
    if (c->on_event != NULL && !(c->flags & TF_ORPHAN))
        c->on_event(c, c->ctx);
}

void tcp_conn_pending(struct tcp_conn *c)
{
    if (c->flags & (TF_PENDING | TF_DEAD))
        return;
    c->flags |= TF_PENDING;
    TAILQ_INSERT_TAIL(&c->s->tcp->pending, c, pending_link);
}

void tcp_poll(struct stack *s)
{
    struct tcp_conn *c;

    while ((c = TAILQ_FIRST(&s->tcp->pending)) != NULL) {
        TAILQ_REMOVE(&s->tcp->pending, c, pending_link);
        c->flags &= ~TF_PENDING;
        tcp_output(c);
    }
    tcp_conn_reap(s);
}

/* Whether nobody will ever look at c again once it is CLOSED: an orphan,
 * or a child no owner has accepted. */
static bool conn_unowned(const struct tcp_conn *c)
{
    return (c->flags & TF_ORPHAN) || c->listener != NULL;
}

void tcp_conn_set_state(struct tcp_conn *c, enum tcp_state st)
{
    enum tcp_state old = c->state;

    c->state = st;
    if (st == TCPS_ESTABLISHED && old < TCPS_ESTABLISHED)
        c->s->ctr.tcp_conns_opened++;
    if (st == TCPS_TIME_WAIT)
        port_unstrict(c);
    if (st == TCPS_CLOSED) {
        hash_del(c);
        tcp_timers_cancel(c);
        if (conn_unowned(c))
            conn_kill(c);
    }
    tcp_conn_notify(c);
}

void tcp_conn_drop(struct tcp_conn *c, int err)
{
    if (err != 0 && c->so_error == 0)
        c->so_error = err;
    if (err == ECONNRESET || err == ECONNREFUSED)
        c->s->ctr.tcp_conns_reset++;
    if (err == ETIMEDOUT)
        c->s->ctr.tcp_conns_timedout++;
    if (c->state == TCPS_CLOSED) {
        if (conn_unowned(c))
            conn_kill(c);
        return;
    }
    tcp_conn_set_state(c, TCPS_CLOSED);
}

void tcp_conn_child_established(struct tcp_conn *c)
{
    struct tcp_conn *l = c->listener;

    if (l == NULL)
        return;
    TAILQ_REMOVE(&l->syn_q, c, child_link);
    l->syn_q_len--;
    TAILQ_INSERT_TAIL(&l->accept_q, c, child_link);
    l->accept_q_len++;
    c->child_q = TCP_CHILD_ACCEPT_Q;
    tcp_conn_notify(l);
}

/* ---- what the handshake decided ---- */

static uint8_t wscale_for(uint32_t rcvbuf_max)
{
    uint8_t ws = 0;

    while (ws < TCP_WSCALE_MAX && (65535u << ws) < rcvbuf_max)
        ws++;
    return ws;
}

void tcp_conn_negotiated(struct tcp_conn *c, const struct tcp_opts *peer_syn)
{
    uint32_t smss;

    c->sv.snd_mss = tcp_effective_mss(peer_syn, c->s->mtu);
    if (!(c->flags & TF_WS_OK)) {
        c->sv.snd_wscale = 0;
        c->sv.rcv_wscale = 0;
    }
    /* the MSS less the options every segment carries (RFC 6691 §3) */
    smss = c->sv.snd_mss - ((c->flags & TF_TS_OK) ? 12u : 0u);
    tcp_cc_init(&c->cc, (enum tcp_cc_algo)c->cc_algo, smss, (c->flags & TF_SYN_TIMEDOUT) ? 1 : 0,
                c->s->now_ns);
    c->cc.sack_recovery = (c->flags & TF_SACK_OK) != 0;
    if (c->flags & TF_SYN_TIMEDOUT)
        tcp_rtt_syn_fallback(&c->rtt);
}

uint8_t tcp_conn_our_wscale(const struct tcp_conn *c)
{
    return wscale_for(c->rcvbuf > c->s->tcp->p.rcvbuf_max ? c->rcvbuf : c->s->tcp->p.rcvbuf_max);
}

/* ---- the calls of tcp.h ---- */

int tcp_open(struct stack *s, tcp_event_fn on_event, void *ctx, struct tcp_conn **out)
{
    struct tcp_conn *c;

    if (s->tcp->nconns >= s->tcp->p.max_conns)
        return -ENFILE;
    c = tcp_conn_alloc(s);
    if (c == NULL)
        return -ENOMEM;
    c->on_event = on_event;
    c->ctx = ctx;
    *out = c;
    return 0;
}

void tcp_set_event(struct tcp_conn *c, tcp_event_fn on_event, void *ctx)
{
    c->on_event = on_event;
    c->ctx = ctx;
}

int tcp_bind(struct tcp_conn *c, rte_be32_t addr, rte_be16_t port)
{
    struct tcp_table *t = c->s->tcp;
    int p = rte_be_to_cpu_16(port);

    if ((c->flags & TF_BOUND) || c->state != TCPS_CLOSED)
        return -EINVAL;
    if (addr != 0 && addr != c->s->addr)
        return -EADDRNOTAVAIL;
    if (p == 0 && (p = pick_ephemeral(c->s, t)) < 0)
        return p;
    if (t->port_refs[p] > 0) {
        /* Linux: both sides need SO_REUSEADDR and nobody may listen
         * (SO_REUSEPORT on both lets listeners share). */
        bool reuse = (c->flags & TF_REUSEADDR) && t->port_strict[p] == 0 && t->listeners[p] == NULL;
        bool reuseport = (c->flags & TF_REUSEPORT) && t->listeners[p] != NULL &&
                         (t->listeners[p]->flags & TF_REUSEPORT);
        if (!reuse && !reuseport)
            return -EADDRINUSE;
    }
    port_take(c, (uint16_t)p);
    c->laddr = addr;
    return 0;
}

int tcp_listen(struct tcp_conn *c, int backlog)
{
    struct tcp_table *t = c->s->tcp;
    unsigned b = backlog < 1 ? 1u : (unsigned)backlog;
    int rc;

    if (b > t->p.backlog_max)
        b = t->p.backlog_max;
    if (c->state == TCPS_LISTEN) {
        c->backlog = b;
        return 0;
    }
    if (c->state != TCPS_CLOSED || c->so_error != 0 || (c->flags & TF_FIN_QUEUED))
        return -EINVAL;
    if (!(c->flags & TF_BOUND) && (rc = tcp_bind(c, 0, 0)) != 0)
        return rc;
    uint16_t port = rte_be_to_cpu_16(c->lport);
    if (t->listeners[port] != NULL && t->listeners[port] != c)
        return -EADDRINUSE;
    t->listeners[port] = c;
    if (c->s->steer != NULL)
        c->s->steer->listen_changed(c->s->steer_ctx, c->lport, true);
    if (!(c->flags & TF_STRICT_PORT)) {
        /* a listener blocks SO_REUSEADDR binds (Linux) */
        t->port_strict[port]++;
        c->flags |= TF_STRICT_PORT;
    }
    c->backlog = b;
    c->state = TCPS_LISTEN;
    return 0;
}

int tcp_accept(struct tcp_conn *l, struct tcp_conn **out)
{
    struct tcp_conn *c;

    if (l->state != TCPS_LISTEN)
        return -EINVAL;
    c = TAILQ_FIRST(&l->accept_q);
    if (c == NULL)
        return -EAGAIN;
    TAILQ_REMOVE(&l->accept_q, c, child_link);
    l->accept_q_len--;
    c->listener = NULL;
    c->child_q = TCP_CHILD_NONE;
    c->on_event = NULL;
    c->ctx = NULL;
    *out = c;
    return 0;
}

bool tcp_accept_ready(const struct tcp_conn *c)
{
    return c->state == TCPS_LISTEN && !TAILQ_EMPTY(&c->accept_q);
}

void tcp_conn_start(struct tcp_conn *c, uint64_t now_ns)
{
    struct tcp_table *t = c->s->tcp;

    c->sv.iss = tcp_isn(&t->isn, c->laddr, c->lport, c->raddr, c->rport, now_ns);
    c->sv.snd_una = c->sv.snd_nxt = c->sv.snd_max = c->sv.iss;
    c->sndq_seq = c->sv.iss + 1;
    /* a per-connection offset, so TSval does not reveal our clock
     * (RFC 7323 §7.1) */
    c->ts_offset = tcp_isn(&t->isn, c->raddr, c->rport, c->laddr, c->lport, 0);
    c->sv.rcv_wscale = (t->p.wscale) ? tcp_conn_our_wscale(c) : 0;
    c->rcv_mss = tcp_mss_for_mtu(c->s->mtu);
    c->last_recv_ns = c->last_send_ns = now_ns;
}

int tcp_connect(struct tcp_conn *c, rte_be32_t addr, rte_be16_t port, uint64_t now_ns)
{
    struct stack *s = c->s;
    int rc;

    s->now_ns = now_ns;
    if (c->state == TCPS_SYN_SENT)
        return -EALREADY;
    if (c->state != TCPS_CLOSED)
        return c->state == TCPS_LISTEN ? -EINVAL : -EISCONN;
    if (c->so_error != 0 || (c->flags & TF_FIN_QUEUED) || c->sv.iss != 0 || c->bytes_queued != 0)
        return -EINVAL; /* a socket that already had a connection */
    /* our own address is reached through the loop (ipv4.c), a broadcast
     * one never */
    if (addr == 0 || port == 0 || (stack_addr_is_local(s, addr) && addr != s->addr))
        return -ENETUNREACH;
    if (!(c->flags & TF_BOUND) && (rc = tcp_bind(c, 0, 0)) != 0)
        return rc == -EAGAIN ? -EADDRNOTAVAIL : rc;
    c->laddr = s->addr;
    c->raddr = addr;
    c->rport = port;
    rc = tcp_conn_hash_add(c);
    if (rc)
        return rc;
    tcp_conn_start(c, now_ns);
    c->flags |= (s->tcp->p.timestamps ? TF_TS_OK : 0) | (s->tcp->p.sack ? TF_SACK_OK : 0) |
                (s->tcp->p.wscale ? TF_WS_OK : 0);
    c->state = TCPS_SYN_SENT;
    rc = tcp_send_ctl(c, RTE_TCP_SYN_FLAG, c->sv.iss);
    c->sv.snd_nxt = c->sv.snd_max = c->sv.iss + 1;
    tcp_timer_rexmt_arm(c);
    stack_tx_flush(s);
    return rc == -ENOBUFS ? 0 : rc; /* a SYN lost for want of an mbuf is retried by the timer */
}

/* Puts a small payload into the room after the last queued one instead of
 * queueing its mbuf: a program writing a few bytes at a time would else
 * hold an mbuf per write until it is acknowledged and empty the pool. Only
 * direct single mbufs on both sides: those the stack made itself (a copy
 * of memory that is not an array of ours), which no application may
 * write. Segments already built from the last one hold indirect mbufs on
 * its bytes, which growing its data does not change. True if merged
 * (payload freed). */
static bool sndq_merge(struct tcp_conn *c, struct rte_mbuf *payload)
{
    uint32_t len = rte_pktmbuf_pkt_len(payload);
    struct rte_mbuf *tail;

    if (c->sndq.len == 0 || payload->nb_segs != 1 || !RTE_MBUF_DIRECT(payload))
        return false;
    tail = mbuf_fifo_at(&c->sndq, c->sndq.len - 1)->m;
    if (tail->nb_segs != 1 || !RTE_MBUF_DIRECT(tail) || rte_pktmbuf_tailroom(tail) < len)
        return false;
    memcpy(rte_pktmbuf_mtod_offset(tail, char *, tail->data_len), rte_pktmbuf_mtod(payload, char *), len);
    tail->data_len = (uint16_t)(tail->data_len + len);
    tail->pkt_len += len;
    rte_pktmbuf_free(payload);
    return true;
}

int tcp_send(struct tcp_conn *c, struct rte_mbuf *payload, uint64_t now_ns)
{
    uint32_t len = rte_pktmbuf_pkt_len(payload);
    int rc = 0;

    c->s->now_ns = now_ns;
    if (len == 0)
        rc = -EINVAL;
    else if (c->so_error != 0)
        rc = -c->so_error;
    else if (c->flags & TF_FIN_QUEUED)
        rc = -EPIPE;
    else if (c->state == TCPS_CLOSED || c->state == TCPS_LISTEN)
        rc = c->sv.iss == 0 ? -ENOTCONN : -EPIPE;
    else if (c->state > TCPS_CLOSE_WAIT)
        rc = -EPIPE;
    else if (!sndq_merge(c, payload) && mbuf_fifo_push(&c->sndq, payload, 0) != 0)
        rc = -ENOBUFS;
    if (rc) {
        rte_pktmbuf_free(payload);
        return rc;
    }
    c->sndq_bytes += len;
    c->bytes_queued += len;
    if (tcp_state_is_synchronized(c->state)) {
        tcp_output(c);
        stack_tx_flush(c->s);
    }
    return 0;
}

uint64_t tcp_bytes_acked(const struct tcp_conn *c)
{
    return c->bytes_acked;
}

uint32_t tcp_send_buffered(const struct tcp_conn *c)
{
    return c->sndq_bytes;
}

uint32_t tcp_send_space(const struct tcp_conn *c)
{
    return c->sndq_bytes >= c->sndbuf ? 0 : c->sndbuf - c->sndq_bytes;
}

/* Splits off the first n bytes of chain *mp (n < its length) as a new
 * chain of indirect mbufs (no copy); *mp keeps the rest (its head may
 * change). NULL, with *mp untouched, when out of mbufs. */
static struct rte_mbuf *split_front(struct stack *s, struct rte_mbuf **mp, uint32_t n)
{
    struct rte_mbuf *head = NULL, **tail = &head, *seg = *mp;
    uint32_t left = n;

    while (left > 0 && seg != NULL) {
        struct rte_mbuf *mi = rte_pktmbuf_alloc(s->pool);
        uint16_t take = (uint16_t)RTE_MIN((uint32_t)seg->data_len, left);
        if (mi == NULL) {
            rte_pktmbuf_free(head);
            return NULL;
        }
        rte_pktmbuf_attach(mi, seg);
        mi->data_len = take;
        mi->pkt_len = take;
        mi->nb_segs = 1;
        mi->next = NULL;
        if (head != NULL)
            head->nb_segs++;
        *tail = mi;
        tail = &mi->next;
        left -= take;
        seg = seg->next;
    }
    head->pkt_len = n;
    *mp = mbuf_chain_trim_front(*mp, n);
    return head;
}

struct rte_mbuf *tcp_recv(struct tcp_conn *c, uint32_t max, uint64_t now_ns)
{
    struct mbuf_fifo_entry *e;
    struct rte_mbuf *m;
    uint32_t len;

    c->s->now_ns = now_ns;
    if (c->rcvq.len == 0 || max == 0)
        return NULL;
    e = mbuf_fifo_at(&c->rcvq, 0);
    len = rte_pktmbuf_pkt_len(e->m);
    if (len <= max) {
        m = mbuf_fifo_pop(&c->rcvq);
    } else {
        /* the rest stays at the head of the queue: m is the front part */
        m = split_front(c->s, &e->m, max);
        if (m == NULL)
            return NULL;
        len = max;
    }
    c->rcvq_bytes -= len;
    /* RFC 9293 §3.8.6.2.2: tell the peer once the window grew enough */
    uint32_t grow = RTE_MIN(c->rcvbuf / 2, (uint32_t)c->rcv_mss);
    if (tcp_state_is_synchronized(c->state) &&
        seq_diff(c->sv.rcv_nxt + tcp_rcv_window(c), c->sv.rcv_adv) >= (int32_t)grow) {
        c->flags |= TF_ACK_NOW;
        tcp_output(c);
        stack_tx_flush(c->s);
    }
    return m;
}

uint32_t tcp_recv_avail(const struct tcp_conn *c)
{
    return c->rcvq_bytes;
}

bool tcp_recv_eof(const struct tcp_conn *c)
{
    return (c->flags & (TF_RCVD_FIN | TF_RD_SHUT)) && c->rcvq_bytes == 0;
}

int tcp_error(const struct tcp_conn *c)
{
    return c->so_error;
}

int tcp_take_error(struct tcp_conn *c)
{
    int e = c->so_error;

    c->so_error = 0;
    return e;
}

enum tcp_state tcp_conn_state(const struct tcp_conn *c)
{
    return c->state;
}

/* Queues our FIN (RFC 9293 §3.10.4 CLOSE: "Queue this until all preceding
 * SENDs have been segmentized, then form a FIN segment") and moves to the
 * state that follows. */
static void queue_fin(struct tcp_conn *c)
{
    if (c->flags & TF_FIN_QUEUED)
        return;
    c->flags |= TF_FIN_QUEUED;
    if (c->state == TCPS_ESTABLISHED || c->state == TCPS_SYN_RECEIVED)
        c->state = TCPS_FIN_WAIT_1;
    else if (c->state == TCPS_CLOSE_WAIT)
        c->state = TCPS_LAST_ACK;
    tcp_output(c);
    stack_tx_flush(c->s);
}

int tcp_shutdown(struct tcp_conn *c, bool rd, bool wr, uint64_t now_ns)
{
    c->s->now_ns = now_ns;
    if (c->state == TCPS_CLOSED || c->state == TCPS_LISTEN || c->state == TCPS_SYN_SENT) {
        if (c->state == TCPS_SYN_SENT && wr) {
            /* RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB */
            tcp_conn_drop(c, 0);
            return 0;
        }
        return -ENOTCONN;
    }
    if (rd) {
        c->flags |= TF_RD_SHUT;
        mbuf_fifo_free(&c->rcvq);
        c->rcvq_bytes = 0;
    }
    if (wr && c->state <= TCPS_CLOSE_WAIT)
        queue_fin(c);
    tcp_conn_notify(c);
    return 0;
}

/* RFC 9293 §3.10.5 ABORT, and close with SO_LINGER 0 or unread data: RST
 * (if synchronized), everything dropped. */
static void conn_abort(struct tcp_conn *c)
{
    if (c->state >= TCPS_SYN_RECEIVED && c->state != TCPS_TIME_WAIT) {
        tcp_send_ctl(c, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, c->sv.snd_nxt);
        c->s->ctr.tcp_conns_reset++;
    }
    tcp_conn_set_state(c, TCPS_CLOSED);
}

static void close_listener(struct tcp_conn *l)
{
    struct tcp_conn *c;

    /* unaccepted connections are reset (Linux) */
    while ((c = TAILQ_FIRST(&l->accept_q)) != NULL || (c = TAILQ_FIRST(&l->syn_q)) != NULL) {
        tcp_conn_child_unlink(c);
        conn_abort(c);
    }
    l->state = TCPS_CLOSED;
    conn_kill(l);
}

void tcp_close(struct tcp_conn *c, uint64_t now_ns)
{
    c->s->now_ns = now_ns;
    c->flags |= TF_ORPHAN;
    c->on_event = NULL;
    if (c->state == TCPS_LISTEN) {
        close_listener(c);
    } else if (c->state == TCPS_CLOSED || c->state == TCPS_SYN_SENT) {
        tcp_conn_set_state(c, TCPS_CLOSED);
        conn_kill(c);
    } else if (((c->flags & TF_LINGER) && c->linger_s == 0) || c->rcvq_bytes > 0) {
        /* RFC 1122 4.2.2.13 / RFC 2525 §2.17: data the application never
         * read is lost, so say so with RST, as Linux does */
        conn_abort(c);
    } else {
        mbuf_fifo_free(&c->rcvq);
        c->flags |= TF_RD_SHUT;
        if (c->state <= TCPS_CLOSE_WAIT)
            queue_fin(c);
        if (c->state == TCPS_FIN_WAIT_2)
            tcp_timer_keep_deadline(c, 2 * c->s->tcp->p.msl_ns);
    }
    stack_tx_flush(c->s);
}

void tcp_local(const struct tcp_conn *c, rte_be32_t *addr, rte_be16_t *port)
{
    *addr = c->laddr;
    *port = c->lport;
}

int tcp_peer(const struct tcp_conn *c, rte_be32_t *addr, rte_be16_t *port)
{
    if (c->raddr == 0 || c->state == TCPS_LISTEN || (c->state == TCPS_CLOSED && c->so_error == 0 && c->sv.iss == 0))
        return -ENOTCONN;
    if (c->state == TCPS_CLOSED || c->state == TCPS_SYN_SENT)
        return -ENOTCONN;
    *addr = c->raddr;
    *port = c->rport;
    return 0;
}

void tcp_conn_stats(const struct tcp_conn *c, struct tcp_conn_stats *out)
{
    *out = c->st;
    out->state = c->state;
    out->snd_mss = c->sv.snd_mss;
    out->rcv_mss = c->rcv_mss;
    out->cwnd = c->cc.cwnd;
    out->ssthresh = c->cc.ssthresh;
    out->snd_wnd = c->sv.snd_wnd;
    out->rcv_wnd = tcp_rcv_window(c);
    out->srtt_ns = c->rtt.srtt_ns;
    out->rttvar_ns = c->rtt.rttvar_ns;
    out->rto_ns = tcp_rtt_rto(&c->rtt);
    out->snd_wscale = c->sv.snd_wscale;
    out->rcv_wscale = c->sv.rcv_wscale;
    out->ts_ok = (c->flags & TF_TS_OK) != 0;
    out->sack_ok = (c->flags & TF_SACK_OK) != 0;
    out->ws_ok = (c->flags & TF_WS_OK) != 0;
    out->bytes_acked = c->bytes_acked;
}

unsigned tcp_conn_count(const struct stack *s)
{
    return s->tcp->nconns;
}

void stack_tcp_foreach(struct stack *s, void (*fn)(const struct tcp_conn *c, void *ctx), void *ctx)
{
    const struct tcp_conn *c;

    if (s->tcp == NULL)
        return;
    TAILQ_FOREACH(c, &s->tcp->all, all_link)
        fn(c, ctx);
}

unsigned tcp_listen_queue(const struct tcp_conn *c, unsigned *backlog)
{
    bool listening = c->state == TCPS_LISTEN;

    if (backlog != NULL)
        *backlog = listening ? c->backlog : 0;
    return listening ? c->accept_q_len : 0;
}

void tcp_icmp_error(struct stack *s, rte_be16_t local_port, rte_be32_t dst, rte_be16_t dst_port, int err)
{
    struct tcp_conn *c = tcp_conn_lookup(s, s->addr, local_port, dst, dst_port);

    if (c == NULL)
        return;
    /* RFC 5927 §4 / RFC 1122 4.2.3.9: only a connection still opening
     * gives up on an ICMP error; an established one notes it */
    if (c->state == TCPS_SYN_SENT) {
        tcp_conn_drop(c, err);
        return;
    }
    /* soft errors are not reported while the connection lives */
}
