/* test_ipv4.c - IPv4 (RFC 791, RFC 1122 3.2.1) on a stack over the fake
 * device: every input check and its counter, link padding, options, the
 * TTL rule, checksum offload, protocol-unreachable, reassembly (in order,
 * out of order, duplicates, overlaps, timeouts, a full table), output
 * (header fields, fragmentation, routing, errors). Every test ends with the
 * mbuf pool back where it was. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "harness.h"
#include "stack_harness.h"
#include "netdev_fake.h"

#define SEC 1000000000ull
#define T0 (1000 * ST_NS_PER_MS) /* st_create's virtual time */
#define ETH_LEN sizeof(struct rte_ether_hdr)
#define IP_LEN sizeof(struct rte_ipv4_hdr)
#define OFF_LINK_IP RTE_BE32(0xc0000209) /* 192.0.2.9 */
#define SUBNET_BCAST RTE_BE32(0x0a0000ff)
#define PROTO_UNKNOWN 253 /* RFC 3692 experimental */
#define UDP_PORT 7000

static uint8_t frame[70000], out[70000], big[70000];

/* ---- helpers ---- */

/* A stack with a static ARP entry for the peer/gateway (so frames to it
 * leave at once whichever ARP is built in). */
static struct stack *make_stack(struct netdev **dev, rte_be32_t gateway, unsigned frag_flows)
{
    struct stack_params p;

    stack_params_defaults(&p);
    p.gateway = gateway;
    p.frag_max_flows = frag_flows;
    p.arp_static[0].addr = ST_PEER_IP;
    p.arp_static[0].mac = st_peer_mac;
    p.arp_nstatic = 1;
    return st_create(&p, dev);
}

static struct stack *make_default(struct netdev **dev)
{
    return make_stack(dev, ST_PEER_IP, 64);
}

static struct rte_ipv4_hdr *iph(void *f)
{
    return (struct rte_ipv4_hdr *)((uint8_t *)f + ETH_LEN);
}

/* The MAC a frame to next hop hop must carry: what ARP knows, or broadcast
 * with an ARP stand-in that knows nothing. */
static struct rte_ether_addr mac_for(struct stack *s, rte_be32_t hop)
{
    struct rte_ether_addr mac;

    if (arp_lookup(s, hop, &mac) != 0)
        return st_bcast_mac;
    return mac;
}

static void expect_eth(struct stack *s, const uint8_t *f, rte_be32_t hop)
{
    const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)f;
    struct rte_ether_addr want = mac_for(s, hop);

    cr_assert(rte_is_same_ether_addr(&eh->dst_addr, &want), "wrong destination MAC");
    cr_assert(rte_is_same_ether_addr(&eh->src_addr, &st_us_mac));
    cr_assert_eq(eh->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV4));
}

/* An echo request from the peer to us that a healthy stack answers. */
static size_t echo_frame(void *f)
{
    return st_icmp_echo(f, ST_PEER_IP, ST_US_IP, 0x1234, 1, "abcdefgh", 8);
}

/* A request broken by edit is dropped by exactly *counter, nothing else. */
static void expect_dropped(struct stack *s, struct netdev *dev, size_t len, const uint64_t *counter)
{
    st_inject(s, dev, frame, len, T0);
    cr_assert_eq(*counter, 1);
    cr_assert_eq(s->ctr.ip_rx_packets, 0);
    cr_assert_eq(s->ctr.icmp_rx, 0);
    st_expect_no_tx(dev);
}

/* A UDP datagram from the peer to us (port UDP_PORT) carrying len pattern
 * bytes, in frame; returns the IP payload (UDP header first) and its size. */
static const uint8_t *udp_datagram(size_t len, uint8_t *data, size_t *l4len)
{
    uint64_t seed = 42;

    t_pattern(&seed, data, len);
    st_udp(frame, ST_PEER_IP, RTE_BE16(5353), ST_US_IP, RTE_BE16(UDP_PORT), data, len);
    *l4len = sizeof(struct rte_udp_hdr) + len;
    return frame + ETH_LEN + IP_LEN;
}

