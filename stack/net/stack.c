/*
 * stack.c - one network stack: creation, the poll pass (rx burst, timers,
 * tx flush), the single drop exit and the transmit batch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "stack.h"
#include "smem.h"
#include "stack_priv.h"

#define RX_BURST 32

const char *const stack_counter_names[] = {
#define STACK_COUNTER_NAME(name) #name,
    STACK_COUNTERS(STACK_COUNTER_NAME)
#undef STACK_COUNTER_NAME
};

void stack_params_defaults(struct stack_params *p)
{
    memset(p, 0, sizeof(*p));
    p->arp_ttl_ns = 60ull * 1000000000u;
    p->arp_retry_ns = 1000000000ull;
    p->arp_retries = 3;
    p->arp_queue_max = 64;
    p->frag_max_flows = 64;
    p->frag_timeout_ns = 2ull * 1000000000u;
    p->udp_rcvq_max = 256;
    tcp_params_defaults(&p->tcp);
}

int stack_drop(struct stack *s, struct rte_mbuf *m, uint64_t *counter)
{
    (void)s;
    rte_pktmbuf_free(m);
    (*counter)++;
    return 0;
}

void stack_tx_flush(struct stack *s)
{
    uint16_t sent = 0;

    if (s->tx_len == 0)
        return;
    for (uint16_t i = 0; i < s->tx_len; i++)
        s->ctr.eth_tx_bytes += rte_pktmbuf_pkt_len(s->tx[i]);
    sent = netdev_tx(s->dev, s->tx, s->tx_len, s->now_ns);
    s->ctr.eth_tx_frames += sent;
    for (uint16_t i = sent; i < s->tx_len; i++) {
        s->ctr.eth_tx_bytes -= rte_pktmbuf_pkt_len(s->tx[i]);
        stack_drop(s, s->tx[i], &s->ctr.eth_tx_drop_full);
    }
    s->tx_len = 0;
}

void stack_tx(struct stack *s, struct rte_mbuf *m)
{
    s->tx[s->tx_len++] = m;
    if (s->tx_len == STACK_TX_BURST)
        stack_tx_flush(s);
}

bool stack_addr_is_local(const struct stack *s, rte_be32_t addr)
{
    rte_be32_t bcast = (s->addr & s->netmask) | ~s->netmask;

    return addr == s->addr || addr == RTE_BE32(0xffffffff) || addr == bcast;
}

static int check_params(const struct stack_params *p)
{
    uint32_t mask = rte_be_to_cpu_32(p->netmask);

    if (p->addr == 0 || p->addr == RTE_BE32(0xffffffff))
        return -EINVAL;
    /* a netmask is ones then zeros */
    if (mask != 0 && (~mask & (~mask + 1)) != 0)
        return -EINVAL;
    if (p->arp_nstatic > STACK_ARP_STATIC_MAX)
        return -EINVAL;
    if (p->eph_stride > 1 && p->eph_offset >= p->eph_stride)
        return -EINVAL;
    return 0;
}

static int create_layers(struct stack *s, const struct stack_params *p)
{
    struct arp_static statics[STACK_ARP_STATIC_MAX];
    int rc;

    for (unsigned i = 0; i < p->arp_nstatic; i++) {
        statics[i].addr = p->arp_static[i].addr;
        statics[i].mac = p->arp_static[i].mac;
    }
    rc = arp_create(s, statics, p->arp_nstatic, p->arp_ttl_ns, p->arp_retry_ns, p->arp_retries,
                    p->arp_queue_max);
    rc = rc ? rc : ipv4_create(s, p->frag_max_flows, p->frag_timeout_ns);
    rc = rc ? rc : udp_create(s, p->udp_rcvq_max);
    rc = rc ? rc : tcp_create(s, &p->tcp);
    return rc;
}

int stack_create(const struct stack_params *p, struct netdev *dev, struct rte_mempool *pool, uint64_t now_ns,
                 struct stack **out)
{
    struct stack *s;
    int rc = check_params(p);

