/* test_udp.c - UDP sockets on a stack over the fake device: binding,
 * delivery, checksums, bounded queues, ICMP errors, output. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "harness.h"
#include "mbuf.h"
#include "config.h"
#include "net.h"
#include "runtime.h"
#include "stack_harness.h"
#include "netdev_fake.h"

#define PORT(p) RTE_BE16(p)

struct events {
    int n;
};

static void count_event(struct udp_sock *u, void *ctx)
{
    (void)u;
    ((struct events *)ctx)->n++;
}

/* A UDP datagram as udp_input receives it: data at the UDP header, with
 * the metadata ipv4_input would pass. cksum_ok: a valid checksum, else a
 * wrong one. */
static struct rte_mbuf *udp_mbuf(rte_be16_t sport, rte_be16_t dport, const char *data, size_t len, bool cksum_ok,
                                 struct ipv4_meta *ip)
{
    uint8_t frame[2048];
    size_t n = st_udp(frame, ST_PEER_IP, sport, ST_US_IP, dport, data, len);
    size_t off = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);
    if (!cksum_ok)
        ((struct rte_udp_hdr *)(frame + off))->dgram_cksum ^= 0x0101;
    struct rte_mbuf *m = st_mbuf(frame + off, n - off);
    m->l3_len = sizeof(struct rte_ipv4_hdr);
    *ip = (struct ipv4_meta){.src = ST_PEER_IP, .dst = ST_US_IP, .proto = IPPROTO_UDP, .ttl = 64,
                             .payload_len = (uint16_t)(n - off)};
    return m;
}

static struct udp_sock *bound_sock(struct stack *s, uint16_t port, struct events *ev)
{
    struct udp_sock *u;
    cr_assert_eq(udp_open(s, count_event, ev, &u), 0);
    cr_assert_eq(udp_bind(u, 0, rte_cpu_to_be_16(port)), 0);
    return u;
}

Test(udp, datagram_to_bound_port_is_queued_with_its_source)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    struct events ev = {0};
    struct udp_sock *u = bound_sock(s, 7000, &ev);
    struct ipv4_meta ip;
    udp_input(s, udp_mbuf(PORT(5555), PORT(7000), "hello", 5, true, &ip), &ip);
    cr_assert_eq(ev.n, 1);
    rte_be32_t a;
    rte_be16_t p;
    struct rte_mbuf *m = udp_recv(u, &a, &p);
    cr_assert_not_null(m);
    cr_assert_eq(a, ST_PEER_IP);
    cr_assert_eq(p, PORT(5555));
    cr_assert_eq(rte_pktmbuf_pkt_len(m), 5);
    cr_assert_arr_eq(rte_pktmbuf_mtod(m, char *), "hello", 5);
    cr_assert_null(udp_recv(u, &a, &p));
    cr_assert_eq(s->ctr.udp_rx_datagrams, 1);
    cr_assert_eq(s->ctr.udp_rx_bytes, 5);
    rte_pktmbuf_free(m);
    udp_close(u);
    stack_destroy(s);
}

Test(udp, bad_checksum_is_dropped)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    struct events ev = {0};
    struct udp_sock *u = bound_sock(s, 7000, &ev);
    unsigned before = t_pool_avail();
    struct ipv4_meta ip;
    udp_input(s, udp_mbuf(PORT(1), PORT(7000), "x", 1, false, &ip), &ip);
    cr_assert_eq(s->ctr.udp_drop_malformed, 1);
    cr_assert_eq(ev.n, 0);
    cr_assert_eq(t_pool_avail(), before);
    udp_close(u);
    stack_destroy(s);
}

Test(udp, zero_checksum_means_none)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    struct events ev = {0};
    struct udp_sock *u = bound_sock(s, 7000, &ev);
    struct ipv4_meta ip;
    struct rte_mbuf *m = udp_mbuf(PORT(1), PORT(7000), "nock", 4, true, &ip);
    rte_pktmbuf_mtod(m, struct rte_udp_hdr *)->dgram_cksum = 0;
    udp_input(s, m, &ip);
    cr_assert_eq(ev.n, 1);
    udp_close(u);
    stack_destroy(s);
}

