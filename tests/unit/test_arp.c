/* test_arp.c - ARP (RFC 826) on a stack over the fake device: replies,
 * malformed packets, learning and the merge step, static entries,
 * resolution with held packets, retries and giving up, the queue bound,
 * expiry, broadcast and multicast next hops, the gratuitous ARP, probes,
 * the cache bound. Every test ends with the mbuf pool back where it was. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "harness.h"
#include "runtime.h"
#include "stack_harness.h"
#include "netdev_fake.h"

#define SEC 1000000000ull
#define T0 (1000 * ST_NS_PER_MS) /* st_create's virtual time */
#define OTHER_IP RTE_BE32(0x0a000003)
#define ARP_FRAME_LEN (sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr))
#define IP_PAYLOAD 64

static const struct rte_ether_addr zero_mac = {{0, 0, 0, 0, 0, 0}};
static const struct rte_ether_addr new_peer_mac = {{0x02, 0, 0, 0, 0, 0x11}};
static const struct rte_ether_addr static_mac = {{0x02, 0, 0, 0, 0, 0xaa}};

/* ---- helpers ---- */

static void inject_arp(struct stack *s, struct netdev *dev, uint16_t op, const struct rte_ether_addr *sha,
                       rte_be32_t spa, const struct rte_ether_addr *tha, rte_be32_t tpa, uint64_t now)
{
    uint8_t f[128];
    size_t n = st_arp(f, op, sha, spa, tha, tpa);

    st_inject(s, dev, f, n, now);
}

static void expect_mac(const struct rte_ether_addr *got, const struct rte_ether_addr *want, const char *what)
{
    char g[RTE_ETHER_ADDR_FMT_SIZE], w[RTE_ETHER_ADDR_FMT_SIZE];

    rte_ether_format_addr(g, sizeof(g), got);
    rte_ether_format_addr(w, sizeof(w), want);
    cr_assert(rte_is_same_ether_addr(got, want), "%s: %s, want %s", what, g, w);
}

/* Takes the next frame and checks it is exactly the ARP frame from us
 * with these fields, field by field and then byte for byte. */
static void expect_arp_tx(struct netdev *dev, const struct rte_ether_addr *eth_dst, uint16_t op,
                          rte_be32_t tpa, const struct rte_ether_addr *tha)
{
    uint8_t f[2048], want[128];
    size_t n = st_take(dev, f, sizeof(f));
    const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)f;
    const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(eh + 1);

    cr_assert_eq(n, ARP_FRAME_LEN);
    expect_mac(&eh->dst_addr, eth_dst, "eth dst");
    expect_mac(&eh->src_addr, &st_us_mac, "eth src");
    cr_assert_eq(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_ARP);
    cr_assert_eq(rte_be_to_cpu_16(a->arp_hardware), RTE_ARP_HRD_ETHER);
    cr_assert_eq(rte_be_to_cpu_16(a->arp_protocol), RTE_ETHER_TYPE_IPV4);
    cr_assert_eq(a->arp_hlen, 6);
    cr_assert_eq(a->arp_plen, 4);
    cr_assert_eq(rte_be_to_cpu_16(a->arp_opcode), op);
    struct rte_ether_addr sha = a->arp_data.arp_sha, atha = a->arp_data.arp_tha;
    expect_mac(&sha, &st_us_mac, "arp sha");
    cr_assert_eq(a->arp_data.arp_sip, ST_US_IP, "arp spa %08x", rte_be_to_cpu_32(a->arp_data.arp_sip));
    expect_mac(&atha, tha, "arp tha");
    cr_assert_eq(a->arp_data.arp_tip, tpa, "arp tpa %08x", rte_be_to_cpu_32(a->arp_data.arp_tip));
    /* st_arp puts a request on broadcast and a reply on tha: as we must */
    cr_assert_eq(st_arp(want, op, &st_us_mac, ST_US_IP, tha, tpa), n);
    cr_assert_arr_eq(f, want, n);
}

static void expect_request_tx(struct netdev *dev, rte_be32_t tpa)
{
    expect_arp_tx(dev, &st_bcast_mac, RTE_ARP_OP_REQUEST, tpa, &zero_mac);
}