/* Injects bytes [off, off + len) of IP payload l4 as a fragment. */
static void inject_frag(struct stack *s, struct netdev *dev, const uint8_t *l4, uint16_t off, uint16_t len, bool mf,
                        uint16_t id, uint64_t now)
{
    uint8_t f[2048];
    size_t n = st_ipv4(f, ST_PEER_IP, ST_US_IP, IPPROTO_UDP, l4 + off, len);

    iph(f)->packet_id = rte_cpu_to_be_16(id);
    iph(f)->fragment_offset = rte_cpu_to_be_16((uint16_t)(off / 8) | (mf ? RTE_IPV4_HDR_MF_FLAG : 0));
    st_ip_fix_checksum(f);
    st_inject(s, dev, f, n, now);
}

static struct udp_sock *open_udp(struct stack *s)
{
    struct udp_sock *u;

    cr_assert_eq(udp_open(s, NULL, NULL, &u), 0);
    cr_assert_eq(udp_bind(u, 0, RTE_BE16(UDP_PORT)), 0);
    return u;
}

/* The socket holds exactly one datagram of len bytes equal to want. */
static void expect_datagram(struct udp_sock *u, const uint8_t *want, size_t len)
{
    rte_be32_t addr;
    rte_be16_t port;
    struct rte_mbuf *m = udp_recv(u, &addr, &port);

    cr_assert_not_null(m, "no datagram delivered");
    cr_assert_eq(addr, ST_PEER_IP);
    cr_assert_eq(port, RTE_BE16(5353));
    cr_assert_eq(st_bytes(m, out, sizeof(out)), len);
    cr_assert_arr_eq(out, want, len);
    rte_pktmbuf_free(m);
    cr_assert_null(udp_recv(u, &addr, &port), "more than one datagram");
}

/* An mbuf chain holding len bytes of data (2000-byte segments). */
static struct rte_mbuf *chain(const uint8_t *data, size_t len)
{
    struct rte_mbuf *head = NULL;

    for (size_t off = 0; off < len; off += 2000) {
        struct rte_mbuf *m = st_mbuf(data + off, RTE_MIN(len - off, (size_t)2000));
        if (head == NULL)
            head = m;
        else
            cr_assert_eq(rte_pktmbuf_chain(head, m), 0);
    }
    return head;
}

static bool ip_cksum_ok(const struct rte_ipv4_hdr *h)
{
    return rte_ipv4_cksum(h) == 0;
}

/* ---- input checks, in the order ipv4_input makes them ---- */

Test(ipv4, packet_shorter_than_a_header_is_dropped_short)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();

    echo_frame(frame);
    expect_dropped(s, dev, ETH_LEN + IP_LEN - 1, &s->ctr.ip_drop_short);
    st_finish(s, dev, pool0);
}

Test(ipv4, version_6_is_dropped_version)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame);

    iph(frame)->version_ihl = 0x65;
    st_ip_fix_checksum(frame);
    expect_dropped(s, dev, n, &s->ctr.ip_drop_version);
    st_finish(s, dev, pool0);
}

Test(ipv4, ihl_below_five_is_dropped_ihl)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame);

    iph(frame)->version_ihl = 0x44;
    expect_dropped(s, dev, n, &s->ctr.ip_drop_ihl);
    st_finish(s, dev, pool0);
}

Test(ipv4, ihl_past_the_packet_is_dropped_ihl)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame); /* 36 bytes of IP */

    iph(frame)->version_ihl = 0x4a; /* 40 bytes of header */
    expect_dropped(s, dev, n, &s->ctr.ip_drop_ihl);
    st_finish(s, dev, pool0);
}

Test(ipv4, total_length_below_the_header_is_dropped_length)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame);

    iph(frame)->total_length = RTE_BE16(19);
    st_ip_fix_checksum(frame);
    expect_dropped(s, dev, n, &s->ctr.ip_drop_length);
    st_finish(s, dev, pool0);
}

Test(ipv4, total_length_past_the_frame_is_dropped_length)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame);

    iph(frame)->total_length = rte_cpu_to_be_16((uint16_t)(n - ETH_LEN + 1));
    st_ip_fix_checksum(frame);
    expect_dropped(s, dev, n, &s->ctr.ip_drop_length);
    st_finish(s, dev, pool0);
}

Test(ipv4, bad_header_checksum_is_dropped_checksum)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame);

    iph(frame)->hdr_checksum ^= RTE_BE16(0x0100);
    expect_dropped(s, dev, n, &s->ctr.ip_drop_checksum);
    st_finish(s, dev, pool0);
}