Test(udp, length_field_past_the_packet_is_dropped)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    struct events ev = {0};
    struct udp_sock *u = bound_sock(s, 7000, &ev);
    struct ipv4_meta ip;
    struct rte_mbuf *m = udp_mbuf(PORT(1), PORT(7000), "abc", 3, true, &ip);
    rte_pktmbuf_mtod(m, struct rte_udp_hdr *)->dgram_len = RTE_BE16(400);
    udp_input(s, m, &ip);
    m = udp_mbuf(PORT(1), PORT(7000), "abc", 3, true, &ip);
    rte_pktmbuf_mtod(m, struct rte_udp_hdr *)->dgram_len = RTE_BE16(7);
    udp_input(s, m, &ip);
    m = st_mbuf("1234567", 7); /* shorter than a UDP header */
    udp_input(s, m, &ip);
    cr_assert_eq(s->ctr.udp_drop_malformed, 3);
    cr_assert_eq(ev.n, 0);
    udp_close(u);
    stack_destroy(s);
}

Test(udp, closed_port_is_dropped_and_counted)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    struct ipv4_meta ip;
    udp_input(s, udp_mbuf(PORT(1), PORT(9), "x", 1, true, &ip), &ip);
    cr_assert_eq(s->ctr.udp_drop_no_port, 1);
    st_drain_tx(dev); /* the port-unreachable, if ICMP sent one */
    cr_assert_eq(t_pool_avail(), before);
    stack_destroy(s);
}

Test(udp, receive_queue_is_bounded)
{
    struct netdev *dev;
    struct stack_params p;
    stack_params_defaults(&p);
    p.udp_rcvq_max = 4;
    struct stack *s = st_create(&p, &dev);
    struct events ev = {0};
    struct udp_sock *u = bound_sock(s, 7000, &ev);
    struct ipv4_meta ip;
    for (int i = 0; i < 6; i++)
        udp_input(s, udp_mbuf(PORT(1), PORT(7000), "q", 1, true, &ip), &ip);
    cr_assert_eq(ev.n, 4);
    cr_assert_eq(s->ctr.udp_drop_rcvq_full, 2);
    udp_close(u); /* frees the four queued */
    stack_destroy(s);
}

Test(udp, bind_errors)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    struct events ev = {0};
    struct udp_sock *a = bound_sock(s, 7000, &ev), *b;
    cr_assert_eq(udp_open(s, NULL, NULL, &b), 0);
    cr_assert_eq(udp_bind(b, 0, PORT(7000)), -EADDRINUSE);
    cr_assert_eq(udp_bind(b, RTE_BE32(0x0a000063), PORT(7001)), -EINVAL, "not our address");
    cr_assert_eq(udp_bind(a, 0, PORT(7002)), -EINVAL, "already bound");
    cr_assert_eq(udp_bind(b, 0, 0), 0);
    rte_be32_t addr;
    rte_be16_t port;
    udp_local(b, &addr, &port);
    cr_assert_geq(rte_be_to_cpu_16(port), 49152, "ephemeral range");
    cr_assert_eq(udp_peer(b, &addr, &port), -ENOTCONN);
    udp_close(a);
    udp_close(b);
    stack_destroy(s);
}

Test(udp, ephemeral_ports_are_distinct)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    static struct udp_sock *u[300];
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(udp_open(s, NULL, NULL, &u[i]), 0);
        cr_assert_eq(udp_bind(u[i], 0, 0), 0);
    }
    for (int i = 0; i < 300; i++)
        for (int j = i + 1; j < 300; j++) {
            rte_be32_t a;
            rte_be16_t pi, pj;
            udp_local(u[i], &a, &pi);
            udp_local(u[j], &a, &pj);
            cr_assert_neq(pi, pj);
        }
    for (int i = 0; i < 300; i++)
        udp_close(u[i]);
    stack_destroy(s);
}