    if (rc)
        return rc;
    s = smem_calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->dev = dev;
    s->pool = pool;
    s->mac = dev->mac;
    s->mtu = dev->mtu;
    s->addr = p->addr;
    s->netmask = p->netmask;
    s->gateway = p->gateway;
    s->eph_stride = p->eph_stride;
    s->eph_offset = p->eph_offset;
    s->now_ns = now_ns;
    timer_wheel_init(&s->timers, now_ns);
    rc = create_layers(s, p);
    if (rc) {
        stack_destroy(s);
        return rc;
    }
    arp_announce(s);
    stack_tx_flush(s);
    *out = s;
    return 0;
}

/* The frames to our own address sent since the last poll go in; what
 * they make us send to ourselves waits for the next poll (no recursion).
 * Returns how many went in. */
static int loop_input(struct stack *s)
{
    struct rte_mbuf *in[STACK_LOOP_MAX];
    uint16_t n = s->loop_len;

    if (n == 0)
        return 0;
    memcpy(in, s->loop, n * sizeof(in[0]));
    s->loop_len = 0;
    for (uint16_t i = 0; i < n; i++)
        eth_input(s, in[i]);
    return n;
}

void stack_set_steer(struct stack *s, const struct stack_steer_ops *ops, void *ctx)
{
    s->steer = ops;
    s->steer_ctx = ctx;
}

void stack_steer_to(struct stack *s, int engine, struct rte_mbuf *m, uint32_t hdr_len)
{
    uint32_t back = m->l2_len + m->l3_len + hdr_len;

    /* the headers are still in the headroom (a datagram reassembled here
     * has its first fragment's, rewritten by the library for the whole) */
    if (rte_pktmbuf_headroom(m) < back) {
        stack_drop(s, m, &s->ctr.eng_steer_drop_full);
        return;
    }
    rte_pktmbuf_prepend(m, (uint16_t)back);
    if (!s->steer->handoff(s->steer_ctx, engine, m)) {
        stack_drop(s, m, &s->ctr.eng_steer_drop_full);
        return;
    }
    s->ctr.eng_steered_out++;
}

/* Frames other engines handed to us: input like our own, never handed on. */
static int steered_input(struct stack *s)
{
    struct rte_mbuf *pkts[RX_BURST];
    uint16_t n;

    if (s->steer == NULL)
        return 0;
    n = s->steer->pull(s->steer_ctx, pkts, RX_BURST);
    s->steered_input = true;
    for (uint16_t i = 0; i < n; i++) {
        const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(pkts[i], const struct rte_ether_hdr *);
        if (pkts[i]->data_len >= sizeof(*eh) && eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
            s->ctr.eng_arp_copies_in++;
        else
            s->ctr.eng_steered_in++;
        eth_input(s, pkts[i]);
    }
    s->steered_input = false;
    return n;
}

int stack_poll(struct stack *s, uint64_t now_ns)
{
    struct rte_mbuf *pkts[RX_BURST];
    uint16_t n;
    int work;

    s->now_ns = now_ns;
    n = netdev_rx(s->dev, pkts, RX_BURST, now_ns);
    for (uint16_t i = 0; i < n; i++)
        eth_input(s, pkts[i]);
    work = n + steered_input(s) + loop_input(s) + (int)timer_wheel_run(&s->timers, now_ns);
    ipv4_poll(s);
    tcp_poll(s);
    work += s->tx_len;
    stack_tx_flush(s);
    return work;
}

void stack_destroy(struct stack *s)
{
    if (s == NULL)
        return;
    stack_tx_flush(s);
    rte_pktmbuf_free_bulk(s->loop, s->loop_len); /* to ourselves: no one left to take them */
    s->loop_len = 0;
    tcp_destroy(s);
    udp_destroy(s);
    ipv4_destroy(s);
    arp_destroy(s);
    netdev_close(s->dev);
    smem_free(s);
}

void stack_counters(const struct stack *s, struct stack_counters *out)
{
    *out = s->ctr;
}

int stack_rx_fd(const struct stack *s)
{
    return s->dev->rx_intr_fd;
}
