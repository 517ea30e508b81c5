/* test_mtcp.c - mTCP's API (mtcp/, docs/mtcp.md) through its installed
 * headers: the config file (mtcp_config), every error of every call, one
 * test each (mtcp_errors), and the semantics that need no peer, over
 * mtcp_pipe: epoll level- and edge-triggered and oneshot, MSG_PEEK, end of
 * file, two contexts on two threads (mtcp_io). Sockets run on the null
 * device (frames vanish): what needs a peer is tests/integration/mtcp.sh.
 * Compiled in the mOS dialect (int mtcp_destroy), as the library is. */
#include <mos_api.h>
#include <mtcp_api.h>
#include <mtcp_epoll.h>
#include <mtcp_util.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

TestSuite(mtcp_config, .init = t_default_timeout);
TestSuite(mtcp_errors, .init = t_default_timeout);
TestSuite(mtcp_io, .init = t_default_timeout);

/* call fails with -1 (as long) and errno e */
#define FAILS(call, e)                                                                                 \
    do {                                                                                               \
        errno = 0;                                                                                     \
        long r_ = (long)(call);                                                                        \
        int e_ = errno;                                                                                \
        cr_assert_eq(r_, -1L, "%s returned %ld, not -1", #call, r_);                                   \
        cr_assert_eq(e_, (e), "%s: errno %d (%s), expected %s", #call, e_, strerror(e_), #e);          \
    } while (0)

/* call returns NULL with errno e */
#define FAILS_NULL(call, e)                                                                            \
    do {                                                                                               \
        errno = 0;                                                                                     \
        void *p_ = (void *)(call);                                                                     \
        int e_ = errno;                                                                                \
        cr_assert_null(p_, "%s did not fail", #call);                                                  \
        cr_assert_eq(e_, (e), "%s: errno %d (%s), expected %s", #call, e_, strerror(e_), #e);          \
    } while (0)

#define SA(p) ((struct sockaddr *)(p))

static void null_net(void)
{
    setenv("SLUICE_NET_DEVARGS", "net_null0,no-rx=1", 1);
    setenv("SLUICE_NET_ADDR", "10.0.0.2", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "1000", 1);
}

/* mtcp_init with no file on the null device, and the context of CPU 0. */
static mctx_t up(void)
{
    null_net();
    cr_assert_eq(mtcp_init(NULL), 0, "mtcp_init: %s", strerror(errno));
    mctx_t m = mtcp_create_context(0);
    cr_assert_not_null(m, "mtcp_create_context: %s", strerror(errno));
    return m;
}

static const char *conf_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/sluice-mtcp-%ld.conf", (long)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int sock(mctx_t m)
{
    int s = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0, "mtcp_socket: %s", strerror(errno));
    return s;
}

static struct sockaddr_in sin4(uint32_t host, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(host);
    return a;
}

static int listener(mctx_t m, uint16_t port)
{
    int s = sock(m);
    struct sockaddr_in a = sin4(0, port);
    cr_assert_eq(mtcp_bind(m, s, SA(&a), sizeof(a)), 0);
    cr_assert_eq(mtcp_listen(m, s, 16), 0);
    return s;
}

static int epoll(mctx_t m)
{
    int ep = mtcp_epoll_create(m, 16);
    cr_assert_geq(ep, 0);
    return ep;
}

/* ---- config ---- */

Test(mtcp_config, file_sets_every_key)
{
    struct mtcp_conf c;

    null_net();
    cr_assert_eq(mtcp_init(conf_file("# mTCP's sample, trimmed\nio = dpdk\nnum_cores = 2\ncore_mask = 0x3\n"
                                     "num_mem_ch = 4\nport = dpdk0\nmax_concurrency = 100 # a comment\n"
                                     "max_num_buffers = 50\nrcvbuf = 16384\ntcp_timeout = -1\n"
                                     "tcp_timewait = 0\nstat_print = dpdk0\n\n")),
                 0, "%s", strerror(errno));
    cr_assert_eq(mtcp_getconf(&c), 0);
    cr_assert_eq(c.num_cores, 2);
    cr_assert_eq(c.cpu_mask, 3);
    cr_assert_eq(c.max_concurrency, 100);
    cr_assert_eq(c.max_num_buffers, 50);
    cr_assert_eq(c.rcvbuf_size, 16384);
    cr_assert_eq(c.sndbuf_size, 16384, "one buffer size sets both, as mTCP");
    cr_assert_eq(c.tcp_timeout, -1);
}

Test(mtcp_config, unknown_key_fails)
{
    null_net();
    FAILS(mtcp_init(conf_file("num_cores = 1\nnum_corse = 2\n")), EINVAL);
}

Test(mtcp_config, bad_value_fails)
{
    null_net();
    FAILS(mtcp_init(conf_file("rcvbuf = lots\n")), EINVAL);
}

Test(mtcp_config, out_of_range_value_fails)
{
    null_net();
    FAILS(mtcp_init(conf_file("max_concurrency = 0\n")), EINVAL);
}

Test(mtcp_config, bad_core_mask_fails)
{
    null_net();
    FAILS(mtcp_init(conf_file("core_mask = 0xzz\n")), EINVAL);
}

Test(mtcp_config, line_without_equals_fails)
{
    null_net();
    FAILS(mtcp_init(conf_file("num_cores 2\n")), EINVAL);
}

Test(mtcp_config, missing_file_fails)
{
    null_net();
    FAILS(mtcp_init("/nonexistent/mtcp.conf"), ENOENT);
}

Test(mtcp_config, failed_file_leaves_settings)
{
    struct mtcp_conf c;

    null_net();
    FAILS(mtcp_init(conf_file("max_concurrency = 77\nbogus = 1\n")), EINVAL);
    mtcp_getconf(&c);
    cr_assert_neq(c.max_concurrency, 77, "all or nothing");
    cr_assert_eq(mtcp_init(NULL), 0, "a fixed config can be loaded again");
}

Test(mtcp_config, init_twice_fails)
{
    up();
    FAILS(mtcp_init(NULL), EEXIST);
}

Test(mtcp_config, getconf_null_fails)
{
    FAILS(mtcp_getconf(NULL), EINVAL);
}

Test(mtcp_config, setconf_null_fails)
{
    FAILS(mtcp_setconf(NULL), EINVAL);
}

Test(mtcp_config, setconf_before_init_then_file_overrides)
{
    struct mtcp_conf c;

    mtcp_getconf(&c);
    c.num_cores = 3;
    c.max_concurrency = 40;
    c.sndbuf_size = 0; /* <= 0: left as it was, as mTCP */
    int snd = 0;
    {
        struct mtcp_conf d;
        mtcp_getconf(&d);
        snd = d.sndbuf_size;
    }
    cr_assert_eq(mtcp_setconf(&c), 0);
    null_net();
    cr_assert_eq(mtcp_init(conf_file("max_concurrency = 50\n")), 0);
    mtcp_getconf(&c);
    cr_assert_eq(c.num_cores, 3);
    cr_assert_eq(c.max_concurrency, 50);
    cr_assert_eq(c.sndbuf_size, snd);
}

Test(mtcp_config, destroy_before_init_fails)
{
    FAILS(mtcp_destroy(), ENOSYS);
}

Test(mtcp_config, destroy_then_init_again)
{
    up();
    cr_assert_eq(mtcp_destroy(), 0);
    cr_assert_eq(mtcp_init(NULL), 0);
    cr_assert_not_null(mtcp_create_context(0), "CPU 0 is free again");
}

/* ---- contexts ---- */

Test(mtcp_errors, create_context_before_init)
{
    FAILS_NULL(mtcp_create_context(0), ENOSYS);
}

Test(mtcp_errors, create_context_bad_cpu)
{
    up();
    FAILS_NULL(mtcp_create_context(-1), EINVAL);
    FAILS_NULL(mtcp_create_context(64), EINVAL);
}

Test(mtcp_errors, create_context_twice)
{
    up();
    FAILS_NULL(mtcp_create_context(0), EEXIST);
}

Test(mtcp_errors, destroy_context_invalid)
{
    mctx_t m = up();
    cr_assert_eq(mtcp_destroy_context(m), 0);
    FAILS(mtcp_destroy_context(m), EINVAL);
}

Test(mtcp_errors, context_records_cpu)
{
    up();
    mctx_t m = mtcp_create_context(5);
    cr_assert_eq(m->cpu, 5);
}

Test(mtcp_errors, core_affinitize_bad_cpu)
{
    FAILS(mtcp_core_affinitize(-1), EINVAL);
    FAILS(mtcp_core_affinitize(1 << 20), EINVAL);
}

Test(mtcp_errors, register_signal_bad)
{
    errno = 0;
    cr_assert_eq(mtcp_register_signal(SIGKILL, SIG_IGN), SIG_ERR);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(mtcp_register_signal(SIGUSR1, SIG_IGN), SIG_IGN);
}

Test(mtcp_errors, init_rss)
{
    mctx_t m = up();
    struct mtcp_context bogus = {0};
    FAILS(mtcp_init_rss(&bogus, 0, 1, 0, 0), EACCES);
    FAILS(mtcp_init_rss(m, 0, 0, 0, 0), EINVAL);
    cr_assert_eq(mtcp_init_rss(m, 0, 1, 0, 0), 0);
}

/* ---- socket ---- */

Test(mtcp_errors, socket_invalid_mctx)
{
    struct mtcp_context bogus = {0};
    up();
    FAILS(mtcp_socket(NULL, AF_INET, SOCK_STREAM, 0), EACCES);
    FAILS(mtcp_socket(&bogus, AF_INET, SOCK_STREAM, 0), EACCES);
}

Test(mtcp_errors, socket_bad_domain)
{
    FAILS(mtcp_socket(up(), AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);
}

Test(mtcp_errors, socket_bad_type)
{
    mctx_t m = up();
    FAILS(mtcp_socket(m, AF_INET, SOCK_DGRAM, 0), EINVAL);
    /* mon.mode off (the default): no monitor to give a monitor socket */
    FAILS(mtcp_socket(m, AF_INET, MOS_SOCK_MONITOR_STREAM, 0), EINVAL);
    FAILS(mtcp_socket(m, AF_INET, MOS_SOCK_PROXY, 0), EINVAL);
}

Test(mtcp_errors, socket_pool_full)
{
    struct mtcp_conf c;
    mtcp_getconf(&c);
    c.max_concurrency = 3;
    mtcp_setconf(&c);
    mctx_t m = up();
    cr_assert_eq(sock(m), 0, "the lowest free id");
    cr_assert_eq(epoll(m), 1, "epolls share the pool");
    cr_assert_eq(sock(m), 2);
    FAILS(mtcp_socket(m, AF_INET, SOCK_STREAM, 0), ENFILE);
    cr_assert_eq(mtcp_close(m, 0), 0);
    cr_assert_eq(sock(m), 0, "a closed id is free again");
}

/* ---- bind, listen ---- */

Test(mtcp_errors, bind_errors)
{
    mctx_t m = up();
    int s = sock(m), ep = epoll(m);
    struct sockaddr_in a = sin4(0, 8080);
    FAILS(mtcp_bind(NULL, s, SA(&a), sizeof(a)), EINVAL);
    FAILS(mtcp_bind(m, 999, SA(&a), sizeof(a)), EBADF);
    FAILS(mtcp_bind(m, ep, SA(&a), sizeof(a)), ENOTSOCK);
    FAILS(mtcp_bind(m, s, NULL, sizeof(a)), EINVAL);
    FAILS(mtcp_bind(m, s, SA(&a), sizeof(a) - 1), EINVAL);
    cr_assert_eq(mtcp_bind(m, s, SA(&a), sizeof(a)), 0);
    FAILS(mtcp_bind(m, s, SA(&a), sizeof(a)), EINVAL);
}

Test(mtcp_errors, listen_port_in_use_in_context)
{
    mctx_t m = up();
    listener(m, 8081);
    int s = sock(m);
    struct sockaddr_in a = sin4(0, 8081);
    cr_assert_eq(mtcp_bind(m, s, SA(&a), sizeof(a)), 0);
    FAILS(mtcp_listen(m, s, 4), EADDRINUSE);
}

Test(mtcp_errors, listen_same_port_in_two_contexts)
{
    mctx_t m = up(), m1 = mtcp_create_context(1);
    listener(m, 8087);
    listener(m1, 8087); /* as mTCP's per-core stacks: each core listens */
}

Test(mtcp_errors, listen_errors)
{
    mctx_t m = up();
    int s = sock(m), ep = epoll(m);
    FAILS(mtcp_listen(NULL, s, 4), EINVAL);
    FAILS(mtcp_listen(m, 999, 4), EBADF);
    FAILS(mtcp_listen(m, ep, 4), ENOTSOCK);
    FAILS(mtcp_listen(m, s, 0), EINVAL);
    FAILS(mtcp_listen(m, s, 1 << 30), EINVAL);
    cr_assert_eq(mtcp_listen(m, s, 4), 0);
}

/* ---- accept, connect ---- */

Test(mtcp_errors, accept_errors)
{
    mctx_t m = up();
    int l = listener(m, 8082), s = sock(m);
    struct sockaddr_in a;
    FAILS(mtcp_accept(NULL, l, NULL, NULL), EINVAL);
    FAILS(mtcp_accept(m, 999, NULL, NULL), EBADF);
    FAILS(mtcp_accept(m, s, NULL, NULL), EINVAL);
    FAILS(mtcp_accept(m, l, SA(&a), NULL), EINVAL);
    FAILS(mtcp_accept(m, l, NULL, NULL), EAGAIN);
}

Test(mtcp_errors, connect_errors)
{
    mctx_t m = up();
    int s = sock(m), l = listener(m, 8083), ep = epoll(m);
    struct sockaddr_in a = sin4(0x0a000001, 80);
    FAILS(mtcp_connect(NULL, s, SA(&a), sizeof(a)), EINVAL);
    FAILS(mtcp_connect(m, 999, SA(&a), sizeof(a)), EBADF);
    FAILS(mtcp_connect(m, ep, SA(&a), sizeof(a)), ENOTSOCK);
    FAILS(mtcp_connect(m, l, SA(&a), sizeof(a)), ENOTSOCK);
    FAILS(mtcp_connect(m, s, NULL, sizeof(a)), EFAULT);
    FAILS(mtcp_connect(m, s, SA(&a), sizeof(a) - 1), EINVAL);
    a.sin_family = AF_UNIX;
    FAILS(mtcp_connect(m, s, SA(&a), sizeof(a)), EAFNOSUPPORT);
    a.sin_family = AF_INET;
    FAILS(mtcp_connect(m, s, SA(&a), sizeof(a)), EINPROGRESS);
    FAILS(mtcp_connect(m, s, SA(&a), sizeof(a)), EALREADY);
}

/* ---- close, abort ---- */

Test(mtcp_errors, close_errors)
{
    mctx_t m = up();
    int s = sock(m);
    FAILS(mtcp_close(NULL, s), EINVAL);
    FAILS(mtcp_close(m, -1), EBADF);
    cr_assert_eq(mtcp_close(m, s), 0);
    FAILS(mtcp_close(m, s), EBADF);
}

Test(mtcp_errors, abort_errors)
{
    mctx_t m = up();
    int ep = epoll(m), s = sock(m);
    FAILS(mtcp_abort(m, ep), ENOTSOCK);
    FAILS(mtcp_abort(m, 999), EBADF);
    cr_assert_eq(mtcp_abort(m, s), 0);
}

/* ---- read, write ---- */

Test(mtcp_errors, read_errors)
{
    mctx_t m = up();
    int s = sock(m), l = listener(m, 8084), ep = epoll(m);
    char b[8];
    FAILS(mtcp_read(NULL, s, b, sizeof(b)), EINVAL);
    FAILS(mtcp_read(m, 999, b, sizeof(b)), EBADF);
    FAILS(mtcp_read(m, l, b, sizeof(b)), ENOTSOCK);
    FAILS(mtcp_read(m, ep, b, sizeof(b)), ENOTSOCK);
    FAILS(mtcp_read(m, s, NULL, sizeof(b)), EFAULT);
    FAILS(mtcp_read(m, s, b, sizeof(b)), ENOTCONN);
}

Test(mtcp_errors, recv_bad_flags)
{
    mctx_t m = up();
    int p[2];
    char b[8];
    cr_assert_eq(mtcp_pipe(m, p), 0);
    FAILS(mtcp_recv(m, p[0], b, sizeof(b), MSG_WAITALL), EINVAL);
}

Test(mtcp_errors, readv_bad_iov)
{
    mctx_t m = up();
    int p[2];
    char b[8];
    struct iovec iov = {b, sizeof(b)};
    cr_assert_eq(mtcp_pipe(m, p), 0);
    FAILS(mtcp_readv(m, p[0], NULL, 1), EINVAL);
    FAILS(mtcp_readv(m, p[0], &iov, 0), EINVAL);
    FAILS(mtcp_readv(m, 999, &iov, 1), EBADF);
    FAILS(mtcp_readv(m, p[0], &iov, 1), EAGAIN);
}

Test(mtcp_errors, write_errors)
{
    mctx_t m = up();
    int s = sock(m), l = listener(m, 8085);
    FAILS(mtcp_write(NULL, s, "x", 1), EINVAL);
    FAILS(mtcp_write(m, 999, "x", 1), EBADF);
    FAILS(mtcp_write(m, l, "x", 1), ENOTSOCK);
    FAILS(mtcp_write(m, s, NULL, 1), EFAULT);
    FAILS(mtcp_write(m, s, "x", 1), ENOTCONN);
}

Test(mtcp_errors, write_while_connecting)
{
    mctx_t m = up();
    int s = sock(m);
    struct sockaddr_in a = sin4(0x0a000001, 80);
    FAILS(mtcp_connect(m, s, SA(&a), sizeof(a)), EINPROGRESS);
    FAILS(mtcp_write(m, s, "x", 1), ENOTCONN);
}

Test(mtcp_errors, writev_bad_iov)
{
    mctx_t m = up();
    int p[2];
    struct iovec iov = {"x", 1};
    cr_assert_eq(mtcp_pipe(m, p), 0);
    FAILS(mtcp_writev(m, p[1], NULL, 1), EINVAL);
    FAILS(mtcp_writev(m, p[1], &iov, -1), EINVAL);
    cr_assert_eq(mtcp_writev(m, p[1], &iov, 1), 1);
}

Test(mtcp_errors, pipe_wrong_end)
{
    mctx_t m = up();
    int p[2];
    char b[4];
    cr_assert_eq(mtcp_pipe(m, p), 0);
    FAILS(mtcp_write(m, p[0], "x", 1), EBADF);
    FAILS(mtcp_read(m, p[1], b, sizeof(b)), EBADF);
}

/* ---- options, ioctl, names ---- */

Test(mtcp_errors, getsockopt_errors)
{
    mctx_t m = up();
    int s = sock(m), ep = epoll(m), v = 0, p[2];
    socklen_t len = sizeof(v);
    cr_assert_eq(mtcp_pipe(m, p), 0);
    FAILS(mtcp_getsockopt(NULL, s, SOL_SOCKET, SO_ERROR, &v, &len), EINVAL);
    FAILS(mtcp_getsockopt(m, 999, SOL_SOCKET, SO_ERROR, &v, &len), EBADF);
    FAILS(mtcp_getsockopt(m, ep, SOL_SOCKET, SO_ERROR, &v, &len), ENOTSOCK);
    FAILS(mtcp_getsockopt(m, p[0], SOL_SOCKET, SO_ERROR, &v, &len), ENOTSOCK);
    FAILS(mtcp_getsockopt(m, s, SOL_SOCKET, SO_ERROR, NULL, &len), EINVAL);
    FAILS(mtcp_getsockopt(m, s, SOL_SOCKET, SO_ERROR, &v, NULL), EINVAL);
    len = 1;
    FAILS(mtcp_getsockopt(m, s, SOL_SOCKET, SO_ERROR, &v, &len), EINVAL);
    len = sizeof(v);
    FAILS(mtcp_getsockopt(m, s, SOL_SOCKET, SO_BROADCAST, &v, &len), ENOPROTOOPT);
    cr_assert_eq(mtcp_getsockopt(m, s, SOL_SOCKET, SO_ERROR, &v, &len), 0);
    cr_assert_eq(v, 0);
}

Test(mtcp_errors, setsockopt_errors)
{
    mctx_t m = up();
    int s = sock(m), ep = epoll(m), one = 1;
    FAILS(mtcp_setsockopt(NULL, s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), EINVAL);
    FAILS(mtcp_setsockopt(m, 999, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), EBADF);
    FAILS(mtcp_setsockopt(m, ep, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), ENOTSOCK);
    FAILS(mtcp_setsockopt(m, s, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(one)), EINVAL);
    FAILS(mtcp_setsockopt(m, s, SOL_SOCKET, SO_REUSEADDR, &one, 1), EINVAL);
    FAILS(mtcp_setsockopt(m, s, IPPROTO_IP, IP_TOS, &one, sizeof(one)), ENOPROTOOPT);
    cr_assert_eq(mtcp_setsockopt(m, s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
}

Test(mtcp_errors, setsock_nonblock_errors)
{
    mctx_t m = up();
    int s = sock(m);
    FAILS(mtcp_setsock_nonblock(NULL, s), EINVAL);
    FAILS(mtcp_setsock_nonblock(m, 999), EBADF);
    cr_assert_eq(mtcp_setsock_nonblock(m, s), 0);
}

Test(mtcp_errors, ioctl_errors)
{
    mctx_t m = up();
    int s = sock(m), ep = epoll(m), n = -1;
    FAILS(mtcp_socket_ioctl(NULL, s, FIONREAD, &n), EINVAL);
    FAILS(mtcp_socket_ioctl(m, 999, FIONREAD, &n), EBADF);
    FAILS(mtcp_socket_ioctl(m, ep, FIONREAD, &n), EBADF);
    FAILS(mtcp_socket_ioctl(m, s, FIONREAD, NULL), EFAULT);
    FAILS(mtcp_socket_ioctl(m, s, SIOCATMARK, &n), EINVAL);
    FAILS(mtcp_ioctl(m, s, SIOCATMARK, &n), EINVAL);
    cr_assert_eq(mtcp_socket_ioctl(m, s, FIONREAD, &n), 0);
    cr_assert_eq(n, 0);
}

Test(mtcp_errors, getsockname_errors)
{
    mctx_t m = up();
    int s = sock(m), ep = epoll(m);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    FAILS(mtcp_getsockname(NULL, s, SA(&a), &len), EINVAL);
    FAILS(mtcp_getsockname(m, 999, SA(&a), &len), EBADF);
    FAILS(mtcp_getsockname(m, ep, SA(&a), &len), ENOTSOCK);
    FAILS(mtcp_getsockname(m, s, NULL, &len), EINVAL);
    FAILS(mtcp_getsockname(m, s, SA(&a), NULL), EINVAL);
    cr_assert_eq(mtcp_getsockname(m, s, SA(&a), &len), 0);
}

Test(mtcp_errors, getpeername_errors)
{
    mctx_t m = up();
    int s = sock(m), ep = epoll(m), l = listener(m, 8086);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    FAILS(mtcp_getpeername(NULL, s, SA(&a), &len), EINVAL);
    FAILS(mtcp_getpeername(m, 999, SA(&a), &len), EBADF);
    FAILS(mtcp_getpeername(m, ep, SA(&a), &len), ENOTSOCK);
    FAILS(mtcp_getpeername(m, s, NULL, &len), EINVAL);
    FAILS(mtcp_getpeername(m, s, SA(&a), &len), ENOTCONN);
    FAILS(mtcp_getpeername(m, l, SA(&a), &len), ENOTCONN);
}

Test(mtcp_errors, getpeername_mos_side)
{
    mctx_t m = up();
    int s = sock(m);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    FAILS(mtcp_getpeername(m, s, SA(&a), &len, 7), EINVAL);
    FAILS(mtcp_getpeername(m, s, SA(&a), &len, MOS_SIDE_CLI), ENOTCONN);
    FAILS(mtcp_getpeername(m, 999, SA(&a), &len, MOS_SIDE_SVR), EBADF);
}

Test(mtcp_errors, connection_cnt)
{
    mctx_t m = up();
    sock(m);
    cr_assert_eq(mtcp_get_connection_cnt(m), 0);
    errno = 0;
    cr_assert_eq(mtcp_get_connection_cnt(NULL), 0);
    cr_assert_eq(errno, EINVAL);
}

/* ---- epoll, pipe ---- */

Test(mtcp_errors, epoll_create_errors)
{
    mctx_t m = up();
    FAILS(mtcp_epoll_create(NULL, 4), EINVAL);
    FAILS(mtcp_epoll_create(m, 0), EINVAL);
    FAILS(mtcp_epoll_create1(m, 1), EINVAL);
    cr_assert_geq(mtcp_epoll_create1(m, 0), 0);
}

Test(mtcp_errors, epoll_create_pool_full)
{
    struct mtcp_conf c;
    mtcp_getconf(&c);
    c.max_concurrency = 1;
    mtcp_setconf(&c);
    mctx_t m = up();
    epoll(m);
    FAILS(mtcp_epoll_create(m, 4), ENFILE);
}

Test(mtcp_errors, epoll_ctl_errors)
{
    mctx_t m = up();
    int ep = epoll(m), ep2 = epoll(m), s = sock(m);
    struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = s};
    FAILS(mtcp_epoll_ctl(NULL, ep, MTCP_EPOLL_CTL_ADD, s, &ev), EINVAL);
    FAILS(mtcp_epoll_ctl(m, 999, MTCP_EPOLL_CTL_ADD, s, &ev), EBADF);
    FAILS(mtcp_epoll_ctl(m, s, MTCP_EPOLL_CTL_ADD, s, &ev), EINVAL);
    FAILS(mtcp_epoll_ctl(m, ep, 9, s, &ev), EINVAL);
    FAILS(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, s, NULL), EINVAL);
    FAILS(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, 999, &ev), EBADF);
    FAILS(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, ep, &ev), EINVAL);
    FAILS(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, ep2, &ev), EINVAL);
    FAILS(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_MOD, s, &ev), ENOENT);
    FAILS(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_DEL, s, NULL), ENOENT);
    cr_assert_eq(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, s, &ev), 0);
    FAILS(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, s, &ev), EEXIST);
    FAILS(mtcp_epoll_ctl(m, ep2, MTCP_EPOLL_CTL_ADD, s, &ev), EEXIST);
    FAILS(mtcp_epoll_ctl(m, ep2, MTCP_EPOLL_CTL_DEL, s, NULL), ENOENT);
    cr_assert_eq(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_DEL, s, NULL), 0);
}

