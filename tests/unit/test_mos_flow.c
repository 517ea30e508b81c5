/* test_mos_flow.c - the monitor's flow tracker (stack/mon/): crafted frames of a
 * flow between two other hosts (client 10.1.0.1:40000, server
 * 10.2.0.1:80) fed in one by one, checking per side the emulated TCP state
 * (mOS's enum tcpstate), the events each frame raises, the byte counts,
 * and what mon_peek/mon_ppeek return: in order, with reordering, with a
 * lost segment (the receiver acknowledges bytes the monitor never saw: a
 * negative gap, -ENODATA), with retransmissions, with a ring outrun, and
 * across the 2^32 wrap. Every test ends with the table destroyed and every
 * mbuf back in the pool. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "harness.h"
#include "mon.h"
#include "netdev_fake.h"
#include "runtime.h"
#include "stack_harness.h"

#define CLI_IP RTE_BE32(0x0a010001)
#define SVR_IP RTE_BE32(0x0a020001)
#define CLI_PORT 40000
#define SVR_PORT 80
#define CISN 1000u
#define SISN 5000u
#define SYN RTE_TCP_SYN_FLAG
#define ACK RTE_TCP_ACK_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

static unsigned avail0;
static struct mon_table *tab;
static uint64_t now = 1000000000ull;
static uint16_t cli_port = CLI_PORT; /* another value makes another flow */

static void setup(void)
{
    t_default_timeout();
    t_init();
    avail0 = t_pool_avail();
}

static void mk_table(uint32_t buf_bytes, unsigned segs)
{
    struct mon_params p = { .max_flows = 16, .buf_bytes = buf_bytes, .reass_segs = segs,
                            .idle_timeout_ns = 5 * ST_NS_PER_MS };
    cr_assert_eq(mon_table_create(&p, &tab), 0);
}

static void finish(void)
{
    mon_table_destroy(tab);
    tab = NULL;
    cr_assert_eq(t_pool_avail(), avail0, "mbufs leaked: %u free, %u at start", t_pool_avail(), avail0);
}

/* A frame from side `from` (MON_SIDE_*) with the given header fields. */
static struct rte_mbuf *frame_of(unsigned from, uint32_t seq, uint32_t ack, uint8_t flags, const void *data,
                                 size_t len)
{
    uint8_t seg[1600], frame[1700];
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)seg;
    bool cli = from == MON_SIDE_CLI;

    cr_assert_leq(len + sizeof(*th), sizeof(seg));
    memset(th, 0, sizeof(*th));
    th->src_port = rte_cpu_to_be_16(cli ? cli_port : SVR_PORT);
    th->dst_port = rte_cpu_to_be_16(cli ? SVR_PORT : cli_port);
    th->sent_seq = rte_cpu_to_be_32(seq);
    th->recv_ack = rte_cpu_to_be_32(ack);
    th->data_off = 5 << 4;
    th->tcp_flags = flags;
    th->rx_win = RTE_BE16(65535);
    if (len > 0)
        memcpy(seg + sizeof(*th), data, len);
    size_t n = st_ipv4(frame, cli ? CLI_IP : SVR_IP, cli ? SVR_IP : CLI_IP, IPPROTO_TCP, seg, sizeof(*th) + len);
    return st_mbuf(frame, n);
}

static struct mon_pkt feed(unsigned from, uint32_t seq, uint32_t ack, uint8_t flags, const void *data, size_t len)
{
    struct rte_mbuf *m = frame_of(from, seq, ack, flags, data, len);
    struct mon_pkt out;

    cr_assert_eq(mon_input(tab, m, g_rt.pool, now, &out), 0);
    rte_pktmbuf_free(m); /* not taken: the caller forwards or frees */
    return out;
}

static uint8_t pat(uint64_t off, unsigned side)
{
    return (uint8_t)(off * 7u + side * 100u + 1u);
}

/* The bytes at stream offsets [off, off + len) that `from` sends. */
static void fill(uint8_t *b, uint64_t off, size_t len, unsigned from)
{
    for (size_t i = 0; i < len; i++)
        b[i] = pat(off + i, from);
}

/* Sends stream bytes [off, off + len) of `from` (its ISN + 1 + off) acking ack. */
static struct mon_pkt data(unsigned from, uint32_t isn, uint64_t off, size_t len, uint32_t ack, uint8_t extra)
{
    uint8_t b[1500];
    fill(b, off, len, from);
    return feed(from, isn + 1 + (uint32_t)off, ack, ACK | PSH | extra, b, len);
}

static struct mon_flow *handshake(uint32_t cisn, uint32_t sisn)
{
    struct mon_pkt p = feed(MON_SIDE_CLI, cisn, 0, SYN, NULL, 0);

    cr_assert_not_null(p.flow);
    cr_assert_eq(p.sender, MON_SIDE_CLI);
    cr_assert_eq(p.events, MON_EV_PKT_IN | MON_EV_CONN_START | MON_EV_STATE_CHANGE);
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_SYN_SENT);
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_LISTEN);
    p = feed(MON_SIDE_SVR, sisn, cisn + 1, SYN | ACK, NULL, 0);
    cr_assert_eq(p.sender, MON_SIDE_SVR);
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_ESTABLISHED);
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_SYN_RCVD);
    p = feed(MON_SIDE_CLI, cisn + 1, sisn + 1, ACK, NULL, 0);
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_ESTABLISHED);
    cr_assert(p.events & MON_EV_STATE_CHANGE);
    return p.flow;
}

