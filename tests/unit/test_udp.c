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

/* ---- several sockets on one port (Linux's rules, stack/net/udp.c) ---- */

#define NOW_NS (2000 * ST_NS_PER_MS)
#define ANY 0
#define BCAST RTE_BE32(0x0a0000ff) /* 10.0.0.255: the subnet's broadcast */

/* An unbound socket with SO_REUSEADDR and SO_REUSEPORT as given. */
static struct udp_sock *opened(struct stack *s, int reuseaddr, int reuseport)
{
    struct udp_sock *u;
    cr_assert_eq(udp_open(s, NULL, NULL, &u), 0);
    cr_assert_eq(udp_setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &reuseaddr, sizeof(int)), 0);
    cr_assert_eq(udp_setsockopt(u, SOL_SOCKET, SO_REUSEPORT, &reuseport, sizeof(int)), 0);
    return u;
}

/* opened() and bound to addr:port; asserts the bind succeeds. */
static struct udp_sock *on_port(struct stack *s, rte_be32_t addr, uint16_t port, int reuseaddr, int reuseport)
{
    struct udp_sock *u = opened(s, reuseaddr, reuseport);
    int rc = udp_bind(u, addr, rte_cpu_to_be_16(port));
    cr_assert_eq(rc, 0, "bind to port %u: %d", port, rc);
    return u;
}

/* The errno of binding a fresh socket with these options to addr:port
 * (the socket is closed again). */
static int try_bind(struct stack *s, rte_be32_t addr, uint16_t port, int reuseaddr, int reuseport)
{
    struct udp_sock *u = opened(s, reuseaddr, reuseport);
    int rc = udp_bind(u, addr, rte_cpu_to_be_16(port));
    udp_close(u);
    return rc;
}

/* A datagram from src:sport to dst:dport through the whole input path. */
static void send_in(struct stack *s, struct netdev *dev, rte_be32_t src, uint16_t sport, rte_be32_t dst, uint16_t dport,
                    const char *text)
{
    uint8_t frame[256];
    size_t n = st_udp(frame, src, rte_cpu_to_be_16(sport), dst, rte_cpu_to_be_16(dport), text, strlen(text));
    st_inject(s, dev, frame, n, NOW_NS);
}

/* Asserts u's next datagram is text from ST_PEER_IP:sport. */
static void expect_dgram(struct udp_sock *u, uint16_t sport, const char *text)
{
    rte_be32_t a;
    rte_be16_t p;
    struct rte_mbuf *m = udp_recv(u, &a, &p);
    cr_assert_not_null(m, "no datagram '%s' on this socket", text);
    cr_assert_eq(a, ST_PEER_IP);
    cr_assert_eq(rte_be_to_cpu_16(p), sport);
    cr_assert_eq(rte_pktmbuf_pkt_len(m), strlen(text));
    cr_assert_arr_eq(rte_pktmbuf_mtod(m, char *), text, strlen(text));
    rte_pktmbuf_free(m);
}

static void expect_empty(struct udp_sock *u)
{
    rte_be32_t a;
    rte_be16_t p;
    struct rte_mbuf *m = udp_recv(u, &a, &p);
    if (m != NULL)
        rte_pktmbuf_free(m);
    cr_assert_null(m, "an unexpected datagram");
}

/* Asserts the next frame out is an ICMP port unreachable to the peer
 * about a datagram to dport. */
static void expect_port_unreachable(struct netdev *dev, uint16_t dport)
{
    uint8_t f[256];
    size_t n = st_take(dev, f, sizeof(f));
    const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + 14);
    const uint8_t *icmp = f + 14 + 20;
    const struct rte_udp_hdr *quoted = (const struct rte_udp_hdr *)(icmp + 8 + 20);
    cr_assert_geq(n, 14 + 20 + 8 + 20 + 8);
    cr_assert_eq(ip->next_proto_id, IPPROTO_ICMP);
    cr_assert_eq(ip->dst_addr, ST_PEER_IP);
    cr_assert_eq(icmp[0], 3, "destination unreachable");
    cr_assert_eq(icmp[1], 3, "port unreachable");
    cr_assert_eq(rte_be_to_cpu_16(quoted->dst_port), dport);
}