Test(mtcp_errors, epoll_wait_errors)
{
    mctx_t m = up();
    int ep = epoll(m), s = sock(m);
    struct mtcp_epoll_event ev[4];
    FAILS(mtcp_epoll_wait(NULL, ep, ev, 4, 0), EINVAL);
    FAILS(mtcp_epoll_wait(m, 999, ev, 4, 0), EBADF);
    FAILS(mtcp_epoll_wait(m, s, ev, 4, 0), EINVAL);
    FAILS(mtcp_epoll_wait(m, ep, NULL, 4, 0), EINVAL);
    FAILS(mtcp_epoll_wait(m, ep, ev, 0, 0), EINVAL);
    cr_assert_eq(mtcp_epoll_wait(m, ep, ev, 4, 0), 0);
    cr_assert_eq(mtcp_epoll_wait(m, ep, ev, 4, 20), 0, "the time runs out");
}

Test(mtcp_errors, pipe_errors)
{
    struct mtcp_conf c;
    mtcp_getconf(&c);
    c.max_concurrency = 3;
    mtcp_setconf(&c);
    mctx_t m = up();
    int p[2];
    FAILS(mtcp_pipe(NULL, p), EINVAL);
    FAILS(mtcp_pipe(m, NULL), EINVAL);
    cr_assert_eq(mtcp_pipe(m, p), 0);
    FAILS(mtcp_pipe(m, p), ENFILE);
    cr_assert_eq(sock(m), 2, "the failed pipe gave its id back");
}

