/*
 * ipv4.c - IPv4 for a host: input checks, reassembly, demultiplexing to
 * ICMP and UDP, output with routing and fragmentation.
 *
 * Read first: RFC 791 (the header; fragmentation and reassembly, 2.3 and
 * 3.2), RFC 1122 3.2.1 (what a host checks on every received datagram and
 * what it must not drop) and 3.3.2 (the reassembly timeout), RFC 894 (link
 * padding after the datagram).
 *
 * Reassembly and fragmentation are DPDK's librte_ip_frag. Its table counts
 * time in "cycles" it never reads itself: we give it nanoseconds (max_cycles
 * = the timeout, tms = s->now_ns), so the stack's virtual clock drives it.
 * Whatever the library gives up on (overlaps, duplicates, a full table, a
 * timeout) lands on its death row; every mbuf there leaves as one
 * ip_frag_drop. The library keeps at most RTE_LIBRTE_IP_FRAG_MAX_FRAG (8)
 * fragments per datagram, and treats any duplicate fragment as an error
 * that discards the whole datagram.
 */
#ifndef ALLOW_EXPERIMENTAL_API
#define ALLOW_EXPERIMENTAL_API /* rte_ip_frag_table_del_expired_entries */
#endif

#include <errno.h>
#include <stdlib.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "stack_priv.h"
#include "smem.h"

#define IPV4_VERSION 4
#define IPV4_TTL 64              /* RFC 1700's recommended default, as Linux */
#define IPV4_MAX_LEN 65535u      /* RFC 791: total length is 16 bits */
#define IPV4_HDR_LEN ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define FRAG_BUCKET_ENTRIES 4    /* associativity of the reassembly table */

struct ipv4_state {
    struct rte_ip_frag_tbl *frags;     /* datagrams being reassembled */
    struct rte_ip_frag_death_row dr;   /* mbufs the library has given up on */
    uint16_t next_id;                  /* Identification of the next datagram */
    uint16_t frag_out_max;             /* capacity of frag_out */
    struct rte_mbuf *frag_out[];       /* the fragments of one outgoing datagram */
};

