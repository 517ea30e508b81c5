/*
 * stack.h - the network stack as the queue core sees it: create, poll,
 * UDP sockets, counters. One of the three headers of the stack's interface
 * (with tcp.h and netdev.h); every other header of stack/ is private. No
 * queue descriptors or tokens here (docs/DESIGN.md "Layers": arrows point
 * down only).
 */
#ifndef SLUICE_STACK_H
#define SLUICE_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "tcp.h"

struct netdev;
struct rte_mbuf;
struct rte_mempool;
struct stack;
struct udp_sock;

/* ---- counters: packets, bytes, drops by cause, per layer ----
 * One X-macro list gives the struct fields and their printed names, so they
 * cannot drift apart. Every drop increments exactly one drop counter.
 */

#define STACK_COUNTERS(X)                                                                          \
    X(eth_rx_frames)                                                                               \
    X(eth_rx_bytes)                                                                                \
    X(eth_tx_frames)                                                                               \
    X(eth_tx_bytes)                                                                                \
    X(eth_tx_drop_full)        /* the device did not take a frame */                                \
    X(eth_drop_short)          /* frame shorter than an Ethernet header */                          \
    X(eth_drop_not_ours)       /* destination neither our MAC nor broadcast */                      \
    X(eth_drop_type)           /* EtherType we do not speak (IPv6, VLAN, ...) */                    \
    X(arp_rx)                                                                                      \
    X(arp_drop_malformed)      /* short, wrong hardware/protocol type or lengths, bad opcode */     \
    X(arp_drop_not_ours)       /* request for another address */                                    \
    X(arp_replies_sent)                                                                            \
    X(arp_requests_sent)                                                                           \
    X(arp_gratuitous_sent)                                                                         \
    X(arp_entries_learned)                                                                         \
    X(arp_drop_unresolved)     /* packets dropped after the retries failed */                       \
    X(arp_drop_queue_full)     /* packets dropped: too many waiting for resolution */               \
    X(arp_drop_cache_full)     /* packets dropped: every cache entry is static or resolving */      \
    X(arp_drop_nombuf)         /* no mbuf for a reply */                                            \
    X(ip_rx_packets)                                                                               \
    X(ip_rx_bytes)                                                                                 \
    X(ip_tx_packets)                                                                               \
    X(ip_drop_short)           /* shorter than 20 bytes */                                          \
    X(ip_drop_version)                                                                             \
    X(ip_drop_ihl)             /* IHL < 5 or past the packet */                                     \
    X(ip_drop_length)          /* total length below IHL*4 or past the frame */                     \
    X(ip_drop_checksum)                                                                            \
    X(ip_drop_not_ours)        /* neither our address nor a broadcast */                            \
    X(ip_drop_source)          /* source is broadcast, multicast or loopback */                     \
    X(ip_drop_protocol)        /* protocol we do not speak (answered by ICMP protocol-unreachable) */ \
    X(ip_drop_no_route)        /* output: no route / next hop */                                    \
    X(ip_drop_too_big)         /* output: longer than 65535 bytes */                                \
    X(ip_drop_nombuf)          /* output: no mbuf for a header, a fragment or an echo copy */       \
    X(ip_loop_packets)         /* output to our own address, looped back in (never on the wire) */ \
    X(ip_drop_loop_full)       /* output to our own address with STACK_LOOP_MAX already waiting */ \
    X(ip_frag_rx)              /* fragments received */                                             \
    X(ip_reassembled)          /* datagrams reassembled */                                          \
    X(ip_frag_drop)            /* fragments dropped: overlap, bad length, table full, timeout */    \
    X(ip_frag_tx)              /* fragments sent */                                                 \
    X(icmp_rx)                                                                                     \
    X(icmp_drop_malformed)     /* short or bad checksum */                                          \
    X(icmp_echo_replies_sent)                                                                      \
    X(icmp_unreach_sent)                                                                           \
    X(icmp_errors_delivered)   /* ICMP errors passed to the socket they concern */                 \
    X(icmp_drop_other)         /* types we neither answer nor deliver */                           \
    X(udp_rx_datagrams)                                                                            \
    X(udp_rx_bytes)                                                                                \
    X(udp_tx_datagrams)                                                                            \
    X(udp_tx_bytes)                                                                                \
    X(udp_drop_malformed)      /* short, length field past the packet, bad checksum */              \
    X(udp_drop_no_port)        /* no socket takes it: ICMP port-unreachable sent (not for broadcasts) */ \
    X(udp_drop_rcvq_full)      /* the socket's receive queue was full (or no mbuf for a broadcast's copy) */ \
    X(tcp_rx_segments)                                                                             \
    X(tcp_rx_bytes)            /* payload bytes taken in order */                                  \
    X(tcp_tx_segments)                                                                             \
    X(tcp_tx_bytes)            /* payload bytes sent, retransmissions included */                  \
    X(tcp_retransmits)         /* segments sent again, all causes */                               \
    X(tcp_fast_retransmits)    /* on the third duplicate ACK or SACK loss detection */             \
    X(tcp_rto_expiries)                                                                            \
    X(tcp_tlp_probes)          /* tail loss probes sent (RFC 8985 §7) */                           \
    X(tcp_lost_retransmits)    /* retransmissions found lost (an RTT passed): sent again */        \
    X(tcp_loss_by_time)        /* snd_una found lost by time, too few duplicates: fast retransmit */ \
    X(tcp_tlp_repairs)         /* loss probes that repaired a loss: cwnd reduced (RFC 8985 7.4.2) */ \
    X(tcp_conns_opened)        /* reached ESTABLISHED */                                           \
    X(tcp_conns_reset)         /* ended by an RST, ours or the peer's */                           \
    X(tcp_conns_timedout)                                                                          \
    X(tcp_rst_sent)                                                                                \
    X(tcp_challenge_acks)      /* RFC 5961 challenge ACKs sent */                                  \
    X(tcp_syncookies_sent)                                                                         \
    X(tcp_syncookies_ok)       /* connections made from a valid cookie */                          \
    X(tcp_ooo_segments)        /* held for reassembly */                                           \
    X(tcp_drop_malformed)      /* short, data offset below 5 or past the segment */                \
    X(tcp_drop_checksum)                                                                           \
    X(tcp_drop_bad_options)    /* an option with length 0, 1 or past the header */                 \
    X(tcp_drop_bad_flags)      /* SYN+FIN, SYN+RST, no flags where an ACK is needed */             \
    X(tcp_drop_no_conn)        /* no connection or listener: RST sent unless it was an RST */      \
    X(tcp_drop_out_of_window)  /* unacceptable sequence number: ACK sent (RFC 9293 §3.10.7.4) */   \
    X(tcp_drop_paws)           /* old timestamp (RFC 7323 §5) */                                   \
    X(tcp_drop_ack_unsent)     /* ACK of data never sent: ACK sent */                              \
    X(tcp_drop_old_ack)        /* ACK too old (RFC 5961 §5) */                                     \
    X(tcp_drop_listen)         /* at a listener: RST, ACK or a SYN over the backlog */             \
    X(tcp_drop_accept_full)    /* a handshake's last ACK while the accept queue is full: dropped,    \
                                * not reset, so the peer's retransmission gets in later (Linux)  */ \
    X(tcp_drop_ooo_full)       /* out-of-order queue full */                                       \
    X(tcp_drop_rcv_closed)     /* data after shutdown(SHUT_RD) or close */                         \
    X(tcp_drop_dup)            /* duplicate data, or a segment that only had old bytes */          \
    X(tcp_drop_syn_state)      /* SYN or RST a state ignores */                                    \
    X(tcp_drop_nombuf)         /* no mbuf for an outgoing segment */                               \
    X(eng_steered_in)          /* segments another engine handed to this one (its flow, its listener) */ \
    X(eng_arp_copies_in)       /* ARP frames another engine received, copied to this one to learn from */ \
    X(eng_steered_out)         /* frames handed to the engine that owns their flow or listens on their port */ \
    X(eng_steer_drop_full)     /* frames for another engine whose ring was full: dropped */       \
    X(fault_dropped)           /* fault injector: frames lost on purpose */                         \
    X(fault_duplicated)                                                                            \
    X(fault_reordered)                                                                             \
    X(fault_corrupted)                                                                             \
    X(fault_delayed)

