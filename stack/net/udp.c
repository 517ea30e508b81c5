/*
 * udp.c - UDP sockets (RFC 768) on the stack.
 *
 * Read first: RFC 768; RFC 1122 4.1 (checksums: "If a UDP datagram is
 * received with a checksum that is non-zero and invalid, UDP MUST silently
 * discard the datagram"; a zero checksum means none was sent). One socket
 * per local port. A socket's receive queue is bounded (udp_rcvq_max);
 * datagrams beyond it are dropped and counted, as the kernel does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "stack.h"
#include "smem.h"
#include "stack_priv.h"

#define UDP_MAX_PAYLOAD 65507u /* 65535 - 20 (IP) - 8 (UDP) */
#define EPHEMERAL_FIRST 49152u /* RFC 6335 dynamic ports */
#define EPHEMERAL_COUNT 16384u

struct rx_item {
    struct rte_mbuf *m;
    rte_be32_t addr;
    rte_be16_t port;
};

struct udp_sock {
    struct stack *s;
    rte_be32_t laddr, raddr;
    rte_be16_t lport, rport;
    bool bound, connected;
    int pending_err;
    struct rx_item *rxq; /* ring of rcvq_max */
    unsigned rx_head, rx_len;
    udp_event_fn on_event;
    void *ctx;
};

struct udp_table {
    struct udp_sock *ports[65536]; /* by host-order local port */
    unsigned rcvq_max;
    uint16_t next_ephemeral;       /* offset in the ephemeral range */
};

int udp_create(struct stack *s, unsigned rcvq_max)
{
    s->udp = smem_calloc(1, sizeof(*s->udp));
    if (s->udp == NULL)
        return -ENOMEM;
    s->udp->rcvq_max = rcvq_max ? rcvq_max : 1;
    /* start the ephemeral search somewhere that differs between stacks */
    s->udp->next_ephemeral = (uint16_t)(rte_be_to_cpu_32(s->addr) * 2654435761u % EPHEMERAL_COUNT);
    return 0;
}

void udp_destroy(struct stack *s)
{
    smem_free(s->udp);
    s->udp = NULL;
}

static void notify(struct udp_sock *u)
{
    if (u->on_event != NULL)
        u->on_event(u, u->ctx);
}

static bool cksum_ok(const struct stack *s, const struct rte_mbuf *m, uint32_t len, const struct ipv4_meta *ip,
                     const struct rte_udp_hdr *uh)
{
    if (uh->dgram_cksum == 0)
        return true; /* the sender computed none (RFC 768) */
    return ipv4_l4_cksum_ok(s, m, len, ip->src, ip->dst, IPPROTO_UDP);
}

static struct udp_sock *lookup(struct stack *s, rte_be16_t port, rte_be32_t dst)
{
    struct udp_sock *u = s->udp->ports[rte_be_to_cpu_16(port)];

    if (u == NULL || (u->laddr != 0 && u->laddr != dst && dst == s->addr))
        return NULL;
    return u;
}

static void enqueue(struct stack *s, struct udp_sock *u, struct rte_mbuf *m, const struct ipv4_meta *ip,
                    rte_be16_t sport)
{
    unsigned max = s->udp->rcvq_max;

    if (u->rx_len == max) {
        stack_drop(s, m, &s->ctr.udp_drop_rcvq_full);
        return;
    }
    u->rxq[(u->rx_head + u->rx_len) % max] = (struct rx_item){.m = m, .addr = ip->src, .port = sport};
    u->rx_len++;
    notify(u);
}

