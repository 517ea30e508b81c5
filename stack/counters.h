/*
 * counters.h - per-layer counters: packets, bytes, drops by cause.
 * One X-macro list gives the struct fields and their printed names, so they
 * cannot drift apart. Every drop increments exactly one drop counter.
 */
#ifndef SLUICE_COUNTERS_H
#define SLUICE_COUNTERS_H

#include <stdint.h>

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
    X(udp_drop_no_port)        /* nobody bound: ICMP port-unreachable sent */                       \
    X(udp_drop_rcvq_full)      /* the socket's receive queue was full */                            \
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

#endif