Test(udp, second_bind_without_both_options_is_eaddrinuse)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    struct udp_sock *plain = on_port(s, ANY, 7000, 0, 0);
    cr_expect_eq(try_bind(s, ANY, 7000, 0, 0), -EADDRINUSE, "no options");
    cr_expect_eq(try_bind(s, ANY, 7000, 1, 0), -EADDRINUSE, "only the new one has SO_REUSEADDR");
    cr_expect_eq(try_bind(s, ANY, 7000, 0, 1), -EADDRINUSE, "only the new one has SO_REUSEPORT");
    struct udp_sock *ra = on_port(s, ANY, 7001, 1, 0);
    cr_expect_eq(try_bind(s, ANY, 7001, 0, 0), -EADDRINUSE, "only the old one has SO_REUSEADDR");
    cr_expect_eq(try_bind(s, ANY, 7001, 0, 1), -EADDRINUSE, "SO_REUSEADDR against SO_REUSEPORT");
    struct udp_sock *rp = on_port(s, ANY, 7002, 0, 1);
    cr_expect_eq(try_bind(s, ANY, 7002, 0, 0), -EADDRINUSE, "only the old one has SO_REUSEPORT");
    cr_expect_eq(try_bind(s, ANY, 7002, 1, 0), -EADDRINUSE, "SO_REUSEPORT against SO_REUSEADDR");
    cr_expect_eq(try_bind(s, ANY, 7003, 0, 0), 0, "another port is free");
    udp_close(plain);
    udp_close(ra);
    udp_close(rp);
    st_finish(s, dev, before);
}

Test(udp, second_bind_with_both_options_succeeds)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    struct udp_sock *a1 = on_port(s, ANY, 7000, 1, 0), *a2 = on_port(s, ANY, 7000, 1, 0);
    struct udp_sock *a3 = on_port(s, ST_US_IP, 7000, 1, 0);
    struct udp_sock *p1 = on_port(s, ANY, 7001, 0, 1), *p2 = on_port(s, ANY, 7001, 0, 1);
    struct udp_sock *b1 = on_port(s, ANY, 7002, 1, 1), *b2 = on_port(s, ANY, 7002, 0, 1);
    cr_expect_eq(try_bind(s, ANY, 7002, 1, 0), -EADDRINUSE, "b2 has no SO_REUSEADDR");
    int v = 7;
    socklen_t len = sizeof(v);
    cr_assert_eq(udp_getsockopt(a1, SOL_SOCKET, SO_REUSEADDR, &v, &len), 0);
    cr_expect_eq(v, 1);
    cr_expect_eq(len, sizeof(int));
    cr_assert_eq(udp_getsockopt(a1, SOL_SOCKET, SO_REUSEPORT, &v, &len), 0);
    cr_expect_eq(v, 0);
    udp_close(a1);
    udp_close(a2);
    udp_close(a3);
    udp_close(p1);
    udp_close(p2);
    udp_close(b1);
    udp_close(b2);
    st_finish(s, dev, before);
}

Test(udp, any_and_our_address_overlap)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    struct udp_sock *exact = on_port(s, ST_US_IP, 7000, 0, 0), *any = on_port(s, ANY, 7001, 0, 0);
    cr_expect_eq(try_bind(s, ANY, 7000, 0, 0), -EADDRINUSE, "INADDR_ANY over our address");
    cr_expect_eq(try_bind(s, ST_US_IP, 7000, 0, 0), -EADDRINUSE, "the same address");
    cr_expect_eq(try_bind(s, ST_US_IP, 7001, 0, 0), -EADDRINUSE, "our address under INADDR_ANY");
    cr_expect_eq(try_bind(s, ST_US_IP, 7001, 1, 1), -EADDRINUSE, "the bound one has no option");
    udp_close(exact);
    udp_close(any);
    st_finish(s, dev, before);
}

Test(udp, reuse_options_argument_rules)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    struct udp_sock *u = opened(s, 0, 0);
    int v = 1;
    socklen_t len = 2;
    cr_expect_eq(udp_setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &v, 2), -EINVAL, "shorter than an int");
    cr_expect_eq(udp_setsockopt(u, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(v)), -EINVAL);
    cr_expect_eq(udp_setsockopt(u, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)), -ENOPROTOOPT);
    cr_expect_eq(udp_setsockopt(u, IPPROTO_UDP, SO_REUSEADDR, &v, sizeof(v)), -ENOPROTOOPT);
    cr_expect_eq(udp_getsockopt(u, SOL_SOCKET, SO_RCVBUF, &v, &len), -ENOPROTOOPT);
    v = 42;
    cr_assert_eq(udp_setsockopt(u, SOL_SOCKET, SO_REUSEPORT, &v, sizeof(v)), 0);
    v = 0;
    cr_assert_eq(udp_getsockopt(u, SOL_SOCKET, SO_REUSEPORT, &v, &len), 0, "truncated, as Linux");
    cr_expect_eq(len, 2);
    cr_expect_neq(v, 0);
    len = (socklen_t)-1;
    cr_expect_eq(udp_getsockopt(u, SOL_SOCKET, SO_REUSEPORT, &v, &len), -EINVAL, "negative room");
    udp_close(u);
    st_finish(s, dev, before);
}

