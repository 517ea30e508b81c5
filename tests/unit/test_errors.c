/* test_errors.c - every call returns exactly the error its man page lists
 * (the Demikernel man pages): ENOSYS before demi_init, EEXIST on a second init, EINVAL for NULL
 * out-pointers, bad arrays, addresses and sizes, EBADF for a descriptor
 * that is not open or not of the right kind, ETIMEDOUT on expiry, ENOMEM
 * when the pool is empty, EMFILE when queues.max are open. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <dmtr/libos.h>
#include <dmtr/sga.h>
#include <dmtr/wait.h>

#include "harness.h"

static int memq(void)
{
    int qd = -1;
    cr_assert_eq(dmtr_queue(&qd), 0);
    return qd;
}

static struct sockaddr_in addr4(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7)};
    a.sin_addr.s_addr = htonl(0x0a000001);
    return a;
}

/* ---- before demi_init ---- */

Test(errors, every_call_before_init_returns_enosys)
{
    int qd = 0, off = 0, n = 0, flag = 0;
    demi_qtoken_t qt = 1;
    demi_qresult_t qr;
    dmtr_qresult_t dqr;
    demi_sgarray_t sga = {0};
    dmtr_sgarray_t dsga = {0};
    struct sockaddr_in a = addr4();
    socklen_t len = sizeof(a);
    int v = 1;

    cr_expect_eq(demi_create_pipe(&qd, "x"), ENOSYS);
    cr_expect_eq(demi_open_pipe(&qd, "x"), ENOSYS);
    cr_expect_eq(demi_socket(&qd, AF_INET, SOCK_STREAM, 0), ENOSYS);
    cr_expect_eq(demi_bind(0, (struct sockaddr *)&a, sizeof(a)), ENOSYS);
    cr_expect_eq(demi_listen(0, 1), ENOSYS);
    cr_expect_eq(demi_accept(&qt, 0), ENOSYS);
    cr_expect_eq(demi_connect(&qt, 0, (struct sockaddr *)&a, sizeof(a)), ENOSYS);
    cr_expect_eq(demi_close(0), ENOSYS);
    cr_expect_eq(demi_push(&qt, 0, &sga), ENOSYS);
    cr_expect_eq(demi_pushto(&qt, 0, &sga, (struct sockaddr *)&a, sizeof(a)), ENOSYS);
    cr_expect_eq(demi_pop(&qt, 0), ENOSYS);
    cr_expect_eq(demi_setsockopt(0, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), ENOSYS);
    cr_expect_eq(demi_getsockopt(0, SOL_SOCKET, SO_REUSEADDR, &v, &len), ENOSYS);
    cr_expect_eq(demi_getpeername(0, (struct sockaddr *)&a, &len), ENOSYS);
    cr_expect_eq(demi_getsockname(0, (struct sockaddr *)&a, &len), ENOSYS);
    cr_expect_eq(demi_sgafree(&sga), ENOSYS);
    cr_expect_eq(demi_wait(&qr, qt, NULL), ENOSYS);
    cr_expect_eq(demi_wait_any(&qr, &off, &qt, 1, NULL), ENOSYS);
    cr_expect_eq(demi_wait_next_n(&qr, 1, &n, NULL), ENOSYS);
    errno = 0;
    sga = demi_sgaalloc(10);
    cr_expect_eq(sga.sga_numsegs, 0);
    cr_expect_eq(errno, ENOSYS);
    cr_expect_eq(dmtr_queue(&qd), ENOSYS);
    cr_expect_eq(dmtr_is_qd_valid(&flag, 0), ENOSYS);
    cr_expect_eq(dmtr_push(&qt, 0, &dsga), ENOSYS);
    cr_expect_eq(dmtr_pop(&qt, 0), ENOSYS);
    cr_expect_eq(dmtr_poll(&dqr, qt), ENOSYS);
    cr_expect_eq(dmtr_drop(qt), ENOSYS);
    cr_expect_eq(dmtr_wait(&dqr, qt), ENOSYS);
    cr_expect_eq(dmtr_wait_any(&dqr, &off, &qt, 1), ENOSYS);
    cr_expect_eq(dmtr_sgaalloc(&dsga, 10), ENOSYS);
    cr_expect_eq(dmtr_sgafree(&dsga), ENOSYS);
}

/* ---- init ---- */