Test(udp, connected_socket_gets_icmp_errors_and_only_its_peers_datagrams)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    struct events ev = {0};
    struct udp_sock *u = bound_sock(s, 7000, &ev);
    cr_assert_eq(udp_connect(u, ST_PEER_IP, PORT(53)), 0);
    struct ipv4_meta ip;
    udp_input(s, udp_mbuf(PORT(54), PORT(7000), "other", 5, true, &ip), &ip);
    cr_assert_eq(ev.n, 0, "a datagram from another port is not for a connected socket");
    udp_input(s, udp_mbuf(PORT(53), PORT(7000), "peer", 4, true, &ip), &ip);
    cr_assert_eq(ev.n, 1);
    udp_icmp_error(s, PORT(7000), ST_PEER_IP, PORT(53), ECONNREFUSED);
    cr_assert_eq(ev.n, 2);
    cr_assert_eq(udp_take_error(u), ECONNREFUSED);
    cr_assert_eq(udp_take_error(u), 0, "taken once");
    udp_icmp_error(s, PORT(7000), ST_PEER_IP, PORT(99), ECONNREFUSED);
    cr_assert_eq(udp_take_error(u), 0, "not about our peer");
    st_drain_tx(dev);
    udp_close(u);
    stack_destroy(s);
}

Test(udp, unconnected_socket_ignores_icmp_errors)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    struct events ev = {0};
    struct udp_sock *u = bound_sock(s, 7000, &ev);
    udp_icmp_error(s, PORT(7000), ST_PEER_IP, PORT(53), ECONNREFUSED);
    cr_assert_eq(udp_take_error(u), 0);
    cr_assert_eq(ev.n, 0);
    udp_close(u);
    stack_destroy(s);
}

Test(udp, sendto_without_destination_returns_edestaddrreq)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    struct udp_sock *u;
    unsigned before = t_pool_avail();
    cr_assert_eq(udp_open(s, NULL, NULL, &u), 0);
    cr_assert_eq(udp_sendto(u, st_mbuf("x", 1), 0, 0, 2000 * ST_NS_PER_MS), -EDESTADDRREQ);
    cr_assert_eq(t_pool_avail(), before, "the payload was freed");
    udp_close(u);
    stack_destroy(s);
}

/* A stack that knows the peer's MAC (static ARP), so datagrams leave at once. */
static struct stack *stack_with_peer(struct netdev **dev)
{
    struct stack_params p;
    stack_params_defaults(&p);
    p.gateway = ST_PEER_IP;
    p.arp_static[0].addr = ST_PEER_IP;
    p.arp_static[0].mac = st_peer_mac;
    p.arp_nstatic = 1;
    return st_create(&p, dev);
}

/* The sent frame's UDP part, checked: returns the payload length. */
static size_t check_sent(struct netdev *dev, rte_be16_t sport, rte_be16_t dport, const char *want, size_t len)
{
    struct rte_mbuf *out = netdev_fake_take_tx(dev);
    cr_assert_not_null(out, "nothing was sent");
    static uint8_t buf[70000];
    size_t n = st_bytes(out, buf, sizeof(buf));
    rte_pktmbuf_free(out);
    struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;
    cr_assert(rte_is_same_ether_addr(&eh->dst_addr, &st_peer_mac));
    struct rte_ipv4_hdr *iph = (struct rte_ipv4_hdr *)(buf + 14);
    struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(iph + 1);
    cr_assert_eq(n, 14 + 20 + 8 + len);
    cr_assert_eq(iph->next_proto_id, IPPROTO_UDP);
    cr_assert_eq(iph->dst_addr, ST_PEER_IP);
    cr_assert_eq(iph->src_addr, ST_US_IP);
    cr_assert_eq(uh->src_port, sport);
    cr_assert_eq(uh->dst_port, dport);
    cr_assert_eq(rte_be_to_cpu_16(uh->dgram_len), 8 + len);
    rte_be16_t sent = uh->dgram_cksum;
    uh->dgram_cksum = 0;
    cr_assert_eq(sent, rte_ipv4_udptcp_cksum(iph, uh), "UDP checksum valid");
    cr_assert_arr_eq(uh + 1, want, len);
    return len;
}

