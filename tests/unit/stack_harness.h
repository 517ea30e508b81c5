/*
 * stack_harness.h - unit-test helpers for stack/: a stack on a fake
 * device with a virtual clock, and builders for frames that tests feed in.
 * Addresses: us 10.0.0.2/24 (MAC 02:00:00:00:00:02), the gateway/peer
 * 10.0.0.1 (MAC 02:00:00:00:00:01).
 */
#ifndef SLUICE_STACK_HARNESS_H
#define SLUICE_STACK_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "stack.h"
#include "stack_priv.h"

#define ST_US_IP RTE_BE32(0x0a000002)
#define ST_PEER_IP RTE_BE32(0x0a000001)
#define ST_NS_PER_MS 1000000ull

extern const struct rte_ether_addr st_us_mac, st_peer_mac, st_bcast_mac;

/* demi_init (for the pool) and a stack on a fake device at virtual time
 * *now (starts at 1 s). The gratuitous ARP sent at creation is taken off
 * the device. params NULL: defaults. */
struct stack *st_create(const struct stack_params *params, struct netdev **dev_out);
/* st_create with defaults but for the peer (10.0.0.1) in static ARP and
 * as the gateway, so that answers to it, and to spoofed sources off the
 * subnet, leave at once without an ARP exchange. */
struct stack *st_create_with_peer(struct netdev **dev_out);
/* Runs one poll at now_ns. */
int st_poll(struct stack *s, uint64_t now_ns);
/* Frees every frame the device transmitted; returns how many. */
unsigned st_drain_tx(struct netdev *dev);

/* Injects a copy of frame (len bytes) and runs one poll at now_ns. */
void st_inject(struct stack *s, struct netdev *dev, const void *frame, size_t len, uint64_t now_ns);
/* Takes the next transmitted frame into buf (cap bytes), asserting there is
 * one; returns its length. */
size_t st_take(struct netdev *dev, uint8_t *buf, size_t cap);
/* Asserts the device sent nothing (more). */
void st_expect_no_tx(struct netdev *dev);
/* Frees what the device still holds, destroys the stack and asserts every
 * mbuf came back to the pool (pool_before: t_pool_avail() at the start). */
void st_finish(struct stack *s, struct netdev *dev, unsigned pool_before);
/* Closes connection c (when not NULL) and listener l at now_ns (ns),
 * polls the stack once so that what the closes send goes out, then
 * st_finish. */
void st_close_and_finish(struct stack *s, struct netdev *dev, unsigned pool_before, uint64_t now_ns, struct tcp_conn *c,
                         struct tcp_conn *l);

/* The stack counter at offset (bytes) in struct stack_counters; use
 * ST_CTR(s, tcp_rst_sent). */
uint64_t st_counter(const struct stack *s, size_t offset);
#define ST_CTR(s, name) st_counter((s), offsetof(struct stack_counters, name))

/* An mbuf holding a copy of len bytes. */
struct rte_mbuf *st_mbuf(const void *bytes, size_t len);
/* The bytes of m (all segments) copied into buf (cap bytes); returns length. */
size_t st_bytes(const struct rte_mbuf *m, void *buf, size_t cap);

/* Builders write a frame into buf and return its length. */
size_t st_eth(void *buf, const struct rte_ether_addr *dst, const struct rte_ether_addr *src, uint16_t type);
size_t st_arp(void *buf, uint16_t op, const struct rte_ether_addr *sha, rte_be32_t spa,
              const struct rte_ether_addr *tha, rte_be32_t tpa);
/* An IPv4 header (IHL 5, DF clear, TTL 64, valid checksum) + payload after
 * an Ethernet header to us. Tests break fields afterwards and may call
 * st_ip_fix_checksum. */
size_t st_ipv4(void *buf, rte_be32_t src, rte_be32_t dst, uint8_t proto, const void *payload, size_t len);
void st_ip_fix_checksum(void *frame);
/* A UDP datagram in IPv4 in Ethernet, with a valid UDP checksum. */
size_t st_udp(void *buf, rte_be32_t src, rte_be16_t sport, rte_be32_t dst, rte_be16_t dport, const void *data,
              size_t len);
/* An ICMP echo request in IPv4 in Ethernet. */
size_t st_icmp_echo(void *buf, rte_be32_t src, rte_be32_t dst, uint16_t id, uint16_t seq, const void *data,
                    size_t len);

#endif
