/*
 * test_tcp_input.c - one stack, crafted segments from the peer, the exact
 * segments it answers with: RFC 9293 §3.10.7 per state, RFC 5961
 * challenge ACKs, RFC 7323 PAWS, and every malformed input the issue
 * lists (each dropped or answered, counted, and never a wrong byte).
 */
#include <criterion/criterion.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "harness.h"
#include "tcp_harness.h"
#include "tcp_options.h"

#define MS ST_NS_PER_MS
#define SYN RTE_TCP_SYN_FLAG
#define ACK RTE_TCP_ACK_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG
#define URG RTE_TCP_URG_FLAG

#define PEER_PORT 40000
#define OUR_PORT 80
#define PEER_ISN 1000u

struct fx {
    struct stack *s;
    struct netdev *dev;
    unsigned pool;
    struct tcp_conn *l, *c;
    uint64_t now;
    uint32_t iss;      /* ours */
    uint32_t snd;      /* the peer's next sequence number */
    uint8_t frame[2048];
};

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->s = st_create_with_peer(&f->dev);
    f->pool = t_pool_avail();
    f->now = 1000 * MS;
    cr_assert_eq(tcp_open(f->s, NULL, NULL, &f->l), 0);
    cr_assert_eq(tcp_bind(f->l, 0, RTE_BE16(OUR_PORT)), 0);
    cr_assert_eq(tcp_listen(f->l, 8), 0);
}

static void fx_send(struct fx *f, const struct st_tcp_seg *sg)
{
    size_t n = st_tcp(f->frame, sg);
    st_inject(f->s, f->dev, f->frame, n, f->now);
}

static struct st_tcp_seg seg_of(struct fx *f, uint8_t flags)
{
    struct st_tcp_seg sg = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = f->snd, .ack = f->iss + 1,
                            .flags = flags, .wnd = 65535};
    return sg;
}

/* Takes the next frame the stack sent, as a TCP segment; its payload goes
 * to data (cap bytes) when data is not NULL. */
static struct st_tcp_seg fx_take(struct fx *f)
{
    struct st_tcp_seg out;
    static uint8_t buf[2048];
    size_t n = st_take(f->dev, buf, sizeof(buf));

    st_tcp_parse(buf, n, &out);
    return out;
}

static const uint8_t mss_opt[] = {2, 4, 0x05, 0xb4}; /* MSS 1460 */

/* SYN in, SYN-ACK out, ACK in: an established, accepted connection
 * without timestamps, SACK or window scale. */
static void fx_establish(struct fx *f)
{
    struct st_tcp_seg syn = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = PEER_ISN, .flags = SYN, .wnd = 65535,
                             .opts = mss_opt, .optlen = sizeof(mss_opt)};
    fx_send(f, &syn);
    struct st_tcp_seg sa = fx_take(f);
    cr_assert_eq(sa.flags, SYN | ACK);
    cr_assert_eq(sa.ack, PEER_ISN + 1);
    f->iss = sa.seq;
    f->snd = PEER_ISN + 1;
    struct st_tcp_seg ack = seg_of(f, ACK);
    fx_send(f, &ack);
    st_expect_no_tx(f->dev);
    cr_assert_eq(tcp_accept(f->l, &f->c), 0);
    cr_assert_eq(tcp_conn_state(f->c), TCPS_ESTABLISHED);
}

static void fx_finish(struct fx *f)
{
    st_close_and_finish(f->s, f->dev, f->pool, f->now, f->c, f->l);
}

#define CTR(f, name) ST_CTR((f)->s, name)

Test(tcp_input, listen_gets_syn_answers_synack_with_options)
{
    struct fx f;
    static const uint8_t opts[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0, 1, 3, 3, 7};

    fx_init(&f);
    struct st_tcp_seg syn = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = PEER_ISN, .flags = SYN, .wnd = 65535,
                             .opts = opts, .optlen = sizeof(opts)};
    fx_send(&f, &syn);
    struct st_tcp_seg sa = fx_take(&f);
    cr_assert_eq(sa.flags, SYN | ACK);
    cr_assert_eq(sa.ack, PEER_ISN + 1);
    cr_assert_eq(sa.sport, OUR_PORT);
    cr_assert_eq(sa.dport, PEER_PORT);
    struct tcp_opts o;
    cr_assert_eq(tcp_opts_parse(sa.opts, sa.optlen, true, &o), 0);
    cr_assert_eq(o.present & (TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_SACK_PERM | TCP_OPT_TS),
                 TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_SACK_PERM | TCP_OPT_TS);
    cr_assert_eq(o.mss, 1460);
    cr_assert_eq(o.ts_ecr, 7, "echoes the SYN's TSval");
    cr_assert_eq(sa.wnd, 65535, "a SYN's window is not scaled and at most 65535");
    st_expect_no_tx(f.dev);
    fx_finish(&f);
}

