/*
 * udp.c - UDP sockets (RFC 768) on the stack.
 *
 * Read first: RFC 768; RFC 1122 4.1 (checksums: "If a UDP datagram is
 * received with a checksum that is non-zero and invalid, UDP MUST silently
 * discard the datagram"; a zero checksum means none was sent); RFC 1122
 * 4.1.3.1 (port unreachable, never for broadcasts). A socket's receive
 * queue is bounded (udp_rcvq_max); datagrams beyond it are dropped and
 * counted, for the stack and for the socket, as the kernel does.
 *
 * Several sockets may share a local port, by Linux's rules (socket(7)
 * SO_REUSEADDR/SO_REUSEPORT; net/ipv4/udp.c udp_lib_lport_inuse): a bind
 * clashes with a socket of the same port whose address overlaps (equal, or
 * either is INADDR_ANY) unless both set SO_REUSEADDR or both set
 * SO_REUSEPORT (the same owner: one stack is one process). Each port keeps
 * its sockets on a list, most recently bound first, in a table indexed by
 * port (a direct table: 65536 heads beat a hash for a 16-bit key).
 *
 * Demultiplexing follows Linux's __udp4_lib_lookup (v5.4 on): a first pass
 * over the sockets bound to the datagram's exact destination address, a
 * second over those bound to INADDR_ANY only when the first found none.
 * Within a pass, compute_score: a connected socket takes only datagrams
 * from its peer and scores above an unconnected one; at equal score the
 * most recently bound wins (Linux adds IPv4 sockets at the head of the
 * port's list and keeps the first of the highest score); when that is an
 * unconnected SO_REUSEPORT socket, one socket of its group (the
 * unconnected SO_REUSEPORT sockets of the same address and port) is
 * chosen by a hash of the 4-tuple (reuseport_select_sock), so a flow
 * stays on one socket while the group does not change. connect() on a
 * socket bound to INADDR_ANY sets its local address to ours
 * (ip4_datagram_connect), so it is found in the first pass. A broadcast
 * goes to every socket of the port that may take it, each a copy
 * (__udp4_lib_mcast_deliver).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>
#include <rte_random.h>
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
    bool reuseaddr, reuseport; /* SO_REUSEADDR, SO_REUSEPORT */
    int pending_err;
    uint64_t drops;            /* datagrams dropped: receive queue full */
    struct udp_sock *next;     /* on its port's list, newest first */
    struct rx_item *rxq; /* ring of rcvq_max */
    unsigned rx_head, rx_len;
    udp_event_fn on_event;
    void *ctx;
};

struct udp_table {
    struct udp_sock *ports[65536]; /* by host-order local port: its sockets, newest first */
    unsigned rcvq_max;
    uint32_t hash_seed;            /* of the SO_REUSEPORT choice */
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
    s->udp->hash_seed = (uint32_t)rte_rand();
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

/* The 4-tuple of a received datagram, as the lookup sees it. */
struct flow {
    rte_be32_t saddr, daddr;
    rte_be16_t sport, dport;
};

/* Linux's compute_score without devices and families: -1 when u cannot
 * take the datagram (another local address, or connected to another
 * peer), else higher for a connected socket (Linux: +4 for the peer's
 * address, +4 for its port). */
static int score(const struct udp_sock *u, rte_be32_t laddr, const struct flow *f)
{
    if (u->laddr != laddr)
        return -1;
    if (!u->connected)
        return 0;
    return u->raddr == f->saddr && u->rport == f->sport ? 8 : -1;
}

static bool in_group(const struct udp_sock *o, const struct udp_sock *u)
{
    return o->reuseport && !o->connected && o->laddr == u->laddr;
}

/* One socket of u's SO_REUSEPORT group, by a hash of the 4-tuple scaled
 * to the group's size (Linux's reuseport_select_sock, reciprocal_scale):
 * the same flow gets the same socket while the group does not change. */
static struct udp_sock *reuseport_pick(const struct stack *s, struct udp_sock *u, const struct flow *f)
{
    uint32_t n = 0, i, h;
    struct udp_sock *o;

    for (o = u; o != NULL; o = o->next)
        n += in_group(o, u);
    h = rte_jhash_3words(f->saddr, f->daddr, (uint32_t)f->sport << 16 | f->dport, s->udp->hash_seed);
    i = (uint32_t)(((uint64_t)h * n) >> 32);
    for (o = u; o != NULL; o = o->next)
        if (in_group(o, u) && i-- == 0)
            return o;
    return u;
}

/* udp4_lib_lookup2: the best socket of the port bound to laddr, or NULL. */
static struct udp_sock *lookup2(const struct stack *s, struct udp_sock *head, rte_be32_t laddr,
                                const struct flow *f)
{
    struct udp_sock *best = NULL;
    int best_score = -1;

    for (struct udp_sock *u = head; u != NULL; u = u->next) {
        int sc = score(u, laddr, f);
        if (sc > best_score) { /* strictly: the newest of equals wins */
            best = u;
            best_score = sc;
        }
    }
    if (best != NULL && !best->connected && best->reuseport)
        best = reuseport_pick(s, best, f);
    return best;
}

/* The socket a unicast datagram of flow f is for, or NULL: the exact
 * address first, INADDR_ANY only if none (Linux's __udp4_lib_lookup). */
static struct udp_sock *lookup(const struct stack *s, const struct flow *f)
{
    struct udp_sock *head = s->udp->ports[rte_be_to_cpu_16(f->dport)];
    struct udp_sock *u = lookup2(s, head, f->daddr, f);

