/*
 * mon_flow.c - the flow tracker of monitor sockets (mon.h). Read before
 * editing: RFC 9293 §3.3.2 (state diagram), §3.10.7.4 (ACK, then segment
 * text, then FIN: the order each frame is processed in here), mOS's
 * mtcp_getsockopt(3) (enum tcpstate) and mtcp_register_callback(3) (events).
 *
 * A frame from S to R: S's ACK field moves the stream S receives (and may
 * finish R's SYN or FIN); its text and FIN extend the stream R receives.
 * Flows start at a SYN without ACK (its sender is the client); other TCP
 * frames of no flow are orphans.
 */
#include "mon.h"
#include "mon_ring.h"
#include "smem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "tcp_reass.h"
#include "tcp_seq.h"

/* The canonical 4-tuple: the lower (address, port) first, so both
 * directions find the flow with one lookup. */
struct mon_key {
    rte_be32_t a_ip, b_ip;
    rte_be16_t a_port, b_port;
};

/* The stream one side receives (sent by the other side). */
struct mon_stream {
    bool isn_known, fin_done;
    uint32_t init_seq; /* sender's ISN + 1: stream offset 0 */
    uint32_t nxt;      /* next in-order sequence number */
    uint32_t fin_seq;  /* valid once fin_done */
    uint64_t bytes, lost, rexmit, pkts;
    struct tcp_reass reass;
    struct mon_ring ring;
};

struct mon_flow {
    struct mon_key key;
    rte_be32_t ip[2];
    rte_be16_t port[2];
    uint8_t state[2];
    bool ended;
    bool detached; /* out of the hash already (mon_pkt.ended) */
    bool mac_known[2];
    uint8_t mac[2][2][6]; /* by side: [0] its frames' source, [1] their destination */
    uint64_t last_ns;
    struct mon_stream s[2]; /* s[X]: what side X receives */
    void *user;
};

struct mon_table {
    struct mon_params p;
    struct rte_hash *hash;
    unsigned count;
};

/* One parsed frame. */
struct seg {
    rte_be32_t src, dst;
    rte_be16_t sport, dport;
    uint32_t seq, ack, len, off; /* off: the payload's byte in the frame */
    uint8_t flags;
};