struct stack_counters {
#define STACK_COUNTER_FIELD(name) uint64_t name;
    STACK_COUNTERS(STACK_COUNTER_FIELD)
#undef STACK_COUNTER_FIELD
};

/* The printed name of counter i (0-based, in STACK_COUNTERS order). */
extern const char *const stack_counter_names[];
#define STACK_COUNTER_COUNT (sizeof(struct stack_counters) / sizeof(uint64_t))

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
    /* Ephemeral ports (TCP and UDP) are the ones with port % eph_stride ==
     * eph_offset: the engines sharing one address (one per queue of a
     * device) never pick the same local port. 0 or 1: every port. */
    uint16_t eph_stride, eph_offset;
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

/* ---- engines sharing one device (docs/DESIGN.md "Engines per thread") ----
 * Several stacks (one per engine, each on its own queue pair) share one
 * address. A frame the device delivers to the wrong one (the peer's hash
 * chose the queue) is handed to the owner. The stack reports what it owns
 * and asks about what it does not through these calls; core/steer.c
 * implements them with a directory shared by the engines. Addresses and
 * ports in network order; raddr/rport are the peer's, lport ours. */
struct stack_steer_ops {
    /* The engine (other than the caller's) that has the connection, or -1. */
    int (*conn_owner)(void *ctx, rte_be32_t raddr, rte_be16_t rport, rte_be16_t lport);
    /* An engine (other than the caller's) listening on lport, or -1. */
    int (*listener)(void *ctx, rte_be16_t lport);
    /* Takes frame m (at its Ethernet header) for engine `engine`; false:
     * its ring is full and the caller keeps m. */
    bool (*handoff)(void *ctx, int engine, struct rte_mbuf *m);
    /* An ARP frame to our address (at its Ethernet header, not taken): the
     * other engines learn from a copy (a reply lands on any queue). */
    void (*arp_seen)(void *ctx, const struct rte_mbuf *m);
    /* Up to n frames other engines handed to this one; returns how many. */
    uint16_t (*pull)(void *ctx, struct rte_mbuf **pkts, uint16_t n);
    /* This stack made (added true) or forgot a connection / a listener. */
    void (*conn_changed)(void *ctx, rte_be32_t raddr, rte_be16_t rport, rte_be16_t lport, bool added);
    void (*listen_changed)(void *ctx, rte_be16_t lport, bool added);
};