    return u != NULL ? u : lookup2(s, head, 0, f);
}

/* Takes m into u's receive queue, or drops it when the queue is full
 * (counted for the stack and for u). */
static void enqueue(struct stack *s, struct udp_sock *u, struct rte_mbuf *m, const struct flow *f)
{
    unsigned max = s->udp->rcvq_max;

    if (u->rx_len == max) {
        u->drops++;
        stack_drop(s, m, &s->ctr.udp_drop_rcvq_full);
        return;
    }
    u->rxq[(u->rx_head + u->rx_len) % max] = (struct rx_item){.m = m, .addr = f->saddr, .port = f->sport};
    u->rx_len++;
    notify(u);
}

/* Whether a broadcast of flow f is for u (Linux's __udp_is_mcast_sock). */
static bool takes_broadcast(const struct udp_sock *u, const struct flow *f)
{
    if (u->laddr != 0 && u->laddr != f->daddr)
        return false;
    return !u->connected || (u->raddr == f->saddr && u->rport == f->sport);
}

/* A broadcast (payload in m) to every socket of the port that takes it,
 * each its own copy; false if none does (m is then still the caller's). */
static bool deliver_broadcast(struct stack *s, struct rte_mbuf *m, const struct flow *f)
{
    struct udp_sock *first = NULL;

    for (struct udp_sock *u = s->udp->ports[rte_be_to_cpu_16(f->dport)]; u != NULL; u = u->next) {
        if (!takes_broadcast(u, f))
            continue;
        if (first == NULL) {
            first = u; /* gets m itself, last, once the copies are made */
            continue;
        }
        struct rte_mbuf *c = rte_pktmbuf_copy(m, s->pool, 0, UINT32_MAX);
        if (c == NULL) {
            u->drops++;
            s->ctr.udp_drop_rcvq_full++; /* no room for its copy: as a full queue */
            continue;
        }
        enqueue(s, u, c, f);
    }
    if (first != NULL)
        enqueue(s, first, m, f);
    return first != NULL;
}

/* A datagram to one of another engine's ephemeral ports (stack_params:
 * port % eph_stride names the engine) that no socket of ours takes: a
 * reply to that engine's socket the device put on our queue goes to it
 * (docs/DESIGN.md "Engines per thread"). m is at the UDP header; true
 * when it was taken. */
static bool steer_to_port_owner(struct stack *s, struct rte_mbuf *m, uint16_t port)
{
    if (!stack_steering(s) || s->eph_stride <= 1 || port < EPHEMERAL_FIRST || stack_eph_mine(s, port))
        return false;
    stack_steer_to(s, port % s->eph_stride, m, 0);
    return true;
}

void udp_input(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip)
{
    const struct rte_udp_hdr *uh;
    uint16_t len;
    struct udp_sock *u;
    struct flow f;

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
    f = (struct flow){.saddr = ip->src, .daddr = ip->dst, .sport = uh->src_port, .dport = uh->dst_port};
    u = ip->dst == s->addr ? lookup(s, &f) : NULL;
    if (ip->dst == s->addr && u == NULL && steer_to_port_owner(s, m, rte_be_to_cpu_16(f.dport)))
        return;
    if (ip->dst == s->addr && u == NULL) {
        /* RFC 1122 4.1.3.1: port unreachable, never for broadcasts */
        icmp_send_unreach(s, m, 3);
        stack_drop(s, m, &s->ctr.udp_drop_no_port);
        return;
    }
    rte_pktmbuf_adj(m, sizeof(*uh));
    if (u == NULL && !deliver_broadcast(s, m, &f)) {
        stack_drop(s, m, &s->ctr.udp_drop_no_port);
        return;
    }
    s->ctr.udp_rx_datagrams++;
    s->ctr.udp_rx_bytes += len - sizeof(*uh);
    if (u != NULL)
        enqueue(s, u, m, &f);
}

void udp_icmp_error(struct stack *s, rte_be16_t local_port, rte_be32_t dst, rte_be16_t dst_port, int err)
{
    /* Linux's __udp4_lib_err: the socket a datagram from dst:dst_port to
     * our local_port would reach; only a connected one learns of errors
     * (RFC 1122 4.1.3.3 leaves how to report them to the application) */
    struct flow f = {.saddr = dst, .daddr = s->addr, .sport = dst_port, .dport = local_port};
    struct udp_sock *u = lookup(s, &f);

    if (u == NULL || !u->connected)
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

static int pick_ephemeral(const struct stack *s, struct udp_table *t)
{
    for (unsigned i = 0; i < EPHEMERAL_COUNT; i++) {
        uint16_t port = (uint16_t)(EPHEMERAL_FIRST + (t->next_ephemeral + i) % EPHEMERAL_COUNT);
        if (t->ports[port] == NULL && stack_eph_mine(s, port)) {
            t->next_ephemeral = (uint16_t)((t->next_ephemeral + i + 1) % EPHEMERAL_COUNT);
            return port;
        }
    }
    return -EAGAIN;
}

/* Whether u may not bind addr on the port o is bound to (Linux's
 * udp_lib_lport_inuse, inet_rcv_saddr_equal with wildcards). */
static bool bind_clash(const struct udp_sock *u, rte_be32_t addr, const struct udp_sock *o)
{
    if (o->laddr != 0 && addr != 0 && o->laddr != addr)
        return false;
    if (u->reuseaddr && o->reuseaddr)
        return false;
    return !(u->reuseport && o->reuseport);
}

int udp_bind(struct udp_sock *u, rte_be32_t addr, rte_be16_t port)
{
    struct udp_table *t = u->s->udp;
    int p = rte_be_to_cpu_16(port);

    if (u->bound || (addr != 0 && addr != u->s->addr))
        return -EINVAL;
    if (p == 0 && (p = pick_ephemeral(u->s, t)) < 0)
        return p;
    for (const struct udp_sock *o = t->ports[p]; o != NULL; o = o->next)
        if (bind_clash(u, addr, o))
            return -EADDRINUSE;
    u->next = t->ports[p];
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
    /* ip4_datagram_connect: a socket bound to INADDR_ANY now has the
     * source address of its route (ours) */
    if (u->laddr == 0)
        u->laddr = u->s->addr;
    u->raddr = addr;
    u->rport = port;
    u->connected = true;
    return 0;
}

static int opt_int(const void *optval, socklen_t optlen, int *v)
{
    if (optval == NULL || optlen < (socklen_t)sizeof(int))
        return -EINVAL;
    memcpy(v, optval, sizeof(int));
    return 0;
}

int udp_setsockopt(struct udp_sock *u, int level, int optname, const void *optval, socklen_t optlen)
{
    int v, rc;

    if (level != SOL_SOCKET || (optname != SO_REUSEADDR && optname != SO_REUSEPORT))
        return -ENOPROTOOPT;
    rc = opt_int(optval, optlen, &v);
    if (rc)
        return rc;
    *(optname == SO_REUSEADDR ? &u->reuseaddr : &u->reuseport) = v != 0;
    return 0;
}

int udp_getsockopt(const struct udp_sock *u, int level, int optname, void *optval, socklen_t *optlen)
{
    int v;

    if (level != SOL_SOCKET || (optname != SO_REUSEADDR && optname != SO_REUSEPORT))
        return -ENOPROTOOPT;
    if (optval == NULL || optlen == NULL || (int)*optlen < 0)
        return -EINVAL;
    v = optname == SO_REUSEADDR ? u->reuseaddr : u->reuseport;
    *optlen = *optlen < sizeof(v) ? *optlen : (socklen_t)sizeof(v);
    memcpy(optval, &v, *optlen);
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

uint64_t udp_drops(const struct udp_sock *u)
{
    return u->drops;
}

void stack_udp_foreach(struct stack *s, void (*fn)(const struct udp_sock *u, void *ctx), void *ctx)
{
    if (s->udp == NULL)
        return;
    for (unsigned port = 0; port < RTE_DIM(s->udp->ports); port++)
        for (const struct udp_sock *u = s->udp->ports[port]; u != NULL; u = u->next)
            fn(u, ctx);
}

int udp_peer(const struct udp_sock *u, rte_be32_t *addr, rte_be16_t *port)
{
    if (!u->connected)
        return -ENOTCONN;
    *addr = u->raddr;
    *port = u->rport;
    return 0;
}

/* Takes u, and only u, off its port's list. */
static void unhash(struct udp_sock *u)
{
    struct udp_sock **p = &u->s->udp->ports[rte_be_to_cpu_16(u->lport)];

    while (*p != NULL && *p != u)
        p = &(*p)->next;
    if (*p == u)
        *p = u->next;
}

void udp_close(struct udp_sock *u)
{
    rte_be32_t a;
    rte_be16_t p;
    struct rte_mbuf *m;

    while ((m = udp_recv(u, &a, &p)) != NULL)
        rte_pktmbuf_free(m);
    if (u->bound)
        unhash(u);
    smem_free(u->rxq);
    smem_free(u);
}
