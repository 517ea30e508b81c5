/*
 * icmp.c - ICMP for a host: the echo server, destination-unreachable out,
 * errors in (passed to the UDP socket they concern).
 *
 * Read first: RFC 792 (message formats); RFC 1122 3.2.2 (when a host must
 * not send an error, what it reports to the transport layer, echo);
 * RFC 1812 4.3.2.3 (how much of the offending datagram an error quotes: as
 * much as keeps it within 576 bytes, which is what Linux sends too).
 */
#include <errno.h>
#include <string.h>

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "stack_priv.h"

#define ICMP_HDR_LEN 8u
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_ERR_MAX_IP 576u /* RFC 1812 4.3.2.3: an error's IP datagram at most */
#define IPV4_HDR_MAX 60u

/* Destination-unreachable codes (RFC 792) */
#define UNREACH_NET 0
#define UNREACH_HOST 1
#define UNREACH_PROTOCOL 2
#define UNREACH_PORT 3
#define UNREACH_FRAG_NEEDED 4

static uint16_t ip_hdr_len(const struct rte_ipv4_hdr *h)
{
    return (uint16_t)((h->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER);
}

/* The ones' complement sum of the whole message m (all segments), folded:
 * 0xffff when a message that holds its checksum is intact. */
static uint16_t msg_sum(const struct rte_mbuf *m)
{
    uint16_t sum = 0;

    if (rte_raw_cksum_mbuf(m, 0, rte_pktmbuf_pkt_len(m), &sum) != 0)
        return 0;
    return sum;
}

/* ---- input ---- */

/* An ICMP header in the first segment and a good checksum (RFC 792: "the
 * 16-bit one's complement of the one's complement sum of the ICMP message
 * starting with the ICMP Type"). */
static bool well_formed(const struct rte_mbuf *m)
{
    return rte_pktmbuf_data_len(m) >= ICMP_HDR_LEN && msg_sum(m) == 0xffff;
}

/* m itself if we may write it, else a private copy (m is then freed).
 * NULL: no mbuf (m is still the caller's). */
static struct rte_mbuf *writable(struct stack *s, struct rte_mbuf *m)
{
    struct rte_mbuf *c;

    if (RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1)
        return m;
    c = rte_pktmbuf_copy(m, s->pool, 0, UINT32_MAX);
    if (c != NULL)
        rte_pktmbuf_free(m);
    return c;
}

/* RFC 792 Echo: "The data received in the echo message must be returned in
 * the echo reply message", with the same identifier and sequence number. */
static void echo(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip)
{
    struct rte_mbuf *r;
    struct rte_icmp_hdr *ic;

    /* RFC 1122 3.2.2.6: "An ICMP Echo Request destined to an IP broadcast
     * or IP multicast address MAY be silently discarded." Linux does
     * (icmp_echo_ignore_broadcasts), so do we: no smurf amplifier. */
    if (ip->dst != s->addr) {
        stack_drop(s, m, &s->ctr.icmp_drop_other);
        return;
    }
    r = writable(s, m);
    if (r == NULL) {
        stack_drop(s, m, &s->ctr.ip_drop_nombuf); /* no mbuf for a copy */
        return;
    }
    ic = rte_pktmbuf_mtod(r, struct rte_icmp_hdr *);
    ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
    ic->icmp_code = 0;
    ic->icmp_cksum = 0;
    ic->icmp_cksum = (uint16_t)~msg_sum(r);
    r->ol_flags = 0; /* the Rx flags say nothing about the reply */
    if (ipv4_output(s, r, ip->src, IPPROTO_ICMP) == 0)
        s->ctr.icmp_echo_replies_sent++;
}

/* The errno a UDP socket sees for an error (RFC 1122 3.2.2.1: a
 * Destination Unreachable "MUST be reported to the transport layer"; the
 * numbers are Linux's). */
static int error_errno(uint8_t type, uint8_t code)
{
    if (type != ICMP_DEST_UNREACH)
        return EHOSTUNREACH; /* time exceeded */
    switch (code) {
    case UNREACH_NET:
        return ENETUNREACH;
    case UNREACH_HOST:
        return EHOSTUNREACH;
    case UNREACH_PROTOCOL:
        return ENOPROTOOPT;
    case UNREACH_PORT:
        return ECONNREFUSED;
    case UNREACH_FRAG_NEEDED:
        return EMSGSIZE;
    default:
        return EHOSTUNREACH;
    }
}

/* Destination unreachable or time exceeded: the message quotes the IP
 * header and first 8 data octets of a datagram we sent (RFC 792). If that
 * was a UDP datagram from our address, its socket hears of it. */
static void error_in(struct stack *s, struct rte_mbuf *m)
{
    uint8_t buf[ICMP_HDR_LEN + IPV4_HDR_MAX + sizeof(struct rte_udp_hdr)];
    uint32_t n = RTE_MIN(rte_pktmbuf_pkt_len(m), (uint32_t)sizeof(buf));
    const uint8_t *p = rte_pktmbuf_read(m, 0, n, buf);
    const struct rte_ipv4_hdr *q = (const struct rte_ipv4_hdr *)(p + ICMP_HDR_LEN);
    const struct rte_udp_hdr *u;

    if (n < ICMP_HDR_LEN + sizeof(*q) || (q->version_ihl >> 4) != 4 || ip_hdr_len(q) < sizeof(*q) ||
        n < ICMP_HDR_LEN + ip_hdr_len(q) + sizeof(*u)) {
        stack_drop(s, m, &s->ctr.icmp_drop_malformed);
        return;
    }
    if ((q->next_proto_id != IPPROTO_UDP && q->next_proto_id != IPPROTO_TCP) || q->src_addr != s->addr) {
        stack_drop(s, m, &s->ctr.icmp_drop_other);
        return;
    }
    /* the ports are the first 4 octets of both UDP and TCP headers */
    u = (const struct rte_udp_hdr *)((const uint8_t *)q + ip_hdr_len(q));
    if (q->next_proto_id == IPPROTO_TCP)
        tcp_icmp_error(s, u->src_port, q->dst_addr, u->dst_port, error_errno(p[0], p[1]));
    else
        udp_icmp_error(s, u->src_port, q->dst_addr, u->dst_port, error_errno(p[0], p[1]));
    s->ctr.icmp_errors_delivered++;
    rte_pktmbuf_free(m);
}

void icmp_input(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip)
{
    if (!well_formed(m)) {
        stack_drop(s, m, &s->ctr.icmp_drop_malformed);
        return;
    }
    s->ctr.icmp_rx++;
    switch (rte_pktmbuf_mtod(m, const struct rte_icmp_hdr *)->icmp_type) {
    case RTE_IP_ICMP_ECHO_REQUEST:
        echo(s, m, ip);
        return;
    case ICMP_DEST_UNREACH:
    case ICMP_TIME_EXCEEDED:
        error_in(s, m);
        return;
    default:
        stack_drop(s, m, &s->ctr.icmp_drop_other);
    }
}

/* ---- destination unreachable out ---- */

/* True for the ICMP types that are errors (and for unknown ones, to be
 * safe); false for queries: echo, router, timestamp, information, mask. */
static bool is_icmp_error(uint8_t type)
{
    switch (type) {
    case 0: case 8: case 9: case 10: case 13: case 14: case 15: case 16: case 17: case 18:
        return false;
    default:
        return true;
    }
}

/* RFC 1122 3.2.2: a source that "does not define a single host -- e.g., a
 * zero address, a loopback address, a broadcast address, a multicast
 * address, or a Class E address". */
static bool unicast_host(const struct stack *s, rte_be32_t addr)
{
    uint32_t a = rte_be_to_cpu_32(addr);
    rte_be32_t bcast = (s->addr & s->netmask) | ~s->netmask;

    return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 28) < 0xe && addr != bcast;
}