Test(ipv4, checksum_offload_flags_are_trusted_both_ways)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame);
    struct rte_mbuf *m;

    dev->offloads = NETDEV_RX_IPV4_CKSUM;
    /* a good checksum the device calls bad is dropped */
    m = st_mbuf(frame, n);
    m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
    netdev_fake_inject(dev, m);
    st_poll(s, T0);
    cr_assert_eq(s->ctr.ip_drop_checksum, 1);
    st_expect_no_tx(dev);
    /* a bad checksum the device calls good is taken */
    iph(frame)->hdr_checksum ^= RTE_BE16(0x0100);
    m = st_mbuf(frame, n);
    m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
    netdev_fake_inject(dev, m);
    st_poll(s, T0);
    cr_assert_eq(s->ctr.ip_drop_checksum, 1);
    cr_assert_eq(s->ctr.icmp_echo_replies_sent, 1);
    /* no verdict from the device: checked in software */
    st_inject(s, dev, frame, n, T0);
    cr_assert_eq(s->ctr.ip_drop_checksum, 2);
    st_finish(s, dev, pool0);
}

Test(ipv4, datagram_for_another_host_is_dropped_not_ours)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = st_icmp_echo(frame, ST_PEER_IP, RTE_BE32(0x0a000003), 1, 1, "x", 1);

    expect_dropped(s, dev, n, &s->ctr.ip_drop_not_ours);
    st_finish(s, dev, pool0);
}

Test(ipv4, broadcast_multicast_or_loopback_source_is_dropped_source)
{
    static const rte_be32_t bad[] = {RTE_BE32(0xffffffff), SUBNET_BCAST, RTE_BE32(0xe0000001),
                                     RTE_BE32(0xefffffff), RTE_BE32(0x7f000001)};
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();

    for (unsigned i = 0; i < RTE_DIM(bad); i++) {
        size_t n = st_icmp_echo(frame, bad[i], ST_US_IP, 1, 1, "x", 1);
        st_inject(s, dev, frame, n, T0);
        cr_assert_eq(s->ctr.ip_drop_source, i + 1, "source %u", i);
    }
    cr_assert_eq(s->ctr.ip_rx_packets, 0);
    st_expect_no_tx(dev);
    st_finish(s, dev, pool0);
}

Test(ipv4, ttl_below_two_is_still_delivered)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();

    for (uint8_t ttl = 0; ttl < 2; ttl++) {
        size_t n = echo_frame(frame);
        iph(frame)->time_to_live = ttl;
        st_ip_fix_checksum(frame);
        st_inject(s, dev, frame, n, T0);
    }
    cr_assert_eq(s->ctr.icmp_echo_replies_sent, 2);
    cr_assert_eq(netdev_fake_tx_count(dev), 2);
    st_finish(s, dev, pool0);
}

Test(ipv4, accepted_packet_is_counted_with_its_bytes)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame);

    st_inject(s, dev, frame, n, T0);
    cr_assert_eq(s->ctr.ip_rx_packets, 1);
    cr_assert_eq(s->ctr.ip_rx_bytes, n - ETH_LEN);
    cr_assert_eq(s->ctr.icmp_rx, 1);
    st_finish(s, dev, pool0);
}

Test(ipv4, link_padding_is_trimmed_to_total_length)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame); /* 50 bytes: Ethernet pads it to 60 */

    memset(frame + n, 0xaa, 10);
    st_inject(s, dev, frame, n + 10, T0);
    cr_assert_eq(s->ctr.ip_rx_bytes, n - ETH_LEN);
    cr_assert_eq(s->ctr.icmp_drop_malformed, 0, "the padding reached the ICMP checksum");
    size_t r = st_take(dev, out, sizeof(out));
    cr_assert_eq(r, n);
    cr_assert_eq(iph(out)->total_length, rte_cpu_to_be_16((uint16_t)(n - ETH_LEN)));
    cr_assert_arr_eq(out + ETH_LEN + IP_LEN + 8, "abcdefgh", 8);
    st_finish(s, dev, pool0);
}

