/* test_icmp.c - ICMP (RFC 792, RFC 1122 3.2.2) on a stack over the fake
 * device: the echo server (exact replies, broadcasts ignored, shared
 * mbufs, fragmented requests), malformed messages, destination-unreachable
 * out (contents, the 576-byte bound, the cases RFC 1122 forbids) and
 * errors in (delivered to the UDP socket with the right errno). Every test
 * ends with the mbuf pool back where it was. */
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

#define T0 (1000 * ST_NS_PER_MS) /* st_create's virtual time */
#define ETH_LEN sizeof(struct rte_ether_hdr)
#define IP_LEN sizeof(struct rte_ipv4_hdr)
#define ICMP_LEN 8u
#define UDP_LEN sizeof(struct rte_udp_hdr)
#define SUBNET_BCAST RTE_BE32(0x0a0000ff)
#define LOCAL_PORT 5000
#define REMOTE_PORT 53

static uint8_t frame[70000], out[70000], big[70000];

/* ---- helpers ---- */

static struct stack *make_stack(struct netdev **dev)
{
    struct stack_params p;

    stack_params_defaults(&p);
    p.gateway = ST_PEER_IP;
    p.arp_static[0].addr = ST_PEER_IP;
    p.arp_static[0].mac = st_peer_mac;
    p.arp_nstatic = 1;
    return st_create(&p, dev);
}

static struct rte_ipv4_hdr *iph(void *f)
{
    return (struct rte_ipv4_hdr *)((uint8_t *)f + ETH_LEN);
}

static struct rte_ether_addr mac_for(struct stack *s, rte_be32_t hop)
{
    struct rte_ether_addr mac;

    if (arp_lookup(s, hop, &mac) != 0)
        return st_bcast_mac; /* an ARP stand-in broadcasts everything */
    return mac;
}

/* Frame f is an ICMP message from us to the peer, with valid checksums,
 * IP total length len; returns the ICMP message. */
static const uint8_t *expect_icmp_to_peer(struct stack *s, uint8_t *f, size_t len)
{
    const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)f;
    struct rte_ether_addr want = mac_for(s, ST_PEER_IP);
    const struct rte_ipv4_hdr *h = iph(f);

    cr_assert(rte_is_same_ether_addr(&eh->dst_addr, &want));
    cr_assert(rte_is_same_ether_addr(&eh->src_addr, &st_us_mac));
    cr_assert_eq(h->version_ihl, 0x45);
    cr_assert_eq(rte_be_to_cpu_16(h->total_length), len);
    cr_assert_eq(h->fragment_offset, 0);
    cr_assert_eq(h->time_to_live, 64);
    cr_assert_eq(h->next_proto_id, IPPROTO_ICMP);
    cr_assert_eq(h->src_addr, ST_US_IP);
    cr_assert_eq(h->dst_addr, ST_PEER_IP);
    cr_assert_eq(rte_ipv4_cksum(h), 0, "IP checksum");
    cr_assert_eq(rte_raw_cksum(h + 1, len - IP_LEN), 0xffff, "ICMP checksum");
    return (const uint8_t *)(h + 1);
}

/* An ICMP message (type, code, 4 more header bytes zero, body) from the
 * peer to us, with a valid checksum, in frame; returns its length. */
static size_t icmp_frame(uint8_t type, uint8_t code, const void *body, size_t len)
{
    static uint8_t msg[2048];
    struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)msg;

    memset(ic, 0, ICMP_LEN);
    ic->icmp_type = type;
    ic->icmp_code = code;
    memcpy(msg + ICMP_LEN, body, len);
    ic->icmp_cksum = (uint16_t)~rte_raw_cksum(msg, ICMP_LEN + len);
    return st_ipv4(frame, ST_PEER_IP, ST_US_IP, IPPROTO_ICMP, msg, ICMP_LEN + len);
}

/* Received frame f as ipv4_input hands it up: data at the L4 header,
 * l2_len and l3_len set. */
static struct rte_mbuf *as_received(const void *f, size_t len)
{
    struct rte_mbuf *m = st_mbuf(f, len);
    uint16_t l3 = (uint16_t)((iph((void *)f)->version_ihl & 0xf) * 4);