static uint16_t hdr_len(const struct rte_ipv4_hdr *h)
{
    return (uint16_t)((h->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER);
}

static rte_be32_t subnet_broadcast(const struct stack *s)
{
    return (s->addr & s->netmask) | ~s->netmask;
}

/* ---- creation ---- */

/* How many fragments the largest datagram makes at mtu (RFC 791 2.3: each
 * fragment but the last carries a multiple of 8 octets). */
static uint16_t frag_out_max(uint16_t mtu)
{
    uint32_t per = RTE_ALIGN_FLOOR((uint32_t)RTE_MAX(mtu, (uint16_t)RTE_ETHER_MIN_MTU) - IPV4_HDR_LEN, 8u);

    return (uint16_t)((IPV4_MAX_LEN - IPV4_HDR_LEN + per - 1) / per);
}

int ipv4_create(struct stack *s, unsigned frag_max_flows, uint64_t frag_timeout_ns)
{
    uint16_t nout = frag_out_max(s->mtu);
    uint32_t flows = RTE_MAX(frag_max_flows, 1u);
    struct ipv4_state *st = smem_calloc(1, sizeof(*st) + nout * sizeof(st->frag_out[0]));

    if (st == NULL)
        return -ENOMEM;
    s->ipv4 = st;
    st->frag_out_max = nout;
    /* start the Identification somewhere that differs between stacks */
    st->next_id = (uint16_t)((rte_be_to_cpu_32(s->addr) * 2654435761u) >> 16);
    st->frags = rte_ip_frag_table_create(flows, FRAG_BUCKET_ENTRIES, flows, frag_timeout_ns, SOCKET_ID_ANY);
    return st->frags == NULL ? -ENOMEM : 0;
}

void ipv4_destroy(struct stack *s)
{
    struct ipv4_state *st = s->ipv4;

    if (st == NULL)
        return;
    if (st->frags != NULL)
        rte_ip_frag_table_destroy(st->frags); /* frees the fragments it holds */
    rte_ip_frag_free_death_row(&st->dr, 0);
    smem_free(st);
    s->ipv4 = NULL;
}

/* Drops every mbuf the reassembly library put on the death row; returns how
 * many. */
static uint32_t flush_death_row(struct stack *s)
{
    struct rte_ip_frag_death_row *dr = &s->ipv4->dr;
    uint32_t n = dr->cnt;

    for (uint32_t i = 0; i < n; i++)
        stack_drop(s, dr->row[i], &s->ctr.ip_frag_drop);
    dr->cnt = 0;
    return n;
}

void ipv4_poll(struct stack *s)
{
    /* RFC 1122 3.3.2: "There MUST be a reassembly timeout." The library
     * stops early when the death row is full, hence the loop. */
    do
        rte_ip_frag_table_del_expired_entries(s->ipv4->frags, &s->ipv4->dr, s->now_ns);
    while (flush_death_row(s) > 0);
}

/* ---- input ---- */

/* The counter of the first length rule the packet breaks, or NULL. The
 * header must sit in the first segment (a NIC never splits 60 bytes). */
static uint64_t *check_lengths(struct stack *s, const struct rte_mbuf *m)
{
    const struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
    uint16_t hlen, total;

    if (rte_pktmbuf_data_len(m) < sizeof(*h))
        return &s->ctr.ip_drop_short;
    /* RFC 1122 3.2.1.1: "A datagram whose version number is not 4 MUST be
     * silently discarded." */
    if ((h->version_ihl >> 4) != IPV4_VERSION)
        return &s->ctr.ip_drop_version;
    hlen = hdr_len(h);
    if (hlen < sizeof(*h) || hlen > rte_pktmbuf_data_len(m))
        return &s->ctr.ip_drop_ihl;
    total = rte_be_to_cpu_16(h->total_length);
    if (total < hlen || total > rte_pktmbuf_pkt_len(m))
        return &s->ctr.ip_drop_length;
    return NULL;
}

/* Cuts m to len bytes, across segments: Ethernet pads short frames (RFC
 * 894), and only total_length says where the datagram ends. */
static void trim_to(struct rte_mbuf *m, uint32_t len)
{
    struct rte_mbuf *seg = m;
    uint32_t left = len;
    uint16_t nsegs = 1;

    if (rte_pktmbuf_pkt_len(m) == len)
        return;
    while (rte_pktmbuf_data_len(seg) < left) {
        left -= rte_pktmbuf_data_len(seg);
        seg = seg->next;
        nsegs++;
    }
    seg->data_len = (uint16_t)left;
    rte_pktmbuf_free(seg->next);
    seg->next = NULL;
    m->nb_segs = nsegs;
    m->pkt_len = len;
}

static bool cksum_ok(const struct stack *s, const struct rte_mbuf *m, const struct rte_ipv4_hdr *h)
{
    if (s->dev->offloads & NETDEV_RX_IPV4_CKSUM) {
        uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
        if (f == RTE_MBUF_F_RX_IP_CKSUM_GOOD || f == RTE_MBUF_F_RX_IP_CKSUM_NONE)
            return true;
        if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD)
            return false;
    }
    /* summing a header that includes its own checksum gives all ones */
    return rte_ipv4_cksum(h) == 0;
}

/* RFC 1122 3.2.1.3: a source must be one host; "A host MUST silently
 * discard an incoming datagram containing an IP source address that is
 * invalid by the rules of this section." (0.0.0.0 is allowed: a host
 * initialising, 3.2.1.3 (a).) */
static bool source_ok(const struct stack *s, rte_be32_t src)
{
    uint32_t a = rte_be_to_cpu_32(src);

    if (src == RTE_BE32(0xffffffff) || src == subnet_broadcast(s))
        return false;
    return (a >> 28) != 0xe /* 224/4 multicast */ && (a >> 24) != 127 /* loopback */;
}

/* The counter of the first content rule the header breaks, or NULL. */
static uint64_t *check_content(struct stack *s, const struct rte_mbuf *m, const struct rte_ipv4_hdr *h)
{
    /* RFC 1122 3.2.1.2: "A host MUST verify the IP header checksum on every
     * received datagram and silently discard every datagram that has a bad
     * checksum." */
    if (!cksum_ok(s, m, h))
        return &s->ctr.ip_drop_checksum;
    /* RFC 1122 3.2.1.3: ours or a broadcast of the connected network (no
     * multicast groups yet) */
    if (!stack_addr_is_local(s, h->dst_addr))
        return &s->ctr.ip_drop_not_ours;
    if (!source_ok(s, h->src_addr))
        return &s->ctr.ip_drop_source;
    /* No TTL check: RFC 1122 3.2.1.7 "A host MUST NOT discard a datagram
     * just because it was received with TTL less than 2." */
    return NULL;
}