Test(mtcp_errors, event_to_string)
{
    cr_assert_str_eq(EventToString(MTCP_EPOLLIN | MTCP_EPOLLOUT | MTCP_EPOLLET), "EPOLLIN|EPOLLOUT|EPOLLET");
    cr_assert_str_eq(EventToString(0), "NONE");
}

Test(mtcp_errors, util_calls)
{
    char line[] = " a\tbb  c ", *argv[2];
    int argc = 0;
    cr_assert_eq(GetRSSCPUCore(1, 2, 3, 4, 2), 0);
    cr_assert_eq(GetRSSCPUCore(1, 2, 3, 4, 0), -1);
    cr_assert_eq(StrToArgs(line, &argc, argv, 2), -1, "three words, room for two");
    cr_assert_eq(argc, 2);
    cr_assert_str_eq(argv[1], "bb");
}

/* ---- semantics over pipes ---- */

/* The next wait's events for pipe end id (0 when none within ms). */
static uint32_t wait_for(mctx_t m, int ep, int id, int ms)
{
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct mtcp_epoll_event ev[4];
        int n = mtcp_epoll_wait(m, ep, ev, 4, ms);
        cr_assert_geq(n, 0, "mtcp_epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            if (ev[i].data.sockid == id)
                return (uint32_t)ev[i].events;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
            return 0;
    }
}