    m->l2_len = ETH_LEN;
    rte_pktmbuf_adj(m, ETH_LEN);
    m->l3_len = l3;
    rte_pktmbuf_adj(m, l3);
    return m;
}

/* A UDP datagram we sent (us:LOCAL_PORT to peer:REMOTE_PORT), as an
 * error quotes it: IP header and the UDP header; returns its length. */
static size_t our_datagram(uint8_t *q, rte_be32_t src)
{
    uint8_t f[128];

    st_udp(f, src, RTE_BE16(LOCAL_PORT), ST_PEER_IP, RTE_BE16(REMOTE_PORT), "query", 5);
    memcpy(q, f + ETH_LEN, IP_LEN + UDP_LEN);
    return IP_LEN + UDP_LEN;
}

static struct udp_sock *connected_socket(struct stack *s)
{
    struct udp_sock *u;

    cr_assert_eq(udp_open(s, NULL, NULL, &u), 0);
    cr_assert_eq(udp_bind(u, 0, RTE_BE16(LOCAL_PORT)), 0);
    cr_assert_eq(udp_connect(u, ST_PEER_IP, RTE_BE16(REMOTE_PORT)), 0);
    return u;
}

/* ---- echo ---- */

Test(icmp, echo_request_gets_an_exact_reply)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    uint8_t data[56];
    uint64_t seed = 11;

    t_pattern(&seed, data, sizeof(data));
    size_t n = st_icmp_echo(frame, ST_PEER_IP, ST_US_IP, 0x1234, 7, data, sizeof(data));
    st_inject(s, dev, frame, n, T0);
    cr_assert_eq(s->ctr.icmp_rx, 1);
    cr_assert_eq(s->ctr.icmp_echo_replies_sent, 1);
    cr_assert_eq(s->ctr.ip_tx_packets, 1);
    cr_assert_eq(st_take(dev, out, sizeof(out)), n);
    const struct rte_icmp_hdr *ic =
        (const struct rte_icmp_hdr *)expect_icmp_to_peer(s, out, IP_LEN + ICMP_LEN + sizeof(data));
    cr_assert_eq(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
    cr_assert_eq(ic->icmp_code, 0);
    cr_assert_eq(ic->icmp_ident, RTE_BE16(0x1234));
    cr_assert_eq(ic->icmp_seq_nb, RTE_BE16(7));
    cr_assert_arr_eq(ic + 1, data, sizeof(data));
    st_expect_no_tx(dev);
    st_finish(s, dev, pool0);
}

Test(icmp, echo_request_to_a_broadcast_is_ignored)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();

    st_inject(s, dev, frame, st_icmp_echo(frame, ST_PEER_IP, SUBNET_BCAST, 1, 1, "x", 1), T0);
    st_inject(s, dev, frame, st_icmp_echo(frame, ST_PEER_IP, RTE_BE32(0xffffffff), 1, 1, "x", 1), T0);
    cr_assert_eq(s->ctr.icmp_rx, 2);
    cr_assert_eq(s->ctr.icmp_drop_other, 2);
    cr_assert_eq(s->ctr.icmp_echo_replies_sent, 0);
    st_expect_no_tx(dev);
    st_finish(s, dev, pool0);
}

Test(icmp, echo_request_with_a_bad_checksum_is_dropped_malformed)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = st_icmp_echo(frame, ST_PEER_IP, ST_US_IP, 1, 1, "abcd", 4);

    frame[n - 1] ^= 0x01;
    st_inject(s, dev, frame, n, T0);
    cr_assert_eq(s->ctr.icmp_drop_malformed, 1);
    cr_assert_eq(s->ctr.icmp_rx, 0);
    st_expect_no_tx(dev);
    st_finish(s, dev, pool0);
}

Test(icmp, message_shorter_than_8_bytes_is_dropped_malformed)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    static const uint8_t msg[4] = {8, 0, 0xf7, 0xff}; /* checksum right for 4 bytes */

    st_inject(s, dev, frame, st_ipv4(frame, ST_PEER_IP, ST_US_IP, IPPROTO_ICMP, msg, sizeof(msg)), T0);
    cr_assert_eq(s->ctr.icmp_drop_malformed, 1);
    st_expect_no_tx(dev);
    st_finish(s, dev, pool0);
}

