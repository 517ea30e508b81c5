/* test_tcp_socket.c - the stream socket queue through the demi API, on a
 * network whose device answers nothing (DPDK's net_null with no-rx: frames
 * sent vanish, none arrive). Covers every error a call can return without
 * a peer: EBADF, EINVAL for NULL pointers and bad addresses, a negative
 * backlog, accept on a socket that does not listen, connect to an address
 * that cannot be reached, zero-length pushes, ENOTCONN, ENOPROTOOPT, and
 * what demi_close does to pending operations. The handshake, data and
 * every close path are tested against Linux in
 * tests/integration/tcp_linux.sh. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <dmtr/libos.h>
#include <sluice/socket.h>

#include "harness.h"

/* demi_init with the null device as the network; asserts success. */
static void t_init_null_net(void)
{
    setenv("SLUICE_NET_DEVARGS", "net_null0,no-rx=1", 1);
    setenv("SLUICE_NET_ADDR", "10.0.0.2", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "1000", 1);
    t_init();
}

/* A new stream socket; asserts success. */
static int tcp_sock(void)
{
    int qd = -1, rc = demi_socket(&qd, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    cr_assert_eq(rc, 0, "demi_socket(SOCK_STREAM): %d (%s)", rc, strerror(rc));
    return qd;
}

static struct sockaddr_in sin4(uint32_t host_addr, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(host_addr);
    return a;
}

#define SA(p) ((struct sockaddr *)(p))

/* A stream socket listening on port; asserts success. */
static int listener(uint16_t port)
{
    int qd = tcp_sock();
    struct sockaddr_in a = sin4(0, port);
    cr_assert_eq(demi_bind(qd, SA(&a), sizeof(a)), 0);
    cr_assert_eq(demi_listen(qd, 16), 0);
    return qd;
}

/* Waits at most ms for qt; asserts it completed. */
static demi_qresult_t wait_ms(demi_qtoken_t qt, long ms)
{
    demi_qresult_t qr;
    struct timespec ts = t_ms(ms);
    int rc = demi_wait(&qr, qt, &ts);
    cr_assert_eq(rc, 0, "demi_wait: %d (%s)", rc, strerror(rc));
    return qr;
}

Test(tcp_socket, stream_socket_is_made_with_either_protocol)
{
    t_init_null_net();
    int a, b;
    cr_assert_eq(demi_socket(&a, AF_INET, SOCK_STREAM, 0), 0);
    cr_assert_eq(demi_socket(&b, AF_INET, SOCK_STREAM, IPPROTO_TCP), 0);
    cr_assert_neq(a, b);
    cr_assert_eq(demi_close(a), 0);
    cr_assert_eq(demi_close(b), 0);
    cr_assert_eq(demi_close(a), EBADF, "closed twice");
}

Test(tcp_socket, calls_on_a_bad_qd_return_ebadf)
{
    t_init_null_net();
    int qd = tcp_sock();
    cr_assert_eq(demi_close(qd), 0);
    struct sockaddr_in a = sin4(0x0a000001, 80);
    socklen_t len = sizeof(a);
    demi_qtoken_t qt;
    int v = 1;
    demi_sgarray_t sga = t_sga_from("x", 1);
    for (int bad = 0; bad < 2; bad++) {
        int q = bad ? -1 : qd; /* a closed descriptor, a negative one */
        cr_expect_eq(demi_bind(q, SA(&a), sizeof(a)), EBADF);
        cr_expect_eq(demi_listen(q, 1), EBADF);
        cr_expect_eq(demi_accept(&qt, q), EBADF);
        cr_expect_eq(demi_connect(&qt, q, SA(&a), sizeof(a)), EBADF);
        cr_expect_eq(demi_push(&qt, q, &sga), EBADF);
        cr_expect_eq(demi_pushto(&qt, q, &sga, SA(&a), sizeof(a)), EBADF);
        cr_expect_eq(demi_pop(&qt, q), EBADF);
        cr_expect_eq(demi_setsockopt(q, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), EBADF);
        cr_expect_eq(demi_getsockopt(q, SOL_SOCKET, SO_REUSEADDR, &v, &len), EBADF);
        cr_expect_eq(demi_getpeername(q, SA(&a), &len), EBADF);
        cr_expect_eq(demi_getsockname(q, SA(&a), &len), EBADF);
        cr_expect_eq(demi_close(q), EBADF);
    }
    demi_sgafree(&sga);
}

Test(tcp_socket, null_pointers_return_einval)
{
    t_init_null_net();
    int qd = tcp_sock();
    struct sockaddr_in a = sin4(0x0a000001, 80);
    socklen_t len = sizeof(a);
    demi_qtoken_t qt;
    int v = 1;
    demi_sgarray_t sga = t_sga_from("x", 1);
    cr_expect_eq(demi_socket(NULL, AF_INET, SOCK_STREAM, 0), EINVAL);
    cr_expect_eq(demi_bind(qd, NULL, sizeof(a)), EINVAL);
    cr_expect_eq(demi_accept(NULL, qd), EINVAL);
    cr_expect_eq(demi_connect(NULL, qd, SA(&a), sizeof(a)), EINVAL);
    cr_expect_eq(demi_connect(&qt, qd, NULL, sizeof(a)), EINVAL);
    cr_expect_eq(demi_push(NULL, qd, &sga), EINVAL);
    cr_expect_eq(demi_push(&qt, qd, NULL), EINVAL);
    cr_expect_eq(demi_pushto(&qt, qd, &sga, NULL, sizeof(a)), EINVAL);
    cr_expect_eq(demi_pop(NULL, qd), EINVAL);
    cr_expect_eq(demi_setsockopt(qd, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(v)), EINVAL);
    cr_expect_eq(demi_getsockopt(qd, SOL_SOCKET, SO_REUSEADDR, NULL, &len), EINVAL);
    cr_expect_eq(demi_getsockopt(qd, SOL_SOCKET, SO_REUSEADDR, &v, NULL), EINVAL);
    cr_expect_eq(demi_getpeername(qd, NULL, &len), EINVAL);
    cr_expect_eq(demi_getsockname(qd, SA(&a), NULL), EINVAL);
    demi_sgafree(&sga);
}

Test(tcp_socket, listen_with_negative_backlog_returns_einval)
{
    t_init_null_net();
    int qd = tcp_sock();
    cr_assert_eq(demi_listen(qd, -1), EINVAL);
    cr_assert_eq(demi_listen(qd, 0), 0, "0 is allowed (means 1)");
    cr_assert_eq(demi_listen(qd, 100000), 0, "a listener may change its backlog; large ones are capped");
}

Test(tcp_socket, listen_binds_an_ephemeral_port)
{
    t_init_null_net();
    int qd = tcp_sock();
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    cr_assert_eq(demi_getsockname(qd, SA(&a), &len), 0);
    cr_assert_eq(len, sizeof(a));
    cr_assert_eq(a.sin_port, 0, "unbound: port 0");
    cr_assert_eq(demi_listen(qd, 4), 0);
    len = sizeof(a);
    cr_assert_eq(demi_getsockname(qd, SA(&a), &len), 0);
    cr_assert_neq(a.sin_port, 0);
}

Test(tcp_socket, accept_on_a_socket_that_does_not_listen_returns_einval)
{
    t_init_null_net();
    int qd = tcp_sock();
    demi_qtoken_t qt;
    cr_assert_eq(demi_accept(&qt, qd), EINVAL, "fresh socket");
    struct sockaddr_in a = sin4(0, 7001);
    cr_assert_eq(demi_bind(qd, SA(&a), sizeof(a)), 0);
    cr_assert_eq(demi_accept(&qt, qd), EINVAL, "bound, not listening");
}

Test(tcp_socket, accept_and_listen_on_a_datagram_socket_return_eopnotsupp)
{
    t_init_null_net();
    int qd;
    demi_qtoken_t qt;
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(demi_listen(qd, 1), EOPNOTSUPP);
    cr_assert_eq(demi_accept(&qt, qd), EOPNOTSUPP);
}

Test(tcp_socket, connect_with_a_bad_address_returns_einval)
{
    t_init_null_net();
    int qd = tcp_sock();
    demi_qtoken_t qt;
    struct sockaddr_in a = sin4(0x0a000001, 80);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
    cr_expect_eq(demi_connect(&qt, qd, SA(&a), sizeof(a) - 1), EINVAL, "short size");
    cr_expect_eq(demi_connect(&qt, qd, SA(&a6), sizeof(a6)), EINVAL, "AF_INET6");
    a.sin_family = AF_UNIX;
    cr_expect_eq(demi_connect(&qt, qd, SA(&a), sizeof(a)), EINVAL, "AF_UNIX");
}

Test(tcp_socket, connect_to_an_unreachable_address_returns_enetunreach)
{
    t_init_null_net();
    int qd = tcp_sock();
    demi_qtoken_t qt;
    struct sockaddr_in any = sin4(0, 80), bcast = sin4(0xffffffff, 80), far = sin4(0xc0000201, 80);
    cr_expect_eq(demi_connect(&qt, qd, SA(&any), sizeof(any)), ENETUNREACH, "0.0.0.0");
    cr_expect_eq(demi_connect(&qt, qd, SA(&bcast), sizeof(bcast)), ENETUNREACH, "broadcast");
    cr_expect_eq(demi_connect(&qt, qd, SA(&far), sizeof(far)), ENETUNREACH, "off-link, no gateway");
}

Test(tcp_socket, connect_on_a_listener_returns_einval)
{
    t_init_null_net();
    int qd = listener(7002);
    demi_qtoken_t qt;
    struct sockaddr_in a = sin4(0x0a000001, 80);
    cr_assert_eq(demi_connect(&qt, qd, SA(&a), sizeof(a)), EINVAL);
}

Test(tcp_socket, second_connect_while_connecting_returns_ealready)
{
    t_init_null_net();
    int qd = tcp_sock();
    demi_qtoken_t qt, qt2;
    struct sockaddr_in a = sin4(0x0a000001, 80);
    cr_assert_eq(demi_connect(&qt, qd, SA(&a), sizeof(a)), 0, "the SYN waits for ARP: nobody answers");
    cr_assert_eq(demi_connect(&qt2, qd, SA(&a), sizeof(a)), EALREADY);
    demi_qresult_t qr;
    struct timespec zero = t_ms(0);
    cr_assert_eq(demi_wait(&qr, qt, &zero), ETIMEDOUT, "still connecting");
}

Test(tcp_socket, close_while_connecting_cancels_the_connect)
{
    t_init_null_net();
    int qd = tcp_sock();
    demi_qtoken_t cqt, pqt;
    struct sockaddr_in a = sin4(0x0a000001, 80);
    cr_assert_eq(demi_connect(&cqt, qd, SA(&a), sizeof(a)), 0);
    cr_assert_eq(demi_pop(&pqt, qd), 0, "a pop may wait for the handshake");
    cr_assert_eq(demi_close(qd), 0);
    demi_qresult_t qr = wait_ms(cqt, 1000);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ECANCELED);
    cr_assert_eq(qr.qr_qd, qd);
    qr = wait_ms(pqt, 1000);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ECANCELED);
}

