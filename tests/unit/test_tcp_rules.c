/*
 * test_tcp_rules.c - RFC rules that had no test of their own: keepalive
 * (RFC 9293 §3.8.4), SYN cookies (RFC 4987) and what a SYN flood does to a
 * listener, TIME-WAIT reopened by a new SYN (§3.10.7.4, RFC 6191), the
 * length of TIME-WAIT (2 MSL), and a failed connect next to a TIME-WAIT.
 * (Simultaneous open, the persist timer and more cookie cases fail against
 * the stack today: tests/unit/pending_tcp_rules.c, not built, has them.)
 * Two stacks on a tapped link (tcp_tap.h) where the rule is about both
 * ends, one stack and crafted segments where it is about exact answers.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "harness.h"
#include "tcp_conn.h"
#include "tcp_options.h"
#include "tcp_syncookie.h"
#include "tcp_tap.h"

/* tcp(7) option numbers: neither netinet/tcp.h (its state enum) nor
 * linux/tcp.h (TCP_MSS_DEFAULT) can be included next to the stack's headers */
#ifndef TCP_KEEPIDLE
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#endif

#define MS ST_NS_PER_MS
#define SEC (1000 * MS)
#define A_IP RTE_BE32(0x0a000002)
#define B_IP RTE_BE32(0x0a000001)
#define SYN RTE_TCP_SYN_FLAG
#define ACK RTE_TCP_ACK_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG

/* ---- shared helpers ---- */

static uint64_t ctr_at(const struct stack *s, size_t off)
{
    struct stack_counters c;

    stack_counters(s, &c);
    return *(const uint64_t *)((const char *)&c + off);
}
#define CTR(s, name) ctr_at((s), offsetof(struct stack_counters, name))

/* The options of a parsed segment (asserting they parse). */
static struct tcp_opts opts_of(const struct st_tcp_seg *sg)
{
    struct tcp_opts o;

    cr_assert_eq(tcp_opts_parse(sg->opts, sg->optlen, (sg->flags & SYN) != 0, &o), 0, "options do not parse");
    return o;
}

static enum tcp_state g_want;
static struct tcp_conn *g_watch;
static bool reached(void *ctx)
{
    (void)ctx;
    return tcp_conn_state(g_watch) == g_want;
}

/* Runs the pair until c is in state st (1 ms steps). */
static void wait_state(struct tcp_pair *p, struct tcp_conn *c, enum tcp_state st, uint64_t max_ns)
{
    g_watch = c;
    g_want = st;
    cr_assert(tp_run_until(p, reached, NULL, max_ns), "state %s, want %s", tcp_state_name(tcp_conn_state(c)),
              tcp_state_name(st));
}

/* Runs the pair until the virtual clock reads t (1 ms steps). */
static void run_to(struct tcp_pair *p, uint64_t t)
{
    cr_assert_geq(t, p->now);
    tp_run(p, t - p->now);
}

/* ---- 3. keepalive (RFC 9293 §3.8.4; tcp(7) TCP_KEEPIDLE/INTVL/CNT) ---- */

static void set_int(struct tcp_conn *c, int level, int name, int v)
{
    cr_assert_eq(tcp_setsockopt(c, level, name, &v, sizeof(v)), 0);
}

/* The next A->B keepalive probe from *cursor: ACK only, no data, seq =
 * SND.NXT - 1 (the last byte the peer already has). */
static uint64_t expect_probe(struct tcp_tap *tap, size_t *cursor, uint32_t snd_nxt)
{
    struct st_tcp_seg sg;
    uint64_t ns;

    cr_assert(tt_next(tap, cursor, true, &sg, &ns), "no keepalive probe");
    cr_assert_eq(sg.flags, ACK, "probe flags %#x", sg.flags);
    cr_assert_eq(sg.seq, snd_nxt - 1, "probe seq %u, want SND.NXT-1 = %u", sg.seq, snd_nxt - 1);
    cr_assert_leq(sg.len, 1, "no data, or one garbage byte");
    return ns;
}