int mon_table_create(const struct mon_params *p, struct mon_table **out)
{
    char name[RTE_HASH_NAMESIZE];
    struct mon_table *t;

    if (p == NULL || out == NULL || p->max_flows == 0 || p->reass_segs == 0)
        return -EINVAL;
    if ((t = smem_calloc(1, sizeof(*t))) == NULL)
        return -ENOMEM;
    t->p = *p;
    /* rte_hash names are global to the process: make ours unique */
    snprintf(name, sizeof(name), "mon%p", (void *)t);
    struct rte_hash_parameters hp = {
        .name = name,
        .entries = p->max_flows < 1024 ? 1024 : p->max_flows,
        .key_len = sizeof(struct mon_key),
        .hash_func = rte_jhash,
        .socket_id = SOCKET_ID_ANY,
    };
    if ((t->hash = rte_hash_create(&hp)) == NULL) {
        smem_free(t);
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

static void flow_free(struct mon_flow *f)
{
    for (unsigned i = 0; i < 2; i++) {
        tcp_reass_free(&f->s[i].reass);
        mon_ring_free(&f->s[i].ring);
    }
    smem_free(f);
}

void mon_table_destroy(struct mon_table *t)
{
    const void *key;
    void *data;
    uint32_t it = 0;

    if (t == NULL)
        return;
    while (rte_hash_iterate(t->hash, &key, &data, &it) >= 0)
        flow_free(data);
    rte_hash_free(t->hash);
    smem_free(t);
}

unsigned mon_count(const struct mon_table *t)
{
    return t->count;
}

/* Takes f out of the hash (its key may then name a new flow). */
static void detach(struct mon_table *t, struct mon_flow *f)
{
    if (!f->detached && rte_hash_del_key(t->hash, &f->key) >= 0)
        t->count--;
    f->detached = true;
}

void mon_flow_release(struct mon_table *t, struct mon_flow *f)
{
    detach(t, f);
    flow_free(f);
}

/* ---- parsing ---- */

/* Reads an IPv4/TCP frame's headers; false for anything else (VLAN tags,
 * IP options are fine; fragments and short frames are not). */
static bool parse(const struct rte_mbuf *m, struct seg *sg)
{
    struct rte_ether_hdr eb;
    struct rte_ipv4_hdr ib;
    struct rte_tcp_hdr tb;
    const struct rte_ether_hdr *eh = rte_pktmbuf_read(m, 0, sizeof(eb), &eb);
    const struct rte_ipv4_hdr *ih;
    const struct rte_tcp_hdr *th;
    uint32_t ihl, thl, tot;

    if (eh == NULL || eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
        return false;
    ih = rte_pktmbuf_read(m, sizeof(eb), sizeof(ib), &ib);
    if (ih == NULL || (ih->version_ihl >> 4) != 4 || ih->next_proto_id != IPPROTO_TCP)
        return false;
    if ((rte_be_to_cpu_16(ih->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)
        return false;
    ihl = (ih->version_ihl & 0xfu) * 4u;
    tot = rte_be_to_cpu_16(ih->total_length);
    th = rte_pktmbuf_read(m, sizeof(eb) + ihl, sizeof(tb), &tb);
    if (ihl < sizeof(ib) || th == NULL)
        return false;
    thl = (uint32_t)(th->data_off >> 4) * 4u;
    if (thl < sizeof(tb) || tot < ihl + thl || sizeof(eb) + tot > rte_pktmbuf_pkt_len(m))
        return false;
    sg->src = ih->src_addr;
    sg->dst = ih->dst_addr;
    sg->sport = th->src_port;
    sg->dport = th->dst_port;
    sg->seq = rte_be_to_cpu_32(th->sent_seq);
    sg->ack = rte_be_to_cpu_32(th->recv_ack);
    sg->flags = th->tcp_flags;
    sg->off = (uint32_t)sizeof(eb) + ihl + thl;
    sg->len = tot - ihl - thl;
    return true;
}

static struct mon_key key_of(const struct seg *sg)
{
    struct mon_key k;
    uint64_t s = ((uint64_t)rte_be_to_cpu_32(sg->src) << 16) | rte_be_to_cpu_16(sg->sport);
    uint64_t d = ((uint64_t)rte_be_to_cpu_32(sg->dst) << 16) | rte_be_to_cpu_16(sg->dport);

    memset(&k, 0, sizeof(k));
    k.a_ip = s < d ? sg->src : sg->dst;
    k.a_port = s < d ? sg->sport : sg->dport;
    k.b_ip = s < d ? sg->dst : sg->src;
    k.b_port = s < d ? sg->dport : sg->sport;
    return k;
}

/* ---- flows ---- */

static int stream_init(struct mon_stream *st, const struct mon_params *p)
{
    mon_ring_init(&st->ring, p->buf_bytes);
    return tcp_reass_init(&st->reass, p->reass_segs);
}

/* A new flow for a SYN from the client (sg's source). */
static struct mon_flow *flow_new(struct mon_table *t, const struct mon_key *k, const struct seg *sg)
{
    struct mon_flow *f;

    if (t->count >= t->p.max_flows || (f = smem_calloc(1, sizeof(*f))) == NULL)
        return NULL;
    f->key = *k;
    f->ip[MON_SIDE_CLI] = sg->src;
    f->port[MON_SIDE_CLI] = sg->sport;
    f->ip[MON_SIDE_SVR] = sg->dst;
    f->port[MON_SIDE_SVR] = sg->dport;
    f->state[MON_SIDE_CLI] = MON_TCPS_CLOSED;
    f->state[MON_SIDE_SVR] = MON_TCPS_LISTEN; /* mOS: the server side starts listening */
    if (stream_init(&f->s[0], &t->p) || stream_init(&f->s[1], &t->p) ||
        rte_hash_add_key_data(t->hash, k, f) < 0) {
        flow_free(f);
        return NULL;
    }
    t->count++;
    return f;
}

/* Stream offset of sequence number seq in st (seq at or after nxt - 2^31). */
static uint64_t off_of(const struct mon_stream *st, uint32_t seq)
{
    return st->ring.tail + (uint64_t)(int64_t)seq_diff(seq, st->nxt);
}

static void set_state(struct mon_flow *f, unsigned side, uint8_t from, uint8_t to)
{
    if (f->state[side] == from)
        f->state[side] = to;
}

/* ---- the ACK field: what the sender S has received ---- */

/* S acknowledged bytes of its stream the monitor never saw: they are lost
 * (RFC 9293: a receiver acknowledges only what it has). The hole ends where
 * held bytes begin (they follow it), or at a FIN held out of order. */
static void skip_hole(struct mon_stream *st, uint32_t ack, uint32_t *ev)
{
    uint32_t limit = ack;

    if (st->reass.n > 0 && seq_lt(st->reass.v[0].seq, limit))
        limit = st->reass.v[0].seq;
    if (st->reass.fin && seq_lt(st->reass.fin_seq, limit))
        limit = st->reass.fin_seq;
    if (!seq_gt(limit, st->nxt))
        return;
    st->lost += limit - st->nxt;
    mon_ring_skip(&st->ring, limit - st->nxt);
    st->nxt = limit;
    *ev |= MON_EV_ERROR;
}

static void drain_reass(struct mon_flow *f, unsigned snd, struct mon_stream *st, uint32_t *ev);

static void on_ack(struct mon_flow *f, unsigned snd, const struct seg *sg, uint32_t *ev)
{
    unsigned rcv = 1 - snd;
    struct mon_stream *st = &f->s[snd]; /* the stream S receives, sent by R */

    if (!(sg->flags & RTE_TCP_ACK_FLAG) || !st->isn_known)
        return;
    /* hole, held bytes, hole, ...: each pass moves nxt forward */
    while (!st->fin_done && seq_gt(sg->ack, st->nxt)) {
        uint32_t before = st->nxt;
        skip_hole(st, sg->ack, ev);
        drain_reass(f, rcv, st, ev);
        if (st->nxt == before)
            break; /* a FIN held at nxt that the ACK passes: not ours to invent */
    }
    if (sg->ack == st->init_seq)
        set_state(f, rcv, MON_TCPS_SYN_RCVD, MON_TCPS_ESTABLISHED);
    if (st->fin_done && sg->ack == st->fin_seq + 1) {
        set_state(f, rcv, MON_TCPS_FIN_WAIT_1, MON_TCPS_FIN_WAIT_2);
        set_state(f, rcv, MON_TCPS_CLOSING, MON_TCPS_TIME_WAIT);
        set_state(f, rcv, MON_TCPS_LAST_ACK, MON_TCPS_CLOSED);
    }
}

/* ---- the text and FIN: the stream R receives ---- */

static void rexmit(struct mon_stream *st, uint32_t *ev)
{
    st->rexmit++;
    *ev |= MON_EV_REXMIT;
}

/* The in-order FIN of S's stream (sequence number st->nxt). */
static void fin_in_order(struct mon_flow *f, unsigned snd, struct mon_stream *st)
{
    unsigned rcv = 1 - snd;

    st->fin_done = true;
    st->fin_seq = st->nxt;
    st->nxt++;
    set_state(f, snd, MON_TCPS_ESTABLISHED, MON_TCPS_FIN_WAIT_1);
    set_state(f, snd, MON_TCPS_SYN_RCVD, MON_TCPS_FIN_WAIT_1);
    set_state(f, snd, MON_TCPS_CLOSE_WAIT, MON_TCPS_LAST_ACK);
    set_state(f, rcv, MON_TCPS_ESTABLISHED, MON_TCPS_CLOSE_WAIT);
    set_state(f, rcv, MON_TCPS_FIN_WAIT_1, MON_TCPS_CLOSING);
    set_state(f, rcv, MON_TCPS_FIN_WAIT_2, MON_TCPS_TIME_WAIT);
}

/* Appends held segments that now continue the stream. */
static void drain_reass(struct mon_flow *f, unsigned snd, struct mon_stream *st, uint32_t *ev)
{
    struct rte_mbuf *m;
    bool fin = false;

    while ((m = tcp_reass_take(&st->reass, &st->nxt, &fin)) != NULL) {
        uint32_t n = rte_pktmbuf_pkt_len(m);
        if (mon_ring_append(&st->ring, m, 0, n) < 0)
            *ev |= MON_EV_ERROR;
        st->bytes += n;
        *ev |= MON_EV_NEW_DATA;
        rte_pktmbuf_free(m);
    }
    if (fin && !st->fin_done) {
        fin_in_order(f, snd, st);
        tcp_reass_clear(&st->reass);
    }
}

/* Segment text [seq, seq + len) beyond nxt: held until the hole fills. */
static void hold(struct mon_stream *st, const struct rte_mbuf *m, struct rte_mempool *pool, const struct seg *sg,
                 bool fin, uint32_t *ev)
{
    struct rte_mbuf *c = NULL;
    int rc;

    if (sg->len > 0 && (c = rte_pktmbuf_copy(m, pool, sg->off, sg->len)) == NULL) {
        *ev |= MON_EV_ERROR; /* no mbuf: the bytes are lost unless resent */
        return;
    }
    if (c == NULL) { /* a FIN alone, ahead of data not seen yet */
        if ((c = rte_pktmbuf_alloc(pool)) == NULL) {
            *ev |= MON_EV_ERROR;
            return;
        }
    }
    rc = tcp_reass_insert(&st->reass, st->nxt, sg->seq, c, fin);
    if (rc == -ENOSPC)
        *ev |= MON_EV_ERROR;
    else if (rc == 0 && sg->len > 0)
        rexmit(st, ev); /* every byte was held already */
}

static void on_text(struct mon_flow *f, unsigned snd, const struct rte_mbuf *m, struct rte_mempool *pool,
                    const struct seg *sg, uint32_t *ev)
{
    struct mon_stream *st = &f->s[1 - snd];
    bool fin = (sg->flags & RTE_TCP_FIN_FLAG) != 0;
    uint32_t end = sg->seq + sg->len + (fin ? 1u : 0u);
    uint32_t skip;

    if (!st->isn_known || (sg->len == 0 && !fin))
        return;
    if (st->fin_done || !seq_gt(end, st->nxt)) { /* nothing new: seen before */
        rexmit(st, ev);
        return;
    }
    if (seq_gt(sg->seq, st->nxt)) {
        hold(st, m, pool, sg, fin, ev);
        return;
    }
    skip = st->nxt - sg->seq; /* the part seen before */
    if (skip > 0 && skip < sg->len)
        rexmit(st, ev); /* partly old */
    if (skip < sg->len) {
        if (mon_ring_append(&st->ring, m, sg->off + skip, sg->len - skip) < 0)
            *ev |= MON_EV_ERROR;
        st->bytes += sg->len - skip;
        st->nxt += sg->len - skip;
        *ev |= MON_EV_NEW_DATA;
    }
    if (fin && !st->fin_done) {
        fin_in_order(f, snd, st);
        tcp_reass_clear(&st->reass);
        return;
    }
    drain_reass(f, snd, st, ev);
}

/* ---- SYN and RST ---- */

static void on_syn(struct mon_flow *f, unsigned snd, const struct seg *sg, uint32_t *ev)
{
    struct mon_stream *st = &f->s[1 - snd]; /* the sender's bytes */

    if (st->isn_known) {
        if (sg->seq + 1 == st->init_seq)
            rexmit(st, ev);
        return;
    }
    st->isn_known = true;
    st->init_seq = st->nxt = sg->seq + 1;
    if (!(sg->flags & RTE_TCP_ACK_FLAG)) {
        set_state(f, snd, MON_TCPS_CLOSED, MON_TCPS_SYN_SENT);
        return;
    }
    set_state(f, snd, MON_TCPS_LISTEN, MON_TCPS_SYN_RCVD);
    /* the SYN/ACK completes the client's handshake (RFC 9293 §3.5, figure 6) */
    if (f->s[snd].isn_known && sg->ack == f->s[snd].init_seq)
        set_state(f, 1 - snd, MON_TCPS_SYN_SENT, MON_TCPS_ESTABLISHED);
}

static void on_rst(struct mon_flow *f)
{
    f->state[0] = f->state[1] = MON_TCPS_CLOSED;
}

static bool done(uint8_t st)
{
    return st == MON_TCPS_CLOSED || st == MON_TCPS_TIME_WAIT;
}

/* ---- one frame ---- */

static void track(struct mon_flow *f, unsigned snd, const struct rte_mbuf *m, struct rte_mempool *pool,
                  const struct seg *sg, uint32_t *ev)
{
    f->s[1 - snd].pkts++;
    if (sg->flags & RTE_TCP_RST_FLAG) {
        on_rst(f);
        return;
    }
    if (sg->flags & RTE_TCP_SYN_FLAG) {
        on_syn(f, snd, sg, ev);
        return; /* data on a SYN (TFO) is not tracked */
    }
    on_ack(f, snd, sg, ev);
    on_text(f, snd, m, pool, sg, ev);
}

/* A SYN without ACK on tracked flow f that opens a new connection: its
 * sender's ISN is known and differs (the same ISN is a retransmission; an
 * unknown one is a simultaneous open, RFC 9293 §3.5 figure 8). */
static bool reopens(const struct mon_flow *f, const struct seg *sg)
{
    unsigned snd = (sg->src == f->ip[MON_SIDE_CLI] && sg->sport == f->port[MON_SIDE_CLI]) ? MON_SIDE_CLI : MON_SIDE_SVR;
    const struct mon_stream *st = &f->s[1 - snd]; /* the sender's bytes */

    return st->isn_known && sg->seq + 1 != st->init_seq;
}

static struct mon_flow *lookup(struct mon_table *t, const struct mon_key *k)
{
    void *data = NULL;

    return rte_hash_lookup_data(t->hash, k, &data) >= 0 ? data : NULL;
}

int mon_input(struct mon_table *t, const struct rte_mbuf *m, struct rte_mempool *pool, uint64_t now_ns,
              struct mon_pkt *out)
{
    struct seg sg;
    struct mon_key k;
    struct mon_flow *f;
    bool syn_only;

    if (t == NULL || m == NULL || pool == NULL || out == NULL)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (!parse(m, &sg))
        return 0;
    k = key_of(&sg);
    f = lookup(t, &k);
    syn_only = (sg.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) == RTE_TCP_SYN_FLAG;
    if (f != NULL && syn_only && reopens(f, &sg)) {
        detach(t, f);
        out->ended = f;
        f = NULL;
    }
    if (f == NULL && syn_only && (f = flow_new(t, &k, &sg)) != NULL)
        out->events |= MON_EV_CONN_START;
    if (f == NULL) {
        out->events = MON_EV_ORPHAN;
        return 0;
    }
    out->flow = f;
    out->sender = (sg.src == f->ip[MON_SIDE_CLI] && sg.sport == f->port[MON_SIDE_CLI]) ? MON_SIDE_CLI : MON_SIDE_SVR;
    out->payload_len = sg.len;
    if (!f->mac_known[out->sender]) {
        struct rte_ether_hdr eb;
        const struct rte_ether_hdr *eh = rte_pktmbuf_read(m, 0, sizeof(eb), &eb); /* parse read it */
        memcpy(f->mac[out->sender][0], &eh->src_addr, 6);
        memcpy(f->mac[out->sender][1], &eh->dst_addr, 6);
        f->mac_known[out->sender] = true;
    }
    memcpy(out->state_before, f->state, 2);
    out->events |= MON_EV_PKT_IN;
    f->last_ns = now_ns;
    if (!f->ended)
        track(f, out->sender, m, pool, &sg, &out->events);
    memcpy(out->state_after, f->state, 2);
    if (memcmp(out->state_before, out->state_after, 2) != 0)
        out->events |= MON_EV_STATE_CHANGE;
    if (!f->ended && done(f->state[0]) && done(f->state[1])) {
        f->ended = true;
        out->events |= MON_EV_CONN_END;
    }
    return 0;
}

unsigned mon_expire(struct mon_table *t, uint64_t now_ns, bool (*fn)(struct mon_flow *f, void *arg), void *arg)
{
    struct mon_flow *idle[64];
    unsigned n = 0, released = 0;
    const void *key;
    void *data;
    uint32_t it = 0;

    /* collect first: deleting while rte_hash_iterate walks is not allowed */
    while (n < RTE_DIM(idle) && rte_hash_iterate(t->hash, &key, &data, &it) >= 0) {
        struct mon_flow *f = data;
        if (now_ns - f->last_ns >= t->p.idle_timeout_ns)
            idle[n++] = f;
    }
    for (unsigned i = 0; i < n; i++) {
        if (fn != NULL && !fn(idle[i], arg))
            continue;
        mon_flow_release(t, idle[i]);
        released++;
    }
    return released;
}

/* ---- reading ---- */

ssize_t mon_peek(struct mon_flow *f, unsigned side, void *buf, size_t len, uint64_t *gap)
{
    if (side > MON_SIDE_SVR || gap == NULL)
        return -EINVAL;
    return mon_ring_peek(&f->s[side].ring, buf, len, gap);
}

ssize_t mon_ppeek(const struct mon_flow *f, unsigned side, void *buf, size_t len, uint64_t off)
{
    if (side > MON_SIDE_SVR)
        return -EINVAL;
    return mon_ring_ppeek(&f->s[side].ring, buf, len, off);
}

int mon_set_buf(struct mon_flow *f, unsigned side, uint32_t bytes)
{
    if (side > MON_SIDE_SVR)
        return -EINVAL;
    return mon_ring_resize(&f->s[side].ring, bytes);
}

/* Ranges being collected: the first max written to out, all counted. */
struct frag_acc {
    struct mon_frag *out, last;
    unsigned max, n;
};

/* Adds [off, off + len), merged with the last range when they touch. */
static void frag_add(struct frag_acc *a, uint64_t off, uint64_t len)
{
    if (len == 0)
        return;
    if (a->n > 0 && a->last.off + a->last.len == off)
        a->last.len += (uint32_t)len;
    else {
        a->last = (struct mon_frag){ off, (uint32_t)len };
        a->n++;
    }
    if (a->n <= a->max)
        a->out[a->n - 1] = a->last;
}

int mon_frags(const struct mon_flow *f, unsigned side, struct mon_frag *out, unsigned max)
{
    struct frag_acc a = { .out = out, .max = max };
    const struct mon_stream *st;
    const struct mon_ring *r;
    uint64_t at;

    if (side > MON_SIDE_SVR || (out == NULL && max > 0))
        return -EINVAL;
    st = &f->s[side];
    r = &st->ring;
    at = r->rd > r->head ? r->rd : r->head;
    for (unsigned i = 0; r->cap > 0 && i <= r->nholes; i++) {
        uint64_t end = i < r->nholes ? r->holes[i].off : r->tail;
        if (end > at)
            frag_add(&a, at, end - at);
        if (i < r->nholes && r->holes[i].off + r->holes[i].len > at)
            at = r->holes[i].off + r->holes[i].len;
    }
    for (unsigned i = 0; i < st->reass.n; i++)
        frag_add(&a, off_of(st, st->reass.v[i].seq), st->reass.v[i].len);
    return (int)a.n;
}

int mon_side_info(const struct mon_flow *f, unsigned side, struct mon_side_info *out)
{
    const struct mon_stream *st;
    uint32_t last;

    if (side > MON_SIDE_SVR || out == NULL)
        return -EINVAL;
    st = &f->s[side];
    memset(out, 0, sizeof(*out));
    out->state = f->state[side];
    out->isn_known = st->isn_known;
    out->init_seq = st->init_seq;
    out->next_seq = st->nxt;
    out->next_off = st->ring.tail;
    out->read_off = st->ring.rd;
    last = st->reass.n > 0 ? st->reass.v[st->reass.n - 1].seq + st->reass.v[st->reass.n - 1].len : st->nxt;
    out->last_rcvd_off = off_of(st, last);
    out->bytes = st->bytes;
    out->lost = st->lost;
    out->overwritten = st->ring.overwritten;
    out->rexmit = st->rexmit;
    out->pkts = st->pkts;
    out->buffered = (uint32_t)(st->ring.tail - st->ring.rd);
    out->last_ns = f->last_ns;
    return 0;
}

void mon_flow_addr(const struct mon_flow *f, unsigned side, rte_be32_t *addr, rte_be16_t *port)
{
    *addr = f->ip[side & 1];
    *port = f->port[side & 1];
}

int mon_flow_macs(const struct mon_flow *f, unsigned side, uint8_t own[6], uint8_t to[6])
{
    if (side > MON_SIDE_SVR)
        return -EINVAL;
    if (!f->mac_known[side])
        return -ENOENT;
    memcpy(own, f->mac[side][0], 6);
    memcpy(to, f->mac[side][1], 6);
    return 0;
}

void mon_flow_set_user(struct mon_flow *f, void *user)
{
    f->user = user;
}

void *mon_flow_user(const struct mon_flow *f)
{
    return f->user;
}