static struct mon_side_info info(struct mon_flow *f, unsigned side)
{
    struct mon_side_info i;
    cr_assert_eq(mon_side_info(f, side, &i), 0);
    return i;
}

/* Peeks exactly len bytes of side and checks them against the pattern
 * `from` sends at stream offset off. */
static void expect_peek(struct mon_flow *f, unsigned side, uint64_t off, size_t len)
{
    uint8_t got[4096], want[4096];
    uint64_t gap = 99;

    cr_assert_leq(len, sizeof(got));
    ssize_t n = mon_peek(f, side, got, len, &gap);
    cr_assert_eq(n, (ssize_t)len, "peek: %zd, wanted %zu (gap %lu)", n, len, (unsigned long)gap);
    cr_assert_eq(gap, 0);
    fill(want, off, len, 1 - side);
    cr_assert_arr_eq(got, want, len);
}

static void expect_gap(struct mon_flow *f, unsigned side, uint64_t want_gap)
{
    uint8_t b[16];
    uint64_t gap = 99;

    cr_assert_eq(mon_peek(f, side, b, sizeof(b), &gap), -ENODATA);
    cr_assert_eq(gap, want_gap);
}

Test(mos_flow, a_whole_flow_both_ways_with_states_events_and_bytes, .init = setup)
{
    mk_table(64 * 1024, 8);
    struct mon_flow *f = handshake(CISN, SISN);

    struct mon_pkt p = data(MON_SIDE_CLI, CISN, 0, 100, SISN + 1, 0);
    cr_assert_eq(p.events, MON_EV_PKT_IN | MON_EV_NEW_DATA);
    cr_assert_eq(p.payload_len, 100);
    p = data(MON_SIDE_SVR, SISN, 0, 1000, CISN + 101, 0);
    cr_assert_eq(p.events, MON_EV_PKT_IN | MON_EV_NEW_DATA);
    data(MON_SIDE_SVR, SISN, 1000, 500, CISN + 101, 0);

    /* the server's stream (received by the client) and the client's */
    expect_peek(f, MON_SIDE_SVR, 0, 100);
    expect_gap(f, MON_SIDE_SVR, 0); /* nothing more: -ENODATA, no gap */
    expect_peek(f, MON_SIDE_CLI, 0, 600);
    expect_peek(f, MON_SIDE_CLI, 600, 900);
    cr_assert_eq(info(f, MON_SIDE_CLI).bytes, 1500);
    cr_assert_eq(info(f, MON_SIDE_SVR).bytes, 100);
    cr_assert_eq(info(f, MON_SIDE_SVR).init_seq, CISN + 1);

    /* the client closes first: FIN_WAIT_1 / CLOSE_WAIT, then the server */
    p = feed(MON_SIDE_CLI, CISN + 101, SISN + 1501, FIN | ACK, NULL, 0);
    cr_assert(p.events & MON_EV_STATE_CHANGE);
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_FIN_WAIT_1);
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_CLOSE_WAIT);
    p = feed(MON_SIDE_SVR, SISN + 1501, CISN + 102, ACK, NULL, 0);
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_FIN_WAIT_2);
    p = feed(MON_SIDE_SVR, SISN + 1501, CISN + 102, FIN | ACK, NULL, 0);
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_TIME_WAIT);
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_LAST_ACK);
    cr_assert_eq(p.events & MON_EV_CONN_END, 0);
    p = feed(MON_SIDE_CLI, CISN + 102, SISN + 1502, ACK, NULL, 0);
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_CLOSED);
    cr_assert(p.events & MON_EV_CONN_END);
    cr_assert_eq(mon_count(tab), 1, "an ended flow stays until released");
    mon_flow_release(tab, f);
    cr_assert_eq(mon_count(tab), 0);
    finish();
}

Test(mos_flow, crossing_fins_go_through_closing, .init = setup)
{
    mk_table(4096, 8);
    struct mon_flow *f = handshake(CISN, SISN);

    feed(MON_SIDE_CLI, CISN + 1, SISN + 1, FIN | ACK, NULL, 0);
    struct mon_pkt p = feed(MON_SIDE_SVR, SISN + 1, CISN + 1, FIN | ACK, NULL, 0); /* not acking the FIN */
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_CLOSING);
    /* the monitor saw the client's FIN first: to it the server was in
     * CLOSE_WAIT when it sent its own (mOS emulates each side from what
     * passes the monitor, in that order) */
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_LAST_ACK);
    p = feed(MON_SIDE_SVR, SISN + 2, CISN + 2, ACK, NULL, 0);
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_TIME_WAIT);
    p = feed(MON_SIDE_CLI, CISN + 2, SISN + 2, ACK, NULL, 0);
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_CLOSED);
    cr_assert(p.events & MON_EV_CONN_END);
    (void)f;
    finish();
}

