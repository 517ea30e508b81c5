/* stack_harness.c - see stack_harness.h. */
#include "stack_harness.h"

#include <criterion/criterion.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "harness.h"
#include "runtime.h"
#include "netdev_fake.h"

const struct rte_ether_addr st_us_mac = {{0x02, 0, 0, 0, 0, 0x02}};
const struct rte_ether_addr st_peer_mac = {{0x02, 0, 0, 0, 0, 0x01}};
const struct rte_ether_addr st_bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

struct stack *st_create(const struct stack_params *params, struct netdev **dev_out)
{
    struct stack_params p;
    struct stack *s = NULL;

    t_init();
    if (params != NULL)
        p = *params;
    else
        stack_params_defaults(&p);
    p.addr = ST_US_IP;
    p.netmask = RTE_BE32(0xffffff00);
    if (params == NULL)
        p.gateway = ST_PEER_IP;
    struct netdev *dev = netdev_fake_create(&st_us_mac, 1500);
    cr_assert_not_null(dev);
    cr_assert_eq(stack_create(&p, dev, g_rt.pool, 1000 * ST_NS_PER_MS, &s), 0);
    st_drain_tx(dev);
    *dev_out = dev;
    return s;
}

int st_poll(struct stack *s, uint64_t now_ns)
{
    return stack_poll(s, now_ns);
}

unsigned st_drain_tx(struct netdev *dev)
{
    struct rte_mbuf *m;
    unsigned n = 0;

    while ((m = netdev_fake_take_tx(dev)) != NULL) {
        rte_pktmbuf_free(m);
        n++;
    }
    return n;
}

void st_inject(struct stack *s, struct netdev *dev, const void *frame, size_t len, uint64_t now_ns)
{
    netdev_fake_inject(dev, st_mbuf(frame, len));
    st_poll(s, now_ns);
}

size_t st_take(struct netdev *dev, uint8_t *buf, size_t cap)
{
    struct rte_mbuf *m = netdev_fake_take_tx(dev);

    cr_assert_not_null(m, "expected a transmitted frame");
    size_t n = st_bytes(m, buf, cap);
    rte_pktmbuf_free(m);
    return n;
}

void st_expect_no_tx(struct netdev *dev)
{
    cr_assert_eq(netdev_fake_tx_count(dev), 0, "%u unexpected frame(s) sent", netdev_fake_tx_count(dev));
}

void st_finish(struct stack *s, struct netdev *dev, unsigned pool_before)
{
    st_drain_tx(dev);
    stack_destroy(s);
    cr_assert_eq(t_pool_avail(), pool_before, "mbufs leaked: %u free, %u before", t_pool_avail(), pool_before);
}

void st_close_and_finish(struct stack *s, struct netdev *dev, unsigned pool_before, uint64_t now_ns, struct tcp_conn *c,
                         struct tcp_conn *l)
{
    if (c != NULL)
        tcp_close(c, now_ns);
    tcp_close(l, now_ns);
    st_poll(s, now_ns);
    st_finish(s, dev, pool_before);
}

struct stack *st_create_with_peer(struct netdev **dev_out)
{
    struct stack_params p;

    stack_params_defaults(&p);
    p.gateway = ST_PEER_IP;
    p.arp_nstatic = 1;
    p.arp_static[0].addr = ST_PEER_IP;
    p.arp_static[0].mac = st_peer_mac;
    return st_create(&p, dev_out);
}

uint64_t st_counter(const struct stack *s, size_t offset)
{
    struct stack_counters c;
    uint64_t v;

    stack_counters(s, &c);
    memcpy(&v, (const char *)&c + offset, sizeof(v));
    return v;
}

struct rte_mbuf *st_mbuf(const void *bytes, size_t len)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(g_rt.pool);

    cr_assert_not_null(m);
    cr_assert_leq(len, rte_pktmbuf_tailroom(m));
    memcpy(rte_pktmbuf_append(m, (uint16_t)len), bytes, len);
    return m;
}