Test(ipv4, options_are_skipped_and_the_payload_delivered)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = echo_frame(frame);
    const size_t icmp_len = n - ETH_LEN - IP_LEN;
    static const uint8_t opts[4] = {1, 1, 1, 0}; /* NOP NOP NOP EOL */

    /* move the ICMP message 4 bytes on and put options in between */
    memmove(frame + ETH_LEN + IP_LEN + 4, frame + ETH_LEN + IP_LEN, icmp_len);
    memcpy(frame + ETH_LEN + IP_LEN, opts, sizeof(opts));
    iph(frame)->version_ihl = 0x46;
    iph(frame)->total_length = rte_cpu_to_be_16((uint16_t)(IP_LEN + 4 + icmp_len));
    st_ip_fix_checksum(frame);
    st_inject(s, dev, frame, n + 4, T0);
    cr_assert_eq(s->ctr.icmp_echo_replies_sent, 1);
    size_t r = st_take(dev, out, sizeof(out));
    cr_assert_eq(r, n, "the reply carries no options");
    const struct rte_icmp_hdr *ic = (const struct rte_icmp_hdr *)(out + ETH_LEN + IP_LEN);
    cr_assert_eq(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
    cr_assert_arr_eq(ic + 1, "abcdefgh", 8);
    st_finish(s, dev, pool0);
}

/* ---- protocols we do not speak ---- */

Test(ipv4, unknown_protocol_gets_protocol_unreachable_quoting_the_datagram)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    uint64_t seed = 7;

    t_pattern(&seed, big, 600);
    size_t n = st_ipv4(frame, ST_PEER_IP, ST_US_IP, PROTO_UNKNOWN, big, 600);
    st_inject(s, dev, frame, n, T0);
    cr_assert_eq(s->ctr.ip_drop_protocol, 1);
    cr_assert_eq(s->ctr.icmp_unreach_sent, 1);
    size_t r = st_take(dev, out, sizeof(out));
    expect_eth(s, out, ST_PEER_IP);
    /* RFC 1812 4.3.2.3: the error fills at most 576 bytes of IP */
    cr_assert_eq(r, ETH_LEN + 576);
    const struct rte_ipv4_hdr *h = iph(out);
    cr_assert_eq(h->total_length, RTE_BE16(576));
    cr_assert_eq(h->next_proto_id, IPPROTO_ICMP);
    cr_assert_eq(h->src_addr, ST_US_IP);
    cr_assert_eq(h->dst_addr, ST_PEER_IP);
    cr_assert(ip_cksum_ok(h));
    const uint8_t *ic = out + ETH_LEN + IP_LEN;
    cr_assert_eq(ic[0], 3);
    cr_assert_eq(ic[1], 2);
    cr_assert_eq(rte_raw_cksum(ic, 576 - IP_LEN), 0xffff);
    static const uint8_t unused[4];
    cr_assert_arr_eq(ic + 4, unused, 4);
    /* the original header as received, then its first 528 data bytes */
    cr_assert_arr_eq(ic + 8, frame + ETH_LEN, 576 - IP_LEN - 8);
    st_finish(s, dev, pool0);
}

Test(ipv4, unknown_protocol_to_a_broadcast_is_dropped_silently)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = st_ipv4(frame, ST_PEER_IP, SUBNET_BCAST, PROTO_UNKNOWN, "data", 4);

    st_inject(s, dev, frame, n, T0);
    cr_assert_eq(s->ctr.ip_drop_protocol, 1);
    cr_assert_eq(s->ctr.icmp_unreach_sent, 0);
    st_expect_no_tx(dev);
    st_finish(s, dev, pool0);
}

/* ---- reassembly ---- */

Test(ipv4, fragments_in_order_are_reassembled_and_delivered)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    struct udp_sock *u = open_udp(s);
    size_t l4len;
    const uint8_t *l4 = udp_datagram(3000, big, &l4len);

    inject_frag(s, dev, l4, 0, 1480, true, 77, T0);
    inject_frag(s, dev, l4, 1480, 1480, true, 77, T0);
    cr_assert_eq(s->ctr.ip_reassembled, 0);
    inject_frag(s, dev, l4, 2960, (uint16_t)(l4len - 2960), false, 77, T0);
    cr_assert_eq(s->ctr.ip_frag_rx, 3);
    cr_assert_eq(s->ctr.ip_reassembled, 1);
    cr_assert_eq(s->ctr.ip_frag_drop, 0);
    cr_assert_eq(s->ctr.udp_rx_datagrams, 1);
    expect_datagram(u, big, 3000);
    udp_close(u);
    st_finish(s, dev, pool0);
}