Test(mos_flow, reordered_segments_are_held_until_the_hole_fills, .init = setup)
{
    mk_table(64 * 1024, 8);
    struct mon_flow *f = handshake(CISN, SISN);

    struct mon_pkt p = data(MON_SIDE_CLI, CISN, 200, 100, SISN + 1, 0);
    cr_assert_eq(p.events, MON_EV_PKT_IN, "held: no new data yet");
    data(MON_SIDE_CLI, CISN, 100, 100, SISN + 1, 0);
    cr_assert_eq(info(f, MON_SIDE_SVR).bytes, 0);
    cr_assert_eq(info(f, MON_SIDE_SVR).last_rcvd_off, 300);
    expect_gap(f, MON_SIDE_SVR, 0);
    p = data(MON_SIDE_CLI, CISN, 0, 100, SISN + 1, 0);
    cr_assert_eq(p.events, MON_EV_PKT_IN | MON_EV_NEW_DATA);
    cr_assert_eq(info(f, MON_SIDE_SVR).bytes, 300);
    cr_assert_eq(info(f, MON_SIDE_SVR).next_off, 300);
    expect_peek(f, MON_SIDE_SVR, 0, 300);
    finish();
}

Test(mos_flow, a_fin_ahead_of_missing_data_waits_for_it, .init = setup)
{
    mk_table(4096, 8);
    struct mon_flow *f = handshake(CISN, SISN);

    struct mon_pkt p = data(MON_SIDE_CLI, CISN, 100, 50, SISN + 1, FIN);
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_ESTABLISHED, "the FIN is not in order yet");
    p = data(MON_SIDE_CLI, CISN, 0, 100, SISN + 1, 0);
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_FIN_WAIT_1);
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_CLOSE_WAIT);
    cr_assert_eq(info(f, MON_SIDE_SVR).bytes, 150);
    expect_peek(f, MON_SIDE_SVR, 0, 150);
    finish();
}

Test(mos_flow, retransmissions_count_once_and_raise_rexmit, .init = setup)
{
    mk_table(4096, 8);
    struct mon_flow *f = handshake(CISN, SISN);

    data(MON_SIDE_CLI, CISN, 0, 100, SISN + 1, 0);
    struct mon_pkt p = data(MON_SIDE_CLI, CISN, 0, 100, SISN + 1, 0);
    cr_assert_eq(p.events, MON_EV_PKT_IN | MON_EV_REXMIT);
    p = data(MON_SIDE_CLI, CISN, 50, 100, SISN + 1, 0); /* half old, half new */
    cr_assert_eq(p.events, MON_EV_PKT_IN | MON_EV_NEW_DATA | MON_EV_REXMIT);
    data(MON_SIDE_CLI, CISN, 300, 10, SISN + 1, 0);
    p = data(MON_SIDE_CLI, CISN, 300, 10, SISN + 1, 0); /* a duplicate of a held segment */
    cr_assert_eq(p.events, MON_EV_PKT_IN | MON_EV_REXMIT);
    p = feed(MON_SIDE_CLI, CISN, 0, SYN, NULL, 0);
    cr_assert(p.events & MON_EV_REXMIT, "a repeated SYN");
    cr_assert_eq(info(f, MON_SIDE_SVR).bytes, 150);
    cr_assert_eq(info(f, MON_SIDE_SVR).rexmit, 4);
    expect_peek(f, MON_SIDE_SVR, 0, 150);
    finish();
}

Test(mos_flow, a_lost_segment_is_a_negative_gap_once_the_receiver_acks_past_it, .init = setup)
{
    mk_table(64 * 1024, 8);
    struct mon_flow *f = handshake(CISN, SISN);

    data(MON_SIDE_CLI, CISN, 0, 100, SISN + 1, 0);
    /* [100, 300) never reaches the monitor; [300, 400) does, held */
    data(MON_SIDE_CLI, CISN, 300, 100, SISN + 1, 0);
    /* the server acknowledges up to 400: it got the lost bytes */
    struct mon_pkt p = feed(MON_SIDE_SVR, SISN + 1, CISN + 401, ACK, NULL, 0);
    cr_assert(p.events & MON_EV_ERROR);
    cr_assert(p.events & MON_EV_NEW_DATA, "the held segment follows the hole");
    struct mon_side_info i = info(f, MON_SIDE_SVR);
    cr_assert_eq(i.lost, 200);
    cr_assert_eq(i.bytes, 200);
    cr_assert_eq(i.next_off, 400);
    expect_peek(f, MON_SIDE_SVR, 0, 100);
    expect_gap(f, MON_SIDE_SVR, 200); /* mtcp_peek: -200, errno ENODATA */
    expect_peek(f, MON_SIDE_SVR, 300, 100);
    expect_gap(f, MON_SIDE_SVR, 0);
    /* ppeek: the hole has no bytes; around it the stream is there */
    uint8_t b[512];
    cr_assert_eq(mon_ppeek(f, MON_SIDE_SVR, b, sizeof(b), 150), -ENODATA);
    cr_assert_eq(mon_ppeek(f, MON_SIDE_SVR, b, sizeof(b), 50), 50, "stops at the hole");
    cr_assert_eq(mon_ppeek(f, MON_SIDE_SVR, b, sizeof(b), 400), -ENODATA, "not received yet");
    finish();
}