/* An IPv4 packet to dst (data at the IP header) carrying IP_PAYLOAD bytes
 * of tag; its bytes also go to bytes (IP header on). */
static struct rte_mbuf *ip_packet(rte_be32_t dst, uint8_t tag, uint8_t *bytes)
{
    uint8_t frame[256], payload[IP_PAYLOAD];

    memset(payload, tag, sizeof(payload));
    size_t n = st_ipv4(frame, ST_US_IP, dst, IPPROTO_UDP, payload, sizeof(payload)) - sizeof(struct rte_ether_hdr);
    cr_assert_eq(n, sizeof(struct rte_ipv4_hdr) + IP_PAYLOAD);
    if (bytes != NULL)
        memcpy(bytes, frame + sizeof(struct rte_ether_hdr), n);
    return st_mbuf(frame + sizeof(struct rte_ether_hdr), n);
}

#define IP_LEN (sizeof(struct rte_ipv4_hdr) + IP_PAYLOAD)

/* Sends m through ARP now (at the time of the last poll) and flushes. */
static void out(struct stack *s, struct rte_mbuf *m, rte_be32_t next_hop)
{
    arp_output(s, m, next_hop);
    stack_tx_flush(s);
}

/* Takes the next frame: the IPv4 packet ip (IP_LEN bytes) to eth_dst. */
static void expect_ip_tx(struct netdev *dev, const struct rte_ether_addr *eth_dst, const uint8_t *ip)
{
    uint8_t f[2048];
    size_t n = st_take(dev, f, sizeof(f));
    const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)f;

    cr_assert_eq(n, sizeof(*eh) + IP_LEN);
    expect_mac(&eh->dst_addr, eth_dst, "eth dst");
    expect_mac(&eh->src_addr, &st_us_mac, "eth src");
    cr_assert_eq(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_IPV4);
    cr_assert_arr_eq(f + sizeof(*eh), ip, IP_LEN, "IPv4 bytes changed");
}

static void expect_entry(struct stack *s, rte_be32_t addr, const struct rte_ether_addr *mac)
{
    struct rte_ether_addr got;

    cr_assert_eq(arp_lookup(s, addr, &got), 0, "no entry for %08x", rte_be_to_cpu_32(addr));
    expect_mac(&got, mac, "entry");
}

static void expect_no_entry(struct stack *s, rte_be32_t addr)
{
    struct rte_ether_addr got;

    cr_assert_eq(arp_lookup(s, addr, &got), -ENOENT, "unexpected entry for %08x", rte_be_to_cpu_32(addr));
}

static struct stack *make(const struct stack_params *p, struct netdev **dev, unsigned *pool_before)
{
    struct stack *s = st_create(p, dev);

    *pool_before = t_pool_avail();
    return s;
}

/* Defaults with a gateway, as st_create(NULL) gives, to be changed. */
static struct stack_params params(void)
{
    struct stack_params p;

    stack_params_defaults(&p);
    p.gateway = ST_PEER_IP;
    return p;
}

/* Resolves the peer: a packet out, the request taken, the reply in, the
 * packet taken. */
static void resolve_peer(struct stack *s, struct netdev *dev, const struct rte_ether_addr *mac, uint64_t now)
{
    uint8_t ip[IP_LEN];

    st_poll(s, now);
    out(s, ip_packet(ST_PEER_IP, 0x55, ip), ST_PEER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    inject_arp(s, dev, RTE_ARP_OP_REPLY, mac, ST_PEER_IP, &st_us_mac, ST_US_IP, now);
    expect_ip_tx(dev, mac, ip);
    st_expect_no_tx(dev);
}

/* ---- requests for us and not for us ---- */

Test(arp, request_for_us_gets_exact_unicast_reply_and_sender_is_learned)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);

    inject_arp(s, dev, RTE_ARP_OP_REQUEST, &st_peer_mac, ST_PEER_IP, &zero_mac, ST_US_IP, T0);
    expect_arp_tx(dev, &st_peer_mac, RTE_ARP_OP_REPLY, ST_PEER_IP, &st_peer_mac);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_rx, 1);
    cr_assert_eq(s->ctr.arp_replies_sent, 1);
    cr_assert_eq(s->ctr.arp_entries_learned, 1);
    cr_assert_eq(s->ctr.arp_requests_sent, 0);
    cr_assert_eq(s->ctr.arp_drop_malformed + s->ctr.arp_drop_not_ours, 0);
    expect_entry(s, ST_PEER_IP, &st_peer_mac);
    st_finish(s, dev, before);
}