Test(tcp_socket, close_of_a_listener_cancels_its_accepts)
{
    t_init_null_net();
    int qd = listener(7003);
    demi_qtoken_t qt;
    cr_assert_eq(demi_accept(&qt, qd), 0);
    struct timespec zero = t_ms(0);
    demi_qresult_t qr;
    cr_assert_eq(demi_wait(&qr, qt, &zero), ETIMEDOUT, "nobody connects");
    cr_assert_eq(demi_close(qd), 0);
    qr = wait_ms(qt, 1000);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ECANCELED);
}

Test(tcp_socket, push_of_a_zero_length_sga_returns_einval)
{
    t_init_null_net();
    int qd = tcp_sock();
    demi_qtoken_t qt;
    char byte = 'x';
    demi_sgarray_t empty = {.sga_numsegs = 1, .sga_segs = {{.sgaseg_buf = &byte, .sgaseg_len = 0}}};
    demi_sgarray_t none = {0};
    struct sockaddr_in a = sin4(0x0a000001, 80);
    cr_expect_eq(demi_push(&qt, qd, &empty), EINVAL);
    cr_expect_eq(demi_push(&qt, qd, &none), EINVAL, "no segment");
    cr_expect_eq(demi_pushto(&qt, qd, &empty, SA(&a), sizeof(a)), EINVAL);
}