Test(tcp_input, closed_port_answers_syn_with_rst_ack)
{
    struct fx f;

    fx_init(&f);
    struct st_tcp_seg syn = {.sport = PEER_PORT, .dport = 81, .seq = 5000, .flags = SYN, .wnd = 100};
    fx_send(&f, &syn);
    struct st_tcp_seg r = fx_take(&f);
    cr_assert_eq(r.flags, RST | ACK);
    cr_assert_eq(r.seq, 0);
    cr_assert_eq(r.ack, 5001);
    cr_assert_eq(CTR(&f, tcp_drop_no_conn), 1);
    fx_finish(&f);
}

Test(tcp_input, closed_port_answers_ack_with_rst_at_its_ack)
{
    struct fx f;

    fx_init(&f);
    struct st_tcp_seg a = {.sport = PEER_PORT, .dport = 81, .seq = 5000, .ack = 777, .flags = ACK, .wnd = 100};
    fx_send(&f, &a);
    struct st_tcp_seg r = fx_take(&f);
    cr_assert_eq(r.flags, RST);
    cr_assert_eq(r.seq, 777);
    fx_finish(&f);
}

Test(tcp_input, rst_to_closed_port_is_never_answered)
{
    struct fx f;

    fx_init(&f);
    struct st_tcp_seg a = {.sport = PEER_PORT, .dport = 81, .seq = 5000, .flags = RST};
    fx_send(&f, &a);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_drop_no_conn), 1);
    fx_finish(&f);
}

Test(tcp_input, listener_answers_a_stray_ack_with_rst)
{
    struct fx f;

    fx_init(&f);
    struct st_tcp_seg a = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = 5000, .ack = 4242, .flags = ACK};
    fx_send(&f, &a);
    struct st_tcp_seg r = fx_take(&f);
    cr_assert_eq(r.flags, RST);
    cr_assert_eq(r.seq, 4242);
    fx_finish(&f);
}

static void expect_dropped_silently(uint8_t flags, size_t counter_off)
{
    struct fx f;

    fx_init(&f);
    struct st_tcp_seg s = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = 5000, .ack = 1, .flags = flags};
    fx_send(&f, &s);
    st_expect_no_tx(f.dev);
    cr_assert_eq(st_counter(f.s, counter_off), 1);
    cr_assert_eq(tcp_accept(f.l, &f.c), -EAGAIN);
    f.c = NULL;
    fx_finish(&f);
}

Test(tcp_input, syn_fin_is_dropped)
{
    expect_dropped_silently(SYN | FIN, offsetof(struct stack_counters, tcp_drop_bad_flags));
}

Test(tcp_input, syn_rst_is_dropped)
{
    expect_dropped_silently(SYN | RST, offsetof(struct stack_counters, tcp_drop_bad_flags));
}

Test(tcp_input, all_flags_are_dropped)
{
    expect_dropped_silently(0xff, offsetof(struct stack_counters, tcp_drop_bad_flags));
}

Test(tcp_input, no_flags_at_a_listener_is_dropped)
{
    expect_dropped_silently(0, offsetof(struct stack_counters, tcp_drop_listen));
}

Test(tcp_input, data_offset_below_five_is_malformed)
{
    struct fx f;

    fx_init(&f);
    struct st_tcp_seg s = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = 1, .flags = SYN, .data_off = 4};
    fx_send(&f, &s);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_drop_malformed), 1);
    fx_finish(&f);
}

Test(tcp_input, data_offset_past_the_segment_is_malformed)
{
    struct fx f;

    fx_init(&f);
    struct st_tcp_seg s = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = 1, .flags = SYN, .data_off = 15};
    fx_send(&f, &s);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_drop_malformed), 1);
    fx_finish(&f);
}

