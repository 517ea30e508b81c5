/*
 * test_tcp_rules.c - RFC rules that had no test of their own: keepalive
 * (RFC 9293 §3.8.4), SYN cookies (RFC 4987) and what a SYN flood does to a
 * listener, TIME-WAIT reopened by a new SYN (§3.10.7.4, RFC 6191), the
 * length of TIME-WAIT (2 MSL), and a failed connect next to a TIME-WAIT.
 * Then rules whose tests found stack bugs (each comment says what was
 * wrong): simultaneous open, the persist timer, a cookie connection's first
 * data, checksums of segments built from odd-length pieces, a SYN below
 * RCV.NXT, and an in-order FIN over held out-of-order data.
 * Two stacks on a tapped link (tcp_tap.h) where the rule is about both
 * ends, one stack and crafted segments where it is about exact answers.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "harness.h"
#include "runtime.h"
#include "tcp_conn.h"
#include "tcp_options.h"
#include "tcp_syncookie.h"
#include "tcp_tap.h"
#include "netdev_fake.h"

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

#define CTR(s, name) ST_CTR(s, name)

/* The options of a parsed segment (asserting they parse). */
static struct tcp_opts opts_of(const struct st_tcp_seg *sg)
{
    struct tcp_opts o;

    cr_assert_eq(tcp_opts_parse(sg->opts, sg->optlen, (sg->flags & SYN) != 0, &o), 0, "options do not parse");
    return o;
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
    cr_assert_eq(tcp_conn_state(cli), TCPS_ESTABLISHED);

    /* the peer vanishes: probes every TCP_KEEPINTVL, then ETIMEDOUT after
     * TCP_KEEPCNT unanswered ones */
    tt_drop(tap, true, true);
    run_to(&p, t0 + 30 * SEC);
    cr_assert_eq(expect_probe(tap, &cur, snd_nxt), t0 + 30 * SEC);
    run_to(&p, t0 + 34 * SEC);
    cr_assert_eq(expect_probe(tap, &cur, snd_nxt), t0 + 32 * SEC);
    cr_assert_eq(expect_probe(tap, &cur, snd_nxt), t0 + 34 * SEC);
    run_to(&p, t0 + 36 * SEC - MS);
    cr_assert_eq(tcp_conn_state(cli), TCPS_ESTABLISHED, "three probes unanswered, the fourth interval not over");
    run_to(&p, t0 + 36 * SEC);
    cr_assert_eq(tcp_conn_state(cli), TCPS_CLOSED);
    cr_assert_eq(tcp_error(cli), ETIMEDOUT);
    cr_assert_eq(CTR(p.a, tcp_conns_timedout), 1);
    cr_assert_eq(tcp_send(cli, st_mbuf("x", 1), p.now), -ETIMEDOUT, "the next operation fails ETIMEDOUT");
    tp_close_and_finish(&p, cli, srv, lst, 10 * MS);
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
    tp_wait_state(p, srv, TCPS_CLOSE_WAIT, 1000 * MS);
    tcp_close(srv, p->now);
    tp_wait_state(p, cli, TCPS_TIME_WAIT, 1000 * MS);
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
    cr_assert_eq(tcp_conn_state(cli), TCPS_TIME_WAIT, "1 ms before 2 MSL: still TIME-WAIT");
    cr_assert_eq(reconnect_from(&p, port, &again), -EADDRINUSE, "the 4-tuple is held");
    run_to(&p, t_tw + 500 * MS);
    cr_assert_eq(tcp_conn_state(cli), TCPS_CLOSED, "2 MSL after B's FIN: gone");
    cr_assert_eq(tcp_error(cli), 0);
    cr_assert_eq(reconnect_from(&p, port, &again), 0, "the 4-tuple is free again");
    tp_wait_state(&p, again, TCPS_ESTABLISHED, 1000 * MS);
    tp_run(&p, MS);
    cr_assert_eq(tcp_accept(lst, &srv2), 0);
    tcp_close(cli, p.now);
    tp_close_and_finish(&p, again, srv2, lst, 1200 * MS);
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
    tp_run_steps(&p, 5 * MS, step);
    cr_assert_eq(tcp_conn_state(srv), TCPS_CLOSE_WAIT);
    size_t cur = tt_count(tap);
    tcp_close(srv, p.now);
    tp_run_steps(&p, step, step);
    cr_assert_eq(tcp_conn_state(cli), TCPS_TIME_WAIT);
    while (tt_next(tap, &cur, false, &sg, &ns))
        if (sg.flags & FIN)
            fin_ns = ns;
    cr_assert_neq(fin_ns % MS, 0, "the FIN should arrive inside a tick");
    tp_run_steps(&p, fin_ns + 500 * MS - step - p.now, step);
    cr_assert_eq(tcp_conn_state(cli), TCPS_TIME_WAIT, "before 2 MSL");
    tp_run_steps(&p, MS + step, step);
    cr_assert_eq(tcp_conn_state(cli), TCPS_CLOSED, "TIME-WAIT outlived 2 MSL + one 1 ms tick (%llu us after the FIN)",
                 (unsigned long long)((p.now - fin_ns) / 1000));
    tcp_close(cli, p.now);
    tcp_close(lst, p.now);
    tp_run_steps(&p, 10 * MS, MS);
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
    memset(r, 0, sizeof(*r));
    r->s = st_create_with_peer(&r->dev);
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

/* Closes a connection and its listener, then rig_finish. */
static void rig_close_and_finish(struct rig *r, struct tcp_conn *c, struct tcp_conn *l)
{
    st_close_and_finish(r->s, r->dev, r->pool, r->now, c, l);
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
    cr_assert_eq(tcp_conn_state(c), TCPS_ESTABLISHED);
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
    rig_close_and_finish(&r, c, l);
}

/* The peer's half of a handshake: SYN from sport with ISN isn; returns
 * our SYN-ACK (a cookie or a child's). */
static struct st_tcp_seg peer_syn(struct rig *r, uint16_t sport, uint32_t isn)
{
    struct st_tcp_seg syn = {.sport = sport, .dport = 80, .seq = isn, .flags = SYN, .wnd = 65535};