/* RFC 791 3.2: every fragment but the last carries a multiple of 8 octets,
 * none is empty, and the whole datagram must fit the 16-bit total length. */
static bool fragment_ok(const struct rte_ipv4_hdr *h)
{
    uint16_t fo = rte_be_to_cpu_16(h->fragment_offset);
    uint32_t data = rte_be_to_cpu_16(h->total_length) - hdr_len(h);
    uint32_t end = (fo & RTE_IPV4_HDR_OFFSET_MASK) * RTE_IPV4_HDR_OFFSET_UNITS + data;

    if (data == 0 || ((fo & RTE_IPV4_HDR_MF_FLAG) && data % RTE_IPV4_HDR_OFFSET_UNITS != 0))
        return false;
    return hdr_len(h) + end <= IPV4_MAX_LEN;
}

/* Adds fragment m to its datagram: the whole datagram (data at its IP
 * header) once the last piece is in, else NULL (m is held or dropped). */
static struct rte_mbuf *reassemble(struct stack *s, struct rte_mbuf *m)
{
    struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
    uint16_t l2_len = m->l2_len;
    struct rte_mbuf *whole;

    s->ctr.ip_frag_rx++;
    if (!fragment_ok(h)) {
        stack_drop(s, m, &s->ctr.ip_frag_drop);
        return NULL;
    }
    /* the library looks for the IP header at l2_len: our data is there */
    m->l2_len = 0;
    m->l3_len = hdr_len(h);
    whole = rte_ipv4_frag_reassemble_packet(s->ipv4->frags, &s->ipv4->dr, m, s->now_ns, h);
    flush_death_row(s);
    if (whole == NULL)
        return NULL;
    s->ctr.ip_reassembled++;
    whole->l2_len = l2_len;
    /* the library zeroes the checksum; an ICMP error may quote this header */
    h = rte_pktmbuf_mtod(whole, struct rte_ipv4_hdr *);
    h->hdr_checksum = rte_ipv4_cksum(h);
    return whole;
}

/* RFC 1122 3.2.2.1: protocol unreachable for a protocol we do not speak,
 * never about a broadcast (3.2.2). */
static void unknown_protocol(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip)
{
    if (ip->dst == s->addr)
        icmp_send_unreach(s, m, 2 /* protocol unreachable */);
    stack_drop(s, m, &s->ctr.ip_drop_protocol);
}

/* Strips the header (options included: a host may ignore the ones it does
 * not know, RFC 1122 3.2.1.8) and hands the payload up. */
static void deliver(struct stack *s, struct rte_mbuf *m)
{
    const struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
    uint16_t hlen = hdr_len(h);
    struct ipv4_meta ip = {
        .src = h->src_addr,
        .dst = h->dst_addr,
        .proto = h->next_proto_id,
        .ttl = h->time_to_live,
        .tos = h->type_of_service,
        .payload_len = (uint16_t)(rte_be_to_cpu_16(h->total_length) - hlen),
    };

    m->l3_len = hlen;
    rte_pktmbuf_adj(m, hlen);
    switch (ip.proto) {
    case IPPROTO_ICMP:
        icmp_input(s, m, &ip);
        return;
    case IPPROTO_UDP:
        udp_input(s, m, &ip);
        return;
    case IPPROTO_TCP:
        tcp_input(s, m, &ip);
        return;
    default:
        unknown_protocol(s, m, &ip);
    }
}

void ipv4_input(struct stack *s, struct rte_mbuf *m)
{
    uint64_t *bad = check_lengths(s, m);
    const struct rte_ipv4_hdr *h;
    uint16_t total;

    if (bad != NULL) {
        stack_drop(s, m, bad);
        return;
    }
    h = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
    total = rte_be_to_cpu_16(h->total_length);
    trim_to(m, total);
    bad = check_content(s, m, h);
    if (bad != NULL) {
        stack_drop(s, m, bad);
        return;
    }
    s->ctr.ip_rx_packets++;
    s->ctr.ip_rx_bytes += total;
    if (rte_ipv4_frag_pkt_is_fragmented(h)) {
        m = reassemble(s, m);
        if (m == NULL)
            return;
    }
    deliver(s, m);
}

/* ---- output ---- */

/* RFC 1122 3.3.1.1: on-link if the destination is on our subnet (or the
 * limited broadcast), else through the gateway. 0: no route. */