Test(errors, second_init_returns_eexist)
{
    t_init();
    cr_assert_eq(demi_init(NULL), EEXIST);
}

Test(errors, init_with_negative_argc_returns_einval)
{
    struct demi_args args = {.argc = -1, .argv = NULL, .callback = NULL};
    cr_assert_eq(demi_init(&args), EINVAL);
    t_init(); /* a refused call leaves init possible */
}

Test(errors, init_with_argc_but_null_argv_returns_einval)
{
    struct demi_args args = {.argc = 2, .argv = NULL, .callback = NULL};
    cr_assert_eq(demi_init(&args), EINVAL);
}

Test(errors, init_with_bad_config_value_returns_einval)
{
    setenv("SLUICE_MBUF_COUNT", "lots", 1);
    cr_assert_eq(demi_init(NULL), EINVAL);
    unsetenv("SLUICE_MBUF_COUNT");
    t_init(); /* a config error can be fixed and init retried */
}

Test(errors, init_with_missing_config_file_returns_einval)
{
    setenv("SLUICE_CONFIG", "/nonexistent/sluice.yaml", 1);
    cr_assert_eq(demi_init(NULL), EINVAL);
}

Test(errors, init_with_program_args_succeeds)
{
    char *argv[] = {"prog", "--whatever", NULL};
    struct demi_args args = {.argc = 2, .argv = argv, .callback = NULL};
    cr_assert_eq(demi_init(&args), 0);
}

/* ---- bad descriptors ---- */

Test(errors, push_to_unopened_qd_returns_ebadf)
{
    t_init();
    demi_sgarray_t sga = t_sga_from("x", 1);
    demi_qtoken_t qt;
    cr_assert_eq(demi_push(&qt, 12345, &sga), EBADF);
    cr_assert_eq(demi_push(&qt, -1, &sga), EBADF);
    demi_sgafree(&sga);
}

Test(errors, push_to_closed_qd_returns_ebadf)
{
    t_init();
    int qd = memq();
    cr_assert_eq(demi_close(qd), 0);
    demi_sgarray_t sga = t_sga_from("x", 1);
    demi_qtoken_t qt;
    cr_assert_eq(demi_push(&qt, qd, &sga), EBADF);
    demi_sgafree(&sga);
}

Test(errors, pop_from_unopened_qd_returns_ebadf)
{
    t_init();
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, 77), EBADF);
}

Test(errors, close_twice_returns_ebadf)
{
    t_init();
    int qd = memq();
    cr_assert_eq(demi_close(qd), 0);
    cr_assert_eq(demi_close(qd), EBADF);
    cr_assert_eq(demi_close(-5), EBADF);
}

Test(errors, socket_calls_on_a_memory_queue_return_ebadf)
{
    t_init();
    int qd = memq();
    struct sockaddr_in a = addr4();
    socklen_t len = sizeof(a);
    demi_qtoken_t qt;
    int v = 1;
    demi_sgarray_t sga = t_sga_from("x", 1);
    cr_expect_eq(demi_bind(qd, (struct sockaddr *)&a, sizeof(a)), EBADF);
    cr_expect_eq(demi_listen(qd, 16), EBADF);
    cr_expect_eq(demi_accept(&qt, qd), EBADF);
    cr_expect_eq(demi_connect(&qt, qd, (struct sockaddr *)&a, sizeof(a)), EBADF);
    cr_expect_eq(demi_pushto(&qt, qd, &sga, (struct sockaddr *)&a, sizeof(a)), EBADF);
    cr_expect_eq(demi_setsockopt(qd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), EBADF);
    cr_expect_eq(demi_getsockopt(qd, SOL_SOCKET, SO_REUSEADDR, &v, &len), EBADF);
    cr_expect_eq(demi_getpeername(qd, (struct sockaddr *)&a, &len), EBADF);
    cr_expect_eq(demi_getsockname(qd, (struct sockaddr *)&a, &len), EBADF);
    demi_sgafree(&sga);
}

/* ---- NULL out-pointers ---- */

Test(errors, push_with_null_token_out_returns_einval)
{
    t_init();
    int qd = memq();
    demi_sgarray_t sga = t_sga_from("x", 1);
    cr_assert_eq(demi_push(NULL, qd, &sga), EINVAL);
    demi_sgafree(&sga);
}