/* True if m came in a link-layer broadcast or multicast frame. Its
 * Ethernet header is still in front of the IP header (eth_input only
 * moved past it and left l2_len). */
static bool link_broadcast(const struct rte_mbuf *m)
{
    const struct rte_ether_hdr *eh;

    if (m->l2_len != sizeof(*eh) || rte_pktmbuf_headroom(m) < m->l2_len + m->l3_len)
        return false;
    eh = rte_pktmbuf_mtod_offset(m, const struct rte_ether_hdr *, -(int)(m->l2_len + m->l3_len));
    return rte_is_multicast_ether_addr(&eh->dst_addr);
}

/* RFC 1122 3.2.2: "An ICMP error message MUST NOT be sent as the result of
 * receiving: an ICMP error message, or a datagram destined to an IP
 * broadcast or IP multicast address, or a datagram sent as a link-layer
 * broadcast, or a non-initial fragment, or a datagram whose source address
 * does not define a single host". */
static bool may_send_error(const struct stack *s, const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip)
{
    if (ip->dst_addr != s->addr) /* a host receives nothing else but broadcasts */
        return false;
    if (link_broadcast(m))
        return false;
    if (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK)
        return false;
    if (!unicast_host(s, ip->src_addr))
        return false;
    if (ip->next_proto_id == IPPROTO_ICMP &&
        (rte_pktmbuf_data_len(m) == 0 || is_icmp_error(*rte_pktmbuf_mtod(m, const uint8_t *))))
        return false;
    return true;
}