Test(mos_flow, an_outrun_ring_reports_the_overwritten_bytes, .init = setup)
{
    mk_table(256, 8);
    struct mon_flow *f = handshake(CISN, SISN);

    for (unsigned i = 0; i < 4; i++)
        data(MON_SIDE_SVR, SISN, i * 100, 100, CISN + 1, 0);
    /* 400 bytes through a 256-byte ring, none read: 144 overwritten */
    struct mon_side_info in = info(f, MON_SIDE_CLI);
    cr_assert_eq(in.overwritten, 144);
    cr_assert_eq(in.bytes, 400);
    expect_gap(f, MON_SIDE_CLI, 144);
    expect_peek(f, MON_SIDE_CLI, 144, 256);
    uint8_t b[8];
    cr_assert_eq(mon_ppeek(f, MON_SIDE_CLI, b, sizeof(b), 100), -ENODATA, "overwritten");
    cr_assert_eq(mon_ppeek(f, MON_SIDE_CLI, b, sizeof(b), 144), 8);
    finish();
}

Test(mos_flow, ppeek_reads_without_consuming, .init = setup)
{
    mk_table(4096, 8);
    struct mon_flow *f = handshake(CISN, SISN);
    uint8_t got[64], want[64];

    data(MON_SIDE_CLI, CISN, 0, 64, SISN + 1, 0);
    cr_assert_eq(mon_ppeek(f, MON_SIDE_SVR, got, 16, 10), 16);
    fill(want, 10, 16, MON_SIDE_CLI);
    cr_assert_arr_eq(got, want, 16);
    expect_peek(f, MON_SIDE_SVR, 0, 64); /* the peek position did not move */
    cr_assert_eq(mon_ppeek(f, MON_SIDE_SVR, got, 64, 0), 64, "read bytes stay until overwritten");
    finish();
}

Test(mos_flow, sequence_numbers_wrap_at_2_32, .init = setup)
{
    mk_table(4096, 8);
    uint32_t cisn = 0xffffff00u;
    struct mon_flow *f = handshake(cisn, SISN);

    data(MON_SIDE_CLI, cisn, 0x200, 0x100, SISN + 1, 0); /* out of order, past the wrap */
    data(MON_SIDE_CLI, cisn, 0, 0x200, SISN + 1, 0);
    cr_assert_eq(info(f, MON_SIDE_SVR).bytes, 0x300);
    expect_peek(f, MON_SIDE_SVR, 0, 0x300);
    finish();
}

Test(mos_flow, a_reset_ends_the_flow, .init = setup)
{
    mk_table(4096, 8);
    handshake(CISN, SISN);

    struct mon_pkt p = feed(MON_SIDE_SVR, SISN + 1, 0, RST, NULL, 0);
    cr_assert_eq(p.state_after[MON_SIDE_CLI], MON_TCPS_CLOSED);
    cr_assert_eq(p.state_after[MON_SIDE_SVR], MON_TCPS_CLOSED);
    cr_assert(p.events & MON_EV_CONN_END);
    p = feed(MON_SIDE_CLI, CISN + 1, SISN + 1, ACK, NULL, 0);
    cr_assert_eq(p.events, MON_EV_PKT_IN, "after the end: seen, nothing tracked");
    finish();
}

Test(mos_flow, frames_of_no_flow_are_orphans_and_non_tcp_is_ignored, .init = setup)
{
    mk_table(4096, 8);
    struct mon_pkt p = feed(MON_SIDE_CLI, 1, 1, ACK, "x", 1);
    cr_assert_null(p.flow);
    cr_assert_eq(p.events, MON_EV_ORPHAN);
    p = feed(MON_SIDE_SVR, 1, 2, SYN | ACK, NULL, 0);
    cr_assert_eq(p.events, MON_EV_ORPHAN, "a SYN/ACK starts no flow");

    uint8_t frame[128];
    size_t n = st_udp(frame, CLI_IP, RTE_BE16(1), SVR_IP, RTE_BE16(2), "u", 1);
    struct rte_mbuf *m = st_mbuf(frame, n);
    cr_assert_eq(mon_input(tab, m, g_rt.pool, now, &p), 0);
    cr_assert_null(p.flow);
    cr_assert_eq(p.events, 0);
    /* a truncated TCP frame */
    rte_pktmbuf_trim(m, (uint16_t)(n - 30));
    cr_assert_eq(mon_input(tab, m, g_rt.pool, now, &p), 0);
    cr_assert_eq(p.events, 0);
    rte_pktmbuf_free(m);
    cr_assert_eq(mon_count(tab), 0);
    finish();
}

static bool count_cb(struct mon_flow *f, void *arg)
{
    (void)f;
    ++*(unsigned *)arg;
    return true;
}