static rte_be32_t next_hop(const struct stack *s, rte_be32_t dst)
{
    if (dst == RTE_BE32(0xffffffff) || ((dst ^ s->addr) & s->netmask) == 0)
        return dst;
    return s->gateway;
}

/* m itself if the IP and Ethernet headers fit in front of its data and it
 * is ours to write, else a new mbuf chained in front. NULL: no mbuf. */
static struct rte_mbuf *header_room(struct stack *s, struct rte_mbuf *m)
{
    const uint16_t below = IPV4_HDR_LEN + sizeof(struct rte_ether_hdr);
    struct rte_mbuf *h;

    if (rte_pktmbuf_headroom(m) >= below && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1)
        return m;
    h = rte_pktmbuf_alloc(s->pool);
    if (h == NULL)
        return NULL;
    if (rte_pktmbuf_chain(h, m) != 0) {
        rte_pktmbuf_free(h);
        return NULL;
    }
    return h;
}

static void fill_header(struct stack *s, struct rte_mbuf *m, rte_be32_t dst, uint8_t proto)
{
    struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, IPV4_HDR_LEN);

    h->version_ihl = RTE_IPV4_VHL_DEF;
    h->type_of_service = 0;
    h->total_length = rte_cpu_to_be_16((uint16_t)rte_pktmbuf_pkt_len(m));
    h->packet_id = rte_cpu_to_be_16(s->ipv4->next_id++);
    h->fragment_offset = 0; /* DF clear: we fragment to our MTU ourselves */
    h->time_to_live = IPV4_TTL;
    h->next_proto_id = proto;
    h->hdr_checksum = 0;
    /* RFC 1122 3.2.1.3: "the IP source address MUST be one of its own IP
     * addresses" */
    h->src_addr = s->addr;
    h->dst_addr = dst;
    m->l3_len = IPV4_HDR_LEN;
    if (m->ol_flags & RTE_MBUF_F_TX_L4_MASK)
        m->ol_flags |= RTE_MBUF_F_TX_IPV4; /* the caller asked for an L4 checksum offload */
}

/* The header checksum of packet m (data at its IP header): by the device
 * if it can, else here. */
static void finish_header(const struct stack *s, struct rte_mbuf *m)
{
    struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

    h->hdr_checksum = 0;
    if (s->dev->offloads & NETDEV_TX_IPV4_CKSUM) {
        m->l3_len = hdr_len(h);
        m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
        return;
    }
    h->hdr_checksum = rte_ipv4_cksum(h);
}

/* RFC 791 2.3 / 3.2: cuts m (data at its IP header) into fragments of at
 * most s->mtu bytes, each but the last with a multiple of 8 data octets,
 * and sends them. Owns m. */
static int send_fragments(struct stack *s, struct rte_mbuf *m, rte_be32_t hop)
{
    struct ipv4_state *st = s->ipv4;
    /* The payload segments are indirect mbufs attached to m's data. They
     * come from s->pool rather than a pool of our own because they can
     * outlive this layer (ARP's queue and the device are freed after
     * ipv4_destroy). */
    int32_t n = rte_ipv4_fragment_packet(m, st->frag_out, st->frag_out_max, s->mtu, s->pool, s->pool);

    if (n == -ENOMEM) {
        stack_drop(s, m, &s->ctr.ip_drop_nombuf);
        return -ENOBUFS;
    }
    if (n < 0) {
        stack_drop(s, m, &s->ctr.ip_drop_too_big); /* an MTU below 68 (RFC 791) */
        return -EMSGSIZE;
    }
    rte_pktmbuf_free(m); /* the fragments hold their own references to its data */
    for (int32_t i = 0; i < n; i++) {
        finish_header(s, st->frag_out[i]);
        s->ctr.ip_frag_tx++;
        arp_output(s, st->frag_out[i], hop);
    }
    s->ctr.ip_tx_packets++;
    return 0;
}

/* A packet to our own address never reaches the device: it goes back in
 * at the next poll, framed as if it had come from the wire, as Linux
 * routes it through lo (a process connecting to the address it serves
 * on: apache's prefork master wakes a child so). Its IP checksum is made
 * here (the receive path checks it; L4 checksums are always made in
 * software). Owns m, its IP header filled. */