Test(tcp_socket, push_and_pop_on_an_unconnected_socket_fail_enotconn)
{
    t_init_null_net();
    int qd = tcp_sock();
    demi_qtoken_t qt;
    demi_sgarray_t sga = t_sga_from("hello", 5);
    unsigned before = t_pool_avail();
    cr_assert_eq(demi_push(&qt, qd, &sga), 0);
    demi_qresult_t qr = wait_ms(qt, 1000);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ENOTCONN);
    struct sockaddr_in a = sin4(0x0a000001, 80);
    cr_assert_eq(demi_pushto(&qt, qd, &sga, SA(&a), sizeof(a)), 0, "pushto on a stream is a push");
    qr = wait_ms(qt, 1000);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ENOTCONN);
    cr_assert_eq(t_pool_avail(), before, "the refused bytes' mbufs came back");
    cr_assert_eq(demi_pop(&qt, qd), 0);
    qr = wait_ms(qt, 1000);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ENOTCONN);
    cr_assert_eq(demi_sgafree(&sga), 0);
}

Test(tcp_socket, pop_on_a_listener_fails_enotconn)
{
    t_init_null_net();
    int qd = listener(7004);
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, qd), 0);
    demi_qresult_t qr = wait_ms(qt, 1000);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ENOTCONN);
}