/* Type 3 with code, 4 unused octets, then the original IP header and as
 * much of its data as keeps the error within 576 bytes of IP. NULL: no
 * mbuf. */
static struct rte_mbuf *build_unreach(struct stack *s, const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
                                      uint8_t code)
{
    struct rte_mbuf *e = rte_pktmbuf_alloc(s->pool);
    uint32_t room, quote;
    struct rte_icmp_hdr *ic;
    uint8_t *q;
    const void *body;

    if (e == NULL)
        return NULL;
    room = RTE_MIN(ICMP_ERR_MAX_IP - (uint32_t)sizeof(*ip), (uint32_t)rte_pktmbuf_tailroom(e));
    quote = RTE_MIN(m->l3_len + rte_pktmbuf_pkt_len(m), room - ICMP_HDR_LEN);
    ic = (struct rte_icmp_hdr *)rte_pktmbuf_append(e, (uint16_t)(ICMP_HDR_LEN + quote));
    if (ic == NULL) {
        rte_pktmbuf_free(e);
        return NULL;
    }
    *ic = (struct rte_icmp_hdr){.icmp_type = ICMP_DEST_UNREACH, .icmp_code = code};
    q = (uint8_t *)ic + ICMP_HDR_LEN;
    memcpy(q, ip, m->l3_len);
    body = rte_pktmbuf_read(m, 0, quote - m->l3_len, q + m->l3_len);
    if (body != q + m->l3_len)
        memcpy(q + m->l3_len, body, quote - m->l3_len);
    ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, ICMP_HDR_LEN + quote);
    return e;
}

void icmp_send_unreach(struct stack *s, const struct rte_mbuf *m, uint8_t code)
{
    const struct rte_ipv4_hdr *ip;
    struct rte_mbuf *e;

    if (m->l3_len < sizeof(*ip) || m->l3_len > IPV4_HDR_MAX || rte_pktmbuf_headroom(m) < m->l3_len)
        return; /* not an mbuf ipv4_input handed up */
    ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, -(int)m->l3_len);
    if (!may_send_error(s, m, ip))
        return;
    e = build_unreach(s, m, ip, code);
    if (e == NULL)
        return; /* no mbuf: the error is not sent (nothing to drop) */
    if (ipv4_output(s, e, ip->src_addr, IPPROTO_ICMP) == 0)
        s->ctr.icmp_unreach_sent++;
}