Test(tcp_input, option_of_length_zero_is_dropped)
{
    struct fx f;
    static const uint8_t bad[] = {2, 0, 0, 0};

    fx_init(&f);
    struct st_tcp_seg s = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = 1, .flags = SYN, .opts = bad,
                           .optlen = sizeof(bad)};
    fx_send(&f, &s);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_drop_bad_options), 1);
    fx_finish(&f);
}

Test(tcp_input, option_running_past_the_header_is_dropped)
{
    struct fx f;
    static const uint8_t bad[] = {1, 1, 8, 10};

    fx_init(&f);
    struct st_tcp_seg s = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = 1, .flags = SYN, .opts = bad,
                           .optlen = sizeof(bad)};
    fx_send(&f, &s);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_drop_bad_options), 1);
    fx_finish(&f);
}

Test(tcp_input, bad_checksum_is_dropped)
{
    struct fx f;

    fx_init(&f);
    struct st_tcp_seg s = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = 1, .flags = SYN};
    size_t n = st_tcp(f.frame, &s);
    f.frame[n - 1] ^= 0x40; /* the urgent pointer's low byte */
    st_inject(f.s, f.dev, f.frame, n, f.now);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_drop_checksum), 1);
    fx_finish(&f);
}

Test(tcp_input, established_delivers_in_order_data_and_delays_the_ack)
{
    struct fx f;
    uint8_t got[64];

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg d = seg_of(&f, ACK | PSH);
    d.data = "hello";
    d.len = 5;
    fx_send(&f, &d);
    st_expect_no_tx(f.dev); /* one small segment: the ACK waits (RFC 9293 §3.8.6.3) */
    struct rte_mbuf *m = tcp_recv(f.c, 64, f.now);
    cr_assert_not_null(m);
    cr_assert_eq(st_bytes(m, got, sizeof(got)), 5);
    cr_assert_eq(memcmp(got, "hello", 5), 0);
    rte_pktmbuf_free(m);
    f.now += 40 * MS;
    st_poll(f.s, f.now);
    struct st_tcp_seg a = fx_take(&f);
    cr_assert_eq(a.flags, ACK);
    cr_assert_eq(a.ack, PEER_ISN + 1 + 5);
    fx_finish(&f);
}

Test(tcp_input, partial_reads_keep_the_rest_in_order)
{
    struct fx f;
    static const char *want[] = {"hell", "o wo", "rld"};

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg d = seg_of(&f, ACK | PSH);
    d.data = "hello world";
    d.len = 11;
    fx_send(&f, &d);
    cr_assert_eq(tcp_recv_avail(f.c), 11);
    for (int i = 0; i < 3; i++) {
        uint8_t got[8];
        struct rte_mbuf *m = tcp_recv(f.c, 4, f.now);
        cr_assert_not_null(m);
        size_t n = st_bytes(m, got, sizeof(got));
        rte_pktmbuf_free(m);
        cr_assert_eq(n, strlen(want[i]));
        cr_assert_eq(memcmp(got, want[i], n), 0, "read %d", i);
    }
    cr_assert_null(tcp_recv(f.c, 4, f.now));
    cr_assert_eq(tcp_recv_avail(f.c), 0);
    fx_finish(&f);
}

Test(tcp_input, out_of_order_data_is_held_and_acked_at_once)
{
    struct fx f;
    uint8_t got[64];

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg late = seg_of(&f, ACK);
    late.seq += 3;
    late.data = "def";
    late.len = 3;
    fx_send(&f, &late);
    struct st_tcp_seg a = fx_take(&f);
    cr_assert_eq(a.ack, PEER_ISN + 1, "a duplicate ACK shows the hole");
    cr_assert_eq(tcp_recv_avail(f.c), 0);
    struct st_tcp_seg first = seg_of(&f, ACK);
    first.data = "abc";
    first.len = 3;
    fx_send(&f, &first);
    a = fx_take(&f);
    cr_assert_eq(a.ack, PEER_ISN + 1 + 6, "filling the hole is ACKed at once");
    cr_assert_eq(tcp_recv_avail(f.c), 6);
    size_t n = 0;
    struct rte_mbuf *m;
    while ((m = tcp_recv(f.c, 64, f.now)) != NULL) {
        n += st_bytes(m, got + n, sizeof(got) - n);
        rte_pktmbuf_free(m);
    }
    cr_assert_eq(n, 6);
    cr_assert_eq(memcmp(got, "abcdef", 6), 0);
    fx_finish(&f);
}