/* iperf3's UDP server: the first socket connects to its client, a second
 * is bound to the port for the next client. */
Test(udp, connected_socket_beats_unconnected)
{
    struct netdev *dev;
    struct stack *s = st_create_with_peer(&dev);
    unsigned before = t_pool_avail();
    struct udp_sock *first = on_port(s, ANY, 5201, 1, 0);
    cr_assert_eq(udp_connect(first, ST_PEER_IP, RTE_BE16(6000)), 0);
    struct udp_sock *second = on_port(s, ANY, 5201, 1, 0);
    send_in(s, dev, ST_PEER_IP, 6000, ST_US_IP, 5201, "to the connected one");
    send_in(s, dev, ST_PEER_IP, 6001, ST_US_IP, 5201, "a new client");
    expect_dgram(first, 6000, "to the connected one");
    expect_empty(first);
    expect_dgram(second, 6001, "a new client");
    expect_empty(second);
    /* the same, the connected socket being the newest */
    struct udp_sock *third = on_port(s, ANY, 5202, 1, 0), *fourth = on_port(s, ANY, 5202, 1, 0);
    cr_assert_eq(udp_connect(fourth, ST_PEER_IP, RTE_BE16(6000)), 0);
    send_in(s, dev, ST_PEER_IP, 6001, ST_US_IP, 5202, "other");
    send_in(s, dev, ST_PEER_IP, 6000, ST_US_IP, 5202, "peer");
    expect_dgram(third, 6001, "other");
    expect_dgram(fourth, 6000, "peer");
    expect_empty(third);
    st_expect_no_tx(dev);
    udp_close(first);
    udp_close(second);
    udp_close(third);
    udp_close(fourth);
    st_finish(s, dev, before);
}

Test(udp, connect_takes_our_address)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    struct udp_sock *u = on_port(s, ANY, 7000, 0, 0);
    rte_be32_t a;
    rte_be16_t p;
    cr_assert_eq(udp_connect(u, ST_PEER_IP, RTE_BE16(53)), 0);
    udp_local(u, &a, &p);
    cr_expect_eq(a, ST_US_IP, "ip4_datagram_connect sets the source address");
    cr_expect_eq(p, RTE_BE16(7000));
    udp_close(u);
    st_finish(s, dev, before);
}

Test(udp, exact_address_beats_any)
{
    struct netdev *dev;
    struct stack *s = st_create_with_peer(&dev);
    unsigned before = t_pool_avail();
    struct udp_sock *exact = on_port(s, ST_US_IP, 7000, 1, 0);
    struct udp_sock *any = on_port(s, ANY, 7000, 1, 0); /* newer, but bound to INADDR_ANY */
    send_in(s, dev, ST_PEER_IP, 1234, ST_US_IP, 7000, "exact");
    expect_dgram(exact, 1234, "exact");
    expect_empty(any);
    /* a broadcast is not for a socket bound to our unicast address */
    send_in(s, dev, ST_PEER_IP, 1234, BCAST, 7000, "bcast");
    expect_dgram(any, 1234, "bcast");
    expect_empty(exact);
    udp_close(exact);
    send_in(s, dev, ST_PEER_IP, 1234, ST_US_IP, 7000, "now any");
    expect_dgram(any, 1234, "now any");
    st_expect_no_tx(dev);
    udp_close(any);
    st_finish(s, dev, before);
}

/* Linux keeps the most recently bound of equal unconnected sockets
 * (IPv4 sockets go to the head of the port's list; the first of the
 * highest score wins). */
Test(udp, newest_of_equal_sockets_gets_it_and_close_removes_only_that_one)
{
    struct netdev *dev;
    struct stack *s = st_create_with_peer(&dev);
    unsigned before = t_pool_avail();
    struct udp_sock *a = on_port(s, ANY, 7000, 1, 0), *b = on_port(s, ANY, 7000, 1, 0);
    struct udp_sock *c = on_port(s, ANY, 7000, 1, 0);
    send_in(s, dev, ST_PEER_IP, 1, ST_US_IP, 7000, "to c");
    expect_dgram(c, 1, "to c");
    udp_close(b); /* the middle one: c stays first, a stays on the port */
    send_in(s, dev, ST_PEER_IP, 1, ST_US_IP, 7000, "still c");
    expect_dgram(c, 1, "still c");
    expect_empty(a);
    udp_close(c);
    send_in(s, dev, ST_PEER_IP, 1, ST_US_IP, 7000, "to a");
    expect_dgram(a, 1, "to a");
    st_expect_no_tx(dev);
    udp_close(a);
    send_in(s, dev, ST_PEER_IP, 1, ST_US_IP, 7000, "nobody");
    expect_port_unreachable(dev, 7000);
    cr_expect_eq(ST_CTR(s, udp_drop_no_port), 1);
    cr_expect_eq(ST_CTR(s, udp_rx_datagrams), 3);
    st_finish(s, dev, before);
}

