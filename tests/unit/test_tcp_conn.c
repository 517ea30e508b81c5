/*
 * test_tcp_conn.c - TCP connections end to end between two stacks in one
 * process (tcp_harness.h): handshake and negotiated options, byte-exact
 * transfers on clean and faulty links, every close path, errors.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "harness.h"
#include "runtime.h"
#include "tcp_harness.h"

#define MS ST_NS_PER_MS
#define A_IP RTE_BE32(0x0a000002)
#define B_IP RTE_BE32(0x0a000001)

struct xfer {
    struct tcp_pair *p;
    struct tcp_conn *rx;
    uint64_t state;
    size_t got, want;
};

static bool xfer_done(void *ctx)
{
    struct xfer *x = ctx;

    x->got += tp_recv_check(x->p, x->rx, &x->state);
    return x->got >= x->want;
}

/* Sends len bytes from tx to rx in pushes of at most chunk bytes (every
 * size from 1 when small is set: many tiny pushes), keeping at most
 * queue_max bytes queued as an application bounded by its buffer would,
 * and checks every byte; returns the time it took (virtual ns). */
static uint64_t transfer_in(struct tcp_pair *p, struct tcp_conn *tx, struct tcp_conn *rx, size_t len, uint64_t max_ns,
                            size_t chunk, bool small, size_t queue_max)
{
    uint64_t sstate = 42, start = p->now;
    struct xfer x = {.p = p, .rx = rx, .state = 42, .want = len};
    size_t queued = 0, pushes = 0;

    while (queued < len || x.got < len) {
        while (queued < len && tcp_send_buffered(tx) < queue_max) {
            size_t n = small ? pushes % chunk + 1 : chunk;
            n = len - queued < n ? len - queued : n;
            tp_send_pattern(p, tx, &sstate, n);
            queued += n;
            pushes++;
        }
        tp_run(p, MS);
        xfer_done(&x);
        cr_assert(p->now - start < max_ns, "transfer stalled: %zu of %zu bytes after %llu ms", x.got, len,
                  (unsigned long long)((p->now - start) / MS));
    }
    cr_assert_eq(x.got, len);
    return p->now - start;
}

static uint64_t transfer(struct tcp_pair *p, struct tcp_conn *tx, struct tcp_conn *rx, size_t len, uint64_t max_ns)
{
    return transfer_in(p, tx, rx, len, max_ns, 64 * 1024, false, 512 * 1024);
}

Test(tcp_conn, handshake_negotiates_mss_wscale_sack_timestamps)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst;
    struct tcp_conn_stats a, b;

    tp_create(&p, NULL, NULL);
    tp_connect(&p, &cli, &srv, &lst);
    tcp_conn_stats(cli, &a);
    tcp_conn_stats(srv, &b);
    cr_assert_eq(a.snd_mss, 1460);
    cr_assert_eq(b.snd_mss, 1460);
    cr_assert(a.ts_ok && a.sack_ok && a.ws_ok);
    cr_assert(b.ts_ok && b.sack_ok && b.ws_ok);
    cr_assert_eq(a.snd_wscale, b.rcv_wscale);
    cr_assert_eq(b.snd_wscale, a.rcv_wscale);
    rte_be32_t addr;
    rte_be16_t port;
    cr_assert_eq(tcp_peer(srv, &addr, &port), 0);
    cr_assert_eq(addr, A_IP);
    rte_be16_t cport;
    tcp_local(cli, &addr, &cport);
    cr_assert_eq(port, cport);
    cr_assert_eq(addr, A_IP);
    tcp_close(cli, p.now);
    tcp_close(srv, p.now);
    tcp_close(lst, p.now);
    tp_finish(&p);
}

Test(tcp_conn, transfer_1mib_each_way_is_byte_exact)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst;

    tp_create(&p, NULL, NULL);
    tp_connect(&p, &cli, &srv, &lst);
    transfer(&p, cli, srv, 1 << 20, 5000 * MS);
    transfer(&p, srv, cli, 1 << 20, 5000 * MS);
    cr_assert_eq(tcp_bytes_acked(cli), 1 << 20);
    cr_assert_eq(tcp_bytes_acked(srv), 1 << 20);
    struct stack_counters ca;
    stack_counters(p.a, &ca);
    cr_assert_eq(ca.tcp_retransmits, 0);
    tcp_close(cli, p.now);
    tcp_close(srv, p.now);
    tcp_close(lst, p.now);
    tp_finish(&p);
}