Test(arp, padded_60_byte_request_gets_42_byte_reply)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);
    uint8_t f[RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN];

    memset(f, 0xee, sizeof(f));
    st_arp(f, RTE_ARP_OP_REQUEST, &st_peer_mac, ST_PEER_IP, &zero_mac, ST_US_IP);
    st_inject(s, dev, f, sizeof(f), T0);
    expect_arp_tx(dev, &st_peer_mac, RTE_ARP_OP_REPLY, ST_PEER_IP, &st_peer_mac);
    cr_assert_eq(s->ctr.arp_replies_sent, 1);
    st_finish(s, dev, before);
}

Test(arp, request_in_cloned_mbuf_is_answered_without_touching_shared_bytes)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);
    uint8_t f[128], after[128];
    size_t n = st_arp(f, RTE_ARP_OP_REQUEST, &st_peer_mac, ST_PEER_IP, &zero_mac, ST_US_IP);
    struct rte_mbuf *orig = st_mbuf(f, n);
    struct rte_mbuf *clone = rte_pktmbuf_clone(orig, g_rt.pool);

    cr_assert_not_null(clone);
    netdev_fake_inject(dev, clone);
    st_poll(s, T0);
    expect_arp_tx(dev, &st_peer_mac, RTE_ARP_OP_REPLY, ST_PEER_IP, &st_peer_mac);
    cr_assert_eq(st_bytes(orig, after, sizeof(after)), n);
    cr_assert_arr_eq(after, f, n, "the reply was written into a shared buffer");
    cr_assert_eq(rte_mbuf_refcnt_read(orig), 1, "the clone was not freed");
    rte_pktmbuf_free(orig);
    st_finish(s, dev, before);
}

Test(arp, request_for_other_address_is_not_answered_nor_learned)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);

    inject_arp(s, dev, RTE_ARP_OP_REQUEST, &st_peer_mac, ST_PEER_IP, &zero_mac, OTHER_IP, T0);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_rx, 1);
    cr_assert_eq(s->ctr.arp_drop_not_ours, 1);
    cr_assert_eq(s->ctr.arp_replies_sent, 0);
    cr_assert_eq(s->ctr.arp_entries_learned, 0);
    expect_no_entry(s, ST_PEER_IP);
    st_finish(s, dev, before);
}

Test(arp, probe_from_sender_zero_is_answered_but_not_learned)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);

    /* RFC 5227 probe: "is 10.0.0.2 taken?" from a host with no address */
    inject_arp(s, dev, RTE_ARP_OP_REQUEST, &new_peer_mac, 0, &zero_mac, ST_US_IP, T0);
    expect_arp_tx(dev, &new_peer_mac, RTE_ARP_OP_REPLY, 0, &new_peer_mac);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_replies_sent, 1);
    cr_assert_eq(s->ctr.arp_entries_learned, 0);
    expect_no_entry(s, 0);
    st_finish(s, dev, before);
}

/* ---- malformed ---- */

/* Injects the frame and checks it was dropped as malformed: no reply, no
 * entry, one counter. */
static void expect_malformed(const uint8_t *f, size_t n)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);

    st_inject(s, dev, f, n, T0);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_rx, 1);
    cr_assert_eq(s->ctr.arp_drop_malformed, 1);
    cr_assert_eq(s->ctr.arp_drop_not_ours, 0);
    cr_assert_eq(s->ctr.arp_replies_sent, 0);
    cr_assert_eq(s->ctr.arp_entries_learned, 0);
    expect_no_entry(s, ST_PEER_IP);
    st_finish(s, dev, before);
}

/* A valid request from the peer for us, for the tests to break. */
static size_t good_request(uint8_t *f, struct rte_arp_hdr **a)
{
    size_t n = st_arp(f, RTE_ARP_OP_REQUEST, &st_peer_mac, ST_PEER_IP, &zero_mac, ST_US_IP);

    *a = (struct rte_arp_hdr *)(f + sizeof(struct rte_ether_hdr));
    return n;
}