static int loop_output(struct stack *s, struct rte_mbuf *m)
{
    struct rte_ipv4_hdr *h = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
    struct rte_ether_hdr *eh;

    h->hdr_checksum = 0;
    h->hdr_checksum = rte_ipv4_cksum(h);
    m->ol_flags = 0;
    eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eh));
    if (eh == NULL) {
        stack_drop(s, m, &s->ctr.ip_drop_nombuf); /* no headroom: a bug upstream */
        return -ENOBUFS;
    }
    eh->dst_addr = s->mac;
    eh->src_addr = s->mac;
    eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    if (s->loop_len == STACK_LOOP_MAX) {
        stack_drop(s, m, &s->ctr.ip_drop_loop_full);
        return -ENOBUFS;
    }
    s->loop[s->loop_len++] = m;
    s->ctr.ip_loop_packets++;
    s->ctr.ip_tx_packets++;
    return 0;
}

int ipv4_output(struct stack *s, struct rte_mbuf *m, rte_be32_t dst, uint8_t proto)
{
    rte_be32_t hop = next_hop(s, dst);
    struct rte_mbuf *p;

    if (rte_pktmbuf_pkt_len(m) + IPV4_HDR_LEN > IPV4_MAX_LEN) {
        stack_drop(s, m, &s->ctr.ip_drop_too_big);
        return -EMSGSIZE;
    }
    if (hop == 0 && dst != s->addr) {
        stack_drop(s, m, &s->ctr.ip_drop_no_route);
        return -ENETUNREACH;
    }
    p = header_room(s, m);
    if (p == NULL) {
        stack_drop(s, m, &s->ctr.ip_drop_nombuf); /* no mbuf for the header */
        return -ENOBUFS;
    }
    fill_header(s, p, dst, proto);
    if (dst == s->addr)
        return loop_output(s, p);
    if (rte_pktmbuf_pkt_len(p) > s->mtu)
        return send_fragments(s, p, hop);
    finish_header(s, p);
    s->ctr.ip_tx_packets++;
    arp_output(s, p, hop);
    return 0;
}

/* The ones' complement sum (native-order words, folded to 16 bits) of the
 * first len bytes of chain m into *out; -1 when the chain is shorter.
 * Each piece is summed on its own (rte_raw_cksum, already folded) and
 * byte-swapped when it starts at an odd offset of the whole (RFC 1071
 * §2(B): the sum does not depend on byte order). DPDK 22.11's
 * rte_raw_cksum_mbuf does this swap on the 32-bit partial sum truncated
 * to 16 bits, dropping its carries: a TCP segment built from an odd-length
 * push went out with a wrong checksum, and so did every retransmission. */
static int chain_raw_cksum(const struct rte_mbuf *m, uint32_t len, uint16_t *out)
{
    uint32_t sum = 0, off = 0;

    for (; m != NULL && off < len; m = m->next) {
        uint32_t n = RTE_MIN((uint32_t)m->data_len, len - off);
        uint16_t piece = rte_raw_cksum(rte_pktmbuf_mtod(m, const void *), n);

        sum += (off & 1) ? rte_bswap16(piece) : piece;
        off += n;
    }
    if (off < len)
        return -1;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    *out = (uint16_t)sum;
    return 0;
}

uint16_t ipv4_l4_cksum(const struct rte_mbuf *m, uint32_t len, rte_be32_t src, rte_be32_t dst, uint8_t proto)
{
    uint32_t sum = 0;
    uint16_t raw = 0;

    sum += rte_be_to_cpu_16((uint16_t)(src >> 16)) + rte_be_to_cpu_16((uint16_t)src);
    sum += rte_be_to_cpu_16((uint16_t)(dst >> 16)) + rte_be_to_cpu_16((uint16_t)dst);
    sum += proto + len;
    /* the raw sum is of native-order words; a ones' complement sum of
     * byte-swapped words is the byte-swapped sum, so one swap fixes it */
    if (chain_raw_cksum(m, len, &raw) != 0)
        return 1; /* len past the chain: never "valid" */
    sum += rte_be_to_cpu_16(raw);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

bool ipv4_l4_cksum_ok(const struct stack *s, const struct rte_mbuf *m, uint32_t len, rte_be32_t src, rte_be32_t dst,
                      uint8_t proto)
{
    if (s->dev->offloads & NETDEV_RX_L4_CKSUM) {
        uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
        if (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
            return true;
        if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
            return false;
    }
    /* summing a message that includes its own checksum gives 0 */
    return ipv4_l4_cksum(m, len, src, dst, proto) == 0;
}