Test(errors, pop_with_null_token_out_returns_einval)
{
    t_init();
    cr_assert_eq(demi_pop(NULL, memq()), EINVAL);
}

Test(errors, create_pipe_with_null_out_or_name_returns_einval)
{
    t_init();
    int qd;
    cr_assert_eq(demi_create_pipe(NULL, "n"), EINVAL);
    cr_assert_eq(demi_create_pipe(&qd, NULL), EINVAL);
    cr_assert_eq(demi_open_pipe(NULL, "n"), EINVAL);
    cr_assert_eq(demi_open_pipe(&qd, NULL), EINVAL);
}

Test(errors, dmtr_queue_with_null_out_returns_einval)
{
    t_init();
    cr_assert_eq(dmtr_queue(NULL), EINVAL);
}

/* ---- bad scatter-gather arrays ---- */

Test(errors, push_of_null_sga_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    cr_assert_eq(demi_push(&qt, memq(), NULL), EINVAL);
}

Test(errors, push_of_zero_segments_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    char b[4] = "abc";
    demi_sgarray_t sga = {.sga_numsegs = 0, .sga_segs = {{.sgaseg_buf = b, .sgaseg_len = 3}}};
    cr_assert_eq(demi_push(&qt, memq(), &sga), EINVAL);
}

Test(errors, push_of_too_many_segments_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    char b[4] = "abc";
    demi_sgarray_t sga = {.sga_numsegs = DEMI_SGARRAY_MAXSIZE + 1, .sga_segs = {{.sgaseg_buf = b, .sgaseg_len = 3}}};
    cr_assert_eq(demi_push(&qt, memq(), &sga), EINVAL);
}

Test(errors, push_of_zero_length_segment_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    char b[4] = "abc";
    demi_sgarray_t sga = {.sga_numsegs = 1, .sga_segs = {{.sgaseg_buf = b, .sgaseg_len = 0}}};
    cr_assert_eq(demi_push(&qt, memq(), &sga), EINVAL);
}

Test(errors, push_of_null_segment_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    demi_sgarray_t sga = {.sga_numsegs = 1, .sga_segs = {{.sgaseg_buf = NULL, .sgaseg_len = 3}}};
    cr_assert_eq(demi_push(&qt, memq(), &sga), EINVAL);
}

Test(errors, push_of_foreign_sga_buf_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    char b[64] = "abc";
    demi_sgarray_t sga = {.sga_buf = b, .sga_numsegs = 1, .sga_segs = {{.sgaseg_buf = b, .sgaseg_len = 3}}};
    cr_assert_eq(demi_push(&qt, memq(), &sga), EINVAL);
}

Test(errors, push_of_freed_sga_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    demi_sgarray_t sga = t_sga_from("abc", 3);
    cr_assert_eq(demi_sgafree(&sga), 0);
    cr_assert_eq(demi_push(&qt, memq(), &sga), EINVAL);
}

Test(errors, push_of_segment_outside_its_array_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    demi_sgarray_t sga = t_sga_from("abc", 3);
    demi_sgarray_t bad = sga;
    bad.sga_segs[0].sgaseg_len = 1u << 20;
    cr_assert_eq(demi_push(&qt, memq(), &bad), EINVAL);
    bad = sga;
    bad.sga_segs[0].sgaseg_buf = (char *)sga.sga_segs[0].sgaseg_buf + 100000;
    cr_assert_eq(demi_push(&qt, memq(), &bad), EINVAL);
    cr_assert_eq(demi_sgafree(&sga), 0);
}

Test(errors, sgaalloc_of_zero_bytes_returns_einval)
{
    t_init();
    errno = 0;
    demi_sgarray_t sga = demi_sgaalloc(0);
    cr_assert_eq(sga.sga_numsegs, 0);
    cr_assert_null(sga.sga_buf);
    cr_assert_eq(errno, EINVAL);
}

Test(errors, sgaalloc_above_1GiB_returns_einval)
{
    t_init();
    errno = 0;
    demi_sgarray_t sga = demi_sgaalloc((1u << 30) + 1);
    cr_assert_eq(sga.sga_numsegs, 0);
    cr_assert_eq(errno, EINVAL);
}