static void faulty_transfer(uint32_t loss, uint32_t dup, uint32_t reorder, uint64_t seed)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst;
    struct fault_params f;

    memset(&f, 0, sizeof(f));
    f.seed = seed;
    f.rx.loss_ppm = f.tx.loss_ppm = loss;
    f.rx.duplicate_ppm = f.tx.duplicate_ppm = dup;
    f.rx.reorder_ppm = f.tx.reorder_ppm = reorder;
    tp_create(&p, NULL, &f);
    tp_connect(&p, &cli, &srv, &lst);
    transfer(&p, cli, srv, 1 << 20, 120000 * MS);
    transfer(&p, srv, cli, 1 << 20, 120000 * MS);
    tp_close_and_finish(&p, cli, srv, lst, 100 * MS);
}

Test(tcp_conn, transfer_with_1pct_loss_is_byte_exact)
{
    faulty_transfer(10000, 0, 0, 1);
}

Test(tcp_conn, transfer_with_5pct_loss_is_byte_exact)
{
    faulty_transfer(50000, 0, 0, 2);
}

Test(tcp_conn, transfer_with_reordering_and_duplication_is_byte_exact)
{
    faulty_transfer(0, 20000, 50000, 3);
}

Test(tcp_conn, transfer_with_everything_at_once_is_byte_exact)
{
    faulty_transfer(20000, 20000, 20000, 4);
}

/* Thousands of pushes of 1..97 bytes queued at once (the interposer's
 * small writes): segments are built across many queue entries, found by
 * the send queue's cursor, and retransmissions go back into the queue. */
Test(tcp_conn, transfer_of_tiny_pushes_with_5pct_loss_is_byte_exact)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst;
    struct fault_params f;

    memset(&f, 0, sizeof(f));
    f.seed = 5;
    f.rx.loss_ppm = f.tx.loss_ppm = 50000;
    tp_create(&p, NULL, &f);
    tp_connect(&p, &cli, &srv, &lst);
    transfer_in(&p, cli, srv, 256 * 1024, 120000 * MS, 97, true, 64 * 1024);
    transfer_in(&p, srv, cli, 256 * 1024, 120000 * MS, 97, true, 64 * 1024);
    struct stack_counters ca;
    stack_counters(p.a, &ca);
    cr_assert_gt(ca.tcp_retransmits, 0, "the loss was felt");
    tp_close_and_finish(&p, cli, srv, lst, 100 * MS);
}


/* 2,000 pushes of 5 bytes queued at once (a program writing a few bytes
 * at a time, cwnd long used up): they share the room of the mbufs before
 * them instead of holding one mbuf each, and arrive byte-exact. */
Test(tcp_conn, tiny_pushes_share_mbufs_in_the_send_queue)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst;
    uint64_t sstate = 42;
    struct xfer x = {.p = &p, .state = 42, .want = 64 * 1024 + 2000 * 5};
    unsigned before, used;

    tp_create(&p, NULL, NULL);
    tp_connect(&p, &cli, &srv, &lst);
    x.rx = srv;
    tp_send_pattern(&p, cli, &sstate, 64 * 1024); /* more than cwnd: what follows waits */
    before = t_pool_avail();
    for (int i = 0; i < 2000; i++)
        tp_send_pattern(&p, cli, &sstate, 5);
    used = before - t_pool_avail();
    cr_assert_lt(used, 100, "%u mbufs for 2000 queued pushes of 5 bytes", used);
    while (!xfer_done(&x))
        tp_run(&p, MS);
    cr_assert_eq(x.got, x.want);
    tp_close_and_finish(&p, cli, srv, lst, 100 * MS);
}

Test(tcp_conn, client_fin_first_goes_through_time_wait)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst;
    struct stack_params sp;

    stack_params_defaults(&sp);
    sp.tcp.msl_ns = 100 * MS;
    tp_create(&p, &sp, NULL);
    tp_connect(&p, &cli, &srv, &lst);
    cr_assert_eq(tcp_shutdown(cli, false, true, p.now), 0);
    tp_wait_state(&p, srv, TCPS_CLOSE_WAIT, 1000 * MS);
    cr_assert(tcp_recv_eof(srv));
    tp_wait_state(&p, cli, TCPS_FIN_WAIT_2, 1000 * MS);
    tcp_close(srv, p.now); /* srv belongs to the stack now: LAST-ACK, then freed */
    tp_wait_state(&p, cli, TCPS_TIME_WAIT, 1000 * MS);
    tp_run(&p, 10 * MS);
    cr_assert_eq(tcp_conn_count(p.b), 1, "only the listener is left on B");
    cr_assert(tcp_recv_eof(cli));
    cr_assert_eq(tcp_error(cli), 0);
    tcp_close(cli, p.now);
    /* 2 * MSL later nothing is left but the listener */
    tp_run(&p, 250 * MS);
    cr_assert_eq(tcp_conn_count(p.a), 0);
    cr_assert_eq(tcp_conn_count(p.b), 1);
    tcp_close(lst, p.now);
    tp_finish(&p);
}

