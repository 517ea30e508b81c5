/*
 * fuzz_frame.c - libFuzzer target: arbitrary bytes as a received Ethernet
 * frame, into one long-lived stack on the fake device (so reassembly and
 * ARP state carry across inputs), with a UDP socket bound to port 7 that
 * drains its queue. The first byte of the input also advances the virtual
 * clock, so timers (ARP retries, reassembly timeouts) run. Frames the
 * stack sends are freed. ASan/UBSan catch any bad access; the check below
 * catches a leak of mbufs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <demi/libos.h>

#include "runtime.h"
#include "stack.h"
#include "stack_priv.h"
#include "netdev_fake.h"

static struct stack *stk;
static struct netdev *dev;
static struct udp_sock *sock;
static uint64_t now_ns = 1000000000ull;
static unsigned pool_start;

static void drain(void)
{
    struct rte_mbuf *m;
    rte_be32_t a;
    rte_be16_t p;

    while ((m = netdev_fake_take_tx(dev)) != NULL)
        rte_pktmbuf_free(m);
    while ((m = udp_recv(sock, &a, &p)) != NULL)
        rte_pktmbuf_free(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 0x02}};
    struct stack_params p;

    (void)argc;
    (void)argv;
    setenv("SLUICE_EAL_HUGEPAGES", "off", 0);
    if (demi_init(NULL) != 0)
        abort();
    stack_params_defaults(&p);
    p.addr = RTE_BE32(0x0a000002);
    p.netmask = RTE_BE32(0xffffff00);
    p.gateway = RTE_BE32(0x0a000001);
    dev = netdev_fake_create(&mac, 1500);
    if (dev == NULL || stack_create(&p, dev, g_rt.pool, now_ns, &stk) != 0)
        abort();
    if (udp_open(stk, NULL, NULL, &sock) != 0 || udp_bind(sock, 0, RTE_BE16(7)) != 0)
        abort();
    drain();
    pool_start = rte_mempool_avail_count(g_rt.pool);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rte_mbuf *m;

    if (size == 0 || size > 9216)
        return 0;
    now_ns += (uint64_t)data[0] * 20000000ull; /* up to 5 s a step */
    m = rte_pktmbuf_alloc(g_rt.pool);
    if (m == NULL)
        abort(); /* the pool ran dry: something leaks */
    if (size > rte_pktmbuf_tailroom(m)) {
        rte_pktmbuf_free(m);
        return 0;
    }
    memcpy(rte_pktmbuf_append(m, (uint16_t)size), data, size);
    netdev_fake_inject(dev, m);
    stack_poll(stk, now_ns);
    drain();
    /* held state (reassembly, ARP queues) is bounded; anything more is a leak */
    if (pool_start - rte_mempool_avail_count(g_rt.pool) > 2048)
        abort();
    return 0;
}
