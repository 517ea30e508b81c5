/*
 * stack_priv.h - the state of one network stack and the entry points its
 * layers call on each other. Internal to stack/.
 *
 * Rules for every function here (docs/DESIGN.md "Style"):
 *  - all state is in struct stack, passed explicitly; no globals;
 *  - now_ns is passed in; the stack never reads a clock;
 *  - an input function owns the mbuf it is given: it either passes it on or
 *    drops it through stack_drop(), which frees it and bumps exactly one
 *    named counter;
 *  - addresses and ports are in network byte order (rte_be32_t/rte_be16_t);
 *  - errors are 0 or -errno.
 *
 * mbuf conventions: eth_input gets the data at the Ethernet header. Each
 * layer strips its header with rte_pktmbuf_adj before passing the mbuf up
 * and records it in m->l2_len / m->l3_len, so that a layer above can get
 * back to the IP header (rte_pktmbuf_prepend) to quote it in an ICMP error.
 * Output functions get the data at their payload and prepend their header
 * (the pool's mbufs have RTE_PKTMBUF_HEADROOM bytes of headroom).
 */
#ifndef SLUICE_STACK_PRIV_H
#define SLUICE_STACK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "stack.h"
#include "netdev.h"
#include "timer.h"

struct rte_mbuf;
struct rte_mempool;
struct arp_table;
struct ipv4_state;
struct udp_table;
struct tcp_table;
struct tcp_params;

#define STACK_TX_BURST 32
/* Frames to our own address waiting to go back in (one poll's worth). */
#define STACK_LOOP_MAX 256

struct stack {
    struct netdev *dev;
    struct rte_mempool *pool;
    struct rte_ether_addr mac;
    rte_be32_t addr;      /* our IPv4 address */
    rte_be32_t netmask;
    rte_be32_t gateway;   /* 0: none (only on-link destinations) */
    uint16_t mtu;         /* bytes of IP packet */
    uint16_t eph_stride, eph_offset; /* stack_params: this stack's share of the ephemeral ports */
    struct timer_wheel timers;
    struct arp_table *arp;
    struct ipv4_state *ipv4;
    struct udp_table *udp;
    struct tcp_table *tcp;
    struct rte_mbuf *tx[STACK_TX_BURST];
    uint16_t tx_len;
    struct rte_mbuf *loop[STACK_LOOP_MAX]; /* to our own address: in at the next poll */
    uint16_t loop_len;
    struct stack_counters ctr;
    uint64_t now_ns;      /* the now of the current entry point */
    const struct stack_steer_ops *steer; /* NULL: the only engine on its device */
    void *steer_ctx;
    bool steered_input;   /* the frame being input came from another engine: keep it */
};

/* ---- stack.c ---- */

/* Frees m and counts one drop in *counter. Always returns 0 (so input
 * functions can `return stack_drop(...)`). */
int stack_drop(struct stack *s, struct rte_mbuf *m, uint64_t *counter);
/* Queues a finished frame for transmission (ownership passes); flushes when
 * the batch is full. */
void stack_tx(struct stack *s, struct rte_mbuf *m);
/* Sends the queued frames; frames the device refuses are dropped and
 * counted (eth_tx_drop_full). */
void stack_tx_flush(struct stack *s);
/* Whether port (host order) is one of this stack's ephemeral ports
 * (stack_params.eph_stride, eph_offset). */
static inline bool stack_eph_mine(const struct stack *s, uint16_t port)
{
    return s->eph_stride <= 1 || port % s->eph_stride == s->eph_offset;
}
/* Whether frame-level steering applies to the frame being input: this
 * stack shares its device and the frame did not come from another engine. */
static inline bool stack_steering(const struct stack *s)
{
    return s->steer != NULL && !s->steered_input;
}
/* Hands m (at its payload after l2_len + l3_len + hdr_len bytes of
 * headers: those go back on) to engine `engine`, which owns it: taken
 * always, counted in eng_steered_out, or when the engine's ring is full
 * (or the headers are gone) dropped and counted in eng_steer_drop_full:
 * never answered here, since its connection lives on. */
void stack_steer_to(struct stack *s, int engine, struct rte_mbuf *m, uint32_t hdr_len);
/* True if addr is ours, the limited broadcast, or our subnet's broadcast. */
bool stack_addr_is_local(const struct stack *s, rte_be32_t addr);

/* ---- eth.c ---- */

/* Demultiplexes one received frame to ARP or IPv4. */
void eth_input(struct stack *s, struct rte_mbuf *m);
/* Prepends an Ethernet header (our MAC to dst, ether_type in host order)
 * and queues the frame. Owns m. */
void eth_output(struct stack *s, struct rte_mbuf *m, const struct rte_ether_addr *dst, uint16_t ether_type);

/* ---- arp.c (RFC 826) ---- */

struct arp_static {
    rte_be32_t addr;
    struct rte_ether_addr mac;
};

/* Creates the ARP state of s: static entries (never expire), a cache whose
 * entries expire after entry_ttl_ns, requests retried retries times every
 * retry_ns, and at most queue_max packets waiting for resolution.
 * 0 or -ENOMEM. */