Test(tcp_input, ack_of_unsent_data_is_answered_with_an_ack_and_dropped)
{
    struct fx f;

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg s = seg_of(&f, ACK);
    s.ack = f.iss + 1 + 1000;
    s.data = "zz";
    s.len = 2;
    fx_send(&f, &s);
    struct st_tcp_seg a = fx_take(&f);
    cr_assert_eq(a.flags, ACK);
    cr_assert_eq(a.ack, PEER_ISN + 1, "the data was not taken");
    cr_assert_eq(tcp_recv_avail(f.c), 0);
    cr_assert_eq(CTR(&f, tcp_drop_ack_unsent), 1);
    fx_finish(&f);
}

Test(tcp_input, out_of_window_sequence_is_answered_with_an_ack)
{
    struct fx f;

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg s = seg_of(&f, ACK);
    s.seq += 0x40000000u; /* far beyond the window, across the 2^31 half */
    s.data = "zz";
    s.len = 2;
    fx_send(&f, &s);
    struct st_tcp_seg a = fx_take(&f);
    cr_assert_eq(a.ack, PEER_ISN + 1);
    cr_assert_eq(CTR(&f, tcp_drop_out_of_window), 1);
    cr_assert_eq(tcp_recv_avail(f.c), 0);
    fx_finish(&f);
}

Test(tcp_input, rst_in_window_but_not_exact_gets_a_challenge_ack)
{
    struct fx f;

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg r = seg_of(&f, RST);
    r.seq += 10;
    fx_send(&f, &r);
    struct st_tcp_seg a = fx_take(&f);
    cr_assert_eq(a.flags, ACK);
    cr_assert_eq(a.ack, PEER_ISN + 1);
    cr_assert_eq(tcp_conn_state(f.c), TCPS_ESTABLISHED);
    cr_assert_eq(CTR(&f, tcp_challenge_acks), 1);
    fx_finish(&f);
}

Test(tcp_input, challenge_acks_are_rate_limited)
{
    struct fx f;

    fx_init(&f);
    fx_establish(&f);
    for (int i = 0; i < 30; i++) {
        struct st_tcp_seg r = seg_of(&f, RST);
        r.seq += 10;
        fx_send(&f, &r);
    }
    cr_assert_eq(st_drain_tx(f.dev), 10, "RFC 5961 §7: at most 10 a second");
    f.now += 1001 * MS;
    struct st_tcp_seg r = seg_of(&f, RST);
    r.seq += 10;
    fx_send(&f, &r);
    cr_assert_eq(st_drain_tx(f.dev), 1, "a new second, a new allowance");
    fx_finish(&f);
}

Test(tcp_input, exact_rst_resets_the_connection)
{
    struct fx f;

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg r = seg_of(&f, RST);
    fx_send(&f, &r);
    st_expect_no_tx(f.dev);
    cr_assert_eq(tcp_conn_state(f.c), TCPS_CLOSED);
    cr_assert_eq(tcp_error(f.c), ECONNRESET);
    fx_finish(&f);
}

Test(tcp_input, syn_in_established_gets_a_challenge_ack)
{
    struct fx f;

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg s = seg_of(&f, SYN);
    fx_send(&f, &s);
    struct st_tcp_seg a = fx_take(&f);
    cr_assert_eq(a.flags, ACK);
    cr_assert_eq(a.ack, PEER_ISN + 1);
    cr_assert_eq(tcp_conn_state(f.c), TCPS_ESTABLISHED);
    fx_finish(&f);
}

Test(tcp_input, segment_without_ack_in_established_is_dropped)
{
    struct fx f;

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg s = seg_of(&f, PSH);
    s.data = "x";
    s.len = 1;
    fx_send(&f, &s);
    st_expect_no_tx(f.dev);
    cr_assert_eq(tcp_recv_avail(f.c), 0);
    cr_assert_eq(CTR(&f, tcp_drop_bad_flags), 1);
    fx_finish(&f);
}