Test(arp, malformed_frame_one_byte_short_is_dropped)
{
    uint8_t f[128];
    struct rte_arp_hdr *a;
    size_t n = good_request(f, &a);

    expect_malformed(f, n - 1);
}

Test(arp, malformed_hardware_type_ieee802_is_dropped)
{
    uint8_t f[128];
    struct rte_arp_hdr *a;
    size_t n = good_request(f, &a);

    a->arp_hardware = RTE_BE16(6);
    expect_malformed(f, n);
}

Test(arp, malformed_protocol_type_ipv6_is_dropped)
{
    uint8_t f[128];
    struct rte_arp_hdr *a;
    size_t n = good_request(f, &a);

    a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV6);
    expect_malformed(f, n);
}

Test(arp, malformed_hardware_length_8_is_dropped)
{
    uint8_t f[128];
    struct rte_arp_hdr *a;
    size_t n = good_request(f, &a);

    a->arp_hlen = 8;
    expect_malformed(f, n);
}

Test(arp, malformed_protocol_length_16_is_dropped)
{
    uint8_t f[128];
    struct rte_arp_hdr *a;
    size_t n = good_request(f, &a);

    a->arp_plen = 16;
    expect_malformed(f, n);
}

Test(arp, malformed_opcode_3_rarp_is_dropped)
{
    uint8_t f[128];
    struct rte_arp_hdr *a;
    size_t n = good_request(f, &a);

    a->arp_opcode = RTE_BE16(RTE_ARP_OP_REVREQUEST);
    expect_malformed(f, n);
}

Test(arp, malformed_broadcast_sender_mac_is_dropped)
{
    uint8_t f[128];
    size_t n = st_arp(f, RTE_ARP_OP_REQUEST, &st_bcast_mac, ST_PEER_IP, &zero_mac, ST_US_IP);

    expect_malformed(f, n);
}

Test(arp, malformed_multicast_sender_mac_is_dropped)
{
    static const struct rte_ether_addr mcast = {{0x01, 0x00, 0x5e, 0, 0, 1}};
    uint8_t f[128];
    size_t n = st_arp(f, RTE_ARP_OP_REPLY, &mcast, ST_PEER_IP, &st_us_mac, ST_US_IP);

    expect_malformed(f, n);
}

Test(arp, malformed_zero_sender_mac_is_dropped)
{
    uint8_t f[128];
    size_t n = st_arp(f, RTE_ARP_OP_REPLY, &zero_mac, ST_PEER_IP, &st_us_mac, ST_US_IP);

    expect_malformed(f, n);
}

/* ---- learning and the merge step ---- */

Test(arp, unsolicited_reply_to_us_learns_the_entry)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);

    expect_no_entry(s, ST_PEER_IP);
    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0);
    st_expect_no_tx(dev);
    expect_entry(s, ST_PEER_IP, &st_peer_mac);
    cr_assert_eq(s->ctr.arp_rx, 1);
    cr_assert_eq(s->ctr.arp_entries_learned, 1);
    cr_assert_eq(s->ctr.arp_replies_sent, 0);
    st_finish(s, dev, before);
}

Test(arp, known_sender_asking_for_another_host_updates_its_mac)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);
    uint8_t ip[IP_LEN];

    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0);
    expect_entry(s, ST_PEER_IP, &st_peer_mac);
    /* RFC 826: the merge happens before "Am I the target?" */
    inject_arp(s, dev, RTE_ARP_OP_REQUEST, &new_peer_mac, ST_PEER_IP, &zero_mac, OTHER_IP, T0 + 1);
    st_expect_no_tx(dev);
    expect_entry(s, ST_PEER_IP, &new_peer_mac);
    cr_assert_eq(s->ctr.arp_drop_not_ours, 1);
    cr_assert_eq(s->ctr.arp_entries_learned, 2);
    out(s, ip_packet(ST_PEER_IP, 1, ip), ST_PEER_IP);
    expect_ip_tx(dev, &new_peer_mac, ip);
    st_expect_no_tx(dev);
    st_finish(s, dev, before);
}