    rig_send(r, &syn);
    struct st_tcp_seg sa = rig_take(r);
    cr_assert_eq(sa.flags, SYN | ACK);
    cr_assert_eq(sa.ack, isn + 1);
    return sa;
}

static void peer_final_ack(struct rig *r, uint16_t sport, uint32_t isn, const struct st_tcp_seg *sa)
{
    struct st_tcp_seg ack = {.sport = sport, .dport = 80, .seq = isn + 1, .ack = sa->seq + 1, .flags = ACK,
                             .wnd = 65535};
    rig_send(r, &ack);
}

/* Linux (tcp_abort_on_overflow = 0): the last ACK of a handshake that
 * finds the accept queue full is dropped, never answered with RST; the
 * peer, which thinks it is connected, sends it again and gets in once the
 * program accepts. Both ways in: a child of the SYN queue, and a SYN
 * cookie (python's http.server listens with a backlog of 5: ab -c 10
 * aborted on the first reset). */
Test(tcp_rules, last_ack_to_a_full_accept_queue_is_dropped_not_reset)
{
    struct rig r;
    struct tcp_conn *l, *a, *b, *c;

    rig_init(&r);
    l = rig_listen(&r, 80, 1);
    /* B waits in the SYN queue; A comes in on a cookie (the SYN queue is full) */
    struct st_tcp_seg sb = peer_syn(&r, 40001, 2000);
    struct st_tcp_seg sa = peer_syn(&r, 40000, 1000);
    cr_assert_eq(CTR(r.s, tcp_syncookies_sent), 1);
    peer_final_ack(&r, 40000, 1000, &sa);
    cr_assert_eq(CTR(r.s, tcp_syncookies_ok), 1);
    /* the accept queue (backlog 1) is full: B's last ACK is dropped */
    peer_final_ack(&r, 40001, 2000, &sb);
    st_expect_no_tx(r.dev);
    cr_assert_eq(CTR(r.s, tcp_drop_accept_full), 1);
    cr_assert_eq(tcp_accept(l, &a), 0);
    cr_assert_eq(tcp_accept(l, &b), -EAGAIN, "B is not in until its ACK comes again");
    /* a cookie for C (B still fills the SYN queue), then B's ACK again fills the accept queue */
    struct st_tcp_seg sc = peer_syn(&r, 40002, 3000);
    cr_assert_eq(CTR(r.s, tcp_syncookies_sent), 2);
    peer_final_ack(&r, 40001, 2000, &sb);
    st_expect_no_tx(r.dev);
    /* C's good cookie finds no room: dropped, not reset */
    uint64_t no_conn = CTR(r.s, tcp_drop_no_conn);
    peer_final_ack(&r, 40002, 3000, &sc);
    st_expect_no_tx(r.dev);
    cr_assert_eq(CTR(r.s, tcp_drop_accept_full), 2);
    cr_assert_eq(CTR(r.s, tcp_drop_no_conn), no_conn);
    cr_assert_eq(tcp_accept(l, &b), 0);
    cr_assert_eq(tcp_conn_state(b), TCPS_ESTABLISHED);
    /* C sends its ACK again: in */
    peer_final_ack(&r, 40002, 3000, &sc);
    st_expect_no_tx(r.dev);
    cr_assert_eq(tcp_accept(l, &c), 0);
    cr_assert_eq(tcp_conn_state(c), TCPS_ESTABLISHED);
    cr_assert_eq(CTR(r.s, tcp_syncookies_ok), 2);
    tcp_close(a, r.now);
    tcp_close(b, r.now);
    rig_close_and_finish(&r, c, l);
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
    cr_assert_eq(tcp_conn_state(c), TCPS_ESTABLISHED);
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
    cr_assert_eq(tcp_conn_state(t->c), TCPS_TIME_WAIT);
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
    cr_assert_eq(tcp_conn_state(t->c), TCPS_CLOSED, "the old incarnation is gone");
    cr_assert_eq(tcp_error(t->c), 0);
    struct st_tcp_seg ack = {.sport = 40000, .dport = 80, .seq = isn + 1, .ack = sa.seq + 1, .flags = ACK,
                             .wnd = 65535};
    tw_opts(t, &ack, ts + 1, t->ts ? opts_of(&sa).ts_val : 0);
    rig_send(&t->r, &ack);
    cr_assert_eq(tcp_accept(t->l, &n), 0);
    cr_assert_eq(tcp_conn_state(n), TCPS_ESTABLISHED);
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
    cr_assert_eq(tcp_conn_state(t->c), TCPS_TIME_WAIT);
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
    cr_assert_eq(tcp_conn_state(x), TCPS_ESTABLISHED);
    cr_assert_eq(tcp_shutdown(x, false, true, r->now), 0);
    cr_assert_eq(rig_take(r).flags, FIN | ACK);
    struct st_tcp_seg pf = {.sport = 40000, .dport = 5000, .seq = 7001, .ack = *iss + 2, .flags = FIN | ACK,
                            .wnd = 65535};
    rig_send(r, &pf);
    cr_assert_eq(rig_take(r).ack, 7002);
    cr_assert_eq(tcp_conn_state(x), TCPS_TIME_WAIT);
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
    cr_assert_eq(tcp_conn_state(x), TCPS_TIME_WAIT);
    /* and the 4-tuple is still refused */
    failed_connect_then_close(&r);
    tcp_close(x, r.now);
    rig_finish(&r);
}

/* ---- 1. simultaneous open (RFC 9293 §3.5 figure 8) ---- */

/* One side's three handshake segments in a simultaneous open: SYN <x>,
 * SYN,ACK <x, y+1> (the same ISS, RFC 9293 §3.10.7.3 "form a SYN,ACK
 * segment <SEQ=ISS><ACK=RCV.NXT>"), then ACK <x+1, y+1>. */
static void expect_simultaneous_side(struct tcp_tap *tap, bool a_to_b, uint32_t *iss, uint32_t peer_iss)
{
    struct st_tcp_seg sg;
    size_t cur = 0;

    cr_assert(tt_next(tap, &cur, a_to_b, &sg, NULL));
    cr_assert_eq(sg.flags, SYN, "first segment: SYN alone, flags %#x", sg.flags);
    *iss = sg.seq;
    struct tcp_opts o = opts_of(&sg);
    cr_assert_eq(o.present, TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_SACK_PERM | TCP_OPT_TS);
    cr_assert_eq(o.mss, 1460);
    cr_assert_eq(sg.wnd, 65535, "a SYN's window is unscaled, at most 65535");
    cr_assert(tt_next(tap, &cur, a_to_b, &sg, NULL));
    cr_assert_eq(sg.flags, SYN | ACK, "second segment: SYN,ACK, flags %#x", sg.flags);
    cr_assert_eq(sg.seq, *iss, "the SYN,ACK repeats the ISS");
    cr_assert_eq(sg.ack, peer_iss + 1);
    o = opts_of(&sg);
    cr_assert_eq(o.present, TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_SACK_PERM | TCP_OPT_TS);
    cr_assert(tt_next(tap, &cur, a_to_b, &sg, NULL));
    cr_assert_eq(sg.flags, ACK, "third segment: ACK, flags %#x", sg.flags);
    cr_assert_eq(sg.seq, *iss + 1);
    cr_assert_eq(sg.ack, peer_iss + 1);
    cr_assert_eq(sg.len, 0);
}

/* Was a bug (stack/tcp_output.c tcp_output, with tcp_input.c synchronized_input):
 * in a simultaneous open each side gets the other's SYN,ACK in
 * SYN-RECEIVED; it is not acceptable (its SYN is below RCV.NXT), so
 * synchronized_input calls drop_and_ack, which only sets TF_ACK_NOW and
 * queues output - but tcp_output returns at once in SYN-RECEIVED ("handshake
 * segments go out from input and the timer"), so the ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT> RFC 9293 §3.10.7.4 asks for is never sent.
 * Both sides retransmit their SYN,ACK at 1, 2, 4, 8, 16 s and give up with
 * ETIMEDOUT after 63 s: a simultaneous open never completes. */
Test(tcp_rules, simultaneous_open_crossing_syns_reach_established_on_both)
{
    struct tcp_pair p;
    struct tcp_tap *tap;
    struct tcp_conn *ca, *cb;
    uint64_t sa = 1, sb = 2, ra = 2, rb = 1;

    tt_create(&p, &tap, NULL);
    cr_assert_eq(tcp_open(p.a, NULL, NULL, &ca), 0);
    cr_assert_eq(tcp_open(p.b, NULL, NULL, &cb), 0);
    cr_assert_eq(tcp_bind(ca, 0, RTE_BE16(5000)), 0);
    cr_assert_eq(tcp_bind(cb, 0, RTE_BE16(6000)), 0);
    /* both SYNs are on the wire before either stack polls: they cross */
    cr_assert_eq(tcp_connect(ca, B_IP, RTE_BE16(6000), p.now), 0);
    cr_assert_eq(tcp_connect(cb, A_IP, RTE_BE16(5000), p.now), 0);
    tp_run(&p, 10 * MS);
    if (tcp_conn_state(ca) != TCPS_ESTABLISHED || tcp_conn_state(cb) != TCPS_ESTABLISHED)
        tt_dump(tap);
    cr_assert_eq(tcp_conn_state(ca), TCPS_ESTABLISHED, "A: %s", tcp_state_name(tcp_conn_state(ca)));
    cr_assert_eq(tcp_conn_state(cb), TCPS_ESTABLISHED);

    /* B's SYN is the first B->A frame; A's the first A->B frame */
    struct st_tcp_seg first;
    size_t cur = 0;
    cr_assert(tt_next(tap, &cur, false, &first, NULL));
    uint32_t iss_b = first.seq, iss_a;
    cur = 0;
    cr_assert(tt_next(tap, &cur, true, &first, NULL));
    iss_a = first.seq;
    expect_simultaneous_side(tap, true, &iss_a, iss_b);
    expect_simultaneous_side(tap, false, &iss_b, iss_a);
    cr_assert_eq(CTR(p.a, tcp_conns_opened), 1);
    cr_assert_eq(CTR(p.b, tcp_conns_opened), 1);
    cr_assert_eq(CTR(p.a, tcp_rst_sent) + CTR(p.b, tcp_rst_sent), 0);

    /* data both ways, the first byte of each at ISS + 1 */
    size_t mark = tt_count(tap);
    tp_send_pattern(&p, ca, &sa, 5000);
    tp_send_pattern(&p, cb, &sb, 7000);
    tp_run(&p, 50 * MS);
    cr_assert_eq(tp_recv_check(&p, cb, &rb), 5000, "B reads what A sent");
    cr_assert_eq(tp_recv_check(&p, ca, &ra), 7000, "A reads what B sent");
    struct st_tcp_seg d;
    cur = mark;
    cr_assert(tt_next(tap, &cur, true, &d, NULL));
    cr_assert_eq(d.seq, iss_a + 1);
    cr_assert_gt(d.len, 0);
    cur = mark;
    cr_assert(tt_next(tap, &cur, false, &d, NULL));
    cr_assert_eq(d.seq, iss_b + 1);
    cr_assert_eq(CTR(p.a, tcp_retransmits) + CTR(p.b, tcp_retransmits), 0);
    tcp_close(ca, p.now);
    tcp_close(cb, p.now);
    tp_run(&p, 10 * MS);
    tp_finish(&p);
}

/* ---- 2. persist timer (RFC 9293 §3.8.6.1) ---- */

/* The first B->A segment at or after *cursor that advertises a zero
 * window; its time in *ns. */
static bool next_zero_window(struct tcp_tap *tap, size_t *cursor, struct st_tcp_seg *sg, uint64_t *ns)
{
    while (tt_next(tap, cursor, false, sg, ns))
        if (sg->wnd == 0 && (sg->flags & ACK))
            return true;
    return false;
}

/* Queues len pattern bytes on c in pushes of chunk bytes each. */
static void send_chunks(struct tcp_pair *p, struct tcp_conn *c, uint64_t *state, size_t len, size_t chunk)
{
    while (len > 0) {
        size_t n = len < chunk ? len : chunk;
        struct rte_mbuf *m = rte_pktmbuf_alloc(g_rt.pool);
        cr_assert_not_null(m);
        t_pattern(state, (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n), n);
        cr_assert_eq(tcp_send(c, m, p->now), 0);
        len -= n;
    }
}

#define SEG_ROOM 1448 /* MSS 1460 less the timestamp option */

/* Was a bug (stack/tcp_timer.c rexmt_fire/persist_fire, stack/tcp_output.c
 * send_next): the first zero-window probe goes out at RTO (200 ms) and
 * advances snd_nxt/snd_max by its byte; the receiver answers ACK <old
 * edge>, window 0 (the byte is outside its window). At the next expiry
 * rexmt_fire sees one byte in flight and takes the RTO path instead of
 * the persist path: it counts the expiry toward tcp.retries, goes back to
 * snd_una and calls tcp_output with TF_FORCE_PROBE clear and a zero usable
 * window, so nothing is sent. No probe, so no ACK resets rexmt_count; after
 * tcp.retries expiries (here 3, by default 15) the connection is dropped
 * with ETIMEDOUT although the receiver is alive - against RFC 9293
 * §3.8.6.1 ("MUST NOT close the connection ... as long as the receiving
 * TCP continues to send acknowledgments in response to the probe
 * segments"). Only probe 1 is ever sent. */
Test(tcp_rules, persist_probes_a_zero_window_with_backoff_and_resumes)
{
    struct tcp_pair p;
    struct tcp_tap *tap;
    struct tcp_conn *cli, *srv, *lst;
    struct stack_params sp;
    uint64_t tx = 9, rx = 9;
    const size_t total = 20 * SEG_ROOM;

    stack_params_defaults(&sp);
    /* a receive buffer of exactly four full segments and no window scale,
     * so the window closes to exactly zero (sender SWS avoidance would
     * otherwise hold back a small remainder) */
    sp.tcp.rcvbuf = 4 * SEG_ROOM;
    sp.tcp.wscale = false;
    sp.tcp.retries = 3; /* fewer than the probes below: probes must not count */
    tt_create(&p, &tap, &sp);
    tp_connect(&p, &cli, &srv, &lst);
    size_t mark = tt_count(tap);
    send_chunks(&p, cli, &tx, total, SEG_ROOM); /* srv's owner does not read */
    tp_run(&p, 20 * MS);
    cr_assert_eq(tcp_recv_avail(srv), 4 * SEG_ROOM, "the receiver holds one buffer: %u", tcp_recv_avail(srv));

    struct st_tcp_seg zw, sg;
    uint64_t t_zero;
    size_t cur = mark;
    cr_assert(next_zero_window(tap, &cur, &zw, &t_zero), "no zero window advertised");
    struct tcp_conn_stats st;
    tcp_conn_stats(cli, &st);
    uint64_t rto = st.rto_ns;
    cr_assert_eq(rto, 200 * MS, "RTO on a 1 ms path: the 200 ms floor, got %llu", (unsigned long long)rto);
    uint32_t una = zw.ack;
    size_t after_zero = cur;

    /* probes at RTO, then doubling: 200, 400, 800, 1600, 3200, 6400 ms */
    uint64_t want = t_zero, gap = rto;
    run_to(&p, t_zero + 13 * SEC);
    cur = after_zero;
    for (int i = 0; i < 6; i++, gap *= 2) {
        uint64_t ns;
        want += gap;
        do
            cr_assert(tt_next(tap, &cur, true, &sg, &ns), "probe %d (due at +%llu ms) never sent", i + 1,
                      (unsigned long long)((want - t_zero) / MS));
        while (sg.len == 0);
        cr_assert_eq(ns, want, "probe %d at +%llu ms, want +%llu ms", i + 1, (unsigned long long)((ns - t_zero) / MS),
                     (unsigned long long)((want - t_zero) / MS));
        cr_assert_eq(sg.len, 1, "a probe carries one byte");
        cr_assert_eq(sg.seq, una, "the probe's byte is the first one beyond the window");
        cr_assert_eq(sg.flags & (SYN | FIN | RST), 0);
    }
    /* each answered: ACK of the old edge, window still zero */
    size_t bcur = mark;
    unsigned answers = 0;
    while (next_zero_window(tap, &bcur, &sg, NULL))
        answers += sg.ack == una;
    cr_assert_geq(answers, 7, "zero-window ACKs: %u", answers);
    cr_assert_eq(tcp_conn_state(cli), TCPS_ESTABLISHED, "never aborted while probes are answered");
    cr_assert_eq(tcp_error(cli), 0);

    /* the reader drains: the window opens and the rest flows */
    size_t got = 0;
    for (int i = 0; i < 2000 && got < total; i++) {
        got += tp_recv_check(&p, srv, &rx);
        tp_run(&p, MS);
    }
    cr_assert_eq(got, total, "received %zu of %zu", got, total);
    cr_assert_eq(tcp_bytes_acked(cli), total);
    tp_close_and_finish(&p, cli, srv, lst, 10 * MS);
}

/* ---- SYN cookies: the peer's first data ---- */

/* A cookie handshake with the peer 10.0.0.1:40000 (ISN 1000, MSS 1460,
 * wscale 7, SACK-permitted, TSval 100) on a listener whose SYN queue is
 * full; returns the cookie (our ISS) and the TSval of the SYN-ACK. */
static uint32_t cookie_synack(struct rig *r, uint32_t *tsval)
{
    struct tcp_opts so = {.present = TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_SACK_PERM | TCP_OPT_TS,
                          .mss = 1460, .wscale = 7, .ts_val = 100};
    uint8_t ob[TCP_OPT_MAX_LEN];

    for (unsigned i = 0; i < 2; i++) {
        spoofed_syn(r, spoof_addr(i), (uint16_t)(1000 + i), 5000 * i);
        cr_assert_eq(rig_take(r).flags, SYN | ACK);
    }
    struct st_tcp_seg syn = {.sport = 40000, .dport = 80, .seq = 1000, .flags = SYN, .wnd = 65535, .opts = ob,
                             .optlen = build_opts(&so, true, ob)};
    rig_send(r, &syn);
    struct st_tcp_seg sa = rig_take(r);
    cr_assert_eq(sa.flags, SYN | ACK);
    cr_assert_eq(CTR(r->s, tcp_syncookies_sent), 1);
    *tsval = opts_of(&sa).ts_val;
    return sa.seq;
}

/* A segment from the peer completing (or following) the cookie handshake:
 * ACK of the cookie, TS echoing it, with data. */
static void cookie_peer_segment(struct rig *r, uint32_t cookie, uint32_t tsecr, uint32_t seq, uint32_t tsval,
                                const char *data)
{
    struct tcp_opts ao = {.present = TCP_OPT_TS, .ts_val = tsval, .ts_ecr = tsecr};
    uint8_t ob[TCP_OPT_MAX_LEN];
    struct st_tcp_seg sg = {.sport = 40000, .dport = 80, .seq = seq, .ack = cookie + 1,
                            .flags = ACK | (data ? PSH : 0), .wnd = 1000, .opts = ob,
                            .optlen = build_opts(&ao, false, ob), .data = data, .len = data ? strlen(data) : 0};
    rig_send(r, &sg);
}

/* Everything readable on c, as a string. */
static size_t read_all(struct rig *r, struct tcp_conn *c, char *buf, size_t cap)
{
    struct rte_mbuf *m;
    size_t n = 0;

    while ((m = tcp_recv(c, (uint32_t)(cap - n), r->now)) != NULL) {
        n += st_bytes(m, buf + n, cap - n);
        rte_pktmbuf_free(m);
    }
    return n;
}

/* Was a bug (stack/tcp_input.c cookie_ack): the child made from a cookie gets
 * rcv_adv = rcv_nxt from new_child, and no SYN-ACK of its own ever moves
 * rcv_adv (the cookie's SYN-ACK was sent from a throwaway TCB advertising
 * 65535), so the connection starts with a zero receive window as far as
 * acceptable() is concerned: the peer's first data segment (inside the
 * 65535 bytes we offered) fails the acceptability test, is dropped as
 * out of window and only ACKed; the peer must wait for its RTO. RFC 9293
 * §3.10.7.4: a segment inside RCV.WND is acceptable. */
Test(tcp_rules, syn_cookie_connection_takes_the_peers_first_data)
{
    struct rig r;
    struct tcp_conn *l, *c;
    uint32_t tsv;
    char got[16];

    rig_init(&r);
    l = rig_listen(&r, 80, 2);
    uint32_t cookie = cookie_synack(&r, &tsv);
    cookie_peer_segment(&r, cookie, tsv, 1001, 130, NULL);
    cr_assert_eq(tcp_accept(l, &c), 0);
    cookie_peer_segment(&r, cookie, tsv, 1001, 131, "hello");
    cr_assert_eq(CTR(r.s, tcp_drop_out_of_window), 0, "the first data segment was dropped as out of window");
    cr_assert_eq(read_all(&r, c, got, sizeof(got)), 5);
    cr_assert_eq(memcmp(got, "hello", 5), 0);
    rig_close_and_finish(&r, c, l);
}

/* Was a bug (stack/tcp_input.c cookie_ack, with tcp_output.c tcp_output): when
 * the ACK that returns the cookie carries data (a client that writes at
 * once), the new child is in SYN-RECEIVED with the zero window above, the
 * segment is unacceptable, drop_and_ack's ACK is swallowed by tcp_output
 * (nothing goes out in SYN-RECEIVED), and no timer is armed for the child.
 * Every retransmission of the segment meets the same fate: the connection
 * stays in SYN-RECEIVED on the SYN queue for ever (taking a queue slot; a
 * flood that completes cookies this way fills the queue for good), and the
 * client times out. RFC 4987 §3.6 / RFC 9293 §3.10.7.4: the ACK completes
 * the handshake and its data is taken. */
Test(tcp_rules, syn_cookie_ack_carrying_data_establishes_and_delivers)
{
    struct rig r;
    struct tcp_conn *l, *c;
    uint32_t tsv;
    char got[16];

    rig_init(&r);
    l = rig_listen(&r, 80, 2);
    uint32_t cookie = cookie_synack(&r, &tsv);
    cookie_peer_segment(&r, cookie, tsv, 1001, 130, "GET /");
    r.now += 300 * MS;
    cookie_peer_segment(&r, cookie, tsv, 1001, 430, "GET /"); /* the client's retransmission */
    cr_assert_eq(CTR(r.s, tcp_syncookies_ok), 1);
    cr_assert_eq(tcp_accept(l, &c), 0, "the connection never left SYN-RECEIVED");
    cr_assert_eq(tcp_conn_state(c), TCPS_ESTABLISHED);
    cr_assert_eq(read_all(&r, c, got, sizeof(got)), 5);
    cr_assert_eq(memcmp(got, "GET /", 5), 0);
    rig_close_and_finish(&r, c, l);
}

/* ---- checksums of segments built from several pieces ---- */

/* Was a bug (stack/ipv4.c ipv4_l4_cksum, through DPDK 22.11's
 * rte_raw_cksum_mbuf in rte_ip.h): for a chain whose pieces do not all
 * end at even offsets, rte_raw_cksum_mbuf byte-swaps the partial sum of a
 * piece that starts at an odd offset after truncating it from 32 to 16
 * bits (`tmp = rte_bswap16((uint16_t)tmp)`), dropping its carries, so the
 * checksum is wrong whenever that piece holds more than a few words. TCP
 * builds segments from the pushed mbufs (attach_range), so a segment that
 * spans an odd-length push, or starts after a partial ACK at an odd byte,
 * goes out with a bad checksum; its retransmissions are built the same way
 * and are dropped too. Found by fuzz_tcp_state. Fix: sum each piece with
 * rte_raw_cksum (already folded to 16 bits) and swap that when the piece
 * starts at an odd offset, or fold tmp before the swap. */
Test(tcp_rules, l4_checksum_of_a_chain_with_an_odd_piece)
{
    uint8_t flat[1003];

    t_init();
    for (size_t i = 0; i < sizeof(flat); i++)
        flat[i] = (uint8_t)(0xf0 | i);
    struct rte_mbuf *chain = st_mbuf(flat, 3), *flat_m = st_mbuf(flat, sizeof(flat));
    cr_assert_eq(rte_pktmbuf_chain(chain, st_mbuf(flat + 3, sizeof(flat) - 3)), 0);
    uint16_t want = ipv4_l4_cksum(flat_m, sizeof(flat), ST_US_IP, ST_PEER_IP, IPPROTO_TCP);
    uint16_t got = ipv4_l4_cksum(chain, sizeof(flat), ST_US_IP, ST_PEER_IP, IPPROTO_TCP);
    rte_pktmbuf_free(chain);
    rte_pktmbuf_free(flat_m);
    cr_assert_eq(got, want, "checksum of [3 bytes][1000 bytes] %#x, of the same 1003 bytes flat %#x", got, want);
}

/* The same bug end to end: 3 bytes pushed, then 1001; both go out as
 * segments of one piece; the retransmission after the RTO covers both
 * pushes in one segment [3][533] (MSS 536) and its checksum is wrong
 * (st_tcp_parse asserts it). */
Test(tcp_rules, retransmission_spanning_an_odd_push_has_a_valid_checksum)
{
    struct rig r;
    struct tcp_conn *x;
    uint8_t big[1001];

    rig_init(&r);
    memset(big, 0xee, sizeof(big));
    cr_assert_eq(tcp_open(r.s, NULL, NULL, &x), 0);
    cr_assert_eq(tcp_connect(x, ST_PEER_IP, RTE_BE16(40000), r.now), 0);
    struct st_tcp_seg syn = rig_take(&r);
    struct st_tcp_seg sa = {.sport = 40000, .dport = syn.sport, .seq = 7000, .ack = syn.seq + 1,
                            .flags = SYN | ACK, .wnd = 65535};
    rig_send(&r, &sa);
    rig_take(&r); /* our ACK */
    cr_assert_eq(tcp_send(x, st_mbuf("abc", 3), r.now), 0);
    cr_assert_eq(tcp_send(x, st_mbuf(big, sizeof(big)), r.now), 0);
    cr_assert_eq(rig_take(&r).len, 3);
    st_drain_tx(r.dev); /* the 1001 bytes, in segments of the default MSS 536 */
    r.now += 3000 * MS; /* the RTO: go back to snd_una */
    st_poll(r.s, r.now);
    struct st_tcp_seg re = rig_take(&r); /* asserts the checksum */
    cr_assert_eq(re.len, 536, "[3][533]");
    tcp_close(x, r.now);
    rig_finish(&r);
}

/* ---- a SYN in a synchronized state ---- */

/* Was a bug (stack/tcp_input.c trim_to_window, before the SYN check of
 * synchronized_input): a segment with SYN whose sequence number is below
 * RCV.NXT has the SYN trimmed off as an "old" byte together with the old
 * data, so the SYN check that follows never sees it and the segment's new
 * data is taken. RFC 9293 §3.10.7.4 (fourth, RFC 5961 §4): "If the SYN
 * bit is set, irrespective of the sequence number, TCP endpoints MUST send
 * a challenge ACK ... and MUST drop the unacceptable segment". Found by
 * fuzz_tcp_state (SYN,ACK at the peer's ISN carrying data past RCV.NXT). */
Test(tcp_rules, syn_with_data_overlapping_rcv_nxt_gets_a_challenge_ack)
{
    struct rig r;
    struct tcp_conn *l, *c;

    rig_init(&r);
    l = rig_listen(&r, 80, 4);
    struct st_tcp_seg syn = {.sport = 40000, .dport = 80, .seq = 1000, .flags = SYN, .wnd = 65535};
    rig_send(&r, &syn);
    struct st_tcp_seg sa = rig_take(&r);
    struct st_tcp_seg d = {.sport = 40000, .dport = 80, .seq = 1001, .ack = sa.seq + 1, .flags = ACK, .wnd = 65535};
    rig_send(&r, &d);
    cr_assert_eq(tcp_accept(l, &c), 0);
    d.flags = ACK | PSH;
    d.data = "abcd";
    d.len = 4;
    rig_send(&r, &d);
    st_drain_tx(r.dev);
    uint64_t challenges = CTR(r.s, tcp_challenge_acks);
    struct st_tcp_seg bad = {.sport = 40000, .dport = 80, .seq = 1000, .ack = sa.seq + 1, .flags = SYN | ACK,
                             .wnd = 65535, .data = "abcdEFGH", .len = 8};
    rig_send(&r, &bad);
    cr_assert_eq(tcp_recv_avail(c), 4, "the SYN segment's data was taken: %u bytes readable", tcp_recv_avail(c));
    cr_assert_eq(CTR(r.s, tcp_challenge_acks), challenges + 1);
    struct st_tcp_seg a = rig_take(&r);
    cr_assert_eq(a.flags, ACK);
    cr_assert_eq(a.ack, 1005);
    rig_close_and_finish(&r, c, l);
}

/* ---- a FIN-carrying retransmission over held out-of-order data ---- */

/* Was a bug (stack/tcp_input.c take_text): when the in-order segment carries a
 * FIN, the reassembly queue is neither drained nor trimmed (`if (!fin &&
 * !tcp_reass_empty(...))`), so out-of-order data it already covers stays
 * held for the rest of the connection: its bytes stay counted in
 * reass.bytes (the receive window shrinks by them; fuzz_tcp_state saw
 * rcvq + reass exceed the buffer), its mbufs stay pinned, and later ACKs
 * still carry SACK blocks for it, below the cumulative ACK (which a
 * RFC 2883 sender reads as a D-SACK, a spurious retransmission). A peer
 * does this legitimately: the last segment (with FIN) arrives, the one
 * before it is lost, and the retransmission coalesces both (Linux
 * collapses retransmissions). Found by fuzz_tcp_state. */
Test(tcp_rules, fin_retransmission_covering_held_data_empties_the_reassembly_queue)
{
    struct rig r;
    struct tcp_conn *l, *c;
    uint8_t data[1000];

    rig_init(&r);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    l = rig_listen(&r, 80, 4);
    struct st_tcp_seg syn = {.sport = 40000, .dport = 80, .seq = 1000, .flags = SYN, .wnd = 65535};
    rig_send(&r, &syn);
    struct st_tcp_seg sa = rig_take(&r);
    struct st_tcp_seg d = {.sport = 40000, .dport = 80, .seq = 1001, .ack = sa.seq + 1, .flags = ACK, .wnd = 65535};
    rig_send(&r, &d);
    cr_assert_eq(tcp_accept(l, &c), 0);
    /* the last 500 bytes and the FIN arrive; the first 500 were lost */
    struct st_tcp_seg tail = d;
    tail.flags = ACK | FIN;
    tail.seq = 1501;
    tail.data = data + 500;
    tail.len = 500;
    rig_send(&r, &tail);
    cr_assert_eq(c->reass.n, 1);
    st_drain_tx(r.dev);
    /* the retransmission: all 1000 bytes and the FIN in one segment */
    struct st_tcp_seg all = d;
    all.flags = ACK | FIN;
    all.data = data;
    all.len = 1000;
    rig_send(&r, &all);
    cr_assert_eq(tcp_conn_state(c), TCPS_CLOSE_WAIT);
    cr_assert_eq(tcp_recv_avail(c), 1000);
    cr_assert_eq(c->reass.n, 0, "%u segment(s), %u bytes still held below RCV.NXT", c->reass.n, c->reass.bytes);
    cr_assert_eq(c->reass.bytes, 0);
    rig_close_and_finish(&r, c, l);
}