Test(mos_flow, idle_flows_expire, .init = setup)
{
    mk_table(4096, 8);
    handshake(CISN, SISN);
    unsigned calls = 0;

    cr_assert_eq(mon_expire(tab, now + 4 * ST_NS_PER_MS, count_cb, &calls), 0);
    cr_assert_eq(mon_expire(tab, now + 5 * ST_NS_PER_MS, count_cb, &calls), 1);
    cr_assert_eq(calls, 1);
    cr_assert_eq(mon_count(tab), 0);
    finish();
}

Test(mos_flow, without_a_ring_bytes_are_counted_and_peek_is_einval, .init = setup)
{
    mk_table(0, 8);
    struct mon_flow *f = handshake(CISN, SISN);
    uint8_t b[8];
    uint64_t gap;

    data(MON_SIDE_CLI, CISN, 0, 100, SISN + 1, 0);
    cr_assert_eq(info(f, MON_SIDE_SVR).bytes, 100);
    cr_assert_eq(mon_peek(f, MON_SIDE_SVR, b, sizeof(b), &gap), -EINVAL);
    cr_assert_eq(mon_ppeek(f, MON_SIDE_SVR, b, sizeof(b), 0), -EINVAL);
    /* turned on later, it buffers from then on */
    cr_assert_eq(mon_set_buf(f, MON_SIDE_SVR, 1024), 0);
    data(MON_SIDE_CLI, CISN, 100, 50, SISN + 1, 0);
    expect_peek(f, MON_SIDE_SVR, 100, 50);
    finish();
}

Test(mos_flow, resizing_keeps_the_newest_unread_bytes, .init = setup)
{
    mk_table(1024, 8);
    struct mon_flow *f = handshake(CISN, SISN);

    data(MON_SIDE_CLI, CISN, 0, 300, SISN + 1, 0);
    cr_assert_eq(mon_set_buf(f, MON_SIDE_SVR, 200), 0);
    expect_gap(f, MON_SIDE_SVR, 100);
    expect_peek(f, MON_SIDE_SVR, 100, 200);
    cr_assert_eq(mon_set_buf(f, MON_SIDE_SVR, 0), 0);
    uint64_t gap;
    uint8_t b[4];
    cr_assert_eq(mon_peek(f, MON_SIDE_SVR, b, sizeof(b), &gap), -EINVAL);
    finish();
}

Test(mos_flow, a_full_reassembly_queue_is_an_error_event, .init = setup)
{
    mk_table(4096, 1);
    struct mon_flow *f = handshake(CISN, SISN);

    data(MON_SIDE_CLI, CISN, 100, 10, SISN + 1, 0);
    struct mon_pkt p = data(MON_SIDE_CLI, CISN, 200, 10, SISN + 1, 0);
    cr_assert(p.events & MON_EV_ERROR);
    data(MON_SIDE_CLI, CISN, 0, 100, SISN + 1, 0);
    cr_assert_eq(info(f, MON_SIDE_SVR).bytes, 110);
    finish();
}

Test(mos_flow, bad_arguments, .init = setup)
{
    struct mon_params p = { .max_flows = 1, .reass_segs = 1 };
    struct mon_table *t = NULL;
    struct mon_pkt out;

    cr_assert_eq(mon_table_create(NULL, &t), -EINVAL);
    cr_assert_eq(mon_table_create(&p, NULL), -EINVAL);
    p.max_flows = 0;
    cr_assert_eq(mon_table_create(&p, &t), -EINVAL);
    p.max_flows = 1;
    p.reass_segs = 0;
    cr_assert_eq(mon_table_create(&p, &t), -EINVAL);
    mk_table(4096, 8);
    cr_assert_eq(mon_input(tab, NULL, g_rt.pool, now, &out), -EINVAL);
    struct mon_flow *f = handshake(CISN, SISN);
    struct mon_side_info i;
    uint64_t gap;
    cr_assert_eq(mon_side_info(f, 2, &i), -EINVAL);
    cr_assert_eq(mon_peek(f, 2, &i, 1, &gap), -EINVAL);
    cr_assert_eq(mon_ppeek(f, 2, &i, 1, 0), -EINVAL);
    cr_assert_eq(mon_set_buf(f, 2, 1), -EINVAL);
    /* the table is full: a second flow's SYN is an orphan */
    mon_table_destroy(tab);
    p.reass_segs = 1;
    cr_assert_eq(mon_table_create(&p, &tab), 0);
    handshake(CISN, SISN);
    cli_port = CLI_PORT + 1;
    struct mon_pkt o = feed(MON_SIDE_CLI, 7, 0, SYN, NULL, 0);
    cr_assert_null(o.flow);
    cr_assert_eq(o.events, MON_EV_ORPHAN);
    finish();
}

/* ---- the bridge: two fake ports, frames injected on one, taken off the
 * other ---- */

struct seen {
    unsigned frames, timeouts, ends;
    uint32_t events;
    unsigned drop_port; /* 2: drop nothing */
    uint8_t rewrite;    /* non-zero: the last payload byte of frames with data becomes this */
};