static void add(mctx_t m, int ep, int id, uint32_t events)
{
    struct mtcp_epoll_event ev = {.events = events, .data.sockid = id};
    cr_assert_eq(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, id, &ev), 0);
}

Test(mtcp_io, pipe_level_triggered)
{
    mctx_t m = up();
    int ep = epoll(m), p[2];
    char b[8];
    cr_assert_eq(mtcp_pipe(m, p), 0);
    add(m, ep, p[0], MTCP_EPOLLIN);
    add(m, ep, p[1], MTCP_EPOLLOUT);
    cr_assert_eq(wait_for(m, ep, p[0], 0), 0, "nothing to read yet");
    cr_assert_eq(mtcp_write(m, p[1], "hello", 5), 5);
    cr_assert(wait_for(m, ep, p[0], 5000) & MTCP_EPOLLIN);
    cr_assert(wait_for(m, ep, p[0], 5000) & MTCP_EPOLLIN, "level-triggered: reported again while unread");
    int n = 0;
    cr_assert_eq(mtcp_socket_ioctl(m, p[0], FIONREAD, &n), 0);
    cr_assert_eq(n, 5);
    cr_assert_eq(mtcp_recv(m, p[0], b, 2, MSG_PEEK), 2);
    cr_assert_eq(mtcp_read(m, p[0], b, sizeof(b)), 5, "MSG_PEEK left the bytes");
    cr_assert_eq(memcmp(b, "hello", 5), 0);
    FAILS(mtcp_read(m, p[0], b, sizeof(b)), EAGAIN);
    cr_assert_eq(wait_for(m, ep, p[0], 0), 0, "read empty: not ready");
}

