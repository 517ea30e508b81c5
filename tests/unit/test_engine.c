/* test_engine.c - engines per thread (<sluice/engine.h>) on DPDK's net_null
 * device with three queue pairs (frames sent vanish, none arrive): every
 * error of sluice_engine_start / stop / self / stats, descriptors and
 * tokens refused in another engine's thread (EXDEV, EINVAL), each
 * engine's share of the ephemeral ports, and the devargs of an AF_XDP
 * engine's own port. Two engines talking over a real
 * device are tested in tests/integration/dataplane.sh (net_memif, two
 * queue pairs, 10,000 connections). */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sluice/engine.h>
#include <sluice/socket.h>
#include <sluice/stats.h>

#include "engine.h"
#include "harness.h"
#include "net.h"
#include "qtoken.h"

/* demi_init with the null device, `queues` queue pairs; asserts success. */
static void init_queues(const char *queues)
{
    setenv("SLUICE_NET_DEVARGS", "net_null0,no-rx=1", 1);
    setenv("SLUICE_NET_ADDR", "10.0.0.2", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "1000", 1);
    setenv("SLUICE_NET_QUEUES", queues, 1);
    t_init();
}

/* Runs fn(arg) in a thread of its own and returns what it returned. */
static intptr_t in_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    void *ret = NULL;

    cr_assert_eq(pthread_create(&t, NULL, fn, arg), 0);
    cr_assert_eq(pthread_join(t, &ret), 0);
    return (intptr_t)ret;
}