void udp_input(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip)
{
    const struct rte_udp_hdr *uh;
    uint16_t len;
    struct udp_sock *u;

    if (rte_pktmbuf_data_len(m) < sizeof(*uh)) {
        stack_drop(s, m, &s->ctr.udp_drop_malformed);
        return;
    }
    uh = rte_pktmbuf_mtod(m, const struct rte_udp_hdr *);
    len = rte_be_to_cpu_16(uh->dgram_len);
    if (len < sizeof(*uh) || len > rte_pktmbuf_pkt_len(m) || !cksum_ok(s, m, len, ip, uh)) {
        stack_drop(s, m, &s->ctr.udp_drop_malformed);
        return;
    }
    rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - len));
    u = lookup(s, uh->dst_port, ip->dst);
    if (u == NULL || (u->connected && (u->raddr != ip->src || u->rport != uh->src_port))) {
        /* RFC 1122 4.1.3.1: port unreachable, never for broadcasts */
        if (u == NULL && ip->dst == s->addr)
            icmp_send_unreach(s, m, 3);
        stack_drop(s, m, &s->ctr.udp_drop_no_port);
        return;
    }
    s->ctr.udp_rx_datagrams++;
    s->ctr.udp_rx_bytes += len - sizeof(*uh);
    rte_be16_t sport = uh->src_port;
    rte_pktmbuf_adj(m, sizeof(*uh));
    enqueue(s, u, m, ip, sport);
}

void udp_icmp_error(struct stack *s, rte_be16_t local_port, rte_be32_t dst, rte_be16_t dst_port, int err)
{
    struct udp_sock *u = s->udp->ports[rte_be_to_cpu_16(local_port)];

    /* as Linux: only a connected socket learns of errors (RFC 1122 4.1.3.3
     * leaves how to report them to the application) */
    if (u == NULL || !u->connected || u->raddr != dst || u->rport != dst_port)
        return;
    u->pending_err = err;
    notify(u);
}

int udp_open(struct stack *s, udp_event_fn on_event, void *ctx, struct udp_sock **out)
{
    struct udp_sock *u = smem_calloc(1, sizeof(*u));

    if (u == NULL)
        return -ENOMEM;
    u->rxq = smem_calloc(s->udp->rcvq_max, sizeof(*u->rxq));
    if (u->rxq == NULL) {
        smem_free(u);
        return -ENOMEM;
    }
    u->s = s;
    u->on_event = on_event;
    u->ctx = ctx;
    *out = u;
    return 0;
}

static int pick_ephemeral(struct udp_table *t)
{
    for (unsigned i = 0; i < EPHEMERAL_COUNT; i++) {
        uint16_t port = (uint16_t)(EPHEMERAL_FIRST + (t->next_ephemeral + i) % EPHEMERAL_COUNT);
        if (t->ports[port] == NULL) {
            t->next_ephemeral = (uint16_t)((t->next_ephemeral + i + 1) % EPHEMERAL_COUNT);
            return port;
        }
    }
    return -EAGAIN;
}

int udp_bind(struct udp_sock *u, rte_be32_t addr, rte_be16_t port)
{
    struct udp_table *t = u->s->udp;
    int p = rte_be_to_cpu_16(port);

    if (u->bound || (addr != 0 && addr != u->s->addr))
        return -EINVAL;
    if (p == 0 && (p = pick_ephemeral(t)) < 0)
        return p;
    if (t->ports[p] != NULL)
        return -EADDRINUSE;
    t->ports[p] = u;
    u->laddr = addr;
    u->lport = rte_cpu_to_be_16((uint16_t)p);
    u->bound = true;
    return 0;
}

int udp_connect(struct udp_sock *u, rte_be32_t addr, rte_be16_t port)
{
    int rc = u->bound ? 0 : udp_bind(u, 0, 0);

    if (rc)
        return rc;
    u->raddr = addr;
    u->rport = port;
    u->connected = true;
    return 0;
}

/* Prepends the UDP header: in m's headroom when there is room for every
 * header below it, else in a new mbuf chained in front. NULL: no mbuf. */
static struct rte_mbuf *add_header(struct stack *s, struct rte_mbuf *m)
{
    const uint16_t below = sizeof(struct rte_udp_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_ether_hdr);
    struct rte_mbuf *h;