Test(ipv4, fragments_out_of_order_are_reassembled_and_delivered)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    struct udp_sock *u = open_udp(s);
    size_t l4len;
    const uint8_t *l4 = udp_datagram(3000, big, &l4len);

    inject_frag(s, dev, l4, 2960, (uint16_t)(l4len - 2960), false, 78, T0);
    inject_frag(s, dev, l4, 0, 1480, true, 78, T0);
    inject_frag(s, dev, l4, 1480, 1480, true, 78, T0);
    cr_assert_eq(s->ctr.ip_reassembled, 1);
    expect_datagram(u, big, 3000);
    udp_close(u);
    st_finish(s, dev, pool0);
}

Test(ipv4, reassembled_datagram_reaches_udp_once)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t l4len;
    const uint8_t *l4 = udp_datagram(2000, big, &l4len);

    inject_frag(s, dev, l4, 0, 1480, true, 79, T0);
    inject_frag(s, dev, l4, 1480, (uint16_t)(l4len - 1480), false, 79, T0);
    cr_assert_eq(s->ctr.ip_reassembled, 1);
    /* nobody listens: UDP drops the whole datagram once */
    cr_assert_eq(s->ctr.udp_drop_no_port, 1);
    cr_assert_eq(s->ctr.udp_drop_malformed, 0);
    st_finish(s, dev, pool0);
}

Test(ipv4, reassembled_unknown_protocol_is_answered_quoting_the_whole_header)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    uint8_t f[2048];
    uint64_t seed = 9;

    t_pattern(&seed, big, 2000);
    for (uint16_t off = 0; off < 2000; off += 1480) {
        uint16_t len = (uint16_t)RTE_MIN(2000 - off, 1480);
        size_t n = st_ipv4(f, ST_PEER_IP, ST_US_IP, PROTO_UNKNOWN, big + off, len);
        iph(f)->packet_id = RTE_BE16(85);
        iph(f)->fragment_offset = rte_cpu_to_be_16((uint16_t)(off / 8) | (off == 0 ? RTE_IPV4_HDR_MF_FLAG : 0));
        st_ip_fix_checksum(f);
        st_inject(s, dev, f, n, T0);
    }
    cr_assert_eq(s->ctr.ip_reassembled, 1);
    cr_assert_eq(s->ctr.ip_drop_protocol, 1);
    cr_assert_eq(s->ctr.icmp_unreach_sent, 1);
    st_take(dev, out, sizeof(out));
    const struct rte_ipv4_hdr *q = (const struct rte_ipv4_hdr *)(out + ETH_LEN + IP_LEN + 8);
    /* the header of the whole datagram, checksum and all */
    cr_assert_eq(rte_be_to_cpu_16(q->total_length), IP_LEN + 2000);
    cr_assert_eq(q->fragment_offset, 0);
    cr_assert_eq(q->packet_id, RTE_BE16(85));
    cr_assert(ip_cksum_ok(q));
    cr_assert_arr_eq(q + 1, big, 576 - 2 * IP_LEN - 8);
    st_finish(s, dev, pool0);
}

/* librte_ip_frag takes any duplicate as an error and discards the whole
 * datagram; what arrives after that starts a new one, which times out. */
Test(ipv4, duplicated_fragment_discards_the_datagram)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    struct udp_sock *u = open_udp(s);
    size_t l4len;
    const uint8_t *l4 = udp_datagram(3000, big, &l4len);
    rte_be32_t a;
    rte_be16_t p;

    inject_frag(s, dev, l4, 0, 1480, true, 80, T0);
    inject_frag(s, dev, l4, 0, 1480, true, 80, T0);
    cr_assert_eq(s->ctr.ip_frag_drop, 2);
    inject_frag(s, dev, l4, 1480, 1480, true, 80, T0);
    inject_frag(s, dev, l4, 2960, (uint16_t)(l4len - 2960), false, 80, T0);
    cr_assert_eq(s->ctr.ip_frag_rx, 4);
    cr_assert_eq(s->ctr.ip_reassembled, 0);
    cr_assert_null(udp_recv(u, &a, &p));
    st_poll(s, T0 + 2 * SEC + 1);
    cr_assert_eq(s->ctr.ip_frag_drop, 4);
    udp_close(u);
    st_finish(s, dev, pool0);
}