/* The local port a new stream socket bound to port 0 gets. */
static uint16_t ephemeral_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int qd = -1;

    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_STREAM, 0), 0);
    cr_assert_eq(demi_bind(qd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(demi_getsockname(qd, (struct sockaddr *)&a, &len), 0);
    cr_assert_eq(demi_close(qd), 0);
    return ntohs(a.sin_port);
}

Test(engine, calls_before_demi_init_fail_with_enosys)
{
    int n = 0;

    cr_assert_eq(sluice_engine_start(1, -1), ENOSYS);
    cr_assert_eq(sluice_engine_stop(), ENOSYS);
    cr_assert_eq(sluice_engine_self(), -1);
    cr_assert_eq(sluice_engine_stats(0, NULL, NULL, 0, &n), ENOSYS);
}

Test(engine, bad_queues_and_cpus_are_refused)
{
    init_queues("3");
    cr_assert_eq(sluice_engine_self(), 0, "a thread without an engine uses engine 0");
    cr_assert_eq(sluice_engine_start(0, -1), EINVAL, "queue 0 is the shared engine's");
    cr_assert_eq(sluice_engine_start(3, -1), EINVAL, "net.queues is 3");
    cr_assert_eq(sluice_engine_start(-2, -1), EINVAL);
    cr_assert_eq(sluice_engine_start(1, CPU_SETSIZE + 1), EINVAL, "no such CPU");
    cr_assert_eq(sluice_engine_start(1, -5), EINVAL, "cpu -1 leaves the affinity alone; below that is no CPU");
    cpu_set_t before, after;
    cr_assert_eq(sched_getaffinity(0, sizeof(before), &before), 0);
    cr_assert_eq(sluice_engine_start(3, 0), EINVAL);
    cr_assert_eq(sched_getaffinity(0, sizeof(after), &after), 0);
    cr_assert(CPU_EQUAL(&before, &after), "a call that failed pinned the thread");
}

static void *start_any(void *arg)
{
    int *engine = arg;
    int rc = sluice_engine_start(-1, -1);

    *engine = sluice_engine_self();
    return (void *)(intptr_t)rc;
}

static void *start_and_stop(void *arg)
{
    int *engine = arg;
    int rc = sluice_engine_start(-1, -1);

    *engine = sluice_engine_self();
    if (rc == 0 && sluice_engine_start(-1, -1) != EBUSY)
        return (void *)(intptr_t)-1; /* a second engine for one thread */
    if (rc == 0)
        rc = sluice_engine_stop();
    if (rc == 0 && sluice_engine_self() != 0)
        return (void *)(intptr_t)-2; /* stop gives engine 0 back */
    if (rc == 0 && sluice_engine_stop() != ENOENT)
        return (void *)(intptr_t)-3;
    return (void *)(intptr_t)rc;
}

Test(engine, each_thread_gets_the_lowest_free_queue_until_none_is_left)
{
    int e1 = -1, e2 = -1, e3 = -1;

    init_queues("3");
    cr_assert_eq(sluice_engine_stop(), ENOENT, "engine 0 is not the thread's own");
    cr_assert_eq(in_thread(start_any, &e1), 0);
    cr_assert_eq(e1, 1);
    cr_assert_eq(in_thread(start_any, &e2), 0);
    cr_assert_eq(e2, 2);
    cr_assert_eq(in_thread(start_any, &e3), ENOSPC, "both queue pairs have engines");
    cr_assert_eq(e3, 0);
}

Test(engine, a_stopped_engine_gives_its_queue_back)
{
    int e = -1;

    init_queues("2");
    cr_assert_eq(in_thread(start_and_stop, &e), 0);
    cr_assert_eq(e, 1);
    e = -1;
    cr_assert_eq(in_thread(start_and_stop, &e), 0, "queue 1 is free again");
    cr_assert_eq(e, 1);
}

struct crossing {
    int engine0_qd;            /* a socket of engine 0 */
    demi_qtoken_t engine0_qt;  /* a pending pop of engine 0 */
    int own_qd;                /* the thread's socket */
    int close_rc, pop_rc, wait_rc, listen_rc;
};

/* In an engine of its own: engine 0's descriptor and token are refused. */
static void *cross(void *arg)
{
    struct crossing *x = arg;
    demi_qtoken_t qt;
    demi_qresult_t qr;
    struct timespec zero = {0, 0};
    int rc = sluice_engine_start(-1, -1);

    if (rc)
        return (void *)(intptr_t)rc;
    x->close_rc = demi_close(x->engine0_qd);
    x->pop_rc = demi_pop(&qt, x->engine0_qd);
    x->wait_rc = demi_wait(&qr, x->engine0_qt, &zero);
    x->listen_rc = demi_listen(x->engine0_qd, 1);
    if ((rc = demi_socket(&x->own_qd, AF_INET, SOCK_DGRAM, 0)) != 0)
        return (void *)(intptr_t)rc;
    return (void *)(intptr_t)sluice_engine_stop();
}

Test(engine, descriptors_and_tokens_do_not_cross_engines)
{
    struct crossing x = {0};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
    demi_qresult_t qr;

    init_queues("2");
    cr_assert_eq(demi_socket(&x.engine0_qd, AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(demi_bind(x.engine0_qd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(demi_pop(&x.engine0_qt, x.engine0_qd), 0);
    cr_assert_eq(in_thread(cross, &x), 0);
    cr_assert_eq(x.close_rc, EXDEV, "engine 0's socket closed from engine 1: %d", x.close_rc);
    cr_assert_eq(x.pop_rc, EXDEV);
    cr_assert_eq(x.wait_rc, EINVAL, "engine 0's token waited on in engine 1");
    cr_assert_eq(x.listen_rc, EXDEV, "socket calls too: %d", x.listen_rc);
    cr_assert_eq((unsigned)x.own_qd >> ENGINE_QD_SHIFT, 1u, "engine 1's descriptors carry its number");
    cr_assert_eq(demi_close(x.own_qd), EBADF, "engine 1 stopped: its descriptor is gone, not foreign");
    /* engine 0's socket and pop are untouched */
    struct timespec zero = {0, 0};
    cr_assert_eq(demi_wait(&qr, x.engine0_qt, &zero), ETIMEDOUT);
    cr_assert_eq(demi_close(x.engine0_qd), 0);
}

struct port_pick {
    uint16_t port;
};

static void *pick_in_engine(void *arg)
{
    struct port_pick *p = arg;
    int rc = sluice_engine_start(-1, -1);

    if (rc)
        return (void *)(intptr_t)rc;
    p->port = ephemeral_port();
    return (void *)(intptr_t)sluice_engine_stop();
}

Test(engine, engines_pick_ephemeral_ports_of_their_own)
{
    struct port_pick p = {0};

    init_queues("2");
    for (int i = 0; i < 20; i++)
        cr_assert_eq(ephemeral_port() % 2, 0, "engine 0 of 2 picks even ports");
    cr_assert_eq(in_thread(pick_in_engine, &p), 0);
    cr_assert_eq(p.port % 2, 1, "engine 1 of 2 picks odd ports: got %u", p.port);
}

static void *stats_of_own(void *arg)
{
    int *count = arg;
    int rc = sluice_engine_start(-1, -1);

    if (rc)
        return (void *)(intptr_t)rc;
    rc = sluice_engine_stats(1, NULL, NULL, 0, count);
    if (rc == 0)
        rc = sluice_engine_stop();
    return (void *)(intptr_t)rc;
}

Test(engine, stats_name_a_running_engine)
{
    const char *names[4];
    uint64_t values[4];
    int n = 0, own = 0;

    init_queues("2");
    cr_assert_eq(sluice_engine_stats(0, NULL, NULL, 0, &n), ENOENT, "engine 0's network has not started");
    (void)ephemeral_port(); /* starts it */
    cr_assert_eq(sluice_engine_stats(0, names, values, 4, &n), 0);
    cr_assert_gt(n, 4);
    cr_assert_str_eq(names[0], "eth_rx_frames");
    cr_assert_eq(sluice_engine_stats(1, NULL, NULL, 0, &n), ENOENT, "no thread runs engine 1");
    cr_assert_eq(sluice_engine_stats(-1, NULL, NULL, 0, &n), ENOENT);
    cr_assert_eq(sluice_engine_stats(ENGINE_MAX, NULL, NULL, 0, &n), ENOENT);
    cr_assert_eq(sluice_engine_stats(0, NULL, NULL, 0, NULL), EINVAL);
    cr_assert_eq(sluice_engine_stats(0, NULL, NULL, -1, &n), EINVAL);
    cr_assert_eq(sluice_engine_stats(0, NULL, NULL, 4, &n), EINVAL);
    cr_assert_eq(in_thread(stats_of_own, &own), 0);
    cr_assert_eq(own, n);
    cr_assert_eq(sluice_stats(NULL, NULL, 0, &n), 0, "the sum over engines");
}

Test(engine, af_xdp_engines_get_a_port_per_queue)
{
    char out[256];

    cr_assert_eq(net_queue_devargs("net_af_xdp0,iface=sl0", 1, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "net_af_xdp1,iface=sl0,start_queue=1,queue_count=1");
    cr_assert_eq(net_queue_devargs("net_af_xdp0,iface=sl0,start_queue=2,queue_count=4", 0, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "net_af_xdp0,iface=sl0,start_queue=2,queue_count=1");
    cr_assert_eq(net_queue_devargs("net_af_xdp0,start_queue=2,iface=sl0", 3, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "net_af_xdp3,iface=sl0,start_queue=5,queue_count=1");
    cr_assert_eq(net_queue_devargs("net_af_xdp0,iface=sl0,start_queue=5x", 1, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "net_af_xdp1,iface=sl0,start_queue=5x,start_queue=1,queue_count=1",
                     "a start_queue that is no number is left to DPDK to refuse, not read half");
    cr_assert_eq(net_queue_devargs("net_af_packet0,iface=sl0", 1, out, sizeof(out)), -EINVAL,
                 "af_packet has one queue pair per port: not split");
    cr_assert_eq(net_queue_devargs(NULL, 1, out, sizeof(out)), -EINVAL);
    cr_assert_eq(net_queue_devargs("net_af_xdp0,iface=sl0", 1, NULL, 0), -EINVAL);
    cr_assert_eq(net_queue_devargs("net_af_xdp0,iface=sl0", 1, out, 20), -ENAMETOOLONG);
}

/* ---- shared engines (sluice_engines_share): the interposer's family ---- */

static void *use_zero_with_own_engine(void *arg)
{
    int rc = sluice_engine_start(-1, -1);

    (void)arg;
    if (rc)
        return (void *)(intptr_t)-rc;
    rc = sluice_engine_use(0);
    sluice_engine_stop();
    return (void *)(intptr_t)rc;
}

Test(engine, shared_calls_before_demi_init_fail_with_enosys)
{
    int n = 0;

    cr_assert_eq(sluice_engines_share(&n), ENOSYS);
    cr_assert_eq(sluice_engine_use(0), ENOSYS);
    cr_assert_eq(sluice_engine_of(2 << 20 | 7), 2, "a descriptor names its engine without demi_init");
    cr_assert_eq(sluice_engine_of(5), 0);
    cr_assert_eq(sluice_engine_of(-1), -1);
}

Test(engine, shared_engines_follow_descriptors_and_tokens)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)}, got;
    socklen_t len = sizeof(got);
    struct timespec zero = {0, 0};
    demi_qresult_t qr;
    demi_qtoken_t qt;
    int n = 0, qd = -1;

    init_queues("3");
    cr_assert_eq(sluice_engine_use(1), EPERM, "engine 1 is nobody's until shared");
    cr_assert_eq(sluice_engines_share(&n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(sluice_engines_share(NULL), 0, "idempotent");
    cr_assert_eq(sluice_engine_start(-1, -1), EBUSY, "shared engines belong to no thread");
    cr_assert_eq(sluice_engine_use(3), ENOENT, "net.queues is 3");
    cr_assert_eq(sluice_engine_use(-1), ENOENT);
    cr_assert_eq(sluice_engine_use(2), 0);
    cr_assert_eq(sluice_engine_self(), 2);
    cr_assert_eq(sluice_engine_stop(), EPERM, "a shared engine is the family's, not the thread's");
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(sluice_engine_of(qd), 2, "made on the engine in use: %d", qd);
    cr_assert_eq(demi_bind(qd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(demi_pop(&qt, qd), 0);
    /* from engine 0, the descriptor and the token take the call to engine 2 */
    cr_assert_eq(sluice_engine_use(0), 0);
    cr_assert_eq(demi_getsockname(qd, (struct sockaddr *)&got, &len), 0, "not EXDEV: engines are shared");
    cr_assert_eq(got.sin_port, htons(9));
    cr_assert_eq(sluice_engine_self(), 2, "the call went to the descriptor's engine, and stays there");
    cr_assert_eq(sluice_engine_use(0), 0);
    cr_assert_eq(demi_wait(&qr, qt, &zero), ETIMEDOUT, "the token is found on its engine (not EINVAL)");
    cr_assert_eq(sluice_engine_use(0), 0);
    cr_assert_eq(demi_close(qd), 0);
    cr_assert_eq(demi_close(qd), EBADF, "closed on engine 2");
}

Test(engine, shared_engines_and_engines_per_thread_do_not_mix)
{
    int e = -1;

    init_queues("3");
    cr_assert_eq(in_thread(start_any, &e), 0);
    cr_assert_eq(e, 1);
    cr_assert_eq(sluice_engines_share(NULL), EBUSY, "a thread has engine 1");
    cr_assert_eq(sluice_engine_use(1), EPERM, "engine 1 is that thread's");
    cr_assert_eq(in_thread(use_zero_with_own_engine, NULL), EPERM, "a thread's own engine is left by stop, not use");
}

/* demi_wait_any on a done token of engine 1 and a pending one of engine 2:
 * the done one is returned and given back to engine 1's table. */
Test(engine, wait_any_across_shared_engines_gives_each_token_back_to_its_engine)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(0x0a000001)};
    struct timespec zero = {0, 0};
    demi_qtoken_t qt[2], pop1;
    demi_qresult_t qr;
    int qd1 = -1, qd2 = -1, off = -1;
    size_t out1, out2;

    init_queues("3");
    cr_assert_eq(sluice_engines_share(NULL), 0);
    cr_assert_eq(sluice_engine_use(1), 0);
    cr_assert_eq(demi_socket(&qd1, AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(demi_bind(qd1, (struct sockaddr *)&a, sizeof(a)), 0);
    demi_sgarray_t sga = demi_sgaalloc(64);
    cr_assert_eq(sga.sga_numsegs, 1);
    memset(sga.sga_segs[0].sgaseg_buf, 'x', 64);
    cr_assert_eq(demi_pushto(&qt[0], qd1, &sga, (struct sockaddr *)&to, sizeof(to)), 0);
    cr_assert_eq(demi_pop(&pop1, qd1), 0);
    cr_assert_eq(demi_wait(&qr, pop1, &zero), ETIMEDOUT, "one pass of engine 1: the push is done");
    out1 = qtoken_outstanding();
    cr_assert_eq(sluice_engine_use(2), 0);
    cr_assert_eq(demi_socket(&qd2, AF_INET, SOCK_DGRAM, 0), 0);
    cr_assert_eq(demi_bind(qd2, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(demi_pop(&qt[1], qd2), 0);
    out2 = qtoken_outstanding();
    cr_assert_eq(demi_wait_any(&qr, &off, qt, 2, &zero), 0);
    cr_assert_eq(off, 0);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_PUSH);
    cr_assert_eq(sluice_engine_use(1), 0);
    cr_assert_eq(qtoken_outstanding(), out1 - 1, "engine 1's table gave the push's slot back");
    cr_assert_eq(sluice_engine_use(2), 0);
    cr_assert_eq(qtoken_outstanding(), out2, "engine 2's table is untouched");
    cr_assert_eq(demi_sgafree(&sga), 0);
    cr_assert_eq(demi_close(qd1), 0);
    cr_assert_eq(demi_close(qd2), 0);
}

Test(engine, a_forked_child_keeps_shared_engines)
{
    int st = -1;

    init_queues("2");
    cr_assert_eq(sluice_engines_share(NULL), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int qd = -1;
        if (sluice_engine_use(1) != 0 || demi_socket(&qd, AF_INET, SOCK_DGRAM, 0) != 0)
            _exit(1);
        _exit(sluice_engine_of(qd) == 1 && demi_close(qd) == 0 ? 0 : 2);
    }
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child drove engine 1: status %d", st);
}

/* A net_af_xdp device without bpffs at the given mount point is said in
 * one warning (libxdp keeps its dispatcher there); other devices never. */
Test(engine, af_xdp_without_bpffs_is_said)
{
    cr_assert(net_bpffs_missing("net_af_xdp0,iface=sluice0", "/tmp"), "/tmp is no bpffs");
    cr_assert(net_bpffs_missing("net_af_xdp0,iface=sluice0", "/nonexistent-mount"));
    cr_assert(!net_bpffs_missing("net_af_packet0,iface=sluice0", "/tmp"), "af_packet needs no bpffs");
    cr_assert(!net_bpffs_missing(NULL, "/tmp"));
}