Test(arp, refresh_with_same_mac_is_not_counted_as_learned)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);

    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0);
    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0 + 1);
    cr_assert_eq(s->ctr.arp_rx, 2);
    cr_assert_eq(s->ctr.arp_entries_learned, 1);
    expect_entry(s, ST_PEER_IP, &st_peer_mac);
    st_finish(s, dev, before);
}

/* ---- static entries ---- */

static struct stack_params static_params(void)
{
    struct stack_params p = params();

    p.arp_ttl_ns = 5 * SEC;
    p.arp_nstatic = 1;
    p.arp_static[0].addr = ST_PEER_IP;
    p.arp_static[0].mac = static_mac;
    return p;
}

Test(arp, static_entry_is_used_without_a_request)
{
    struct stack_params p = static_params();
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(&p, &dev, &before);
    uint8_t ip[IP_LEN];

    st_poll(s, T0);
    expect_entry(s, ST_PEER_IP, &static_mac);
    out(s, ip_packet(ST_PEER_IP, 7, ip), ST_PEER_IP);
    expect_ip_tx(dev, &static_mac, ip);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_requests_sent, 0);
    st_finish(s, dev, before);
}

Test(arp, static_entry_is_not_overwritten_by_the_wire_nor_expires)
{
    struct stack_params p = static_params();
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(&p, &dev, &before);
    uint8_t ip[IP_LEN];

    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0);
    inject_arp(s, dev, RTE_ARP_OP_REQUEST, &new_peer_mac, ST_PEER_IP, &zero_mac, OTHER_IP, T0);
    /* a request for us is still answered, to whoever asked */
    inject_arp(s, dev, RTE_ARP_OP_REQUEST, &new_peer_mac, ST_PEER_IP, &zero_mac, ST_US_IP, T0);
    expect_arp_tx(dev, &new_peer_mac, RTE_ARP_OP_REPLY, ST_PEER_IP, &new_peer_mac);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_entries_learned, 0);
    expect_entry(s, ST_PEER_IP, &static_mac);
    st_poll(s, T0 + 10 * p.arp_ttl_ns);
    expect_entry(s, ST_PEER_IP, &static_mac);
    out(s, ip_packet(ST_PEER_IP, 8, ip), ST_PEER_IP);
    expect_ip_tx(dev, &static_mac, ip);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_requests_sent, 0);
    st_finish(s, dev, before);
}

/* ---- resolution ---- */

Test(arp, unknown_next_hop_sends_one_exact_broadcast_request_and_holds_packet)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);

    st_poll(s, T0);
    out(s, ip_packet(ST_PEER_IP, 1, NULL), ST_PEER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_requests_sent, 1);
    cr_assert_eq(t_pool_avail(), before - 1, "the packet is not held");
    /* a second packet waits on the same outstanding request */
    out(s, ip_packet(ST_PEER_IP, 2, NULL), ST_PEER_IP);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_requests_sent, 1);
    cr_assert_eq(t_pool_avail(), before - 2);
    expect_no_entry(s, ST_PEER_IP);
    st_finish(s, dev, before);
}

Test(arp, reply_releases_held_packets_in_order_to_the_replied_mac)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);
    uint8_t ip[5][IP_LEN];

    st_poll(s, T0);
    for (unsigned i = 0; i < 5; i++)
        out(s, ip_packet(ST_PEER_IP, (uint8_t)(0x10 + i), ip[i]), ST_PEER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    st_expect_no_tx(dev);
    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0 + 3 * ST_NS_PER_MS);
    for (unsigned i = 0; i < 5; i++)
        expect_ip_tx(dev, &st_peer_mac, ip[i]);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_entries_learned, 1);
    expect_entry(s, ST_PEER_IP, &st_peer_mac);
    /* resolved: the next packet goes at once */
    uint8_t later[IP_LEN];
    out(s, ip_packet(ST_PEER_IP, 0x20, later), ST_PEER_IP);
    expect_ip_tx(dev, &st_peer_mac, later);
    cr_assert_eq(s->ctr.arp_requests_sent, 1);
    st_finish(s, dev, before);
}