int arp_create(struct stack *s, const struct arp_static *statics, unsigned nstatics, uint64_t entry_ttl_ns,
               uint64_t retry_ns, unsigned retries, unsigned queue_max);
void arp_destroy(struct stack *s);
/* Handles a received ARP packet (data at the ARP header). */
void arp_input(struct stack *s, struct rte_mbuf *m);
/* Sends IPv4 packet m (data at the IP header) to next_hop: at once if its
 * MAC is known, else after resolution (m waits, bounded; dropped and
 * counted when the retries fail). Owns m. */
void arp_output(struct stack *s, struct rte_mbuf *m, rte_be32_t next_hop);
/* Announces our address (gratuitous ARP request). */
void arp_announce(struct stack *s);
/* The MAC of addr if it is resolved: 0, or -ENOENT. */
int arp_lookup(struct stack *s, rte_be32_t addr, struct rte_ether_addr *mac);

/* ---- ipv4.c (RFC 791, RFC 1122) ---- */

/* Creates the IPv4 state (reassembly: at most frag_max_flows datagrams in
 * progress, each completed within frag_timeout_ns or dropped). 0/-ENOMEM. */
int ipv4_create(struct stack *s, unsigned frag_max_flows, uint64_t frag_timeout_ns);
void ipv4_destroy(struct stack *s);
/* Handles a received IPv4 packet (data at the IP header). */
void ipv4_input(struct stack *s, struct rte_mbuf *m);
/* Sends a datagram: m's data is the payload (L4 header first, its checksum
 * already computed: a datagram that is fragmented cannot leave the L4
 * checksum to the device); prepends an IPv4 header from our address to dst
 * with proto, fragments to the MTU, routes (on-link or the gateway) and
 * hands it to ARP; to our own address, it goes back in at the next
 * stack_poll instead, never fragmented, never on the wire. Owns m. 0,
 * -ENETUNREACH (no route), -EMSGSIZE (over 65535 bytes), -ENOBUFS (no mbuf
 * for a header or fragment, or STACK_LOOP_MAX packets to ourselves wait
 * already). */
int ipv4_output(struct stack *s, struct rte_mbuf *m, rte_be32_t dst, uint8_t proto);
/* Expires reassembly state older than the timeout. */
void ipv4_poll(struct stack *s);
/* The UDP/TCP checksum (host order) of the L4 message m (len bytes from
 * its data; chains allowed) with the IPv4 pseudo header (RFC 768, RFC 9293
 * §3.1). 1 if len runs past the chain. */
uint16_t ipv4_l4_cksum(const struct rte_mbuf *m, uint32_t len, rte_be32_t src, rte_be32_t dst, uint8_t proto);
/* Whether a received message's L4 checksum is right: the device's verdict
 * when it checks them (NETDEV_RX_L4_CKSUM), else computed. */
bool ipv4_l4_cksum_ok(const struct stack *s, const struct rte_mbuf *m, uint32_t len, rte_be32_t src, rte_be32_t dst,
                      uint8_t proto);

/* ---- icmp.c (RFC 792) ---- */

struct ipv4_meta {
    rte_be32_t src, dst;
    uint8_t proto, ttl, tos;
    uint16_t payload_len; /* bytes after the IP header */
};

/* Handles a received ICMP message (data at the ICMP header). */
void icmp_input(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip);
/* Sends destination-unreachable with code (RFC 792: 2 protocol, 3 port)
 * about packet m, whose data is at its L4 header and whose m->l3_len holds
 * the IP header length. Does not take m. */
void icmp_send_unreach(struct stack *s, const struct rte_mbuf *m, uint8_t code);

/* ---- udp.c (RFC 768) ---- */

/* Creates the UDP state: port table, rcvq_max datagrams per socket. 0/-ENOMEM. */
int udp_create(struct stack *s, unsigned rcvq_max);
/* Frees the port table (sockets must be closed first). */
void udp_destroy(struct stack *s);
/* Handles a received UDP datagram (data at the UDP header). */
void udp_input(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip);
/* An ICMP error about a datagram we sent from local_port to dst:dst_port
 * (errno: ECONNREFUSED for port-unreachable, EHOSTUNREACH, ...). */
void udp_icmp_error(struct stack *s, rte_be16_t local_port, rte_be32_t dst, rte_be16_t dst_port, int err);

/* ---- tcp_conn.c, tcp_input.c (RFC 9293) ---- */

/* Creates the TCP state (params copied). 0, -ENOMEM, -EIO (no random key). */
int tcp_create(struct stack *s, const struct tcp_params *p);
/* Frees every connection (owners must have closed theirs) and the table. */
void tcp_destroy(struct stack *s);
/* Runs output for the connections that have some pending and frees dead
 * ones; called at the end of every pass. */
void tcp_poll(struct stack *s);
/* Handles a received TCP segment (data at the TCP header). */
void tcp_input(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip);
/* An ICMP error about a segment we sent from local_port to dst:dst_port
 * (RFC 5927, RFC 1122 4.2.3.9): a connection still opening ends with err;
 * an established one keeps it as a soft error. */
void tcp_icmp_error(struct stack *s, rte_be16_t local_port, rte_be32_t dst, rte_be16_t dst_port, int err);

#endif