    if (rte_pktmbuf_headroom(m) >= below && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1) {
        rte_pktmbuf_prepend(m, sizeof(struct rte_udp_hdr));
        return m;
    }
    h = rte_pktmbuf_alloc(s->pool);
    if (h == NULL)
        return NULL;
    rte_pktmbuf_append(h, sizeof(struct rte_udp_hdr));
    if (rte_pktmbuf_chain(h, m) != 0) {
        rte_pktmbuf_free(h);
        return NULL;
    }
    return h;
}

int udp_sendto(struct udp_sock *u, struct rte_mbuf *payload, rte_be32_t addr, rte_be16_t port, uint64_t now_ns)
{
    struct stack *s = u->s;
    uint32_t len = rte_pktmbuf_pkt_len(payload);
    struct rte_mbuf *m;
    int rc = 0;

    s->now_ns = now_ns;
    if (addr == 0 && port == 0) {
        addr = u->raddr;
        port = u->rport;
        rc = u->connected ? 0 : -EDESTADDRREQ;
    }
    rc = rc ? rc : len > UDP_MAX_PAYLOAD ? -EMSGSIZE : 0;
    rc = rc || u->bound ? rc : udp_bind(u, 0, 0);
    m = rc ? NULL : add_header(s, payload);
    if (m == NULL) {
        rte_pktmbuf_free(payload);
        return rc ? rc : -ENOBUFS;
    }
    struct rte_udp_hdr *uh = rte_pktmbuf_mtod(m, struct rte_udp_hdr *);
    uh->src_port = u->lport;
    uh->dst_port = port;
    uh->dgram_len = rte_cpu_to_be_16((uint16_t)(len + sizeof(*uh)));
    uh->dgram_cksum = 0;
    uint16_t ck = ipv4_l4_cksum(m, len + sizeof(*uh), u->laddr ? u->laddr : s->addr, addr, IPPROTO_UDP);
    /* RFC 768: a computed 0 is sent as all ones */
    uh->dgram_cksum = ck == 0 ? 0xffff : rte_cpu_to_be_16(ck);
    s->ctr.udp_tx_datagrams++;
    s->ctr.udp_tx_bytes += len;
    rc = ipv4_output(s, m, addr, IPPROTO_UDP);
    stack_tx_flush(s);
    return rc;
}

struct rte_mbuf *udp_recv(struct udp_sock *u, rte_be32_t *src_addr, rte_be16_t *src_port)
{
    struct rx_item it;

    if (u->rx_len == 0)
        return NULL;
    it = u->rxq[u->rx_head];
    u->rx_head = (u->rx_head + 1) % u->s->udp->rcvq_max;
    u->rx_len--;
    *src_addr = it.addr;
    *src_port = it.port;
    return it.m;
}

int udp_take_error(struct udp_sock *u)
{
    int err = u->pending_err;

    u->pending_err = 0;
    return err;
}

void udp_local(const struct udp_sock *u, rte_be32_t *addr, rte_be16_t *port)
{
    *addr = u->laddr;
    *port = u->lport;
}

unsigned udp_recv_queued(const struct udp_sock *u)
{
    return u->rx_len;
}

void stack_udp_foreach(struct stack *s, void (*fn)(const struct udp_sock *u, void *ctx), void *ctx)
{
    if (s->udp == NULL)
        return;
    for (unsigned port = 0; port < RTE_DIM(s->udp->ports); port++)
        if (s->udp->ports[port] != NULL)
            fn(s->udp->ports[port], ctx);
}

int udp_peer(const struct udp_sock *u, rte_be32_t *addr, rte_be16_t *port)
{
    if (!u->connected)
        return -ENOTCONN;
    *addr = u->raddr;
    *port = u->rport;
    return 0;
}

void udp_close(struct udp_sock *u)
{
    rte_be32_t a;
    rte_be16_t p;
    struct rte_mbuf *m;

    while ((m = udp_recv(u, &a, &p)) != NULL)
        rte_pktmbuf_free(m);
    if (u->bound)
        u->s->udp->ports[rte_be_to_cpu_16(u->lport)] = NULL;
    smem_free(u->rxq);
    smem_free(u);
}