Test(arp, held_mbuf_chain_is_released_whole_and_unchanged)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);
    uint8_t ip[IP_LEN], first[IP_LEN], f[2048];
    struct rte_mbuf *m = ip_packet(ST_PEER_IP, 0x31, ip);
    struct rte_mbuf *tail = st_mbuf(ip + 30, IP_LEN - 30);

    /* split the packet: 30 bytes in the head, the rest in a second segment */
    rte_pktmbuf_trim(m, IP_LEN - 30);
    cr_assert_eq(rte_pktmbuf_chain(m, tail), 0);
    st_poll(s, T0);
    out(s, ip_packet(ST_PEER_IP, 0x30, first), ST_PEER_IP);
    out(s, m, ST_PEER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0);
    expect_ip_tx(dev, &st_peer_mac, first);
    struct rte_mbuf *sent = netdev_fake_take_tx(dev);
    cr_assert_not_null(sent);
    cr_assert_eq(sent->nb_segs, 2);
    cr_assert_eq(st_bytes(sent, f, sizeof(f)), sizeof(struct rte_ether_hdr) + IP_LEN);
    cr_assert_arr_eq(f + sizeof(struct rte_ether_hdr), ip, IP_LEN);
    rte_pktmbuf_free(sent);
    st_expect_no_tx(dev);
    st_finish(s, dev, before);
}

Test(arp, unanswered_request_repeats_every_retry_then_drops_held_packets)
{
    struct stack_params p = params(); /* 3 requests, 1 s apart */
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(&p, &dev, &before);

    st_poll(s, T0);
    out(s, ip_packet(ST_PEER_IP, 1, NULL), ST_PEER_IP);
    out(s, ip_packet(ST_PEER_IP, 2, NULL), ST_PEER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    st_poll(s, T0 + SEC - 1);
    st_expect_no_tx(dev);
    st_poll(s, T0 + SEC);
    expect_request_tx(dev, ST_PEER_IP);
    st_expect_no_tx(dev);
    st_poll(s, T0 + 2 * SEC - 1);
    st_expect_no_tx(dev);
    st_poll(s, T0 + 2 * SEC);
    expect_request_tx(dev, ST_PEER_IP);
    st_poll(s, T0 + 3 * SEC - 1);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_drop_unresolved, 0);
    cr_assert_eq(t_pool_avail(), before - 2);
    /* the third request went unanswered for retry_ns too: give up */
    st_poll(s, T0 + 3 * SEC);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_requests_sent, 3);
    cr_assert_eq(s->ctr.arp_drop_unresolved, 2);
    cr_assert_eq(t_pool_avail(), before);
    expect_no_entry(s, ST_PEER_IP);
    /* forgotten: the next packet starts a new resolution */
    out(s, ip_packet(ST_PEER_IP, 3, NULL), ST_PEER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    cr_assert_eq(s->ctr.arp_requests_sent, 4);
    st_finish(s, dev, before);
}

Test(arp, reply_after_a_retry_stops_further_requests)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);
    uint8_t ip[IP_LEN];

    st_poll(s, T0);
    out(s, ip_packet(ST_PEER_IP, 1, ip), ST_PEER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    st_poll(s, T0 + SEC);
    expect_request_tx(dev, ST_PEER_IP);
    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0 + SEC + 5);
    expect_ip_tx(dev, &st_peer_mac, ip);
    for (uint64_t t = 2; t <= 10; t++)
        st_poll(s, T0 + t * SEC);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_requests_sent, 2);
    cr_assert_eq(s->ctr.arp_drop_unresolved, 0);
    expect_entry(s, ST_PEER_IP, &st_peer_mac);
    st_finish(s, dev, before);
}