Test(udp, closed_connected_socket_leaves_its_peer_to_the_unconnected_one)
{
    struct netdev *dev;
    struct stack *s = st_create_with_peer(&dev);
    unsigned before = t_pool_avail();
    struct udp_sock *conn = on_port(s, ANY, 5201, 1, 0);
    cr_assert_eq(udp_connect(conn, ST_PEER_IP, RTE_BE16(6000)), 0);
    struct udp_sock *wait = on_port(s, ANY, 5201, 1, 0);
    udp_close(conn);
    send_in(s, dev, ST_PEER_IP, 6000, ST_US_IP, 5201, "late");
    expect_dgram(wait, 6000, "late");
    st_expect_no_tx(dev);
    udp_close(wait);
    send_in(s, dev, ST_PEER_IP, 6000, ST_US_IP, 5201, "none left");
    expect_port_unreachable(dev, 5201);
    st_finish(s, dev, before);
}

/* Linux: no socket takes a datagram from another peer to a port whose only
 * socket is connected, so ICMP port unreachable goes back. */
Test(udp, connected_only_socket_refuses_other_peers_with_icmp)
{
    struct netdev *dev;
    struct stack *s = st_create_with_peer(&dev);
    unsigned before = t_pool_avail();
    struct udp_sock *u = on_port(s, ANY, 7000, 0, 0);
    cr_assert_eq(udp_connect(u, ST_PEER_IP, RTE_BE16(53)), 0);
    send_in(s, dev, ST_PEER_IP, 54, ST_US_IP, 7000, "stranger");
    expect_port_unreachable(dev, 7000);
    expect_empty(u);
    cr_expect_eq(ST_CTR(s, udp_drop_no_port), 1);
    udp_close(u);
    st_finish(s, dev, before);
}

Test(udp, reuseport_group_hash_is_stable_per_flow_and_spreads)
{
    struct netdev *dev;
    struct stack *s = st_create_with_peer(&dev);
    unsigned before = t_pool_avail();
    enum { SOCKS = 4, FLOWS = 64 };
    struct udp_sock *u[SOCKS];
    int got[SOCKS] = {0}, owner[FLOWS];
    for (int i = 0; i < SOCKS; i++)
        u[i] = on_port(s, ANY, 7000, 0, 1);
    for (int round = 0; round < 2; round++)
        for (int f = 0; f < FLOWS; f++) {
            char text[16];
            snprintf(text, sizeof(text), "flow %d", f);
            send_in(s, dev, ST_PEER_IP, (uint16_t)(20000 + f), ST_US_IP, 7000, text);
            int who = -1;
            for (int i = 0; i < SOCKS; i++)
                if (udp_recv_queued(u[i]) > 0) {
                    cr_assert_eq(who, -1, "delivered twice");
                    who = i;
                    expect_dgram(u[i], (uint16_t)(20000 + f), text);
                }
            cr_assert_neq(who, -1, "flow %d delivered nowhere", f);
            if (round == 0)
                owner[f] = who;
            else
                cr_assert_eq(who, owner[f], "flow %d moved from socket %d to %d", f, owner[f], who);
            got[who]++;
        }
    int used = 0;
    for (int i = 0; i < SOCKS; i++)
        used += got[i] > 0;
    cr_expect_geq(used, 3, "64 flows over 4 sockets reached only %d of them", used);
    /* a socket without SO_REUSEPORT cannot join, even with SO_REUSEADDR */
    cr_expect_eq(try_bind(s, ANY, 7000, 1, 0), -EADDRINUSE);
    for (int i = 0; i < SOCKS; i++)
        udp_close(u[i]);
    st_expect_no_tx(dev);
    st_finish(s, dev, before);
}

