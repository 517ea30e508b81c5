/*
 * eth.c - Ethernet II demultiplexing and framing.
 *
 * Read first: RFC 894 (IP over Ethernet), RFC 826 (ARP). Frames for our
 * MAC or the broadcast address go up by EtherType; anything else (other
 * hosts' unicast, multicast, IPv6, VLAN tags) is dropped and counted.
 */
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "stack_priv.h"

static bool for_us(const struct stack *s, const struct rte_ether_addr *dst)
{
    return rte_is_same_ether_addr(dst, &s->mac) || rte_is_broadcast_ether_addr(dst);
}

void eth_input(struct stack *s, struct rte_mbuf *m)
{
    const struct rte_ether_hdr *eh;
    uint16_t type;

    s->ctr.eth_rx_frames++;
    s->ctr.eth_rx_bytes += rte_pktmbuf_pkt_len(m);
    if (rte_pktmbuf_data_len(m) < sizeof(*eh)) {
        stack_drop(s, m, &s->ctr.eth_drop_short);
        return;
    }
    eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
    if (!for_us(s, &eh->dst_addr)) {
        stack_drop(s, m, &s->ctr.eth_drop_not_ours);
        return;
    }
    type = rte_be_to_cpu_16(eh->ether_type);
    if (type != RTE_ETHER_TYPE_ARP && type != RTE_ETHER_TYPE_IPV4) {
        stack_drop(s, m, &s->ctr.eth_drop_type);
        return;
    }
    m->l2_len = sizeof(*eh);
    rte_pktmbuf_adj(m, sizeof(*eh));
    if (type == RTE_ETHER_TYPE_ARP)
        arp_input(s, m);
    else
        ipv4_input(s, m);
}

void eth_output(struct stack *s, struct rte_mbuf *m, const struct rte_ether_addr *dst, uint16_t ether_type)
{
    struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eh));

    if (eh == NULL) {
        /* no headroom: every sender reserves RTE_PKTMBUF_HEADROOM, so this
         * is a bug upstream, not a wire condition */
        stack_drop(s, m, &s->ctr.eth_tx_drop_full);
        return;
    }
    eh->dst_addr = *dst;
    eh->src_addr = s->mac;
    eh->ether_type = rte_cpu_to_be_16(ether_type);
    m->l2_len = sizeof(*eh);
    stack_tx(s, m);
}