Test(icmp, shared_echo_request_is_copied_before_the_reply)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = st_icmp_echo(frame, ST_PEER_IP, ST_US_IP, 9, 9, "shared", 6);
    struct rte_mbuf *m = st_mbuf(frame, n);
    struct rte_mbuf *c = rte_pktmbuf_clone(m, m->pool); /* e.g. a duplicate from the fault injector */

    cr_assert_not_null(c);
    netdev_fake_inject(dev, c);
    st_poll(s, T0);
    cr_assert_eq(s->ctr.icmp_echo_replies_sent, 1);
    cr_assert_eq(rte_mbuf_refcnt_read(m), 1, "the clone was freed");
    cr_assert_arr_eq(rte_pktmbuf_mtod(m, void *), frame, n, "the request was written into");
    st_take(dev, out, sizeof(out));
    const uint8_t *ic = expect_icmp_to_peer(s, out, IP_LEN + ICMP_LEN + 6);
    cr_assert_eq(ic[0], RTE_IP_ICMP_ECHO_REPLY);
    rte_pktmbuf_free(m);
    st_finish(s, dev, pool0);
}

Test(icmp, fragmented_echo_request_gets_a_fragmented_reply)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    static uint8_t msg[ICMP_LEN + 3000], got[ICMP_LEN + 3000];
    uint64_t seed = 13;
    uint8_t f[2048];

    t_pattern(&seed, big, 3000);
    struct rte_icmp_hdr *req = (struct rte_icmp_hdr *)msg;

    *req = (struct rte_icmp_hdr){.icmp_type = RTE_IP_ICMP_ECHO_REQUEST, .icmp_ident = RTE_BE16(0x4242),
                                 .icmp_seq_nb = RTE_BE16(3)};
    memcpy(msg + ICMP_LEN, big, 3000);
    req->icmp_cksum = (uint16_t)~rte_raw_cksum(msg, sizeof(msg));
    for (uint16_t off = 0; off < sizeof(msg); off += 1480) {
        uint16_t len = (uint16_t)RTE_MIN(sizeof(msg) - off, (size_t)1480);
        size_t fl = st_ipv4(f, ST_PEER_IP, ST_US_IP, IPPROTO_ICMP, msg + off, len);
        bool mf = off + len < sizeof(msg);
        iph(f)->packet_id = RTE_BE16(0x0505);
        iph(f)->fragment_offset = rte_cpu_to_be_16((uint16_t)(off / 8) | (mf ? RTE_IPV4_HDR_MF_FLAG : 0));
        st_ip_fix_checksum(f);
        st_inject(s, dev, f, fl, T0);
    }
    cr_assert_eq(s->ctr.ip_reassembled, 1);
    cr_assert_eq(s->ctr.icmp_echo_replies_sent, 1);
    cr_assert_eq(netdev_fake_tx_count(dev), 3);
    for (int i = 0; i < 3; i++) {
        size_t fl = st_take(dev, out, sizeof(out));
        const struct rte_ipv4_hdr *h = iph(out);
        uint16_t fo = rte_be_to_cpu_16(h->fragment_offset);
        cr_assert_eq(rte_ipv4_cksum(h), 0);
        cr_assert_eq(h->dst_addr, ST_PEER_IP);
        memcpy(got + (fo & RTE_IPV4_HDR_OFFSET_MASK) * 8, out + ETH_LEN + IP_LEN, fl - ETH_LEN - IP_LEN);
    }
    cr_assert_eq(got[0], RTE_IP_ICMP_ECHO_REPLY);
    cr_assert_eq(rte_raw_cksum(got, sizeof(got)), 0xffff);
    cr_assert_arr_eq(got + 4, msg + 4, sizeof(msg) - 4, "id, seq and data echoed");
    st_finish(s, dev, pool0);
}