static int verdict(void *arg, struct rte_mbuf *m, unsigned port, const struct mon_pkt *pkt)
{
    struct seen *s = arg;

    s->events |= pkt->events;
    if (pkt->events & MON_EV_TIMEOUT) {
        cr_assert_null(m);
        s->timeouts++;
        return MON_PASS;
    }
    if (m == NULL) { /* a flow a new SYN replaced */
        cr_assert_eq(pkt->events, MON_EV_CONN_END);
        cr_assert_not_null(pkt->flow);
        s->ends++;
        return MON_PASS;
    }
    s->frames++;
    s->ends += (pkt->events & MON_EV_CONN_END) != 0;
    if (s->rewrite && pkt->payload_len > 0)
        rte_pktmbuf_mtod(m, uint8_t *)[rte_pktmbuf_pkt_len(m) - 1] = s->rewrite;
    return port == s->drop_port ? MON_DROP : MON_PASS;
}

static struct mon_bridge *mk_bridge(struct seen *s, bool passive, struct netdev **d0, struct netdev **d1)
{
    struct mon_params p = { .max_flows = 16, .buf_bytes = 4096, .reass_segs = 8, .idle_timeout_ns = 5 * ST_NS_PER_MS };
    struct mon_bridge *b;

    *d0 = netdev_fake_create(&st_peer_mac, 1500);
    *d1 = passive ? NULL : netdev_fake_create(&st_us_mac, 1500);
    cr_assert_eq(mon_bridge_create(&p, *d0, *d1, g_rt.pool, verdict, s, &b), 0);
    tab = mon_bridge_table(b);
    return b;
}

static void bridge_finish(struct mon_bridge *b, struct netdev *d1)
{
    struct rte_mbuf *m;

    while (d1 != NULL && (m = netdev_fake_take_tx(d1)) != NULL)
        rte_pktmbuf_free(m);
    mon_bridge_destroy(b);
    tab = NULL;
    cr_assert_eq(t_pool_avail(), avail0, "mbufs leaked: %u free, %u at start", t_pool_avail(), avail0);
}

/* Injects a frame on port `in` and polls once. */
static void via(struct mon_bridge *b, struct netdev *in, struct rte_mbuf *m)
{
    netdev_fake_inject(in, m);
    cr_assert_eq(mon_bridge_poll(b, now), 1);
}

Test(mos_flow, inline_forwards_every_frame_in_order_and_tracks_it, .init = setup)
{
    struct seen s = { .drop_port = 2 };
    struct netdev *d0, *d1;
    struct mon_bridge *b = mk_bridge(&s, false, &d0, &d1);
    uint8_t buf[100], out[2048];

    fill(buf, 0, sizeof(buf), MON_SIDE_CLI);
    via(b, d0, frame_of(MON_SIDE_CLI, CISN, 0, SYN, NULL, 0));
    via(b, d1, frame_of(MON_SIDE_SVR, SISN, CISN + 1, SYN | ACK, NULL, 0));
    via(b, d0, frame_of(MON_SIDE_CLI, CISN + 1, SISN + 1, ACK, NULL, 0));
    via(b, d0, frame_of(MON_SIDE_CLI, CISN + 1, SISN + 1, ACK | PSH, buf, sizeof(buf)));
    /* a non-TCP frame passes too (ARP, UDP: a bridge forwards all) */
    size_t n = st_udp(out, CLI_IP, RTE_BE16(1), SVR_IP, RTE_BE16(2), "u", 1);
    via(b, d0, st_mbuf(out, n));
    cr_assert_eq(s.frames, 5);
    cr_assert_eq(netdev_fake_tx_count(d1), 4, "client to server: out of port 1");
    cr_assert_eq(netdev_fake_tx_count(d0), 1, "server to client: out of port 0");
    struct rte_mbuf *m = netdev_fake_take_tx(d1);
    st_bytes(m, out, sizeof(out));
    cr_assert_eq(out[RTE_ETHER_HDR_LEN + 20 + 13], SYN, "the first frame out is the SYN");
    rte_pktmbuf_free(m);
    cr_assert_eq(mon_count(tab), 1);
    struct mon_bridge_stats bs;
    mon_bridge_stats(b, &bs);
    cr_assert_eq(bs.rx[0], 4);
    cr_assert_eq(bs.fwd[0], 4);
    cr_assert_eq(bs.fwd[1], 1);
    bridge_finish(b, d1);
}

Test(mos_flow, a_drop_verdict_keeps_the_frame_from_the_other_port, .init = setup)
{
    struct seen s = { .drop_port = 1 };
    struct netdev *d0, *d1;
    struct mon_bridge *b = mk_bridge(&s, false, &d0, &d1);

    via(b, d0, frame_of(MON_SIDE_CLI, CISN, 0, SYN, NULL, 0));
    via(b, d1, frame_of(MON_SIDE_SVR, SISN, CISN + 1, SYN | ACK, NULL, 0));
    cr_assert_eq(netdev_fake_tx_count(d1), 1);
    cr_assert_eq(netdev_fake_tx_count(d0), 0, "the SYN/ACK was dropped");
    struct mon_bridge_stats bs;
    mon_bridge_stats(b, &bs);
    cr_assert_eq(bs.dropped[1], 1);
    bridge_finish(b, d1);
}