Test(arp, packets_beyond_queue_max_across_entries_are_dropped)
{
    struct stack_params p = params();
    struct netdev *dev;
    unsigned before;

    p.arp_queue_max = 3;
    struct stack *s = make(&p, &dev, &before);
    uint8_t ip[2][IP_LEN];

    st_poll(s, T0);
    out(s, ip_packet(ST_PEER_IP, 1, ip[0]), ST_PEER_IP);
    out(s, ip_packet(ST_PEER_IP, 2, ip[1]), ST_PEER_IP);
    out(s, ip_packet(OTHER_IP, 3, NULL), OTHER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    expect_request_tx(dev, OTHER_IP);
    cr_assert_eq(s->ctr.arp_drop_queue_full, 0);
    out(s, ip_packet(ST_PEER_IP, 4, NULL), ST_PEER_IP);
    out(s, ip_packet(OTHER_IP, 5, NULL), OTHER_IP);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_drop_queue_full, 2);
    cr_assert_eq(t_pool_avail(), before - 3);
    /* the peer's two leave: room for two more */
    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0);
    expect_ip_tx(dev, &st_peer_mac, ip[0]);
    expect_ip_tx(dev, &st_peer_mac, ip[1]);
    st_expect_no_tx(dev);
    out(s, ip_packet(OTHER_IP, 6, NULL), OTHER_IP);
    out(s, ip_packet(OTHER_IP, 7, NULL), OTHER_IP);
    cr_assert_eq(s->ctr.arp_drop_queue_full, 2);
    out(s, ip_packet(OTHER_IP, 8, NULL), OTHER_IP);
    cr_assert_eq(s->ctr.arp_drop_queue_full, 3);
    st_expect_no_tx(dev);
    cr_assert_eq(t_pool_avail(), before - 3);
    /* destroying the stack frees the three still waiting */
    st_finish(s, dev, before);
}

/* ---- expiry ---- */

Test(arp, entry_expired_by_its_timer_is_resolved_again)
{
    struct stack_params p = params();
    struct netdev *dev;
    unsigned before;

    p.arp_ttl_ns = 5 * SEC;
    struct stack *s = make(&p, &dev, &before);
    uint8_t ip[IP_LEN];

    resolve_peer(s, dev, &st_peer_mac, T0);
    st_poll(s, T0 + 5 * SEC - 1);
    expect_entry(s, ST_PEER_IP, &st_peer_mac);
    out(s, ip_packet(ST_PEER_IP, 1, ip), ST_PEER_IP);
    expect_ip_tx(dev, &st_peer_mac, ip);
    st_poll(s, T0 + 5 * SEC);
    expect_no_entry(s, ST_PEER_IP);
    out(s, ip_packet(ST_PEER_IP, 2, ip), ST_PEER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_requests_sent, 2);
    inject_arp(s, dev, RTE_ARP_OP_REPLY, &new_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0 + 5 * SEC);
    expect_ip_tx(dev, &new_peer_mac, ip);
    st_finish(s, dev, before);
}

Test(arp, entry_past_ttl_before_its_timer_ran_is_not_used)
{
    struct stack_params p = params();
    struct netdev *dev;
    unsigned before;

    p.arp_ttl_ns = 5 * SEC;
    struct stack *s = make(&p, &dev, &before);
    uint8_t ip[IP_LEN];

    resolve_peer(s, dev, &st_peer_mac, T0);
    /* an entry point at T0 + ttl that has not run the timers yet */
    s->now_ns = T0 + 5 * SEC;
    expect_no_entry(s, ST_PEER_IP);
    out(s, ip_packet(ST_PEER_IP, 2, ip), ST_PEER_IP);
    expect_request_tx(dev, ST_PEER_IP);
    st_expect_no_tx(dev);
    st_poll(s, T0 + 5 * SEC); /* the old expiry must not forget the held packet */
    st_expect_no_tx(dev);
    cr_assert_eq(t_pool_avail(), before - 1);
    inject_arp(s, dev, RTE_ARP_OP_REPLY, &st_peer_mac, ST_PEER_IP, &st_us_mac, ST_US_IP, T0 + 5 * SEC + 1);
    expect_ip_tx(dev, &st_peer_mac, ip);
    cr_assert_eq(s->ctr.arp_drop_unresolved, 0);
    st_finish(s, dev, before);
}

/* ---- next hops without ARP ---- */

Test(arp, broadcast_next_hops_go_to_broadcast_mac_without_arp)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);
    uint8_t ip[IP_LEN];

    st_poll(s, T0);
    out(s, ip_packet(RTE_BE32(0xffffffff), 1, ip), RTE_BE32(0xffffffff));
    expect_ip_tx(dev, &st_bcast_mac, ip);
    out(s, ip_packet(RTE_BE32(0x0a0000ff), 2, ip), RTE_BE32(0x0a0000ff));
    expect_ip_tx(dev, &st_bcast_mac, ip);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_requests_sent, 0);
    st_finish(s, dev, before);
}

