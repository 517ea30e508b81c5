/* test_steer.c - the stack's side of steering between engines
 * (stack_steer_ops, docs/DESIGN.md "Engines per thread"): one stack on a
 * fake device with a scripted directory standing in for core/steer.c. A
 * segment of another engine's connection, or a SYN for a port only another
 * engine listens on, is handed over whole (at its Ethernet header) and
 * counted; a full ring drops and counts; a segment nobody owns is answered
 * here (RST) and counted once; frames from another engine are never handed
 * on; ARP frames to us are offered to the other engines, and copies from
 * them teach without answering; connections and listeners are reported. */
#include <criterion/criterion.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "harness.h"
#include "stack_harness.h"
#include "tcp.h"
#include "tcp_harness.h"

#define MS ST_NS_PER_MS

/* The directory as the test scripts it, and what the stack told it. */
struct fake_dir {
    int owner, listener;   /* what conn_owner / listener answer */
    bool full;             /* handoff refuses */
    struct rte_mbuf *handed[8];
    int handed_to[8];
    int nhanded;
    int arp_seen;
    struct rte_mbuf *pull[8];
    int npull;
    int conns, listeners;  /* added minus removed */
};

static int f_conn_owner(void *ctx, rte_be32_t raddr, rte_be16_t rport, rte_be16_t lport)
{
    (void)raddr, (void)rport, (void)lport;
    return ((struct fake_dir *)ctx)->owner;
}

static int f_listener(void *ctx, rte_be16_t lport)
{
    (void)lport;
    return ((struct fake_dir *)ctx)->listener;
}

static bool f_handoff(void *ctx, int engine, struct rte_mbuf *m)
{
    struct fake_dir *d = ctx;

    if (d->full || d->nhanded == 8)
        return false;
    d->handed_to[d->nhanded] = engine;
    d->handed[d->nhanded++] = m;
    return true;
}

static void f_arp_seen(void *ctx, const struct rte_mbuf *m)
{
    (void)m;
    ((struct fake_dir *)ctx)->arp_seen++;
}

static uint16_t f_pull(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
    struct fake_dir *d = ctx;
    uint16_t k = 0;

    while (k < n && k < d->npull) {
        pkts[k] = d->pull[k];
        k++;
    }
    d->npull = 0;
    return k;
}

static void f_conn_changed(void *ctx, rte_be32_t raddr, rte_be16_t rport, rte_be16_t lport, bool added)
{
    (void)raddr, (void)rport, (void)lport;
    ((struct fake_dir *)ctx)->conns += added ? 1 : -1;
}

static void f_listen_changed(void *ctx, rte_be16_t lport, bool added)
{
    (void)lport;
    ((struct fake_dir *)ctx)->listeners += added ? 1 : -1;
}

static const struct stack_steer_ops fake_ops = {
    .conn_owner = f_conn_owner,
    .listener = f_listener,
    .handoff = f_handoff,
    .arp_seen = f_arp_seen,
    .pull = f_pull,
    .conn_changed = f_conn_changed,
    .listen_changed = f_listen_changed,
};

struct rig {
    struct stack *s;
    struct netdev *dev;
    unsigned pool;
    uint64_t now;
    struct fake_dir d;
    uint8_t frame[2048];
    size_t len;
};

static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    r->s = st_create_with_peer(&r->dev);
    r->pool = t_pool_avail();
    r->now = 1000 * MS;
    r->d.owner = r->d.listener = -1;
    stack_set_steer(r->s, &fake_ops, &r->d);
}

static void rig_send(struct rig *r, uint8_t flags)
{
    struct st_tcp_seg sg = {.sport = 40000, .dport = 80, .seq = 1000, .ack = 5000, .flags = flags, .wnd = 65535};

    r->len = st_tcp(r->frame, &sg);
    st_inject(r->s, r->dev, r->frame, r->len, r->now);
}