Test(mos_flow, a_verdict_may_rewrite_the_frame_in_place, .init = setup)
{
    struct seen s = { .drop_port = 2, .rewrite = 0xee };
    struct netdev *d0, *d1;
    struct mon_bridge *b = mk_bridge(&s, false, &d0, &d1);
    uint8_t buf[10] = { 0 }, out[256];

    via(b, d0, frame_of(MON_SIDE_CLI, CISN, 0, SYN, NULL, 0));
    via(b, d0, frame_of(MON_SIDE_CLI, CISN + 1, 0, ACK, buf, sizeof(buf)));
    rte_pktmbuf_free(netdev_fake_take_tx(d1));
    struct rte_mbuf *m = netdev_fake_take_tx(d1);
    size_t n = st_bytes(m, out, sizeof(out));
    cr_assert_eq(out[n - 1], 0xee);
    rte_pktmbuf_free(m);
    bridge_finish(b, d1);
}

Test(mos_flow, passive_frees_what_it_saw_and_a_reset_flow_is_released, .init = setup)
{
    struct seen s = { .drop_port = 0 }; /* ignored when passive */
    struct netdev *d0, *d1;
    struct mon_bridge *b = mk_bridge(&s, true, &d0, &d1);

    via(b, d0, frame_of(MON_SIDE_CLI, CISN, 0, SYN, NULL, 0));
    via(b, d0, frame_of(MON_SIDE_SVR, SISN, 0, RST, NULL, 0));
    cr_assert_eq(s.ends, 1);
    cr_assert_eq(mon_count(tab), 0, "released after its CONN_END verdict");
    cr_assert_eq(netdev_fake_tx_count(d0), 0);
    bridge_finish(b, NULL);
}

Test(mos_flow, idle_flows_time_out_through_the_verdict, .init = setup)
{
    struct seen s = { .drop_port = 2 };
    struct netdev *d0, *d1;
    struct mon_bridge *b = mk_bridge(&s, true, &d0, &d1);

    via(b, d0, frame_of(MON_SIDE_CLI, CISN, 0, SYN, NULL, 0)); /* the first poll also ran expiry */
    now += 50 * ST_NS_PER_MS;
    mon_bridge_poll(b, now); /* not due yet: 100 ms between runs */
    cr_assert_eq(s.timeouts, 0);
    now += 60 * ST_NS_PER_MS;
    mon_bridge_poll(b, now);
    cr_assert_eq(s.timeouts, 1);
    cr_assert(s.events & MON_EV_TIMEOUT);
    cr_assert_eq(mon_count(tab), 0);
    bridge_finish(b, NULL);
}

/* A client reusing its port (after TIME-WAIT, or one the monitor did not
 * see end) sends a SYN with a new ISN: the old flow ends, a new one starts;
 * the same ISN again is a retransmission of the new SYN. */
Test(mos_flow, a_syn_with_a_new_isn_on_a_tracked_tuple_replaces_the_flow, .init = setup)
{
    struct seen s = { .drop_port = 2 };
    struct netdev *d0, *d1;
    struct mon_bridge *b = mk_bridge(&s, false, &d0, &d1);
    struct mon_pkt p;
    uint8_t req[10];

    fill(req, 0, sizeof(req), MON_SIDE_CLI);
    via(b, d0, frame_of(MON_SIDE_CLI, CISN, 0, SYN, NULL, 0));
    via(b, d1, frame_of(MON_SIDE_SVR, SISN, CISN + 1, SYN | ACK, NULL, 0));
    via(b, d0, frame_of(MON_SIDE_CLI, CISN + 1, SISN + 1, ACK | PSH, req, sizeof(req)));
    cr_assert_eq(mon_count(tab), 1);
    cr_assert_eq(s.ends, 0);
    /* no FIN seen: the old flow is still open when the port comes back */
    via(b, d0, frame_of(MON_SIDE_CLI, CISN + 100000, 0, SYN, NULL, 0));
    cr_assert_eq(s.ends, 1, "the old flow's CONN_END, with no frame");
    cr_assert_eq(s.frames, 4, "the SYN itself");
    cr_assert(s.events & MON_EV_CONN_START);
    cr_assert_eq(mon_count(tab), 1, "the old flow released, the new one tracked");
    cr_assert_eq(netdev_fake_tx_count(d1), 3, "every client frame forwarded");
    /* the new flow starts from the new ISN, with no bytes */
    p = feed(MON_SIDE_CLI, CISN + 100000, 0, SYN, NULL, 0);
    cr_assert_not_null(p.flow);
    cr_assert_null(p.ended, "the same ISN: a retransmitted SYN");
    cr_assert(p.events & MON_EV_REXMIT);
    struct mon_side_info i = info(p.flow, MON_SIDE_SVR);
    cr_assert_eq(i.init_seq, CISN + 100001);
    cr_assert_eq(i.bytes, 0);
    cr_assert_eq(i.state, MON_TCPS_LISTEN);
    bridge_finish(b, d1);
}

/* Both ends send a SYN without ACK (simultaneous open, RFC 9293 §3.5
 * figure 8): the second is no new connection. */