Test(tcp_rules, keepalive_probes_answered_keep_and_unanswered_time_out)
{
    struct tcp_pair p;
    struct tcp_tap *tap;
    struct tcp_conn *cli, *srv, *lst;

    tt_create(&p, &tap, NULL);
    tp_connect(&p, &cli, &srv, &lst);
    set_int(cli, IPPROTO_TCP, TCP_KEEPIDLE, 10);
    set_int(cli, IPPROTO_TCP, TCP_KEEPINTVL, 2);
    set_int(cli, IPPROTO_TCP, TCP_KEEPCNT, 3);
    set_int(cli, SOL_SOCKET, SO_KEEPALIVE, 1);
    uint64_t t0 = p.now;
    size_t cur = tt_count(tap);
    uint32_t snd_nxt = cli->sv.snd_nxt;

    /* idle 10 s: a probe; B answers it; 10 s later the next one */
    run_to(&p, t0 + 10 * SEC - MS);
    cr_assert_eq(tt_count(tap), cur, "nothing before TCP_KEEPIDLE");
    run_to(&p, t0 + 10 * SEC);
    cr_assert_eq(expect_probe(tap, &cur, snd_nxt), t0 + 10 * SEC);
    struct st_tcp_seg ans;
    cr_assert(tt_next(tap, &cur, false, &ans, NULL), "B did not answer the probe");
    cr_assert_eq(ans.flags, ACK);
    cr_assert_eq(ans.ack, snd_nxt, "the answer ACKs RCV.NXT");
    run_to(&p, t0 + 20 * SEC);
    cr_assert_eq(expect_probe(tap, &cur, snd_nxt), t0 + 20 * SEC);
    cr_assert(tt_next(tap, &cur, false, &ans, NULL), "B did not answer the second probe");
    cr_assert_eq(tcp_conn_state(cli), TCP_ESTABLISHED);

    /* the peer vanishes: probes every TCP_KEEPINTVL, then ETIMEDOUT after
     * TCP_KEEPCNT unanswered ones */
    tt_drop(tap, true, true);
    run_to(&p, t0 + 30 * SEC);
    cr_assert_eq(expect_probe(tap, &cur, snd_nxt), t0 + 30 * SEC);
    run_to(&p, t0 + 34 * SEC);
    cr_assert_eq(expect_probe(tap, &cur, snd_nxt), t0 + 32 * SEC);
    cr_assert_eq(expect_probe(tap, &cur, snd_nxt), t0 + 34 * SEC);
    run_to(&p, t0 + 36 * SEC - MS);
    cr_assert_eq(tcp_conn_state(cli), TCP_ESTABLISHED, "three probes unanswered, the fourth interval not over");
    run_to(&p, t0 + 36 * SEC);
    cr_assert_eq(tcp_conn_state(cli), TCP_CLOSED);
    cr_assert_eq(tcp_error(cli), ETIMEDOUT);
    cr_assert_eq(CTR(p.a, tcp_conns_timedout), 1);
    cr_assert_eq(tcp_send(cli, st_mbuf("x", 1), p.now), -ETIMEDOUT, "the next operation fails ETIMEDOUT");
    tcp_close(cli, p.now);
    tcp_close(srv, p.now);
    tcp_close(lst, p.now);
    tp_run(&p, 10 * MS);
    tp_finish(&p);
}

/* ---- 6. TIME-WAIT lasts 2 MSL (RFC 9293 §3.10.8; tcp.msl_ms) ---- */

/* cli closes first and B's FIN follows; returns when B's FIN passed the
 * tap (the time TIME-WAIT starts). */
static uint64_t enter_time_wait(struct tcp_pair *p, struct tcp_tap *tap, struct tcp_conn *cli, struct tcp_conn *srv)
{
    struct st_tcp_seg sg;
    uint64_t ns = 0, fin_ns = 0;
    size_t cur = tt_count(tap);

    cr_assert_eq(tcp_shutdown(cli, false, true, p->now), 0);
    wait_state(p, srv, TCP_CLOSE_WAIT, 1000 * MS);
    tcp_close(srv, p->now);
    wait_state(p, cli, TCP_TIME_WAIT, 1000 * MS);
    while (tt_next(tap, &cur, false, &sg, &ns))
        if (sg.flags & FIN)
            fin_ns = ns;
    cr_assert_neq(fin_ns, 0, "no FIN from B");
    return fin_ns;
}

/* A new socket on A bound (SO_REUSEADDR) to port and connecting to B:80:
 * tcp_connect's result; the socket is closed unless it connected. */