Test(mtcp_io, pipe_edge_triggered)
{
    mctx_t m = up();
    int ep = epoll(m), p[2];
    cr_assert_eq(mtcp_pipe(m, p), 0);
    add(m, ep, p[0], MTCP_EPOLLIN | MTCP_EPOLLET);
    cr_assert_eq(mtcp_write(m, p[1], "a", 1), 1);
    cr_assert(wait_for(m, ep, p[0], 5000) & MTCP_EPOLLIN);
    cr_assert_eq(wait_for(m, ep, p[0], 50), 0, "edge-triggered: once per event");
    cr_assert_eq(mtcp_write(m, p[1], "b", 1), 1);
    cr_assert(wait_for(m, ep, p[0], 5000) & MTCP_EPOLLIN, "a new event");
}

Test(mtcp_io, pipe_oneshot)
{
    mctx_t m = up();
    int ep = epoll(m), p[2];
    struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN | MTCP_EPOLLONESHOT, .data.sockid = p[0]};
    cr_assert_eq(mtcp_pipe(m, p), 0);
    ev.data.sockid = p[0];
    cr_assert_eq(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, p[0], &ev), 0);
    cr_assert_eq(mtcp_write(m, p[1], "a", 1), 1);
    cr_assert(wait_for(m, ep, p[0], 5000) & MTCP_EPOLLIN);
    cr_assert_eq(mtcp_write(m, p[1], "b", 1), 1);
    cr_assert_eq(wait_for(m, ep, p[0], 50), 0, "disarmed until MOD");
    cr_assert_eq(mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_MOD, p[0], &ev), 0);
    cr_assert(wait_for(m, ep, p[0], 5000) & MTCP_EPOLLIN, "MOD re-arms and reports a ready socket");
}