/* Makes s one of several engines on a device: ops (static, not copied)
 * and ctx (the engine's, not owned) until the stack is destroyed, or
 * stops it (ops NULL). Frames pulled from other engines are counted in
 * eng_steered_in (ARP copies in eng_arp_copies_in) and never handed on
 * again; frames handed away in eng_steered_out. */
void stack_set_steer(struct stack *s, const struct stack_steer_ops *ops, void *ctx);

/* The TCP defaults (documented in struct tcp_params). */
void tcp_params_defaults(struct tcp_params *p);

/* ---- UDP sockets (udp.c) ----
 * Several sockets may share a local port as on Linux (socket(7)
 * SO_REUSEADDR, SO_REUSEPORT); which one a datagram goes to is Linux's
 * lookup: the socket bound to the exact address before INADDR_ANY, a
 * connected socket whose peer sent it before an unconnected one, the most
 * recently bound of equals, a hash of the 4-tuple within an SO_REUSEPORT
 * group (stack/net/udp.c's preamble). Addresses and ports are in network
 * byte order.
 */

/* Called when a socket gets a datagram or an error (readiness). */
typedef void (*udp_event_fn)(struct udp_sock *u, void *ctx);

/* A new unbound socket, no options set; *out is the caller's until
 * udp_close. 0, -ENOMEM. */
