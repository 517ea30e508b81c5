/* test_process.c - <sluice/process.h>: sluice_detach and sluice_owner_died
 * before and after demi_init, and sluice_owner_died putting back an mbuf
 * pool's ring that a process killed in the middle of an enqueue or a
 * dequeue left with its head ahead of its tail (every later operation
 * would wait on it for ever, or a dequeue would hand out mbufs twice). */
#include <criterion/criterion.h>
#include <errno.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <demi/libos.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <sluice/process.h>

#include "harness.h"
#include "runtime.h"

Test(process, calls_before_init_return_enosys)
{
    unsigned n = 7;

    cr_assert_eq(sluice_detach(), ENOSYS);
    cr_assert_eq(sluice_take_over(), ENOSYS);
    cr_assert_eq(sluice_owner_died(&n), ENOSYS);
    cr_assert_eq(n, 7, "the count is not written on failure");
}

Test(process, owner_died_with_healthy_pools_repairs_nothing)
{
    unsigned n = 7;

    t_init();
    cr_assert_eq(sluice_owner_died(&n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(sluice_owner_died(NULL), 0, "repaired may be NULL");
}

/* 64 mbufs out of the pool and back: the pool still works, none lost. */
static void pool_round_trip(void)
{
    struct rte_mbuf *m[64];
    unsigned before = t_pool_avail();

    cr_assert_eq(rte_pktmbuf_alloc_bulk(g_rt.pool, m, 64), 0, "allocation after the repair");
    rte_pktmbuf_free_bulk(m, 64);
    cr_assert_eq(t_pool_avail(), before);
}

Test(process, owner_died_undoes_a_half_done_enqueue)
{
    unsigned n = 0;

    t_init();
    struct rte_ring *r = g_rt.pool->pool_data;
    uint32_t tail = r->prod.tail;
    r->prod.head = tail + 3; /* a producer moved the head and died before the tail */
    cr_assert_eq(sluice_owner_died(&n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(r->prod.head, tail);
    cr_assert_eq(r->prod.tail, tail);
    pool_round_trip();
}

Test(process, owner_died_undoes_a_half_done_dequeue)
{
    unsigned n = 0, avail;

    t_init();
    struct rte_ring *r = g_rt.pool->pool_data;
    avail = rte_ring_count(r);
    uint32_t tail = r->cons.tail;
    r->cons.head = tail + 5; /* a consumer moved the head and died before the tail */
    cr_assert_eq(sluice_owner_died(&n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(r->cons.head, tail);
    cr_assert_eq(rte_ring_count(r), avail, "the 5 mbufs stay in the ring: the dead process never had them");
    pool_round_trip();
}

/* The family's last process closes the device at its exit once the first
 * has left (sluice_take_over): the port is gone for every process. In the
 * first process itself the call changes nothing. */
Test(process, take_over_closes_the_device_at_the_last_exit)
{
    int st = -1, qd = -1;

    setenv("SLUICE_NET_DEVARGS", "net_null0,no-rx=1", 1);
    setenv("SLUICE_NET_ADDR", "10.0.0.2", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "1000", 1);
    t_init();
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_DGRAM, 0), 0, "the device opens with the first socket");
    cr_assert_eq(demi_close(qd), 0);
    cr_assert_eq(rte_eth_dev_count_avail(), 1);
    uint16_t port = rte_eth_find_next(0), found = UINT16_MAX;
    char name[RTE_ETH_NAME_MAX_LEN] = "";
    /* a port's name is in DPDK's shared memory: what the child does to it shows here */
    cr_assert_eq(rte_eth_dev_get_name_by_port(port, name), 0);
    cr_assert_eq(rte_eth_dev_get_port_by_name(name, &found), 0, "%s", name);
    cr_assert_eq(sluice_take_over(), 0, "the first process: nothing to take over");
    cr_assert_eq(sluice_detach(), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        exit(sluice_take_over() == 0 ? 0 : 1); /* exit: the handlers run */
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    cr_assert_neq(rte_eth_dev_get_port_by_name(name, &found), 0, "the child's exit closed port %s", name);
}