Test(tcp_conn, simultaneous_close_ends_in_time_wait_on_both)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst;
    struct stack_params sp;

    stack_params_defaults(&sp);
    sp.tcp.msl_ns = 100 * MS;
    tp_create(&p, &sp, NULL);
    tp_connect(&p, &cli, &srv, &lst);
    /* both FINs leave before either arrives */
    tcp_shutdown(cli, false, true, p.now);
    tcp_shutdown(srv, false, true, p.now);
    cr_assert_eq(tcp_conn_state(cli), TCPS_FIN_WAIT_1);
    cr_assert_eq(tcp_conn_state(srv), TCPS_FIN_WAIT_1);
    tp_wait_state(&p, cli, TCPS_TIME_WAIT, 1000 * MS);
    tp_wait_state(&p, srv, TCPS_TIME_WAIT, 1000 * MS);
    tcp_close(cli, p.now);
    tcp_close(srv, p.now);
    tp_run(&p, 250 * MS);
    cr_assert_eq(tcp_conn_count(p.a), 0);
    cr_assert_eq(tcp_conn_count(p.b), 1);
    tcp_close(lst, p.now);
    tp_finish(&p);
}

Test(tcp_conn, zero_linger_close_resets_the_peer)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    tp_create(&p, NULL, NULL);
    tp_connect(&p, &cli, &srv, &lst);
    cr_assert_eq(tcp_setsockopt(cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    tcp_close(cli, p.now);
    tp_wait_state(&p, srv, TCPS_CLOSED, 1000 * MS);
    cr_assert_eq(tcp_error(srv), ECONNRESET);
    cr_assert_eq(tcp_conn_count(p.a), 0);
    tcp_close(srv, p.now);
    tcp_close(lst, p.now);
    tp_finish(&p);
}

Test(tcp_conn, connect_to_a_closed_port_is_refused)
{
    struct tcp_pair p;
    struct tcp_conn *cli;

    tp_create(&p, NULL, NULL);
    cr_assert_eq(tcp_open(p.a, NULL, NULL, &cli), 0);
    cr_assert_eq(tcp_connect(cli, B_IP, RTE_BE16(81), p.now), 0);
    tp_wait_state(&p, cli, TCPS_CLOSED, 1000 * MS);
    cr_assert_eq(tcp_error(cli), ECONNREFUSED);
    tcp_close(cli, p.now);
    tp_finish(&p);
}

Test(tcp_conn, syn_retries_back_off_then_time_out)
{
    struct tcp_pair p;
    struct tcp_conn *cli;
    struct fault_params f;
    struct stack_params sp;

    memset(&f, 0, sizeof(f));
    f.tx.loss_ppm = FAULT_PPM_MAX;
    stack_params_defaults(&sp);
    sp.tcp.syn_retries = 3;
    tp_create(&p, &sp, &f);
    cr_assert_eq(tcp_open(p.a, NULL, NULL, &cli), 0);
    uint64_t start = p.now;
    cr_assert_eq(tcp_connect(cli, B_IP, RTE_BE16(80), p.now), 0);
    tp_wait_state(&p, cli, TCPS_CLOSED, 60000 * MS);
    cr_assert_eq(tcp_error(cli), ETIMEDOUT);
    /* 1 + 2 + 4 + 8 s: the SYN and three retries, doubling (RFC 6298 5.5) */
    uint64_t took = p.now - start;
    cr_assert(took >= 15000 * MS && took <= 15100 * MS, "took %llu ms", (unsigned long long)(took / MS));
    struct stack_counters c;
    stack_counters(p.a, &c);
    cr_assert_eq(c.tcp_retransmits, 3);
    tcp_close(cli, p.now);
    tp_finish(&p);
}

Test(tcp_conn, send_before_connect_is_enotconn_and_after_shutdown_epipe)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst, *c;

    tp_create(&p, NULL, NULL);
    cr_assert_eq(tcp_open(p.a, NULL, NULL, &c), 0);
    cr_assert_eq(tcp_send(c, st_mbuf("x", 1), p.now), -ENOTCONN);
    tcp_close(c, p.now);
    tp_connect(&p, &cli, &srv, &lst);
    tcp_shutdown(cli, false, true, p.now);
    cr_assert_eq(tcp_send(cli, st_mbuf("x", 1), p.now), -EPIPE);
    cr_assert_eq(tcp_connect(cli, B_IP, RTE_BE16(80), p.now), -EISCONN);
    cr_assert_eq(tcp_listen(cli, 1), -EINVAL);
    tp_close_and_finish(&p, cli, srv, lst, 10 * MS);
}