Test(icmp, other_types_are_dropped_other)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();

    st_inject(s, dev, frame, icmp_frame(RTE_IP_ICMP_ECHO_REPLY, 0, "x", 1), T0);
    st_inject(s, dev, frame, icmp_frame(13 /* timestamp */, 0, big, 12), T0);
    st_inject(s, dev, frame, icmp_frame(5 /* redirect */, 1, big, 28), T0);
    cr_assert_eq(s->ctr.icmp_rx, 3);
    cr_assert_eq(s->ctr.icmp_drop_other, 3);
    st_expect_no_tx(dev);
    st_finish(s, dev, pool0);
}

/* ---- destination unreachable out ---- */

Test(icmp, port_unreachable_quotes_the_whole_small_datagram)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    size_t n = st_udp(frame, ST_PEER_IP, RTE_BE16(5353), ST_US_IP, RTE_BE16(9), "hello", 5);
    struct rte_mbuf *m = as_received(frame, n);

    icmp_send_unreach(s, m, 3);
    rte_pktmbuf_free(m);
    st_poll(s, T0);
    cr_assert_eq(s->ctr.icmp_unreach_sent, 1);
    size_t ip_len = n - ETH_LEN;
    cr_assert_eq(st_take(dev, out, sizeof(out)), ETH_LEN + IP_LEN + ICMP_LEN + ip_len);
    const uint8_t *ic = expect_icmp_to_peer(s, out, IP_LEN + ICMP_LEN + ip_len);
    static const uint8_t head[8] = {3, 3};
    cr_assert_arr_eq(ic, head, 2);
    cr_assert_arr_eq(ic + 4, head + 4, 4, "unused bytes are zero");
    cr_assert_arr_eq(ic + ICMP_LEN, frame + ETH_LEN, ip_len);
    st_finish(s, dev, pool0);
}

Test(icmp, port_unreachable_stays_within_576_bytes)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    uint64_t seed = 17;

    t_pattern(&seed, big, 1000);
    size_t n = st_udp(frame, ST_PEER_IP, RTE_BE16(5353), ST_US_IP, RTE_BE16(9), big, 1000);
    struct rte_mbuf *m = as_received(frame, n);

    icmp_send_unreach(s, m, 3);
    rte_pktmbuf_free(m);
    st_poll(s, T0);
    cr_assert_eq(st_take(dev, out, sizeof(out)), ETH_LEN + 576);
    const uint8_t *ic = expect_icmp_to_peer(s, out, 576);
    cr_assert_arr_eq(ic + ICMP_LEN, frame + ETH_LEN, 576 - IP_LEN - ICMP_LEN);
    st_finish(s, dev, pool0);
}

/* RFC 1122 3.2.2: the datagrams no error may be sent about. */
Test(icmp, no_unreachable_about_what_rfc1122_forbids)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    static const rte_be32_t bad_src[] = {0, RTE_BE32(0x7f000001), RTE_BE32(0xe0000001), RTE_BE32(0xf0000001),
                                         RTE_BE32(0xffffffff), SUBNET_BCAST};
    struct rte_mbuf *m;
    size_t n;

    /* to a broadcast address */
    n = st_udp(frame, ST_PEER_IP, RTE_BE16(1), SUBNET_BCAST, RTE_BE16(9), "x", 1);
    m = as_received(frame, n);
    icmp_send_unreach(s, m, 3);
    rte_pktmbuf_free(m);
    /* in a link-layer broadcast */
    n = st_udp(frame, ST_PEER_IP, RTE_BE16(1), ST_US_IP, RTE_BE16(9), "x", 1);
    memcpy(frame, &st_bcast_mac, sizeof(st_bcast_mac));
    m = as_received(frame, n);
    icmp_send_unreach(s, m, 3);
    rte_pktmbuf_free(m);
    /* a non-initial fragment */
    n = st_ipv4(frame, ST_PEER_IP, ST_US_IP, 253, "12345678", 8);
    iph(frame)->fragment_offset = RTE_BE16(185);
    m = as_received(frame, n);
    icmp_send_unreach(s, m, 2);
    rte_pktmbuf_free(m);
    /* from a source that is not one host */
    for (unsigned i = 0; i < RTE_DIM(bad_src); i++) {
        n = st_udp(frame, bad_src[i], RTE_BE16(1), ST_US_IP, RTE_BE16(9), "x", 1);
        m = as_received(frame, n);
        icmp_send_unreach(s, m, 3);
        rte_pktmbuf_free(m);
    }
    /* about an ICMP error */
    n = icmp_frame(3, 3, big, 28);
    m = as_received(frame, n);
    icmp_send_unreach(s, m, 2);
    rte_pktmbuf_free(m);
    st_poll(s, T0);
    cr_assert_eq(s->ctr.icmp_unreach_sent, 0);
    st_expect_no_tx(dev);
    /* an ICMP query is not an error: that one may be answered */
    n = icmp_frame(13, 0, big, 12);
    m = as_received(frame, n);
    icmp_send_unreach(s, m, 2);
    rte_pktmbuf_free(m);
    st_poll(s, T0);
    cr_assert_eq(s->ctr.icmp_unreach_sent, 1);
    st_finish(s, dev, pool0);
}