Test(arp, multicast_next_hop_maps_to_01_00_5e_without_arp)
{
    static const struct rte_ether_addr mdns = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}};
    static const struct rte_ether_addr high = {{0x01, 0x00, 0x5e, 0x7f, 0x01, 0x02}};
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);
    uint8_t ip[IP_LEN];

    st_poll(s, T0);
    out(s, ip_packet(RTE_BE32(0xe00000fb), 1, ip), RTE_BE32(0xe00000fb)); /* 224.0.0.251 */
    expect_ip_tx(dev, &mdns, ip);
    /* RFC 1112 6.4: only the low 23 bits of the group */
    out(s, ip_packet(RTE_BE32(0xefff0102), 2, ip), RTE_BE32(0xefff0102)); /* 239.255.1.2 */
    expect_ip_tx(dev, &high, ip);
    st_expect_no_tx(dev);
    cr_assert_eq(s->ctr.arp_requests_sent, 0);
    st_finish(s, dev, before);
}

/* ---- gratuitous ARP ---- */

Test(arp, stack_create_sends_one_exact_gratuitous_request)
{
    struct stack_params p;
    struct stack *s = NULL;

    t_init();
    unsigned before = t_pool_avail();
    stack_params_defaults(&p);
    p.addr = ST_US_IP;
    p.netmask = RTE_BE32(0xffffff00);
    struct netdev *dev = netdev_fake_create(&st_us_mac, 1500);
    cr_assert_not_null(dev);
    cr_assert_eq(stack_create(&p, dev, g_rt.pool, T0, &s), 0);
    cr_assert_eq(netdev_fake_tx_count(dev), 1);
    /* spa = tpa = ours, tha zero, on broadcast */
    expect_request_tx(dev, ST_US_IP);
    cr_assert_eq(s->ctr.arp_gratuitous_sent, 1);
    cr_assert_eq(s->ctr.arp_requests_sent, 0);
    st_finish(s, dev, before);
}

/* ---- the cache bound and teardown ---- */

Test(arp, full_cache_forgets_oldest_learned_entry_and_still_resolves)
{
    /* more senders than the cache holds (it holds fewer than this) */
    enum { SENDERS = 3000, BURST = 32 };
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);
    uint8_t f[128];

    for (unsigned i = 0; i < SENDERS; i += BURST) {
        for (unsigned j = i; j < i + BURST && j < SENDERS; j++) {
            size_t n = st_arp(f, RTE_ARP_OP_REQUEST, &new_peer_mac, rte_cpu_to_be_32(0x0a010000 + j), &zero_mac,
                              ST_US_IP);
            netdev_fake_inject(dev, st_mbuf(f, n));
        }
        st_poll(s, T0 + i * ST_NS_PER_MS);
        st_drain_tx(dev);
    }
    cr_assert_eq(s->ctr.arp_replies_sent, SENDERS);
    cr_assert_eq(s->ctr.arp_entries_learned, SENDERS);
    expect_no_entry(s, rte_cpu_to_be_32(0x0a010000));
    expect_entry(s, rte_cpu_to_be_32(0x0a010000 + SENDERS - 1), &new_peer_mac);
    resolve_peer(s, dev, &st_peer_mac, T0 + SENDERS * ST_NS_PER_MS);
    expect_entry(s, ST_PEER_IP, &st_peer_mac);
    st_finish(s, dev, before);
}

Test(arp, arp_destroy_frees_held_packets_and_is_safe_twice)
{
    struct netdev *dev;
    unsigned before;
    struct stack *s = make(NULL, &dev, &before);

    st_poll(s, T0);
    for (uint8_t i = 0; i < 3; i++)
        out(s, ip_packet(ST_PEER_IP, i, NULL), ST_PEER_IP);
    out(s, ip_packet(OTHER_IP, 9, NULL), OTHER_IP);
    st_drain_tx(dev);
    cr_assert_eq(t_pool_avail(), before - 4);
    arp_destroy(s);
    cr_assert_null(s->arp);
    cr_assert_eq(t_pool_avail(), before);
    arp_destroy(s); /* s->arp NULL: nothing to do */
    st_poll(s, T0 + 10 * SEC); /* no timer of the table is left armed */
    cr_assert_eq(s->timers.armed, 0);
    st_finish(s, dev, before);
}