Test(tcp_socket, getpeername_on_an_unconnected_socket_returns_enotconn)
{
    t_init_null_net();
    int qd = tcp_sock(), l = listener(7005);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    cr_expect_eq(demi_getpeername(qd, SA(&a), &len), ENOTCONN);
    cr_expect_eq(demi_getpeername(l, SA(&a), &len), ENOTCONN, "a listener has no peer");
}

Test(tcp_socket, getsockname_after_bind_reports_the_port)
{
    t_init_null_net();
    int qd = tcp_sock();
    struct sockaddr_in a = sin4(0x0a000002, 7006), got;
    socklen_t len = sizeof(got);
    cr_assert_eq(demi_bind(qd, SA(&a), sizeof(a)), 0);
    cr_assert_eq(demi_getsockname(qd, SA(&got), &len), 0);
    cr_assert_eq(got.sin_family, AF_INET);
    cr_assert_eq(got.sin_port, htons(7006));
    cr_assert_eq(got.sin_addr.s_addr, htonl(0x0a000002));
}

Test(tcp_socket, bind_errors)
{
    t_init_null_net();
    int a = tcp_sock(), b = tcp_sock(), c = tcp_sock();
    struct sockaddr_in p = sin4(0, 7007), notours = sin4(0x0a000063, 7008);
    cr_expect_eq(demi_bind(a, SA(&p), sizeof(p)), 0);
    cr_expect_eq(demi_bind(a, SA(&p), sizeof(p)), EINVAL, "already bound");
    cr_expect_eq(demi_bind(b, SA(&p), sizeof(p)), EADDRINUSE);
    cr_expect_eq(demi_bind(c, SA(&notours), sizeof(notours)), EADDRNOTAVAIL);
}

Test(tcp_socket, unknown_socket_options_return_enoprotoopt)
{
    t_init_null_net();
    int qd = tcp_sock(), udp, v = 1;
    socklen_t len = sizeof(v);
    cr_expect_eq(demi_setsockopt(qd, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)), ENOPROTOOPT);
    cr_expect_eq(demi_setsockopt(qd, IPPROTO_TCP, 9999, &v, sizeof(v)), ENOPROTOOPT);
    cr_expect_eq(demi_setsockopt(qd, 4242, SO_REUSEADDR, &v, sizeof(v)), ENOPROTOOPT, "unknown level");
    cr_expect_eq(demi_getsockopt(qd, IPPROTO_TCP, 9999, &v, &len), ENOPROTOOPT);
    cr_assert_eq(demi_socket(&udp, AF_INET, SOCK_DGRAM, 0), 0);
    cr_expect_eq(demi_setsockopt(udp, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)), ENOPROTOOPT, "UDP: not this one");
    cr_expect_eq(demi_setsockopt(udp, IPPROTO_UDP, SO_REUSEADDR, &v, sizeof(v)), ENOPROTOOPT, "UDP: wrong level");
    cr_expect_eq(demi_getsockopt(udp, SOL_SOCKET, SO_KEEPALIVE, &v, &len), ENOPROTOOPT);
}

/* demi_setsockopt on a UDP socket reaches the stack: a second bind to the
 * port succeeds only when both sockets set the option (socket(7)). */