static int reconnect_from(struct tcp_pair *p, rte_be16_t port, struct tcp_conn **out)
{
    struct tcp_conn *c;
    int one = 1, rc;

    cr_assert_eq(tcp_open(p->a, NULL, NULL, &c), 0);
    cr_assert_eq(tcp_setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    cr_assert_eq(tcp_bind(c, 0, port), 0, "a TIME-WAIT port takes an SO_REUSEADDR bind");
    rc = tcp_connect(c, B_IP, RTE_BE16(80), p->now);
    if (rc != 0)
        tcp_close(c, p->now);
    else
        *out = c;
    return rc;
}

Test(tcp_rules, time_wait_ends_exactly_after_2msl_and_frees_the_4tuple)
{
    struct tcp_pair p;
    struct tcp_tap *tap;
    struct tcp_conn *cli, *srv, *lst, *again, *srv2;
    struct stack_params sp;
    rte_be32_t addr;
    rte_be16_t port;

    stack_params_defaults(&sp);
    sp.tcp.msl_ns = 250 * MS;
    tt_create(&p, &tap, &sp);
    tp_connect(&p, &cli, &srv, &lst);
    tcp_local(cli, &addr, &port);
    uint64_t t_tw = enter_time_wait(&p, tap, cli, srv);

    run_to(&p, t_tw + 500 * MS - MS);
    cr_assert_eq(tcp_conn_state(cli), TCP_TIME_WAIT, "1 ms before 2 MSL: still TIME-WAIT");
    cr_assert_eq(reconnect_from(&p, port, &again), -EADDRINUSE, "the 4-tuple is held");
    run_to(&p, t_tw + 500 * MS);
    cr_assert_eq(tcp_conn_state(cli), TCP_CLOSED, "2 MSL after B's FIN: gone");
    cr_assert_eq(tcp_error(cli), 0);
    cr_assert_eq(reconnect_from(&p, port, &again), 0, "the 4-tuple is free again");
    wait_state(&p, again, TCP_ESTABLISHED, 1000 * MS);
    tp_run(&p, MS);
    cr_assert_eq(tcp_accept(lst, &srv2), 0);
    tcp_close(cli, p.now);
    tcp_close(again, p.now);
    tcp_close(srv2, p.now);
    tcp_close(lst, p.now);
    tp_run(&p, 1200 * MS);
    tp_finish(&p);
}

/* The engine's clock is in ns, not whole ms: with the stacks polled every
 * 0.25 ms and B's FIN arriving half-way through a ms, TIME-WAIT still ends
 * 2 MSL after the FIN, within the wheel's 1 ms tick (before 27ae228 a
 * deadline inside a tick waited a whole wheel revolution, 1.024 s: the
 * Linux run's "EADDRINUSE 1.0 s after close with tcp.msl_ms 250"). */
Test(tcp_rules, time_wait_ends_at_2msl_with_a_sub_ms_clock)
{
    struct tcp_pair p;
    struct tcp_tap *tap;
    struct tcp_conn *cli, *srv, *lst;
    struct stack_params sp;
    struct st_tcp_seg sg;
    const uint64_t step = MS / 4;
    uint64_t ns, fin_ns = 0;

    stack_params_defaults(&sp);
    sp.tcp.msl_ns = 250 * MS;
    tt_create(&p, &tap, &sp);
    tp_connect(&p, &cli, &srv, &lst);
    p.now += MS / 2; /* from here on the clock is half a ms off the ticks */
    cr_assert_eq(tcp_shutdown(cli, false, true, p.now), 0);
    tt_run_steps(&p, 5 * MS, step);
    cr_assert_eq(tcp_conn_state(srv), TCP_CLOSE_WAIT);
    size_t cur = tt_count(tap);
    tcp_close(srv, p.now);
    tt_run_steps(&p, step, step);
    cr_assert_eq(tcp_conn_state(cli), TCP_TIME_WAIT);
    while (tt_next(tap, &cur, false, &sg, &ns))
        if (sg.flags & FIN)
            fin_ns = ns;
    cr_assert_neq(fin_ns % MS, 0, "the FIN should arrive inside a tick");
    tt_run_steps(&p, fin_ns + 500 * MS - step - p.now, step);
    cr_assert_eq(tcp_conn_state(cli), TCP_TIME_WAIT, "before 2 MSL");
    tt_run_steps(&p, MS + step, step);
    cr_assert_eq(tcp_conn_state(cli), TCP_CLOSED, "TIME-WAIT outlived 2 MSL + one 1 ms tick (%llu us after the FIN)",
                 (unsigned long long)((p.now - fin_ns) / 1000));
    tcp_close(cli, p.now);
    tcp_close(lst, p.now);
    tt_run_steps(&p, 10 * MS, MS);
    tp_finish(&p);
}

/* ---- one stack, crafted segments (us 10.0.0.2, the peer 10.0.0.1) ---- */

struct rig {
    struct stack *s;
    struct netdev *dev;
    unsigned pool;
    uint64_t now;
    uint8_t frame[2048];
    uint8_t rx[2048]; /* the last frame taken */
};

/* A stack with the peer (and gateway) 10.0.0.1 in static ARP, so answers
 * to spoofed sources off the subnet leave at once. */
static void rig_init(struct rig *r)
{
    struct stack_params p;

    memset(r, 0, sizeof(*r));
    stack_params_defaults(&p);
    p.gateway = ST_PEER_IP;
    p.arp_nstatic = 1;
    p.arp_static[0].addr = ST_PEER_IP;
    p.arp_static[0].mac = st_peer_mac;
    r->s = st_create(&p, &r->dev);
    r->pool = t_pool_avail();
    r->now = 1000 * MS;
}

static void rig_send_from(struct rig *r, rte_be32_t src, const struct st_tcp_seg *sg)
{
    size_t n = st_tcp_from(r->frame, src, sg);
    st_inject(r->s, r->dev, r->frame, n, r->now);
}

static void rig_send(struct rig *r, const struct st_tcp_seg *sg)
{
    rig_send_from(r, ST_PEER_IP, sg);
}

/* The next frame the stack sent, parsed (valid until the next take). */
static struct st_tcp_seg rig_take(struct rig *r)
{
    struct st_tcp_seg sg;
    size_t n = st_take(r->dev, r->rx, sizeof(r->rx));

    st_tcp_parse(r->rx, n, &sg);
    return sg;
}

static void rig_finish(struct rig *r)
{
    st_poll(r->s, r->now);
    st_finish(r->s, r->dev, r->pool);
}

/* Option bytes for o (SYN or not) into buf; returns their length. */
static size_t build_opts(const struct tcp_opts *o, bool syn, uint8_t *buf)
{
    int n = tcp_opts_build(o, syn, buf, TCP_OPT_MAX_LEN);

    cr_assert_geq(n, 0);
    return (size_t)n;
}

static struct tcp_conn *rig_listen(struct rig *r, uint16_t port, int backlog)
{
    struct tcp_conn *l;

    cr_assert_eq(tcp_open(r->s, NULL, NULL, &l), 0);
    cr_assert_eq(tcp_bind(l, 0, rte_cpu_to_be_16(port)), 0);
    cr_assert_eq(tcp_listen(l, backlog), 0);
    return l;
}

/* A bare SYN (no options) from src:sport with sequence number isn. */
static void spoofed_syn(struct rig *r, rte_be32_t src, uint16_t sport, uint32_t isn)
{
    struct st_tcp_seg syn = {.sport = sport, .dport = 80, .seq = isn, .flags = SYN, .wnd = 65535};
    rig_send_from(r, src, &syn);
}

/* Source address k of a block no host answers for (TEST-NET-2). */
static rte_be32_t spoof_addr(unsigned k)
{
    return rte_cpu_to_be_32(0xc6336400u + 1 + k % 200); /* 198.51.100.1 .. */
}

/* ---- 4. SYN cookies (RFC 4987 §3.6) ---- */

Test(tcp_rules, syn_cookie_from_a_full_syn_queue_makes_a_working_connection)
{
    struct rig r;
    struct tcp_conn *l, *c;
    const struct tcp_params *tp;

    rig_init(&r);
    tp = &r.s->tcp->p;
    cr_assert(tp->syncookies);
    l = rig_listen(&r, 80, 4);
    /* four half-open connections from spoofed sources fill the SYN queue */
    for (unsigned i = 0; i < 4; i++) {
        spoofed_syn(&r, spoof_addr(i), (uint16_t)(1000 + i), 5000 * i);
        struct st_tcp_seg sa = rig_take(&r);
        cr_assert_eq(sa.flags, SYN | ACK);
        cr_assert_eq(sa.dport, 1000 + i);
    }
    cr_assert_eq(CTR(r.s, tcp_syncookies_sent), 0, "no cookie while the SYN queue has room");
    cr_assert_eq(tcp_conn_count(r.s), 5);

    /* the next SYN is answered with a cookie; nothing is kept */
    struct tcp_opts so = {.present = TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_SACK_PERM | TCP_OPT_TS,
                          .mss = 1460, .wscale = 7, .ts_val = 100};
    uint8_t ob[TCP_OPT_MAX_LEN];
    struct st_tcp_seg syn = {.sport = 40000, .dport = 80, .seq = 1000, .flags = SYN, .wnd = 65535, .opts = ob,
                             .optlen = build_opts(&so, true, ob)};
    rig_send(&r, &syn);
    struct st_tcp_seg sa = rig_take(&r);
    st_expect_no_tx(r.dev);
    cr_assert_eq(sa.flags, SYN | ACK);
    cr_assert_eq(sa.ack, 1001);
    cr_assert_eq(sa.wnd, 65535);
    cr_assert_eq(CTR(r.s, tcp_syncookies_sent), 1);
    cr_assert_eq(tcp_conn_count(r.s), 5, "a cookie keeps no state");
    struct tcp_opts o = opts_of(&sa);
    cr_assert_eq(o.present, TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_SACK_PERM | TCP_OPT_TS);
    cr_assert_eq(o.mss, 1460);
    cr_assert_eq(o.ts_ecr, 100);
    /* the ISN decodes: t = now / 64 s, m = index of 1460, and the hash */
    uint16_t mss = 0;
    cr_assert_eq(sa.seq >> 27, (uint32_t)(r.now / TCP_SYNCOOKIE_PERIOD_NS) & 31);
    cr_assert_eq(sa.seq >> 24 & 7, 5, "1460 is entry 5 of the MSS table");
    cr_assert_eq(tcp_syncookie_check(&r.s->tcp->cookie_key, ST_US_IP, RTE_BE16(80), ST_PEER_IP, RTE_BE16(40000),
                                     1000, sa.seq, r.now, &mss),
                 0, "the cookie does not check");
    cr_assert_eq(mss, 1460);
    bool ws_ok, sack_ok;
    uint8_t ws;
    tcp_syncookie_ts_decode(o.ts_val, &ws_ok, &ws, &sack_ok);
    cr_assert(ws_ok && sack_ok, "window scale and SACK-permitted ride in the TSval");
    cr_assert_eq(ws, 7);

    /* the ACK returning the cookie makes an established connection */
    r.now += 30 * MS;
    struct tcp_opts ao = {.present = TCP_OPT_TS, .ts_val = 130, .ts_ecr = o.ts_val};
    struct st_tcp_seg ack = {.sport = 40000, .dport = 80, .seq = 1001, .ack = sa.seq + 1, .flags = ACK,
                             .wnd = 1000, .opts = ob, .optlen = build_opts(&ao, false, ob)};
    rig_send(&r, &ack);
    st_expect_no_tx(r.dev);
    cr_assert_eq(CTR(r.s, tcp_syncookies_ok), 1);
    cr_assert_eq(tcp_accept(l, &c), 0);
    cr_assert_eq(tcp_conn_state(c), TCP_ESTABLISHED);
    struct tcp_conn_stats st;
    tcp_conn_stats(c, &st);
    cr_assert_eq(st.snd_mss, 1460, "the MSS came back from the cookie");
    cr_assert(st.ws_ok && st.sack_ok && st.ts_ok);
    cr_assert_eq(st.snd_wscale, 7);
    cr_assert_eq(st.snd_wnd, 1000u << 7, "the ACK's window is scaled by the cookie's wscale");

    /* our data flows (the peer's first segment is pending_tcp_rules.c's) */
    cr_assert_eq(tcp_send(c, st_mbuf("world", 5), r.now), 0);
    struct st_tcp_seg w = rig_take(&r);
    cr_assert_eq(w.flags, ACK | PSH);
    cr_assert_eq(w.seq, sa.seq + 1);
    cr_assert_eq(w.ack, 1001);
    cr_assert_eq(w.len, 5);
    cr_assert_eq(memcmp(w.data, "world", 5), 0);
    cr_assert_eq(opts_of(&w).ts_ecr, 130);

    /* a bad cookie, and a good one replayed from another port: RST <SEQ=SEG.ACK> */
    uint64_t no_conn = CTR(r.s, tcp_drop_no_conn);
    struct st_tcp_seg bad = {.sport = 40001, .dport = 80, .seq = 2001, .ack = sa.seq + 0x100, .flags = ACK,
                             .wnd = 1000};
    rig_send(&r, &bad);
    struct st_tcp_seg rst = rig_take(&r);
    cr_assert_eq(rst.flags, RST);
    cr_assert_eq(rst.seq, sa.seq + 0x100);
    bad.sport = 40002;
    bad.seq = 1001;
    bad.ack = sa.seq + 1;
    rig_send(&r, &bad);
    rst = rig_take(&r);
    cr_assert_eq(rst.flags, RST);
    cr_assert_eq(rst.seq, sa.seq + 1);
    cr_assert_eq(CTR(r.s, tcp_drop_no_conn), no_conn + 2);
    cr_assert_eq(CTR(r.s, tcp_syncookies_ok), 1);
    cr_assert_eq(tcp_conn_count(r.s), 6);
    tcp_close(c, r.now);
    tcp_close(l, r.now);
    rig_finish(&r);
}

/* n distinct spoofed SYNs, each sent `rounds` times (as a flood that
 * replays a fixed set of frames); returns the SYN-ACKs sent. */
static unsigned replay_flood(struct rig *r, unsigned n, unsigned rounds)
{
    unsigned synacks = 0;

    for (unsigned k = 0; k < rounds; k++) {
        for (unsigned i = 0; i < n; i++)
            spoofed_syn(r, spoof_addr(i), (uint16_t)(2000 + i), 0x10000000u + 7919u * i);
        while (netdev_fake_tx_count(r->dev) > 0)
            synacks += (rig_take(r).flags == (SYN | ACK));
    }
    return synacks;
}

/* The integration run's flood replays 2000 pre-built frames: 1999
 * distinct 4-tuples, 15 of them from the kernel's own address (answered
 * with RST), 1984 from addresses nobody answers for. Fewer than the
 * listener's backlog (4096), so the SYN queue never fills: no cookie; the
 * replays only repeat SYN-ACKs; each child retransmits its SYN-ACK on its
 * own RTO, and closing the listener resets every one of them. */
Test(tcp_rules, syn_flood_of_fewer_tuples_than_the_backlog_sends_no_cookie)
{
    struct rig r;
    struct tcp_conn *l;

    rig_init(&r);
    l = rig_listen(&r, 80, 64);
    cr_assert_eq(replay_flood(&r, 40, 5), 200, "every replayed SYN is answered with a SYN-ACK");
    cr_assert_eq(CTR(r.s, tcp_syncookies_sent), 0);
    cr_assert_eq(tcp_conn_count(r.s), 41, "one SYN-RECEIVED child per distinct 4-tuple");
    cr_assert_eq(CTR(r.s, tcp_retransmits), 0);
    r.now += 1000 * MS; /* the first SYN-ACK RTO */
    st_poll(r.s, r.now);
    cr_assert_eq(st_drain_tx(r.dev), 40);
    cr_assert_eq(CTR(r.s, tcp_retransmits), 40);
    tcp_close(l, r.now);
    cr_assert_eq(CTR(r.s, tcp_conns_reset), 40, "the listener's close resets its half-open children");
    cr_assert_eq(CTR(r.s, tcp_rst_sent), 40);
    rig_finish(&r);
}

/* Left alone, the flood's children time out after tcp.synack_retries
 * retransmissions (1 + 2 + 4 + 8 + 16 + 32 s). */
Test(tcp_rules, syn_flood_children_time_out_after_synack_retries)
{
    struct rig r;
    struct tcp_conn *l;

    rig_init(&r);
    l = rig_listen(&r, 80, 64);
    replay_flood(&r, 40, 1);
    for (unsigned s = 0; s < 62; s++) {
        r.now += 1000 * MS;
        st_poll(r.s, r.now);
        st_drain_tx(r.dev);
    }
    cr_assert_eq(tcp_conn_count(r.s), 41, "still waiting for the last SYN-ACK's RTO at 63 s");
    r.now += 1000 * MS;
    st_poll(r.s, r.now);
    st_drain_tx(r.dev);
    cr_assert_eq(tcp_conn_count(r.s), 1);
    cr_assert_eq(CTR(r.s, tcp_retransmits), 40 * 5);
    cr_assert_eq(CTR(r.s, tcp_conns_timedout), 40);
    cr_assert_eq(CTR(r.s, tcp_syncookies_sent), 0);
    tcp_close(l, r.now);
    rig_finish(&r);
}

/* More distinct 4-tuples than the backlog: the SYN queue fills and the
 * rest are answered with cookies. */
Test(tcp_rules, syn_flood_of_more_tuples_than_the_backlog_sends_cookies)
{
    struct rig r;
    struct tcp_conn *l;

    rig_init(&r);
    l = rig_listen(&r, 80, 64);
    cr_assert_eq(replay_flood(&r, 70, 1), 70);
    cr_assert_eq(tcp_conn_count(r.s), 65);
    cr_assert_eq(CTR(r.s, tcp_syncookies_sent), 6);
    tcp_close(l, r.now);
    rig_finish(&r);
}

/* ---- 5. TIME-WAIT reopened by a new SYN (RFC 9293 §3.10.7.4, RFC 6191) ---- */

#define PEER_ISN 1000u

struct tw {
    struct rig r;
    struct tcp_conn *l, *c;
    uint32_t iss;
    bool ts;
    uint8_t ob[TCP_OPT_MAX_LEN];
};

/* Options of a peer segment: TS (val) when timestamps are on; MSS on a SYN. */
static void tw_opts(struct tw *t, struct st_tcp_seg *sg, uint32_t ts_val, uint32_t ts_ecr)
{
    struct tcp_opts o = {.present = 0, .mss = 1460, .ts_val = ts_val, .ts_ecr = ts_ecr};
    bool syn = (sg->flags & SYN) != 0;

    o.present = (syn ? TCP_OPT_MSS : 0) | (t->ts ? TCP_OPT_TS : 0);
    sg->opts = t->ob;
    sg->optlen = build_opts(&o, syn, t->ob);
}

/* Handshake from the peer (ISN isn, TSval ts) to listener t->l; returns
 * the accepted connection and sets *iss. */
static struct tcp_conn *tw_accept(struct tw *t, uint32_t isn, uint32_t ts, uint32_t *iss)
{
    struct tcp_conn *c;
    struct st_tcp_seg syn = {.sport = 40000, .dport = 80, .seq = isn, .flags = SYN, .wnd = 65535};
    tw_opts(t, &syn, ts, 0);
    rig_send(&t->r, &syn);
    struct st_tcp_seg sa = rig_take(&t->r);
    cr_assert_eq(sa.flags, SYN | ACK);
    cr_assert_eq(sa.ack, isn + 1);
    *iss = sa.seq;
    struct st_tcp_seg ack = {.sport = 40000, .dport = 80, .seq = isn + 1, .ack = sa.seq + 1, .flags = ACK,
                             .wnd = 65535};
    tw_opts(t, &ack, ts + 1, t->ts ? opts_of(&sa).ts_val : 0);
    rig_send(&t->r, &ack);
    st_expect_no_tx(t->r.dev);
    cr_assert_eq(tcp_accept(t->l, &c), 0);
    cr_assert_eq(tcp_conn_state(c), TCP_ESTABLISHED);
    return c;
}

/* An established connection that we close first: after the peer's FIN we
 * are in TIME-WAIT (rcv_nxt = PEER_ISN + 2, snd_nxt = iss + 2); the
 * owner keeps it, to look at its state. */
static void tw_setup(struct tw *t, bool ts)
{
    memset(t, 0, sizeof(*t));
    t->ts = ts;
    rig_init(&t->r);
    t->l = rig_listen(&t->r, 80, 8);
    t->c = tw_accept(t, PEER_ISN, 100, &t->iss);
    cr_assert_eq(tcp_shutdown(t->c, false, true, t->r.now), 0);
    struct st_tcp_seg fin = rig_take(&t->r);
    cr_assert_eq(fin.flags, FIN | ACK);
    cr_assert_eq(fin.seq, t->iss + 1);
    struct st_tcp_seg pf = {.sport = 40000, .dport = 80, .seq = PEER_ISN + 1, .ack = t->iss + 2, .flags = FIN | ACK,
                            .wnd = 65535};
    tw_opts(t, &pf, 102, 0);
    rig_send(&t->r, &pf);
    struct st_tcp_seg a = rig_take(&t->r);
    cr_assert_eq(a.flags, ACK);
    cr_assert_eq(a.ack, PEER_ISN + 2);
    cr_assert_eq(tcp_conn_state(t->c), TCP_TIME_WAIT);
}

/* A SYN for the TIME-WAIT 4-tuple with sequence number isn and TSval ts. */
static void tw_syn(struct tw *t, uint32_t isn, uint32_t ts)
{
    struct st_tcp_seg syn = {.sport = 40000, .dport = 80, .seq = isn, .flags = SYN, .wnd = 65535};
    tw_opts(t, &syn, ts, 0);
    rig_send(&t->r, &syn);
}

static void tw_finish(struct tw *t, struct tcp_conn *extra)
{
    if (extra != NULL)
        tcp_close(extra, t->r.now);
    tcp_close(t->c, t->r.now);
    tcp_close(t->l, t->r.now);
    rig_finish(&t->r);
}

/* The new incarnation: SYN-ACK for isn, ACK, accepted, established. */
static struct tcp_conn *tw_expect_reopened(struct tw *t, uint32_t isn, uint32_t ts)
{
    struct tcp_conn *n;
    struct st_tcp_seg sa = rig_take(&t->r);

    cr_assert_eq(sa.flags, SYN | ACK, "the new SYN was not taken: flags %#x", sa.flags);
    cr_assert_eq(sa.ack, isn + 1);
    cr_assert_eq(tcp_conn_state(t->c), TCP_CLOSED, "the old incarnation is gone");
    cr_assert_eq(tcp_error(t->c), 0);
    struct st_tcp_seg ack = {.sport = 40000, .dport = 80, .seq = isn + 1, .ack = sa.seq + 1, .flags = ACK,
                             .wnd = 65535};
    tw_opts(t, &ack, ts + 1, t->ts ? opts_of(&sa).ts_val : 0);
    rig_send(&t->r, &ack);
    cr_assert_eq(tcp_accept(t->l, &n), 0);
    cr_assert_eq(tcp_conn_state(n), TCP_ESTABLISHED);
    return n;
}

/* The answer to an old SYN in TIME-WAIT: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void tw_expect_ack(struct tw *t)
{
    struct st_tcp_seg a = rig_take(&t->r);

    cr_assert_eq(a.flags, ACK, "flags %#x", a.flags);
    cr_assert_eq(a.seq, t->iss + 2);
    cr_assert_eq(a.ack, PEER_ISN + 2);
    st_expect_no_tx(t->r.dev);
    cr_assert_eq(tcp_conn_state(t->c), TCP_TIME_WAIT);
}

Test(tcp_rules, time_wait_reopened_by_higher_syn_with_timestamps)
{
    struct tw t;

    tw_setup(&t, true);
    t.r.now += 10 * MS;
    tw_syn(&t, PEER_ISN + 100000, 200);
    struct tcp_conn *n = tw_expect_reopened(&t, PEER_ISN + 100000, 200);
    tw_finish(&t, n);
}

Test(tcp_rules, time_wait_answers_lower_syn_and_timestamp_with_its_ack)
{
    struct tw t;

    tw_setup(&t, true);
    uint64_t paws = CTR(t.r.s, tcp_drop_paws);
    tw_syn(&t, PEER_ISN - 5000, 50);
    tw_expect_ack(&t);
    cr_assert_eq(CTR(t.r.s, tcp_drop_paws), paws + 1);
    cr_assert_eq(tcp_conn_count(t.r.s), 2);
    tw_finish(&t, NULL);
}

Test(tcp_rules, time_wait_reopened_by_higher_syn_without_timestamps)
{
    struct tw t;

    tw_setup(&t, false);
    tw_syn(&t, PEER_ISN + 100000, 0);
    struct tcp_conn *n = tw_expect_reopened(&t, PEER_ISN + 100000, 0);
    tw_finish(&t, n);
}

Test(tcp_rules, time_wait_answers_lower_syn_without_timestamps_with_its_ack)
{
    struct tw t;

    tw_setup(&t, false);
    tw_syn(&t, PEER_ISN - 5000, 0);
    tw_expect_ack(&t);
    tw_finish(&t, NULL);
}

/* ---- 7. a failed connect next to a TIME-WAIT ---- */

/* Our active open from port 5000 to the peer's 40000, closed by us first:
 * TIME-WAIT, owned (the 4-tuple is in the table). Sets *iss. */
static struct tcp_conn *active_time_wait(struct rig *r, uint32_t *iss)
{
    struct tcp_conn *x;

    cr_assert_eq(tcp_open(r->s, NULL, NULL, &x), 0);
    cr_assert_eq(tcp_bind(x, 0, RTE_BE16(5000)), 0);
    cr_assert_eq(tcp_connect(x, ST_PEER_IP, RTE_BE16(40000), r->now), 0);
    struct st_tcp_seg syn = rig_take(r);
    cr_assert_eq(syn.flags, SYN);
    *iss = syn.seq;
    struct st_tcp_seg sa = {.sport = 40000, .dport = 5000, .seq = 7000, .ack = *iss + 1, .flags = SYN | ACK,
                            .wnd = 65535};
    rig_send(r, &sa);
    cr_assert_eq(rig_take(r).ack, 7001);
    cr_assert_eq(tcp_conn_state(x), TCP_ESTABLISHED);
    cr_assert_eq(tcp_shutdown(x, false, true, r->now), 0);
    cr_assert_eq(rig_take(r).flags, FIN | ACK);
    struct st_tcp_seg pf = {.sport = 40000, .dport = 5000, .seq = 7001, .ack = *iss + 2, .flags = FIN | ACK,
                            .wnd = 65535};
    rig_send(r, &pf);
    cr_assert_eq(rig_take(r).ack, 7002);
    cr_assert_eq(tcp_conn_state(x), TCP_TIME_WAIT);
    return x;
}

/* A socket with SO_REUSEADDR on port 5000 connecting to the TIME-WAIT's
 * peer: EADDRINUSE, then closed. */
static void failed_connect_then_close(struct rig *r)
{
    struct tcp_conn *y;
    int one = 1;

    cr_assert_eq(tcp_open(r->s, NULL, NULL, &y), 0);
    cr_assert_eq(tcp_setsockopt(y, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    cr_assert_eq(tcp_bind(y, 0, RTE_BE16(5000)), 0);
    cr_assert_eq(tcp_connect(y, ST_PEER_IP, RTE_BE16(40000), r->now), -EADDRINUSE);
    st_expect_no_tx(r->dev);
    tcp_close(y, r->now);
    st_poll(r->s, r->now);
    st_expect_no_tx(r->dev);
}

Test(tcp_rules, failed_connect_then_close_keeps_the_time_wait_entry)
{
    struct rig r;
    uint32_t iss;

    rig_init(&r);
    struct tcp_conn *x = active_time_wait(&r, &iss);
    failed_connect_then_close(&r);
    /* the peer's FIN again (our ACK was lost): TIME-WAIT ACKs it (RFC 9293
     * §3.10.7.4 "acknowledge it, and restart the 2 MSL timeout"); without
     * the table entry the answer would be an RST */
    r.now += 100 * MS;
    struct st_tcp_seg pf = {.sport = 40000, .dport = 5000, .seq = 7001, .ack = iss + 2, .flags = FIN | ACK,
                            .wnd = 65535};
    rig_send(&r, &pf);
    struct st_tcp_seg a = rig_take(&r);
    cr_assert_eq(a.flags, ACK, "flags %#x: the TIME-WAIT entry is gone", a.flags);
    cr_assert_eq(a.seq, iss + 2);
    cr_assert_eq(a.ack, 7002);
    cr_assert_eq(tcp_conn_state(x), TCP_TIME_WAIT);
    /* and the 4-tuple is still refused */
    failed_connect_then_close(&r);
    tcp_close(x, r.now);
    rig_finish(&r);
}