Test(ipv4, overlapping_fragments_discard_the_datagram)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    struct udp_sock *u = open_udp(s);
    size_t l4len;
    const uint8_t *l4 = udp_datagram(3000, big, &l4len);
    rte_be32_t a;
    rte_be16_t p;

    inject_frag(s, dev, l4, 0, 1480, true, 81, T0);
    inject_frag(s, dev, l4, 1472, 1488, true, 81, T0); /* starts 8 bytes early */
    inject_frag(s, dev, l4, 2960, (uint16_t)(l4len - 2960), false, 81, T0);
    cr_assert_eq(s->ctr.ip_reassembled, 0);
    cr_assert_eq(s->ctr.ip_frag_drop, 3);
    cr_assert_null(udp_recv(u, &a, &p));
    udp_close(u);
    st_finish(s, dev, pool0);
}

Test(ipv4, incomplete_datagram_expires_after_the_timeout)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t l4len;
    const uint8_t *l4 = udp_datagram(3000, big, &l4len);

    inject_frag(s, dev, l4, 0, 1480, true, 82, T0);
    inject_frag(s, dev, l4, 2960, (uint16_t)(l4len - 2960), false, 82, T0);
    st_poll(s, T0 + 2 * SEC);
    cr_assert_eq(s->ctr.ip_frag_drop, 0, "expired at the timeout, not after it");
    cr_assert_lt(t_pool_avail(), pool0);
    st_poll(s, T0 + 2 * SEC + 1);
    cr_assert_eq(s->ctr.ip_frag_drop, 2);
    cr_assert_eq(s->ctr.ip_reassembled, 0);
    cr_assert_eq(t_pool_avail(), pool0);
    st_finish(s, dev, pool0);
}

Test(ipv4, held_fragments_are_freed_with_the_stack)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t l4len;
    const uint8_t *l4 = udp_datagram(3000, big, &l4len);

    inject_frag(s, dev, l4, 0, 1480, true, 83, T0);
    cr_assert_eq(t_pool_avail(), pool0 - 1);
    st_finish(s, dev, pool0);
}

Test(ipv4, fragment_with_data_not_a_multiple_of_8_is_dropped)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    size_t l4len;
    const uint8_t *l4 = udp_datagram(3000, big, &l4len);

    inject_frag(s, dev, l4, 0, 1001, true, 84, T0);
    cr_assert_eq(s->ctr.ip_frag_rx, 1);
    cr_assert_eq(s->ctr.ip_frag_drop, 1);
    st_finish(s, dev, pool0);
}

Test(ipv4, fragment_ending_past_65535_is_dropped)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    uint8_t data[1024] = {0};
    size_t n = st_ipv4(frame, ST_PEER_IP, ST_US_IP, IPPROTO_UDP, data, sizeof(data));

    iph(frame)->fragment_offset = rte_cpu_to_be_16(8100); /* 64800 + 1024 > 65515 */
    st_ip_fix_checksum(frame);
    st_inject(s, dev, frame, n, T0);
    cr_assert_eq(s->ctr.ip_frag_drop, 1);
    cr_assert_eq(t_pool_avail(), pool0);
    st_finish(s, dev, pool0);
}

Test(ipv4, full_reassembly_table_drops_a_new_datagram)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev, ST_PEER_IP, 1);
    unsigned pool0 = t_pool_avail();
    struct udp_sock *u = open_udp(s);
    size_t l4len;
    const uint8_t *l4 = udp_datagram(2000, big, &l4len);

    inject_frag(s, dev, l4, 0, 1480, true, 90, T0);
    inject_frag(s, dev, l4, 0, 1480, true, 91, T0); /* a second datagram: no room */
    cr_assert_eq(s->ctr.ip_frag_drop, 1);
    inject_frag(s, dev, l4, 1480, (uint16_t)(l4len - 1480), false, 90, T0);
    cr_assert_eq(s->ctr.ip_reassembled, 1);
    expect_datagram(u, big, 2000);
    udp_close(u);
    st_finish(s, dev, pool0);
}

/* ---- output ---- */