/* Frees what was handed over; checks the pool; takes the stack away. */
static void rig_finish(struct rig *r)
{
    for (int i = 0; i < r->d.nhanded; i++)
        rte_pktmbuf_free(r->d.handed[i]);
    stack_set_steer(r->s, NULL, NULL);
    st_poll(r->s, r->now);
    st_finish(r->s, r->dev, r->pool);
}

Test(steer, another_engines_segment_is_handed_over_whole)
{
    struct rig r;
    uint8_t got[2048];

    rig_init(&r);
    r.d.owner = 1;
    rig_send(&r, RTE_TCP_ACK_FLAG);
    cr_assert_eq(r.d.nhanded, 1);
    cr_assert_eq(r.d.handed_to[0], 1);
    cr_assert_eq(st_bytes(r.d.handed[0], got, sizeof(got)), r.len, "the frame goes whole, from its Ethernet header");
    cr_assert_arr_eq(got, r.frame, r.len);
    cr_assert_eq(ST_CTR(r.s, eng_steered_out), 1);
    cr_assert_eq(ST_CTR(r.s, tcp_drop_no_conn), 0, "not counted as unknown here");
    st_expect_no_tx(r.dev);
    rig_finish(&r);
}

Test(steer, a_full_ring_drops_and_counts)
{
    struct rig r;

    rig_init(&r);
    r.d.owner = 1;
    r.d.full = true;
    rig_send(&r, RTE_TCP_ACK_FLAG);
    cr_assert_eq(r.d.nhanded, 0);
    cr_assert_eq(ST_CTR(r.s, eng_steer_drop_full), 1);
    cr_assert_eq(ST_CTR(r.s, eng_steered_out), 0);
    st_expect_no_tx(r.dev);
    rig_finish(&r);
}

Test(steer, a_segment_nobody_owns_is_reset_here_and_counted_once)
{
    struct rig r;
    uint8_t out[2048];
    struct st_tcp_seg rst;

    rig_init(&r);
    rig_send(&r, RTE_TCP_ACK_FLAG);
    cr_assert_eq(r.d.nhanded, 0);
    cr_assert_eq(ST_CTR(r.s, tcp_drop_no_conn), 1);
    st_tcp_parse(out, st_take(r.dev, out, sizeof(out)), &rst);
    cr_assert(rst.flags & RTE_TCP_RST_FLAG, "RFC 9293 §3.10.7.1: an RST answers it");
    rig_finish(&r);
}

Test(steer, a_syn_for_a_port_only_another_engine_listens_on_goes_there)
{
    struct rig r;

    rig_init(&r);
    r.d.listener = 3;
    rig_send(&r, RTE_TCP_SYN_FLAG);
    cr_assert_eq(r.d.nhanded, 1);
    cr_assert_eq(r.d.handed_to[0], 3);
    cr_assert_eq(ST_CTR(r.s, tcp_rst_sent), 0, "never an RST for a port another engine serves");
    st_expect_no_tx(r.dev);
    rig_finish(&r);
}

Test(steer, a_syn_for_our_own_listener_stays)
{
    struct rig r;
    struct tcp_conn *l;

    rig_init(&r);
    cr_assert_eq(tcp_open(r.s, NULL, NULL, &l), 0);
    cr_assert_eq(tcp_bind(l, 0, RTE_BE16(80)), 0);
    cr_assert_eq(tcp_listen(l, 8), 0);
    cr_assert_eq(r.d.listeners, 1, "the listener was reported");
    r.d.listener = 3;
    rig_send(&r, RTE_TCP_SYN_FLAG);
    cr_assert_eq(r.d.nhanded, 0);
    cr_assert_eq(r.d.conns, 1, "the new connection was reported");
    st_drain_tx(r.dev); /* the SYN-ACK */
    st_close_and_finish(r.s, r.dev, r.pool, r.now, NULL, l);
}

