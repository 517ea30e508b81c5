/* test_eth.c - Ethernet demultiplexing: what is for us goes up, the rest is
 * dropped and counted once, and nothing leaks. */
#include <criterion/criterion.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_mbuf.h>

#include "harness.h"
#include "stack_harness.h"
#include "netdev_fake.h"

static void feed(struct stack *s, struct netdev *dev, const void *frame, size_t len)
{
    netdev_fake_inject(dev, st_mbuf(frame, len));
    st_poll(s, 2000 * ST_NS_PER_MS);
}

Test(eth, short_frame_is_dropped_and_counted)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    uint8_t f[13] = {0};
    feed(s, dev, f, sizeof(f));
    cr_assert_eq(s->ctr.eth_drop_short, 1);
    cr_assert_eq(s->ctr.eth_rx_frames, 1);
    cr_assert_eq(t_pool_avail(), before);
    stack_destroy(s);
}

Test(eth, frame_for_another_mac_is_dropped)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    uint8_t f[64] = {0};
    struct rte_ether_addr other = {{0x02, 9, 9, 9, 9, 9}};
    st_eth(f, &other, &st_peer_mac, RTE_ETHER_TYPE_IPV4);
    feed(s, dev, f, sizeof(f));
    cr_assert_eq(s->ctr.eth_drop_not_ours, 1);
    cr_assert_eq(s->ctr.ip_rx_packets, 0);
    stack_destroy(s);
}

Test(eth, multicast_frame_is_dropped)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    uint8_t f[64] = {0};
    struct rte_ether_addr mc = {{0x01, 0x00, 0x5e, 0, 0, 1}};
    st_eth(f, &mc, &st_peer_mac, RTE_ETHER_TYPE_IPV4);
    feed(s, dev, f, sizeof(f));
    cr_assert_eq(s->ctr.eth_drop_not_ours, 1);
    stack_destroy(s);
}

Test(eth, ipv6_and_vlan_frames_are_dropped_by_type)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    uint8_t f[64] = {0};
    st_eth(f, &st_us_mac, &st_peer_mac, RTE_ETHER_TYPE_IPV6);
    feed(s, dev, f, sizeof(f));
    st_eth(f, &st_us_mac, &st_peer_mac, RTE_ETHER_TYPE_VLAN);
    feed(s, dev, f, sizeof(f));
    cr_assert_eq(s->ctr.eth_drop_type, 2);
    stack_destroy(s);
}

Test(eth, broadcast_arp_goes_up)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    uint8_t f[64] = {0};
    struct rte_ether_addr zero = {{0}};
    size_t n = st_arp(f, RTE_ARP_OP_REQUEST, &st_peer_mac, ST_PEER_IP, &zero, ST_US_IP);
    feed(s, dev, f, n);
    cr_assert_eq(s->ctr.eth_drop_not_ours + s->ctr.eth_drop_type + s->ctr.eth_drop_short, 0);
    cr_assert_eq(s->ctr.arp_rx + s->ctr.arp_drop_malformed, 1, "handed to ARP");
    stack_destroy(s);
}

Test(eth, output_prepends_our_header)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    uint64_t sent = s->ctr.eth_tx_frames;
    struct rte_mbuf *m = st_mbuf("payload", 7);
    eth_output(s, m, &st_peer_mac, RTE_ETHER_TYPE_IPV4);
    stack_tx_flush(s);
    struct rte_mbuf *out = netdev_fake_take_tx(dev);
    cr_assert_not_null(out);
    uint8_t buf[64];
    size_t len = st_bytes(out, buf, sizeof(buf));
    cr_assert_eq(len, 14 + 7);
    struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;
    cr_assert(rte_is_same_ether_addr(&eh->dst_addr, &st_peer_mac));
    cr_assert(rte_is_same_ether_addr(&eh->src_addr, &st_us_mac));
    cr_assert_eq(eh->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
    cr_assert_arr_eq(buf + 14, "payload", 7);
    cr_assert_eq(s->ctr.eth_tx_frames, sent + 1);
    rte_pktmbuf_free(out);
    stack_destroy(s);
}

Test(eth, frames_the_device_refuses_are_counted)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    uint64_t sent = s->ctr.eth_tx_frames;
    netdev_fake_set_tx_limit(dev, 1);
    eth_output(s, st_mbuf("a", 1), &st_peer_mac, RTE_ETHER_TYPE_IPV4);
    eth_output(s, st_mbuf("b", 1), &st_peer_mac, RTE_ETHER_TYPE_IPV4);
    stack_tx_flush(s);
    cr_assert_eq(s->ctr.eth_tx_frames, sent + 1);
    cr_assert_eq(s->ctr.eth_tx_drop_full, 1);
    cr_assert_eq(st_drain_tx(dev), 1);
    cr_assert_eq(t_pool_avail(), before);
    stack_destroy(s);
}