Test(ipv4, output_builds_the_header_rfc791_asks_for)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    uint64_t seed = 3;

    t_pattern(&seed, big, 100);
    cr_assert_eq(ipv4_output(s, st_mbuf(big, 100), ST_PEER_IP, IPPROTO_UDP), 0);
    cr_assert_eq(ipv4_output(s, st_mbuf(big, 100), ST_PEER_IP, IPPROTO_UDP), 0);
    st_poll(s, T0);
    cr_assert_eq(s->ctr.ip_tx_packets, 2);
    cr_assert_eq(s->ctr.ip_frag_tx, 0);
    size_t n = st_take(dev, out, sizeof(out));
    cr_assert_eq(n, ETH_LEN + IP_LEN + 100);
    expect_eth(s, out, ST_PEER_IP);
    const struct rte_ipv4_hdr *h = iph(out);
    cr_assert_eq(h->version_ihl, 0x45);
    cr_assert_eq(h->type_of_service, 0);
    cr_assert_eq(h->total_length, RTE_BE16(120));
    cr_assert_eq(h->fragment_offset, 0, "DF and MF clear, offset 0");
    cr_assert_eq(h->time_to_live, 64);
    cr_assert_eq(h->next_proto_id, IPPROTO_UDP);
    cr_assert_eq(h->src_addr, ST_US_IP);
    cr_assert_eq(h->dst_addr, ST_PEER_IP);
    cr_assert(ip_cksum_ok(h));
    cr_assert_arr_eq(out + ETH_LEN + IP_LEN, big, 100);
    uint16_t id = rte_be_to_cpu_16(h->packet_id);
    st_take(dev, out, sizeof(out));
    cr_assert_eq(rte_be_to_cpu_16(iph(out)->packet_id), (uint16_t)(id + 1), "ids come from a counter");
    st_finish(s, dev, pool0);
}

Test(ipv4, output_4000_bytes_leaves_as_three_fragments)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    static const uint16_t len[3] = {1500, 1500, 1060}, off[3] = {0, 185, 370};
    static uint8_t got[4000];
    uint64_t seed = 5;

    t_pattern(&seed, big, 4000);
    cr_assert_eq(ipv4_output(s, chain(big, 4000), ST_PEER_IP, IPPROTO_UDP), 0);
    st_poll(s, T0);
    cr_assert_eq(netdev_fake_tx_count(dev), 3);
    cr_assert_eq(s->ctr.ip_frag_tx, 3);
    cr_assert_eq(s->ctr.ip_tx_packets, 1);
    uint16_t id = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = st_take(dev, out, sizeof(out));
        const struct rte_ipv4_hdr *h = iph(out);
        uint16_t fo = rte_be_to_cpu_16(h->fragment_offset);
        expect_eth(s, out, ST_PEER_IP);
        cr_assert_eq(n, ETH_LEN + len[i], "fragment %d", i);
        cr_assert_eq(rte_be_to_cpu_16(h->total_length), len[i]);
        cr_assert_eq(fo & RTE_IPV4_HDR_OFFSET_MASK, off[i], "fragment %d", i);
        cr_assert_eq(!!(fo & RTE_IPV4_HDR_MF_FLAG), i < 2, "fragment %d MF", i);
        cr_assert_eq(fo & RTE_IPV4_HDR_DF_FLAG, 0);
        cr_assert_eq((len[i] - IP_LEN) % 8 == 0 || i == 2, true);
        cr_assert(ip_cksum_ok(h), "fragment %d checksum", i);
        cr_assert_eq(h->next_proto_id, IPPROTO_UDP);
        cr_assert_eq(h->dst_addr, ST_PEER_IP);
        if (i == 0)
            id = h->packet_id;
        cr_assert_eq(h->packet_id, id, "one Identification for all fragments");
        memcpy(got + off[i] * 8, out + ETH_LEN + IP_LEN, len[i] - IP_LEN);
    }
    cr_assert_arr_eq(got, big, 4000);
    st_finish(s, dev, pool0);
}

Test(ipv4, largest_datagram_leaves_as_45_fragments)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    const size_t len = 65535 - IP_LEN;

    memset(big, 0x5a, len);
    cr_assert_eq(ipv4_output(s, chain(big, len), ST_PEER_IP, IPPROTO_UDP), 0);
    st_poll(s, T0);
    cr_assert_eq(netdev_fake_tx_count(dev), 45);
    for (int i = 0; i < 44; i++)
        st_take(dev, out, sizeof(out));
    st_take(dev, out, sizeof(out));
    cr_assert_eq(rte_be_to_cpu_16(iph(out)->fragment_offset), 44 * 185, "last: offset 8140, MF clear");
    cr_assert_eq(rte_be_to_cpu_16(iph(out)->total_length), IP_LEN + len - 44 * 1480);
    st_finish(s, dev, pool0);
}