Test(udp, sendto_builds_a_valid_datagram)
{
    struct netdev *dev;
    struct stack *s = stack_with_peer(&dev);
    struct events ev = {0};
    struct udp_sock *u = bound_sock(s, 7000, &ev);
    cr_assert_eq(udp_sendto(u, st_mbuf("ping!", 5), ST_PEER_IP, PORT(9999), 2000 * ST_NS_PER_MS), 0);
    check_sent(dev, PORT(7000), PORT(9999), "ping!", 5);
    cr_assert_eq(s->ctr.udp_tx_datagrams, 1);
    udp_close(u);
    stack_destroy(s);
}

Test(udp, sendto_without_headroom_chains_a_header)
{
    struct netdev *dev;
    struct stack *s = stack_with_peer(&dev);
    struct events ev = {0};
    struct udp_sock *u = bound_sock(s, 7000, &ev);
    struct rte_mbuf *m = rte_pktmbuf_alloc(g_rt.pool);
    m->data_off = 0; /* no headroom at all */
    memcpy(rte_pktmbuf_append(m, 5), "tight", 5);
    cr_assert_eq(udp_sendto(u, m, ST_PEER_IP, PORT(9), 2000 * ST_NS_PER_MS), 0);
    check_sent(dev, PORT(7000), PORT(9), "tight", 5);
    udp_close(u);
    stack_destroy(s);
}

Test(udp, connected_send_binds_an_ephemeral_port)
{
    struct netdev *dev;
    struct stack *s = stack_with_peer(&dev);
    struct udp_sock *u;
    cr_assert_eq(udp_open(s, NULL, NULL, &u), 0);
    cr_assert_eq(udp_connect(u, ST_PEER_IP, PORT(53)), 0);
    cr_assert_eq(udp_sendto(u, st_mbuf("q", 1), 0, 0, 2000 * ST_NS_PER_MS), 0);
    rte_be32_t a;
    rte_be16_t p;
    udp_local(u, &a, &p);
    check_sent(dev, p, PORT(53), "q", 1);
    udp_close(u);
    stack_destroy(s);
}

Test(udp, oversized_payload_returns_emsgsize)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    struct udp_sock *u;
    cr_assert_eq(udp_open(s, NULL, NULL, &u), 0);
    void *data;
    struct rte_mbuf *big = mbuf_alloc_span(65508, &data);
    cr_assert_not_null(big);
    big->pkt_len = 65508;
    cr_assert_eq(udp_sendto(u, big, ST_PEER_IP, PORT(9), 2000 * ST_NS_PER_MS), -EMSGSIZE);
    udp_close(u);
    stack_destroy(s);
}

/* ---- net.arp_static (core/net.c) ---- */

Test(udp, arp_static_entries_are_parsed_from_config)
{
    struct sluice_config cfg;
    struct stack_params p;
    sluice_config_defaults(&cfg);
    snprintf(cfg.net_arp_static, sizeof(cfg.net_arp_static), "10.0.0.1=02:00:00:00:00:01, 10.0.0.9=aa:BB:cc:dd:ee:0f");
    cr_assert_eq(net_params_from_config(&cfg, &p), 0);
    cr_assert_eq(p.arp_nstatic, 2);
    cr_assert_eq(p.arp_static[0].addr, RTE_BE32(0x0a000001));
    cr_assert(rte_is_same_ether_addr(&p.arp_static[0].mac, &st_peer_mac));
    cr_assert_eq(p.arp_static[1].addr, RTE_BE32(0x0a000009));
    cr_assert_eq(p.arp_static[1].mac.addr_bytes[1], 0xbb);
    cr_assert_eq(p.arp_static[1].mac.addr_bytes[5], 0x0f);
    cr_assert_eq(p.addr, RTE_BE32(0x0a000002));
}

Test(udp, bad_arp_static_entry_is_refused)
{
    static const char *const bad[] = {"10.0.0.1", "10.0.0.1=02:00:00:00:00", "10.0.0=02:00:00:00:00:01",
                                      "10.0.0.1=02:00:00:00:00:01x", "x=02:00:00:00:00:01"};
    struct sluice_config cfg;
    struct stack_params p;
    sluice_config_defaults(&cfg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(cfg.net_arp_static, sizeof(cfg.net_arp_static), "%s", bad[i]);
        cr_assert_eq(net_params_from_config(&cfg, &p), -EINVAL, "'%s' was accepted", bad[i]);
    }
}
