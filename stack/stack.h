/*
 * stack.h - the network stack as the queue core sees it: create, poll,
 * UDP sockets, counters. No queue descriptors or tokens here (docs/DESIGN.md
 * "Layers": arrows point down only).
 */
#ifndef SLUICE_STACK_H
#define SLUICE_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "counters.h"
#include "tcp.h"

struct netdev;
struct rte_mbuf;
struct rte_mempool;
struct stack;
struct udp_sock;

#define STACK_ARP_STATIC_MAX 16

struct stack_params {
    rte_be32_t addr, netmask, gateway;
    struct {
        rte_be32_t addr;
        struct rte_ether_addr mac;
    } arp_static[STACK_ARP_STATIC_MAX];
    unsigned arp_nstatic;
    uint64_t arp_ttl_ns;       /* cache entry lifetime */
    uint64_t arp_retry_ns;     /* between requests */
    unsigned arp_retries;      /* requests before giving up */
    unsigned arp_queue_max;    /* packets waiting for resolution, in all */
    unsigned frag_max_flows;   /* datagrams being reassembled at once */
    uint64_t frag_timeout_ns;
    unsigned udp_rcvq_max;     /* datagrams queued per UDP socket */
    struct tcp_params tcp;
};

/* Defaults: ARP 60 s entries, 3 retries 1 s apart, 64 waiting packets;
 * 64 reassemblies of at most 2 s; 256 datagrams per socket; TCP as
 * tcp_params_defaults. */
void stack_params_defaults(struct stack_params *p);

/* Creates a stack on dev (taken: closed with the stack) with mbufs from
 * pool, sends a gratuitous ARP. 0, -EINVAL (bad address), -ENOMEM. */
int stack_create(const struct stack_params *p, struct netdev *dev, struct rte_mempool *pool, uint64_t now_ns,
                 struct stack **out);
/* One pass: receive a burst, run expired timers, flush transmissions.
 * Returns the work done (frames in + timers run + frames out). */
int stack_poll(struct stack *s, uint64_t now_ns);
void stack_destroy(struct stack *s);
/* A copy of the counters. */
void stack_counters(const struct stack *s, struct stack_counters *out);
/* The device's Rx interrupt fd, or -1. */
int stack_rx_fd(const struct stack *s);

/* The TCP defaults (documented in struct tcp_params). */
void tcp_params_defaults(struct tcp_params *p);

/* ---- UDP sockets (udp.c) ---- */

/* Called when a socket gets a datagram or an error (readiness). */
typedef void (*udp_event_fn)(struct udp_sock *u, void *ctx);

/* 0, -ENOMEM. */
int udp_open(struct stack *s, udp_event_fn on_event, void *ctx, struct udp_sock **out);
/* Binds to addr (0 or ours) and port (0: an ephemeral port).
 * 0, -EINVAL (already bound, or addr not ours), -EADDRINUSE, -EAGAIN (no
 * ephemeral port free). */
int udp_bind(struct udp_sock *u, rte_be32_t addr, rte_be16_t port);
/* Sets the default destination (binds first if needed). 0 or udp_bind's errors. */
int udp_connect(struct udp_sock *u, rte_be32_t addr, rte_be16_t port);
/* Sends payload (owned; data = the datagram's bytes, may be a chain) to
 * addr:port (addr 0: the connected peer). Binds an ephemeral port first if
 * needed. 0, -EDESTADDRREQ (no destination), -EMSGSIZE (over 65507
 * bytes), -ENETUNREACH, -ENOBUFS (no mbuf for the header), or udp_bind's. */
int udp_sendto(struct udp_sock *u, struct rte_mbuf *payload, rte_be32_t addr, rte_be16_t port, uint64_t now_ns);
/* Takes the oldest received datagram (data = payload) and its source, or
 * NULL. */
struct rte_mbuf *udp_recv(struct udp_sock *u, rte_be32_t *src_addr, rte_be16_t *src_port);
/* Takes a pending ICMP error (an errno), or 0. */
int udp_take_error(struct udp_sock *u);
void udp_local(const struct udp_sock *u, rte_be32_t *addr, rte_be16_t *port);
/* 0, or -ENOTCONN. */
int udp_peer(const struct udp_sock *u, rte_be32_t *addr, rte_be16_t *port);
/* Frees queued datagrams and the port. */
void udp_close(struct udp_sock *u);

#endif