Test(errors, sgaalloc_with_pool_empty_returns_enomem)
{
    setenv("SLUICE_MBUF_COUNT", "1023", 1);
    setenv("SLUICE_MBUF_CACHE", "0", 1);
    t_init();
    static demi_sgarray_t held[2048];
    int n = 0;
    for (; n < 2048; n++) {
        errno = 0;
        held[n] = demi_sgaalloc(8);
        if (held[n].sga_numsegs == 0)
            break;
    }
    cr_assert_eq(n, 1023, "the pool holds 1023 mbufs, got %d", n);
    cr_assert_eq(errno, ENOMEM);
    /* a push that must copy also fails cleanly, losing nothing */
    demi_qtoken_t qt;
    char b[4] = "abc";
    demi_sgarray_t app = {.sga_numsegs = 1, .sga_segs = {{.sgaseg_buf = b, .sgaseg_len = 3}}};
    int qd = memq();
    cr_assert_eq(demi_push(&qt, qd, &app), ENOMEM);
    for (int i = 0; i < n; i++)
        cr_assert_eq(demi_sgafree(&held[i]), 0);
    cr_assert_eq(t_pool_avail(), 1023);
    cr_assert_eq(demi_push(&qt, qd, &app), 0, "works again once memory is back");
}

Test(errors, sgafree_of_null_returns_einval)
{
    t_init();
    cr_assert_eq(demi_sgafree(NULL), EINVAL);
}

Test(errors, sgafree_twice_returns_einval)
{
    t_init();
    demi_sgarray_t sga = demi_sgaalloc(10);
    cr_assert_eq(demi_sgafree(&sga), 0);
    cr_assert_eq(demi_sgafree(&sga), EINVAL);
}

Test(errors, sgafree_of_foreign_array_returns_einval)
{
    t_init();
    char b[64];
    demi_sgarray_t sga = {.sga_buf = b, .sga_numsegs = 1, .sga_segs = {{.sgaseg_buf = b, .sgaseg_len = 3}}};
    cr_assert_eq(demi_sgafree(&sga), EINVAL);
    sga.sga_buf = NULL;
    cr_assert_eq(demi_sgafree(&sga), EINVAL);
}

/* ---- waits ---- */

Test(errors, wait_with_null_result_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, memq()), 0);
    cr_assert_eq(demi_wait(NULL, qt, NULL), EINVAL);
}

Test(errors, wait_on_unknown_token_returns_einval)
{
    t_init();
    demi_qresult_t qr;
    cr_assert_eq(demi_wait(&qr, 0, NULL), EINVAL);
    cr_assert_eq(demi_wait(&qr, 0xdeadbeef12345678ull, NULL), EINVAL);
}

Test(errors, wait_with_bad_timeout_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    demi_qresult_t qr;
    cr_assert_eq(demi_pop(&qt, memq()), 0);
    struct timespec neg = {.tv_sec = -1, .tv_nsec = 0}, big = {.tv_sec = 0, .tv_nsec = 1000000000L};
    cr_assert_eq(demi_wait(&qr, qt, &neg), EINVAL);
    cr_assert_eq(demi_wait(&qr, qt, &big), EINVAL);
}

Test(errors, wait_expiry_returns_etimedout)
{
    t_init();
    demi_qtoken_t qt;
    demi_qresult_t qr;
    cr_assert_eq(demi_pop(&qt, memq()), 0);
    struct timespec ts = t_ms(5);
    cr_assert_eq(demi_wait(&qr, qt, &ts), ETIMEDOUT);
}

Test(errors, wait_any_with_bad_arguments_returns_einval)
{
    t_init();
    demi_qtoken_t qts[2];
    demi_qresult_t qr;
    int off;
    int qd = memq();
    cr_assert_eq(demi_pop(&qts[0], qd), 0);
    qts[1] = 99;
    cr_expect_eq(demi_wait_any(NULL, &off, qts, 1, NULL), EINVAL);
    cr_expect_eq(demi_wait_any(&qr, NULL, qts, 1, NULL), EINVAL);
    cr_expect_eq(demi_wait_any(&qr, &off, NULL, 1, NULL), EINVAL);
    cr_expect_eq(demi_wait_any(&qr, &off, qts, 0, NULL), EINVAL);
    cr_expect_eq(demi_wait_any(&qr, &off, qts, -3, NULL), EINVAL);
    cr_expect_eq(demi_wait_any(&qr, &off, qts, 2, NULL), EINVAL, "one unknown token in the list");
}