Test(mos_flow, a_simultaneous_open_stays_one_flow, .init = setup)
{
    mk_table(4096, 8);
    struct mon_pkt p = feed(MON_SIDE_CLI, CISN, 0, SYN, NULL, 0);
    struct mon_pkt q = feed(MON_SIDE_SVR, SISN, 0, SYN, NULL, 0);
    cr_assert_eq(q.flow, p.flow);
    cr_assert_null(q.ended);
    cr_assert_eq(info(p.flow, MON_SIDE_CLI).init_seq, SISN + 1);
    cr_assert_eq(mon_count(tab), 1);
    finish();
}

/* MOS_FRAGINFO's ranges: unread bytes split at a hole, then held segments
 * (adjacent ones merged), counted past max. */
Test(mos_flow, frags_are_the_unread_ranges_then_the_held_segments, .init = setup)
{
    struct mon_frag v[8];
    uint64_t gap;
    uint8_t b[512];

    mk_table(64 * 1024, 8);
    struct mon_flow *f = handshake(CISN, SISN);
    cr_assert_eq(mon_frags(f, MON_SIDE_SVR, v, 8), 0, "nothing yet");
    data(MON_SIDE_CLI, CISN, 0, 100, SISN + 1, 0);
    /* [100, 200) lost, [200, 300) held then passed by the server's ACK */
    data(MON_SIDE_CLI, CISN, 200, 100, SISN + 1, 0);
    feed(MON_SIDE_SVR, SISN + 1, CISN + 301, ACK, NULL, 0);
    /* held out of order: [400, 450) and [450, 500) touch, [600, 610) not */
    data(MON_SIDE_CLI, CISN, 400, 50, SISN + 1, 0);
    data(MON_SIDE_CLI, CISN, 450, 50, SISN + 1, 0);
    data(MON_SIDE_CLI, CISN, 600, 10, SISN + 1, 0);
    cr_assert_eq(mon_frags(f, MON_SIDE_SVR, v, 8), 4);
    cr_assert_eq(v[0].off, 0);
    cr_assert_eq(v[0].len, 100);
    cr_assert_eq(v[1].off, 200, "after the hole");
    cr_assert_eq(v[1].len, 100);
    cr_assert_eq(v[2].off, 400);
    cr_assert_eq(v[2].len, 100, "two held segments merged");
    cr_assert_eq(v[3].off, 600);
    cr_assert_eq(v[3].len, 10);
    memset(v, 0xab, sizeof(v));
    cr_assert_eq(mon_frags(f, MON_SIDE_SVR, v, 2), 4, "all counted");
    cr_assert_eq(v[1].off, 200);
    cr_assert_eq(v[2].len, 0xabababab, "only max written");
    /* reading moves the first range */
    cr_assert_eq(mon_peek(f, MON_SIDE_SVR, b, 60, &gap), 60);
    cr_assert_eq(mon_frags(f, MON_SIDE_SVR, v, 8), 4);
    cr_assert_eq(v[0].off, 60);
    cr_assert_eq(v[0].len, 40);
    cr_assert_eq(mon_frags(f, MON_SIDE_CLI, v, 8), 0, "the server sent nothing");
    cr_assert_eq(mon_frags(f, 2, v, 8), -EINVAL);
    cr_assert_eq(mon_frags(f, MON_SIDE_SVR, NULL, 1), -EINVAL);
    cr_assert_eq(mon_frags(f, MON_SIDE_SVR, NULL, 0), 4, "count only");
    finish();
}

/* mtcp_reset_conn's facts: each side's Ethernet addresses from its first
 * frame, and its RCV.NXT past a FIN. */
Test(mos_flow, macs_and_next_seq_per_side, .init = setup)
{
    uint8_t own[6], to[6];

    mk_table(4096, 8);
    struct mon_pkt p = feed(MON_SIDE_CLI, CISN, 0, SYN, NULL, 0);
    struct mon_flow *f = p.flow;
    cr_assert_eq(mon_flow_macs(f, MON_SIDE_SVR, own, to), -ENOENT, "the server sent nothing yet");
    cr_assert_eq(mon_flow_macs(f, 2, own, to), -EINVAL);
    cr_assert_eq(mon_flow_macs(f, MON_SIDE_CLI, own, to), 0);
    cr_assert_arr_eq(own, &st_peer_mac, 6, "st_ipv4 frames: from the peer's address");
    cr_assert_arr_eq(to, &st_us_mac, 6);
    feed(MON_SIDE_SVR, SISN, CISN + 1, SYN | ACK, NULL, 0);
    cr_assert_eq(mon_flow_macs(f, MON_SIDE_SVR, own, to), 0);
    data(MON_SIDE_CLI, CISN, 0, 10, SISN + 1, FIN);
    cr_assert_eq(info(f, MON_SIDE_SVR).next_seq, CISN + 1 + 10 + 1, "past the FIN");
    cr_assert_eq(info(f, MON_SIDE_SVR).next_off, 10, "bytes only");
    cr_assert_eq(info(f, MON_SIDE_CLI).next_seq, SISN + 1);
    finish();
}
