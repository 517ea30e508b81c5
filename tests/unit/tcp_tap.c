/* tcp_tap.c - see tcp_tap.h. */
#include "tcp_tap.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "harness.h"
#include "netdev.h"
#include "runtime.h"


struct tcp_tap {
    struct netdev dev;     /* first: the stack sees a netdev */
    struct netdev *inner;  /* A's fake device, linked to B's */
    bool drop_ab, drop_ba;
    struct tt_frame *frames;
    size_t n, cap;
};

static struct tcp_tap *tap_of(struct netdev *dev)
{
    return (struct tcp_tap *)dev;
}

/* Records m as seen at now_ns; returns whether to drop it. */
static bool tap_see(struct tcp_tap *t, const struct rte_mbuf *m, bool a_to_b, uint64_t now_ns)
{
    bool drop = a_to_b ? t->drop_ab : t->drop_ba;

    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->frames = realloc(t->frames, t->cap * sizeof(*t->frames));
        cr_assert_not_null(t->frames);
    }
    struct tt_frame *f = &t->frames[t->n++];
    f->a_to_b = a_to_b;
    f->dropped = drop;
    f->ns = now_ns;
    f->len = rte_pktmbuf_pkt_len(m) < TT_FRAME_MAX ? rte_pktmbuf_pkt_len(m) : TT_FRAME_MAX;
    const void *p = rte_pktmbuf_read(m, 0, (uint32_t)f->len, f->bytes);
    if (p != f->bytes)
        memcpy(f->bytes, p, f->len);
    return drop;
}

/* B -> A: what the inner device received, minus what the tap drops. */
static uint16_t tap_rx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct tcp_tap *t = tap_of(dev);
    uint16_t got = netdev_rx(t->inner, pkts, n, now_ns), kept = 0;

    for (uint16_t i = 0; i < got; i++) {
        if (tap_see(t, pkts[i], false, now_ns))
            rte_pktmbuf_free(pkts[i]);
        else
            pkts[kept++] = pkts[i];
    }
    return kept;
}

/* A -> B: recorded, then dropped (taken and freed) or passed on. */
static uint16_t tap_tx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct tcp_tap *t = tap_of(dev);
    uint16_t done = 0;

    while (done < n) {
        if (tap_see(t, pkts[done], true, now_ns)) {
            rte_pktmbuf_free(pkts[done]);
            done++;
            continue;
        }
        if (netdev_tx(t->inner, &pkts[done], 1, now_ns) != 1) {
            t->n--; /* not sent after all: the stack keeps it and counts it */
            break;
        }
        done++;
    }
    return done;
}

static void tap_close(struct netdev *dev)
{
    struct tcp_tap *t = tap_of(dev);

    netdev_close(t->inner);
    free(t->frames);
    free(t);
}

static const struct netdev_ops tap_ops = {
    .rx_burst = tap_rx,
    .tx_burst = tap_tx,
    .close = tap_close,
};

/* tt_create's wrapper: the tap around A's fake device. */
static struct netdev *tap_wrap(struct tcp_pair *p, void *ctx)
{
    struct tcp_tap *t = ctx;

    t->inner = p->da;
    t->dev = *p->da; /* mac, mtu, offloads, name */
    t->dev.ops = &tap_ops;
    t->dev.priv = NULL;
    return &t->dev;
}

void tt_create(struct tcp_pair *p, struct tcp_tap **tap, const struct stack_params *params)
{
    struct tcp_tap *t = calloc(1, sizeof(*t));

    cr_assert_not_null(t);
    tp_create_wrapped(p, params, tap_wrap, t);
    *tap = t;
}

void tt_drop(struct tcp_tap *tap, bool a_to_b, bool b_to_a)
{
    tap->drop_ab = a_to_b;
    tap->drop_ba = b_to_a;
}

size_t tt_count(const struct tcp_tap *tap)
{
    return tap->n;
}

const struct tt_frame *tt_frame(const struct tcp_tap *tap, size_t i)
{
    cr_assert_lt(i, tap->n);
    return &tap->frames[i];
}

/* Whether a recorded frame is IPv4/TCP (the link also carries the
 * gratuitous ARPs of stack creation). */
static bool is_tcp(const struct tt_frame *f)
{
    const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)f->bytes;
    const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);

    return f->len >= sizeof(*eh) + sizeof(*ip) + sizeof(struct rte_tcp_hdr) &&
           eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4) && ip->next_proto_id == IPPROTO_TCP;
}

bool tt_is_tcp(const struct tt_frame *f)
{
    return is_tcp(f);
}

bool tt_next(const struct tcp_tap *tap, size_t *cursor, bool a_to_b, struct st_tcp_seg *seg, uint64_t *ns)
{
    for (size_t i = *cursor; i < tap->n; i++) {
        const struct tt_frame *f = &tap->frames[i];
        if (f->a_to_b != a_to_b || !is_tcp(f))
            continue;
        st_tcp_parse(f->bytes, f->len, seg);
        if (ns != NULL)
            *ns = f->ns;
        *cursor = i + 1;
        return true;
    }
    *cursor = tap->n;
    return false;
}

void tt_dump(const struct tcp_tap *tap)
{
    for (size_t i = 0; i < tap->n; i++) {
        const struct tt_frame *f = &tap->frames[i];
        struct st_tcp_seg sg;
        if (!is_tcp(f))
            continue;
        st_tcp_parse(f->bytes, f->len, &sg);
        fprintf(stderr, "%6llu.%03llu ms %s %5u>%5u flags %02x seq %u ack %u wnd %u len %zu%s\n",
                (unsigned long long)(f->ns / ST_NS_PER_MS), (unsigned long long)(f->ns % ST_NS_PER_MS / 1000),
                f->a_to_b ? "A>B" : "B>A", sg.sport, sg.dport, sg.flags, sg.seq, sg.ack, sg.wnd, sg.len,
                f->dropped ? " (dropped)" : "");
    }
}

size_t st_tcp_from(void *buf, rte_be32_t src, const struct st_tcp_seg *sg)
{
    size_t n = st_tcp(buf, sg);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)((char *)buf + sizeof(struct rte_ether_hdr));
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

    ip->src_addr = src;
    st_ip_fix_checksum(buf);
    th->cksum = 0;
    th->cksum = rte_ipv4_udptcp_cksum(ip, th);
    return n;
}