int udp_open(struct stack *s, udp_event_fn on_event, void *ctx, struct udp_sock **out);
/* Binds to addr (0 or ours) and port (0: a free ephemeral port of RFC
 * 6335's dynamic range). 0, -EINVAL (already bound, or addr not ours),
 * -EADDRINUSE (a socket on the port whose address overlaps - equal, or
 * either is 0 - unless both set SO_REUSEADDR or both set SO_REUSEPORT:
 * Linux's udp_lib_lport_inuse), -EAGAIN (no ephemeral port free). */
int udp_bind(struct udp_sock *u, rte_be32_t addr, rte_be16_t port);
/* Sets the default destination and takes only its datagrams (binds an
 * ephemeral port first if needed); a socket bound to 0 gets our address
 * as its local one (Linux's ip4_datagram_connect). 0 or udp_bind's errors. */
int udp_connect(struct udp_sock *u, rte_be32_t addr, rte_be16_t port);
/* setsockopt/getsockopt at SOL_SOCKET: SO_REUSEADDR, SO_REUSEPORT (an int,
 * non-zero on), with Linux's argument rules (socket(7)): set needs optlen
 * >= sizeof(int) (-EINVAL); get needs *optlen >= 0 (-EINVAL), truncates to
 * it and sets it to the bytes written. Either may be set before or after
 * bind; they count at the next bind on the port and at each lookup.
 * -ENOPROTOOPT for any other option (the caller keeps it elsewhere). */
int udp_setsockopt(struct udp_sock *u, int level, int optname, const void *optval, socklen_t optlen);
int udp_getsockopt(const struct udp_sock *u, int level, int optname, void *optval, socklen_t *optlen);
/* Sends payload (owned; data = the datagram's bytes, may be a chain) to
 * addr:port (addr 0: the connected peer). Binds an ephemeral port first if
 * needed. 0, -EDESTADDRREQ (no destination), -EMSGSIZE (over 65507
 * bytes), -ENETUNREACH, -ENOBUFS (no mbuf for the header, or to our own
 * address with STACK_LOOP_MAX packets waiting), or udp_bind's. */
int udp_sendto(struct udp_sock *u, struct rte_mbuf *payload, rte_be32_t addr, rte_be16_t port, uint64_t now_ns);
/* Takes the oldest received datagram (data = payload; the caller's) and
 * its source, or NULL. */
struct rte_mbuf *udp_recv(struct udp_sock *u, rte_be32_t *src_addr, rte_be16_t *src_port);
/* Takes a pending ICMP error (an errno), or 0. */
int udp_take_error(struct udp_sock *u);
void udp_local(const struct udp_sock *u, rte_be32_t *addr, rte_be16_t *port);
/* 0, or -ENOTCONN. */
int udp_peer(const struct udp_sock *u, rte_be32_t *addr, rte_be16_t *port);
/* Frees queued datagrams and u, and takes u (only u) off its port: the
 * port's other sockets keep receiving; with none left, datagrams to it get
 * ICMP port unreachable. */
void udp_close(struct udp_sock *u);
/* Datagrams waiting in u's receive queue. */
unsigned udp_recv_queued(const struct udp_sock *u);
/* Datagrams dropped for u because its receive queue was full (each also
 * counted in udp_drop_rcvq_full), as Linux's per-socket drops. */
uint64_t udp_drops(const struct udp_sock *u);
/* Calls fn for every UDP socket of s, by local port, newest first on a
 * port (observability: fn only reads). */
void stack_udp_foreach(struct stack *s, void (*fn)(const struct udp_sock *u, void *ctx), void *ctx);
/* Calls fn for every ARP cache entry of s (observability): state 0 while
 * the address is being resolved, 1 resolved, 2 static. */
void stack_arp_foreach(struct stack *s, void (*fn)(rte_be32_t addr, const struct rte_ether_addr *mac, int state, void *ctx),
                       void *ctx);

#endif