/* ---- errors in ---- */

Test(icmp, unreachable_about_our_udp_reaches_the_socket_with_its_errno)
{
    static const struct {
        uint8_t type, code;
        int err;
    } cases[] = {
        {3, 0, ENETUNREACH}, {3, 1, EHOSTUNREACH}, {3, 2, ENOPROTOOPT}, {3, 3, ECONNREFUSED},
        {3, 4, EMSGSIZE},    {3, 13, EHOSTUNREACH}, {11, 0, EHOSTUNREACH}, {11, 1, EHOSTUNREACH},
    };
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    struct udp_sock *u = connected_socket(s);
    uint8_t q[64];
    size_t qn = our_datagram(q, ST_US_IP);

    for (unsigned i = 0; i < RTE_DIM(cases); i++) {
        st_inject(s, dev, frame, icmp_frame(cases[i].type, cases[i].code, q, qn), T0);
        cr_assert_eq(s->ctr.icmp_errors_delivered, i + 1, "case %u", i);
        cr_assert_eq(udp_take_error(u), cases[i].err, "type %u code %u", cases[i].type, cases[i].code);
    }
    cr_assert_eq(s->ctr.icmp_drop_other + s->ctr.icmp_drop_malformed, 0);
    st_expect_no_tx(dev);
    udp_close(u);
    st_finish(s, dev, pool0);
}

Test(icmp, unreachable_about_a_datagram_not_ours_is_dropped_other)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    struct udp_sock *u = connected_socket(s);
    uint8_t q[64];
    size_t qn = our_datagram(q, RTE_BE32(0x0a000009)); /* another host's */

    st_inject(s, dev, frame, icmp_frame(3, 3, q, qn), T0);
    our_datagram(q, ST_US_IP);
    ((struct rte_ipv4_hdr *)q)->next_proto_id = 253; /* ours, not UDP */
    st_inject(s, dev, frame, icmp_frame(3, 2, q, qn), T0);
    cr_assert_eq(s->ctr.icmp_drop_other, 2);
    cr_assert_eq(s->ctr.icmp_errors_delivered, 0);
    cr_assert_eq(udp_take_error(u), 0);
    udp_close(u);
    st_finish(s, dev, pool0);
}

Test(icmp, unreachable_with_a_truncated_quote_is_dropped_malformed)
{
    struct netdev *dev;
    struct stack *s = make_stack(&dev);
    unsigned pool0 = t_pool_avail();
    uint8_t q[64];
    size_t qn = our_datagram(q, ST_US_IP);

    st_inject(s, dev, frame, icmp_frame(3, 3, q, qn - 1), T0); /* 7 bytes after the header */
    st_inject(s, dev, frame, icmp_frame(11, 0, q, IP_LEN - 1), T0);
    ((struct rte_ipv4_hdr *)q)->version_ihl = 0x46; /* says 24 bytes of header */
    st_inject(s, dev, frame, icmp_frame(3, 3, q, qn), T0);
    cr_assert_eq(s->ctr.icmp_drop_malformed, 3);
    cr_assert_eq(s->ctr.icmp_errors_delivered, 0);
    st_finish(s, dev, pool0);
}