Test(errors, wait_any_expiry_returns_etimedout)
{
    t_init();
    demi_qtoken_t qt;
    demi_qresult_t qr;
    int off;
    cr_assert_eq(demi_pop(&qt, memq()), 0);
    struct timespec ts = t_ms(5);
    cr_assert_eq(demi_wait_any(&qr, &off, &qt, 1, &ts), ETIMEDOUT);
}

Test(errors, wait_next_n_with_bad_arguments_returns_einval)
{
    t_init();
    demi_qresult_t qr[2];
    int n;
    cr_expect_eq(demi_wait_next_n(NULL, 1, &n, NULL), EINVAL);
    cr_expect_eq(demi_wait_next_n(qr, 0, &n, NULL), EINVAL);
    cr_expect_eq(demi_wait_next_n(qr, 1, NULL, NULL), EINVAL);
    cr_expect_eq(demi_wait_next_n(qr, 1, &n, NULL), EINVAL, "nothing outstanding: it could never return");
}

Test(errors, closed_queue_token_completes_failed_ecanceled)
{
    t_init();
    int qd = memq();
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, qd), 0);
    cr_assert_eq(demi_close(qd), 0);
    demi_qresult_t qr = t_wait(qt);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ECANCELED);
    cr_assert_eq(qr.qr_qd, qd);
    cr_assert_eq(qr.qr_qt, qt);
}

/* ---- sockets (arguments are checked; the stack has not landed) ---- */

Test(errors, socket_with_null_out_returns_einval)
{
    t_init();
    cr_assert_eq(demi_socket(NULL, AF_INET, SOCK_STREAM, 0), EINVAL);
}

Test(errors, socket_of_other_domain_returns_eafnosupport)
{
    t_init();
    int qd;
    cr_assert_eq(demi_socket(&qd, AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);
    cr_assert_eq(demi_socket(&qd, AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT);
}

Test(errors, socket_of_other_type_or_protocol_returns_eprotonosupport)
{
    t_init();
    int qd;
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
}

Test(errors, stream_socket_without_a_device_returns_enetdown)
{
    setenv("SLUICE_NET_DEVARGS", "net_af_packet9,iface=sl-absent-if", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "100", 1);
    t_init();
    int qd;
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_STREAM, 0), ENETDOWN);
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_STREAM, IPPROTO_TCP), ENETDOWN);
}

Test(errors, datagram_socket_without_a_device_returns_enetdown)
{
    setenv("SLUICE_NET_DEVARGS", "net_af_packet9,iface=sl-absent-if", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "100", 1);
    t_init();
    int qd;
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_DGRAM, IPPROTO_UDP), ENETDOWN);
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_DGRAM, 0), ENETDOWN, "tried again, same answer");
    cr_assert_eq(dmtr_queue(&qd), 0, "queues still work");
}

Test(errors, bind_with_bad_address_or_size_returns_einval)
{
    t_init();
    struct sockaddr_in a = addr4();
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    cr_expect_eq(demi_bind(0, NULL, sizeof(a)), EINVAL);
    cr_expect_eq(demi_bind(0, (struct sockaddr *)&a, sizeof(a) - 1), EINVAL);
    cr_expect_eq(demi_bind(0, (struct sockaddr *)&a6, sizeof(a6)), EINVAL);
}

Test(errors, listen_with_negative_backlog_returns_einval)
{
    t_init();
    cr_assert_eq(demi_listen(memq(), -1), EINVAL);
}

Test(errors, accept_with_null_token_out_returns_einval)
{
    t_init();
    cr_assert_eq(demi_accept(NULL, memq()), EINVAL);
}

Test(errors, connect_with_bad_arguments_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    struct sockaddr_in a = addr4();
    cr_expect_eq(demi_connect(NULL, 0, (struct sockaddr *)&a, sizeof(a)), EINVAL);
    cr_expect_eq(demi_connect(&qt, 0, NULL, sizeof(a)), EINVAL);
    cr_expect_eq(demi_connect(&qt, 0, (struct sockaddr *)&a, 4), EINVAL);
}