Test(udp, full_queue_drop_is_counted_for_the_socket_that_got_it)
{
    struct netdev *dev;
    struct stack_params p;
    stack_params_defaults(&p);
    p.udp_rcvq_max = 2;
    p.arp_nstatic = 1;
    p.arp_static[0].addr = ST_PEER_IP;
    p.arp_static[0].mac = st_peer_mac;
    struct stack *s = st_create(&p, &dev);
    unsigned before = t_pool_avail();
    struct udp_sock *conn = on_port(s, ANY, 7000, 1, 0);
    cr_assert_eq(udp_connect(conn, ST_PEER_IP, RTE_BE16(6000)), 0);
    struct udp_sock *other = on_port(s, ANY, 7000, 1, 0);
    for (int i = 0; i < 3; i++)
        send_in(s, dev, ST_PEER_IP, 6000, ST_US_IP, 7000, "c");
    send_in(s, dev, ST_PEER_IP, 6001, ST_US_IP, 7000, "o");
    cr_expect_eq(udp_drops(conn), 1);
    cr_expect_eq(udp_drops(other), 0);
    cr_expect_eq(ST_CTR(s, udp_drop_rcvq_full), 1);
    cr_expect_eq(udp_recv_queued(conn), 2);
    expect_dgram(other, 6001, "o");
    udp_close(conn);
    udp_close(other);
    st_finish(s, dev, before);
}

Test(udp, icmp_error_reaches_the_connected_socket_among_several)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    struct events ev_conn = {0}, ev_other = {0};
    struct udp_sock *conn, *other;
    int one = 1;
    cr_assert_eq(udp_open(s, count_event, &ev_conn, &conn), 0);
    cr_assert_eq(udp_open(s, count_event, &ev_other, &other), 0);
    cr_assert_eq(udp_setsockopt(conn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    cr_assert_eq(udp_setsockopt(other, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    cr_assert_eq(udp_bind(conn, ANY, RTE_BE16(7000)), 0);
    cr_assert_eq(udp_connect(conn, ST_PEER_IP, RTE_BE16(53)), 0);
    cr_assert_eq(udp_bind(other, ANY, RTE_BE16(7000)), 0);
    udp_icmp_error(s, RTE_BE16(7000), ST_PEER_IP, RTE_BE16(53), ECONNREFUSED);
    cr_expect_eq(udp_take_error(conn), ECONNREFUSED);
    cr_expect_eq(udp_take_error(other), 0);
    cr_expect_eq(ev_other.n, 0);
    udp_icmp_error(s, RTE_BE16(7000), ST_PEER_IP, RTE_BE16(54), ECONNREFUSED);
    cr_expect_eq(udp_take_error(conn), 0, "about another peer: the unconnected one, which ignores it");
    cr_expect_eq(udp_take_error(other), 0);
    cr_expect_eq(ev_conn.n, 1);
    udp_close(conn);
    udp_close(other);
    st_finish(s, dev, before);
}

Test(udp, broadcast_goes_to_every_socket_of_the_port)
{
    struct netdev *dev;
    struct stack *s = st_create_with_peer(&dev);
    unsigned before = t_pool_avail();
    struct udp_sock *a = on_port(s, ANY, 7000, 1, 0), *b = on_port(s, ANY, 7000, 1, 0);
    struct udp_sock *c = on_port(s, ANY, 7000, 1, 0);
    cr_assert_eq(udp_connect(c, ST_PEER_IP, RTE_BE16(99)), 0); /* another peer: not for c */
    send_in(s, dev, ST_PEER_IP, 1, BCAST, 7000, "all");
    expect_dgram(a, 1, "all");
    expect_dgram(b, 1, "all");
    expect_empty(c);
    cr_expect_eq(ST_CTR(s, udp_rx_datagrams), 1);
    send_in(s, dev, ST_PEER_IP, 1, BCAST, 7001, "nobody");
    cr_expect_eq(ST_CTR(s, udp_drop_no_port), 1);
    st_expect_no_tx(dev); /* never an ICMP error about a broadcast */
    udp_close(a);
    udp_close(b);
    udp_close(c);
    st_finish(s, dev, before);
}

static void count_sock(const struct udp_sock *u, void *ctx)
{
    (void)u;
    ((struct events *)ctx)->n++;
}

Test(udp, foreach_lists_every_socket_of_a_shared_port)
{
    struct netdev *dev;
    struct stack *s = st_create(NULL, &dev);
    unsigned before = t_pool_avail();
    struct udp_sock *a = on_port(s, ANY, 7000, 1, 0), *b = on_port(s, ANY, 7000, 1, 0);
    struct events n = {0};
    stack_udp_foreach(s, count_sock, &n);
    cr_expect_eq(n.n, 2);
    udp_close(a);
    n.n = 0;
    stack_udp_foreach(s, count_sock, &n);
    cr_expect_eq(n.n, 1);
    udp_close(b);
    st_finish(s, dev, before);
}