Test(tcp_input, urgent_data_is_delivered_in_line)
{
    struct fx f;
    uint8_t got[8];

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg s = seg_of(&f, ACK | URG);
    s.data = "urg";
    s.len = 3;
    s.urp = 60000; /* anywhere: past the data */
    fx_send(&f, &s);
    struct rte_mbuf *m = tcp_recv(f.c, 8, f.now);
    cr_assert_not_null(m);
    cr_assert_eq(st_bytes(m, got, sizeof(got)), 3);
    cr_assert_eq(memcmp(got, "urg", 3), 0);
    rte_pktmbuf_free(m);
    fx_finish(&f);
}

Test(tcp_input, duplicate_data_is_acked_and_not_delivered_twice)
{
    struct fx f;

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg d = seg_of(&f, ACK);
    d.data = "abcd";
    d.len = 4;
    fx_send(&f, &d);
    fx_send(&f, &d); /* the same again: wholly old */
    struct st_tcp_seg a = fx_take(&f);
    cr_assert_eq(a.ack, PEER_ISN + 1 + 4);
    cr_assert_eq(tcp_recv_avail(f.c), 4);
    /* a retransmission overlapping old and new bytes keeps only the new */
    struct st_tcp_seg o = seg_of(&f, ACK);
    o.data = "cdef";
    o.len = 4;
    o.seq = PEER_ISN + 1 + 2;
    fx_send(&f, &o);
    cr_assert_eq(tcp_recv_avail(f.c), 6);
    uint8_t got[16];
    size_t n = 0;
    struct rte_mbuf *m;
    while ((m = tcp_recv(f.c, 16, f.now)) != NULL) {
        n += st_bytes(m, got + n, sizeof(got) - n);
        rte_pktmbuf_free(m);
    }
    cr_assert_eq(n, 6);
    cr_assert_eq(memcmp(got, "abcdef", 6), 0);
    fx_finish(&f);
}

Test(tcp_input, fin_moves_to_close_wait_and_reads_end)
{
    struct fx f;

    fx_init(&f);
    fx_establish(&f);
    struct st_tcp_seg s = seg_of(&f, ACK | FIN);
    fx_send(&f, &s);
    struct st_tcp_seg a = fx_take(&f);
    cr_assert_eq(a.ack, PEER_ISN + 2, "the FIN takes a sequence number");
    cr_assert_eq(tcp_conn_state(f.c), TCPS_CLOSE_WAIT);
    cr_assert(tcp_recv_eof(f.c));
    tcp_close(f.c, f.now);
    f.c = NULL;
    st_poll(f.s, f.now);
    /* our FIN goes out: LAST-ACK */
    a = fx_take(&f);
    cr_assert_eq(a.flags & FIN, FIN);
    fx_finish(&f);
}

Test(tcp_input, bogus_sack_blocks_are_ignored)
{
    struct fx f;
    /* SACK for data never sent, inverted, and below snd_una */
    uint8_t opts[28] = {1, 1, 5, 26};

    fx_init(&f);
    fx_establish(&f);
    uint32_t blocks[6] = {f.iss + 5000, f.iss + 6000, f.iss + 300, f.iss + 200, f.iss - 100, f.iss - 50};
    for (int i = 0; i < 6; i++) {
        uint32_t be = rte_cpu_to_be_32(blocks[i]);
        memcpy(opts + 4 + 4 * i, &be, 4);
    }
    struct st_tcp_seg s = seg_of(&f, ACK);
    s.opts = opts;
    s.optlen = sizeof(opts);
    fx_send(&f, &s);
    st_expect_no_tx(f.dev);
    cr_assert_eq(tcp_conn_state(f.c), TCPS_ESTABLISHED);
    /* data still flows */
    cr_assert_eq(tcp_send(f.c, st_mbuf("ok", 2), f.now), 0);
    struct st_tcp_seg d = fx_take(&f);
    cr_assert_eq(d.len, 2);
    cr_assert_eq(memcmp(d.data, "ok", 2), 0);
    cr_assert_eq(d.seq, f.iss + 1);
    fx_finish(&f);
}