Test(tcp_socket, udp_reuse_options_reach_the_stack)
{
    t_init_null_net();
    int a, b, c, on = 1, got = 0;
    socklen_t len = sizeof(got);
    struct sockaddr_in p = sin4(0, 7100);
    cr_assert_eq(demi_socket(&a, AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(demi_socket(&b, AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(demi_socket(&c, AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(demi_setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
    cr_assert_eq(demi_getsockopt(a, SOL_SOCKET, SO_REUSEADDR, &got, &len), 0);
    cr_expect_eq(got, 1);
    cr_expect_eq(demi_setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &on, 2), EINVAL, "shorter than an int");
    cr_assert_eq(demi_bind(a, SA(&p), sizeof(p)), 0);
    cr_expect_eq(demi_bind(b, SA(&p), sizeof(p)), EADDRINUSE, "b has no SO_REUSEADDR");
    cr_assert_eq(demi_setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
    cr_expect_eq(demi_bind(b, SA(&p), sizeof(p)), 0);
    cr_assert_eq(demi_setsockopt(c, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)), 0);
    cr_expect_eq(demi_bind(c, SA(&p), sizeof(p)), EADDRINUSE, "SO_REUSEPORT only on c");
    cr_assert_eq(demi_close(a), 0);
    cr_assert_eq(demi_close(b), 0);
    cr_expect_eq(demi_bind(c, SA(&p), sizeof(p)), 0, "the port is free once both are closed");
}

Test(tcp_socket, known_socket_options_round_trip)
{
    t_init_null_net();
    int qd = tcp_sock(), v = 1, got = 0;
    socklen_t len = sizeof(got);
    cr_assert_eq(demi_setsockopt(qd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), 0);
    cr_assert_eq(demi_getsockopt(qd, SOL_SOCKET, SO_REUSEADDR, &got, &len), 0);
    cr_assert_eq(len, sizeof(int));
    cr_assert_neq(got, 0);
    len = sizeof(got);
    cr_assert_eq(demi_getsockopt(qd, SOL_SOCKET, SO_TYPE, &got, &len), 0);
    cr_assert_eq(got, SOCK_STREAM);
    cr_assert_eq(demi_setsockopt(qd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), 0);
    cr_expect_eq(demi_setsockopt(qd, IPPROTO_TCP, TCP_NODELAY, &v, 2), EINVAL, "int option, short optlen");
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    cr_assert_eq(demi_setsockopt(qd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
}

Test(tcp_socket, second_listener_on_a_port_returns_eaddrinuse)
{
    t_init_null_net();
    int a = listener(7009), b = tcp_sock(), v = 1;
    struct sockaddr_in p = sin4(0, 7009);
    (void)a;
    cr_assert_eq(demi_setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), 0);
    int rc = demi_bind(b, SA(&p), sizeof(p));
    if (rc == 0)
        rc = demi_listen(b, 1);
    cr_assert_eq(rc, EADDRINUSE);
}

Test(tcp_socket, dmtr_connect_returns_the_immediate_error)
{
    t_init_null_net();
    int qd = tcp_sock();
    struct sockaddr_in any = sin4(0, 80);
    cr_assert_eq(dmtr_connect(qd, SA(&any), sizeof(any)), ENETUNREACH);
}

Test(tcp_socket, shutdown_errors)
{
    t_init_null_net();
    int qd = tcp_sock(), l = listener(7010), udp = -1, pq[2];
    cr_assert_eq(demi_socket(&udp, AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(sluice_shutdown(-1, SHUT_WR), EBADF);
    cr_assert_eq(sluice_shutdown(4242, SHUT_WR), EBADF);
    cr_assert_eq(dmtr_queue(&pq[0]), 0);
    cr_assert_eq(sluice_shutdown(pq[0], SHUT_WR), EBADF, "a memory queue is no socket");
    cr_assert_eq(sluice_shutdown(qd, 7), EINVAL);
    cr_assert_eq(sluice_shutdown(qd, -1), EINVAL);
    cr_assert_eq(sluice_shutdown(udp, SHUT_WR), EOPNOTSUPP);
    cr_assert_eq(sluice_shutdown(qd, SHUT_WR), ENOTCONN, "never connected");
    cr_assert_eq(sluice_shutdown(qd, SHUT_RDWR), ENOTCONN);
    cr_assert_eq(sluice_shutdown(l, SHUT_RD), ENOTCONN, "a listener");
}

Test(tcp_socket, shutdown_while_connecting_ends_the_attempt)
{
    t_init_null_net();
    int qd = tcp_sock();
    demi_qtoken_t qt;
    struct sockaddr_in a = sin4(0x0a000001, 80);
    cr_assert_eq(demi_connect(&qt, qd, SA(&a), sizeof(a)), 0);
    /* RFC 9293 §3.10.4: CLOSE (here: SHUT_WR) in SYN-SENT deletes the TCB */
    cr_assert_eq(sluice_shutdown(qd, SHUT_WR), 0);
    demi_qresult_t qr = wait_ms(qt, 1000);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ECONNABORTED, "connect: %d", (int)qr.qr_ret);
    cr_assert_eq(sluice_shutdown(qd, SHUT_WR), ENOTCONN, "nothing left to shut down");
}