Test(steer, a_frame_from_another_engine_is_never_handed_on)
{
    struct rig r;
    uint8_t out[2048];
    struct st_tcp_seg sg = {.sport = 40000, .dport = 80, .seq = 1000, .ack = 5000, .flags = RTE_TCP_ACK_FLAG,
                            .wnd = 65535};
    struct st_tcp_seg rst;

    rig_init(&r);
    r.d.owner = 1; /* stale: the directory still names engine 1 */
    r.len = st_tcp(r.frame, &sg);
    r.d.pull[r.d.npull++] = st_mbuf(r.frame, r.len);
    st_poll(r.s, r.now);
    cr_assert_eq(r.d.nhanded, 0, "handed back and forth for ever otherwise");
    cr_assert_eq(ST_CTR(r.s, eng_steered_in), 1);
    cr_assert_eq(ST_CTR(r.s, tcp_drop_no_conn), 1);
    st_tcp_parse(out, st_take(r.dev, out, sizeof(out)), &rst);
    cr_assert(rst.flags & RTE_TCP_RST_FLAG);
    rig_finish(&r);
}

Test(steer, arp_to_us_is_offered_and_a_copy_teaches_without_answering)
{
    struct rig r;
    const struct rte_ether_addr other = {{0x02, 0, 0, 0, 0, 0x99}};
    uint8_t frame[128];
    size_t n;

    rig_init(&r);
    n = st_arp(frame, RTE_ARP_OP_REQUEST, &other, RTE_BE32(0x0a000009), &st_bcast_mac, ST_US_IP);
    st_inject(r.s, r.dev, frame, n, r.now);
    cr_assert_eq(r.d.arp_seen, 1, "the other engines get to learn from it");
    cr_assert_eq(st_drain_tx(r.dev), 1, "we answer the request we received");
    /* the same request, as another engine's copy: learnt, not answered */
    n = st_arp(frame, RTE_ARP_OP_REQUEST, &other, RTE_BE32(0x0a000008), &st_bcast_mac, ST_US_IP);
    r.d.pull[r.d.npull++] = st_mbuf(frame, n);
    st_poll(r.s, r.now);
    cr_assert_eq(ST_CTR(r.s, eng_arp_copies_in), 1);
    cr_assert_eq(ST_CTR(r.s, eng_steered_in), 0);
    cr_assert_eq(r.d.arp_seen, 1, "a copy is not offered again");
    cr_assert_eq(ST_CTR(r.s, arp_entries_learned), 2);
    st_expect_no_tx(r.dev);
    rig_finish(&r);
}

/* UDP has no directory: a datagram to another engine's ephemeral port
 * (port % engines names it) goes there; to one of ours with no socket it
 * is refused here, once. */
Test(steer, a_datagram_to_another_engines_ephemeral_port_goes_there)
{
    struct rig r;
    uint8_t out[2048];

    rig_init(&r);
    r.s->eph_stride = 2; /* engine 0 of 2: even ephemeral ports are ours */
    r.s->eph_offset = 0;
    r.len = st_udp(r.frame, ST_PEER_IP, RTE_BE16(53), ST_US_IP, RTE_BE16(49153), "reply", 5);
    st_inject(r.s, r.dev, r.frame, r.len, r.now);
    cr_assert_eq(r.d.nhanded, 1);
    cr_assert_eq(r.d.handed_to[0], 1, "49153 %% 2 is engine 1");
    cr_assert_eq(ST_CTR(r.s, udp_drop_no_port), 0);
    st_expect_no_tx(r.dev);
    r.len = st_udp(r.frame, ST_PEER_IP, RTE_BE16(53), ST_US_IP, RTE_BE16(49152), "reply", 5);
    st_inject(r.s, r.dev, r.frame, r.len, r.now);
    cr_assert_eq(r.d.nhanded, 1, "an even port is ours: not handed over");
    cr_assert_eq(ST_CTR(r.s, udp_drop_no_port), 1);
    cr_assert_gt(st_take(r.dev, out, sizeof(out)), 0, "port unreachable (RFC 1122 4.1.3.1)");
    rig_finish(&r);
}