Test(mtcp_io, pipe_end_of_file)
{
    mctx_t m = up();
    int ep = epoll(m), p[2];
    char b[4];
    cr_assert_eq(mtcp_pipe(m, p), 0);
    add(m, ep, p[0], MTCP_EPOLLIN | MTCP_EPOLLRDHUP); /* RDHUP only when asked for, as Linux */
    cr_assert_eq(mtcp_write(m, p[1], "z", 1), 1);
    cr_assert_eq(mtcp_close(m, p[1]), 0);
    cr_assert(wait_for(m, ep, p[0], 5000) & MTCP_EPOLLIN);
    cr_assert_eq(mtcp_read(m, p[0], b, sizeof(b)), 1);
    uint32_t e = wait_for(m, ep, p[0], 5000);
    cr_assert(e & MTCP_EPOLLRDHUP, "events %s", EventToString(e));
    cr_assert_eq(mtcp_read(m, p[0], b, sizeof(b)), 0, "end of file");
}

Test(mtcp_io, destroy_context_closes_everything)
{
    mctx_t m = up();
    int p[2];
    cr_assert_eq(mtcp_pipe(m, p), 0);
    listener(m, 8090);
    cr_assert_eq(mtcp_destroy_context(m), 0);
    m = mtcp_create_context(0);
    cr_assert_not_null(m);
    listener(m, 8090); /* the port was given back */
}