Test(ipv4, output_over_65535_bytes_fails_emsgsize)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();

    cr_assert_eq(ipv4_output(s, chain(big, 65535 - IP_LEN + 1), ST_PEER_IP, IPPROTO_UDP), -EMSGSIZE);
    st_poll(s, T0);
    cr_assert_eq(s->ctr.ip_drop_too_big, 1);
    cr_assert_eq(s->ctr.ip_tx_packets, 0);
    st_expect_no_tx(dev);
    st_finish(s, dev, pool0);
}

Test(ipv4, off_link_destination_goes_to_the_gateway)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();

    cr_assert_eq(ipv4_output(s, st_mbuf("ping", 4), OFF_LINK_IP, PROTO_UNKNOWN), 0);
    st_poll(s, T0);
    st_take(dev, out, sizeof(out));
    expect_eth(s, out, ST_PEER_IP);
    cr_assert_eq(iph(out)->dst_addr, OFF_LINK_IP);
    st_finish(s, dev, pool0);
}

Test(ipv4, off_link_destination_without_gateway_fails_enetunreach)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev, 0, 64);
    unsigned pool0 = t_pool_avail();

    cr_assert_eq(ipv4_output(s, st_mbuf("ping", 4), OFF_LINK_IP, PROTO_UNKNOWN), -ENETUNREACH);
    cr_assert_eq(s->ctr.ip_drop_no_route, 1);
    /* on-link destinations need no gateway */
    cr_assert_eq(ipv4_output(s, st_mbuf("ping", 4), ST_PEER_IP, PROTO_UNKNOWN), 0);
    st_poll(s, T0);
    st_take(dev, out, sizeof(out));
    cr_assert_eq(iph(out)->dst_addr, ST_PEER_IP);
    st_expect_no_tx(dev);
    st_finish(s, dev, pool0);
}

Test(ipv4, checksum_offload_leaves_the_checksum_to_the_device)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();

    dev->offloads = NETDEV_TX_IPV4_CKSUM;
    cr_assert_eq(ipv4_output(s, st_mbuf("data", 4), ST_PEER_IP, PROTO_UNKNOWN), 0);
    cr_assert_eq(ipv4_output(s, chain(big, 3000), ST_PEER_IP, PROTO_UNKNOWN), 0);
    st_poll(s, T0);
    cr_assert_eq(netdev_fake_tx_count(dev), 4);
    for (int i = 0; i < 4; i++) {
        struct rte_mbuf *m = netdev_fake_take_tx(dev);
        const struct rte_ipv4_hdr *h = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, ETH_LEN);
        cr_assert_eq(h->hdr_checksum, 0, "frame %d", i);
        cr_assert_eq(m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM),
                     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM, "frame %d", i);
        cr_assert_eq(m->l2_len, ETH_LEN);
        cr_assert_eq(m->l3_len, IP_LEN);
        rte_pktmbuf_free(m);
    }
    st_finish(s, dev, pool0);
}

Test(ipv4, shared_payload_is_not_written_into)
{
    struct netdev *dev;
    struct stack *s = make_default(&dev);
    unsigned pool0 = t_pool_avail();
    struct rte_mbuf *m = st_mbuf("zero-copy", 9);
    uint16_t head = rte_pktmbuf_headroom(m);

    rte_mbuf_refcnt_update(m, 1); /* the application still holds it */
    cr_assert_eq(ipv4_output(s, m, ST_PEER_IP, PROTO_UNKNOWN), 0);
    st_poll(s, T0);
    size_t n = st_take(dev, out, sizeof(out));
    cr_assert_eq(n, ETH_LEN + IP_LEN + 9);
    cr_assert_arr_eq(out + ETH_LEN + IP_LEN, "zero-copy", 9);
    cr_assert(ip_cksum_ok(iph(out)));
    cr_assert_eq(rte_mbuf_refcnt_read(m), 1);
    cr_assert_eq(rte_pktmbuf_headroom(m), head, "the header went in front of the shared mbuf");
    cr_assert_arr_eq(rte_pktmbuf_mtod(m, void *), "zero-copy", 9);
    rte_pktmbuf_free(m);
    st_finish(s, dev, pool0);
}