Test(tcp_conn, bind_conflicts_follow_linux)
{
    struct tcp_pair p;
    struct tcp_conn *x, *y;
    int one = 1;

    tp_create(&p, NULL, NULL);
    cr_assert_eq(tcp_open(p.a, NULL, NULL, &x), 0);
    cr_assert_eq(tcp_open(p.a, NULL, NULL, &y), 0);
    cr_assert_eq(tcp_bind(x, 0, RTE_BE16(5000)), 0);
    cr_assert_eq(tcp_bind(x, 0, RTE_BE16(5001)), -EINVAL);
    cr_assert_eq(tcp_bind(y, 0, RTE_BE16(5000)), -EADDRINUSE);
    cr_assert_eq(tcp_bind(y, RTE_BE32(0x0a000063), RTE_BE16(5002)), -EADDRNOTAVAIL);
    tcp_close(x, p.now);
    cr_assert_eq(tcp_setsockopt(y, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    cr_assert_eq(tcp_bind(y, 0, RTE_BE16(5000)), 0);
    tcp_close(y, p.now);
    tp_finish(&p);
}

/* A connection to the stack's own address (apache's prefork master
 * connects to its own listener to wake a child) goes through the loop:
 * handshake, 256 KiB each way byte-exact, and not one frame on the wire. */
Test(tcp_conn, connect_to_own_address_goes_through_the_loop)
{
    struct tcp_pair p;
    struct tcp_conn *lst, *cli, *srv;
    struct stack_counters before, after;

    tp_create(&p, NULL, NULL);
    tp_run(&p, 10 * MS);
    stack_counters(p.b, &before);
    cr_assert_eq(tcp_open(p.b, NULL, NULL, &lst), 0);
    cr_assert_eq(tcp_bind(lst, 0, RTE_BE16(80)), 0);
    cr_assert_eq(tcp_listen(lst, 16), 0);
    cr_assert_eq(tcp_open(p.b, NULL, NULL, &cli), 0);
    cr_assert_eq(tcp_connect(cli, B_IP, RTE_BE16(80), p.now), 0);
    tp_wait_state(&p, cli, TCPS_ESTABLISHED, 1000 * MS);
    cr_assert_eq(tcp_accept(lst, &srv), 0);
    cr_assert_eq(tcp_conn_state(srv), TCPS_ESTABLISHED);
    transfer(&p, cli, srv, 256 * 1024, 10000 * MS);
    transfer(&p, srv, cli, 256 * 1024, 10000 * MS);
    stack_counters(p.b, &after);
    cr_assert_eq(after.eth_tx_frames, before.eth_tx_frames, "%llu frames went on the wire",
                 (unsigned long long)(after.eth_tx_frames - before.eth_tx_frames));
    cr_assert_gt(after.ip_loop_packets, before.ip_loop_packets + 100);
    cr_assert_eq(after.ip_drop_loop_full, 0);
    tp_close_and_finish(&p, cli, srv, lst, 100 * MS);
}

/* More datagrams to our own address than the loop holds before the next
 * poll: the rest fail with ENOBUFS and are counted; those looped arrive. */
Test(tcp_conn, loop_full_is_enobufs_and_counted)
{
    struct tcp_pair p;
    struct udp_sock *rx, *tx;
    struct stack_counters c;
    int ok = 0, nobufs = 0, got = 0;

    tp_create(&p, NULL, NULL);
    cr_assert_eq(udp_open(p.b, NULL, NULL, &rx), 0);
    cr_assert_eq(udp_bind(rx, 0, RTE_BE16(9000)), 0);
    cr_assert_eq(udp_open(p.b, NULL, NULL, &tx), 0);
    for (int i = 0; i < 300; i++) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(g_rt.pool);
        cr_assert_not_null(m);
        *(uint8_t *)rte_pktmbuf_append(m, 1) = (uint8_t)i;
        int rc = udp_sendto(tx, m, B_IP, RTE_BE16(9000), p.now);
        ok += rc == 0;
        nobufs += rc == -ENOBUFS;
    }
    cr_assert_eq(ok, 256);
    cr_assert_eq(nobufs, 44);
    stack_counters(p.b, &c);
    cr_assert_eq(c.ip_drop_loop_full, 44);
    tp_run(&p, 2 * MS);
    struct rte_mbuf *m;
    rte_be32_t src;
    rte_be16_t sport;
    while ((m = udp_recv(rx, &src, &sport)) != NULL) {
        cr_assert_eq(*rte_pktmbuf_mtod(m, uint8_t *), (uint8_t)got, "datagram %d out of order", got);
        cr_assert_eq(src, B_IP);
        rte_pktmbuf_free(m);
        got++;
    }
    cr_assert_eq(got, 256);
    udp_close(rx);
    udp_close(tx);
    tp_finish(&p);
}