struct worker {
    int cpu;
    int count;
    int ok;
};

/* A context of its own: a pipe carried through epoll, count messages. */
static void *worker_run(void *arg)
{
    struct worker *w = arg;
    mctx_t m = mtcp_create_context(w->cpu);
    int p[2], ep;
    char b[16];

    if (m == NULL || mtcp_pipe(m, p) != 0 || (ep = mtcp_epoll_create(m, 4)) < 0)
        return NULL;
    struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = p[0]};
    mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, p[0], &ev);
    for (int i = 0; i < w->count; i++) {
        int got = 0;
        if (mtcp_write(m, p[1], "0123456789", 10) != 10)
            return NULL;
        while (got < 10) {
            struct mtcp_epoll_event out[2];
            int n = mtcp_epoll_wait(m, ep, out, 2, 5000);
            if (n <= 0)
                return NULL;
            ssize_t r = mtcp_read(m, p[0], b, sizeof(b));
            if (r > 0)
                got += (int)r;
        }
    }
    w->ok = 1;
    mtcp_destroy_context(m);
    return NULL;
}

Test(mtcp_io, two_contexts_two_threads)
{
    null_net();
    cr_assert_eq(mtcp_init(NULL), 0);
    struct worker w[2] = {{0, 2000, 0}, {1, 2000, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker_run, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cr_assert(w[0].ok && w[1].ok, "both contexts carried their messages");
}