size_t st_bytes(const struct rte_mbuf *m, void *buf, size_t cap)
{
    size_t len = rte_pktmbuf_pkt_len(m);

    cr_assert_leq(len, cap);
    const void *p = rte_pktmbuf_read(m, 0, (uint32_t)len, buf);
    if (p != buf)
        memcpy(buf, p, len);
    return len;
}

size_t st_eth(void *buf, const struct rte_ether_addr *dst, const struct rte_ether_addr *src, uint16_t type)
{
    struct rte_ether_hdr *eh = buf;

    eh->dst_addr = *dst;
    eh->src_addr = *src;
    eh->ether_type = rte_cpu_to_be_16(type);
    return sizeof(*eh);
}

size_t st_arp(void *buf, uint16_t op, const struct rte_ether_addr *sha, rte_be32_t spa,
              const struct rte_ether_addr *tha, rte_be32_t tpa)
{
    size_t off = st_eth(buf, op == RTE_ARP_OP_REQUEST ? &st_bcast_mac : tha, sha, RTE_ETHER_TYPE_ARP);
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)((char *)buf + off);

    a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = RTE_ETHER_ADDR_LEN;
    a->arp_plen = 4;
    a->arp_opcode = rte_cpu_to_be_16(op);
    a->arp_data.arp_sha = *sha;
    a->arp_data.arp_sip = spa;
    a->arp_data.arp_tha = *tha;
    a->arp_data.arp_tip = tpa;
    return off + sizeof(*a);
}

void st_ip_fix_checksum(void *frame)
{
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)((char *)frame + sizeof(struct rte_ether_hdr));

    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
}

size_t st_ipv4(void *buf, rte_be32_t src, rte_be32_t dst, uint8_t proto, const void *payload, size_t len)
{
    size_t off = st_eth(buf, &st_us_mac, &st_peer_mac, RTE_ETHER_TYPE_IPV4);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)((char *)buf + off);

    memset(ip, 0, sizeof(*ip));
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + len));
    ip->packet_id = RTE_BE16(1);
    ip->time_to_live = 64;
    ip->next_proto_id = proto;
    ip->src_addr = src;
    ip->dst_addr = dst;
    memcpy(ip + 1, payload, len);
    st_ip_fix_checksum(buf);
    return off + sizeof(*ip) + len;
}

size_t st_udp(void *buf, rte_be32_t src, rte_be16_t sport, rte_be32_t dst, rte_be16_t dport, const void *data,
              size_t len)
{
    uint8_t l4[65536];
    struct rte_udp_hdr *u = (struct rte_udp_hdr *)l4;

    u->src_port = sport;
    u->dst_port = dport;
    u->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*u) + len));
    u->dgram_cksum = 0;
    memcpy(u + 1, data, len);
    size_t n = st_ipv4(buf, src, dst, IPPROTO_UDP, l4, sizeof(*u) + len);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)((char *)buf + sizeof(struct rte_ether_hdr));
    struct rte_udp_hdr *uu = (struct rte_udp_hdr *)(ip + 1);
    uu->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uu);
    return n;
}

size_t st_icmp_echo(void *buf, rte_be32_t src, rte_be32_t dst, uint16_t id, uint16_t seq, const void *data,
                    size_t len)
{
    uint8_t l4[2048];
    struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)l4;

    cr_assert_leq(len + sizeof(*ic), sizeof(l4));
    ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
    ic->icmp_code = 0;
    ic->icmp_cksum = 0;
    ic->icmp_ident = rte_cpu_to_be_16(id);
    ic->icmp_seq_nb = rte_cpu_to_be_16(seq);
    memcpy(ic + 1, data, len);
    ic->icmp_cksum = (uint16_t)~rte_raw_cksum(l4, sizeof(*ic) + len);
    return st_ipv4(buf, src, dst, IPPROTO_ICMP, l4, sizeof(*ic) + len);
}