Test(errors, pushto_with_bad_arguments_returns_einval)
{
    t_init();
    demi_qtoken_t qt;
    struct sockaddr_in a = addr4();
    demi_sgarray_t sga = t_sga_from("x", 1);
    demi_sgarray_t empty = {0};
    cr_expect_eq(demi_pushto(NULL, 0, &sga, (struct sockaddr *)&a, sizeof(a)), EINVAL);
    cr_expect_eq(demi_pushto(&qt, 0, NULL, (struct sockaddr *)&a, sizeof(a)), EINVAL);
    cr_expect_eq(demi_pushto(&qt, 0, &empty, (struct sockaddr *)&a, sizeof(a)), EINVAL);
    cr_expect_eq(demi_pushto(&qt, 0, &sga, NULL, sizeof(a)), EINVAL);
    cr_expect_eq(demi_pushto(&qt, 0, &sga, (struct sockaddr *)&a, 0), EINVAL);
    demi_sgafree(&sga);
}

Test(errors, socket_options_and_names_with_null_pointers_return_einval)
{
    t_init();
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int v = 1;
    cr_expect_eq(demi_setsockopt(0, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(v)), EINVAL);
    cr_expect_eq(demi_setsockopt(0, SOL_SOCKET, SO_REUSEADDR, &v, 0), EINVAL);
    cr_expect_eq(demi_getsockopt(0, SOL_SOCKET, SO_REUSEADDR, NULL, &len), EINVAL);
    cr_expect_eq(demi_getsockopt(0, SOL_SOCKET, SO_REUSEADDR, &v, NULL), EINVAL);
    cr_expect_eq(demi_getpeername(0, NULL, &len), EINVAL);
    cr_expect_eq(demi_getpeername(0, (struct sockaddr *)&a, NULL), EINVAL);
    cr_expect_eq(demi_getsockname(0, NULL, &len), EINVAL);
    cr_expect_eq(demi_getsockname(0, (struct sockaddr *)&a, NULL), EINVAL);
}

/* ---- pipes ---- */

Test(errors, pipe_with_bad_name_returns_einval)
{
    t_init();
    int qd;
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    cr_expect_eq(demi_create_pipe(&qd, ""), EINVAL);
    cr_expect_eq(demi_create_pipe(&qd, "a/b"), EINVAL);
    cr_expect_eq(demi_create_pipe(&qd, longname), EINVAL);
    cr_expect_eq(demi_open_pipe(&qd, "../etc"), EINVAL);
}

Test(errors, create_pipe_twice_returns_eexist)
{
    t_init();
    int a, b;
    cr_assert_eq(demi_create_pipe(&a, t_pipe_name("dup")), 0);
    cr_assert_eq(demi_create_pipe(&b, t_pipe_name("dup")), EEXIST);
}

Test(errors, open_missing_pipe_returns_enoent)
{
    t_init();
    int qd;
    cr_assert_eq(demi_open_pipe(&qd, t_pipe_name("missing")), ENOENT);
}

Test(errors, second_open_of_a_pipe_is_refused)
{
    t_init();
    int a, b, c;
    cr_assert_eq(demi_create_pipe(&a, t_pipe_name("busy")), 0);
    cr_assert_eq(demi_open_pipe(&b, t_pipe_name("busy")), 0);
    int rc = demi_open_pipe(&c, t_pipe_name("busy"));
    /* the first opener unlinked the name, so a late opener finds nothing */
    cr_assert(rc == EBUSY || rc == ENOENT, "got %d", rc);
}

/* ---- limits ---- */

Test(errors, opening_more_than_queues_max_returns_emfile)
{
    setenv("SLUICE_QUEUES_MAX", "16", 1);
    t_init();
    int qd;
    for (int i = 0; i < 16; i++)
        cr_assert_eq(dmtr_queue(&qd), 0);
    cr_assert_eq(dmtr_queue(&qd), EMFILE);
    cr_assert_eq(demi_create_pipe(&qd, t_pipe_name("emfile")), EMFILE);
    cr_assert_eq(demi_close(3), 0);
    cr_assert_eq(dmtr_queue(&qd), 0);
    cr_assert_eq(qd, 3);
}

Test(errors, dmtr_poll_of_pending_token_returns_eagain)
{
    t_init();
    dmtr_qtoken_t qt;
    dmtr_qresult_t qr;
    int qd = memq();
    cr_assert_eq(dmtr_pop(&qt, qd), 0);
    cr_assert_eq(dmtr_poll(&qr, qt), EAGAIN);
    cr_assert_eq(dmtr_poll(&qr, qt), EAGAIN, "still valid after EAGAIN");
    cr_assert_eq(dmtr_drop(qt), 0);
}
