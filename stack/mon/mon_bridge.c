/*
 * mon_bridge.c - a monitor on one port (passive) or between two (inline):
 * see mon.h. Read before editing: mOS's mtcp_setlastpkt(3) (MOS_DROP: an
 * inline monitor's verdict) and docs/mtcp.md "Monitor sockets".
 *
 * Inline, the bridge forwards every frame it does not drop, in the order
 * received, so the endpoints see what they would see on a wire, plus what
 * the fault injector (under the bridge, on each port's receive side) does.
 */
#include "mon.h"
#include "netdev.h"
#include "smem.h"

#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#define BURST 32
#define EXPIRE_EVERY_NS 100000000ull /* 100 ms */

struct mon_bridge {
    struct mon_table *t;
    struct netdev *dev[2]; /* dev[1] NULL: passive */
    struct rte_mempool *pool;
    mon_verdict_fn fn;
    void *arg;
    uint64_t next_expire_ns;
    struct mon_bridge_stats st;
};

int mon_bridge_create(const struct mon_params *p, struct netdev *dev0, struct netdev *dev1, struct rte_mempool *pool,
                      mon_verdict_fn fn, void *arg, struct mon_bridge **out)
{
    struct mon_bridge *b;
    int rc;

    if (p == NULL || dev0 == NULL || pool == NULL || fn == NULL || out == NULL)
        return -EINVAL;
    if ((b = smem_calloc(1, sizeof(*b))) == NULL)
        return -ENOMEM;
    if ((rc = mon_table_create(p, &b->t)) != 0) {
        smem_free(b);
        return rc;
    }
    b->dev[0] = dev0;
    b->dev[1] = dev1;
    b->pool = pool;
    b->fn = fn;
    b->arg = arg;
    *out = b;
    return 0;
}

void mon_bridge_destroy(struct mon_bridge *b)
{
    if (b == NULL)
        return;
    mon_table_destroy(b->t);
    netdev_close(b->dev[0]);
    netdev_close(b->dev[1]);
    smem_free(b);
}

struct mon_table *mon_bridge_table(struct mon_bridge *b)
{
    return b->t;
}

void mon_bridge_stats(const struct mon_bridge *b, struct mon_bridge_stats *out)
{
    *out = b->st;
}

/* A flow a new SYN on its 4-tuple ended (mon_pkt.ended): its CONN_END,
 * with no frame (the frame is the new flow's), then it goes. */
static void end_replaced(struct mon_bridge *b, unsigned port, struct mon_flow *f)
{
    struct mon_pkt pkt = { .flow = f, .sender = MON_SIDE_CLI, .events = MON_EV_CONN_END };
    struct mon_side_info si;

    for (unsigned side = 0; side < 2; side++) {
        mon_side_info(f, side, &si);
        pkt.state_before[side] = pkt.state_after[side] = si.state;
    }
    b->fn(b->arg, NULL, port, &pkt);
    mon_flow_release(b->t, f);
}

/* Tracks and judges one frame: true to forward it. A verdict may rewrite
 * the frame in place, so it must be one contiguous buffer. */
static bool judge(struct mon_bridge *b, struct rte_mbuf *m, unsigned port, uint64_t now_ns)
{
    struct mon_pkt pkt;
    int verdict;

    if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
        b->st.linearize_failed++;
        return true; /* not seen, not judged: still forwarded */
    }
    mon_input(b->t, m, b->pool, now_ns, &pkt);
    if (pkt.ended != NULL)
        end_replaced(b, port, pkt.ended);
    verdict = b->fn(b->arg, m, port, &pkt);
    if (pkt.flow != NULL && (pkt.events & MON_EV_CONN_END))
        mon_flow_release(b->t, pkt.flow);
    return verdict != MON_DROP;
}

/* Sends n frames out of dev (inline); what it refuses is freed. */
static void forward(struct mon_bridge *b, struct netdev *dev, struct rte_mbuf **v, uint16_t n, uint64_t now_ns)
{
    uint16_t sent = n > 0 ? netdev_tx(dev, v, n, now_ns) : 0;

    b->st.tx_full += (uint64_t)(n - sent);
    for (uint16_t i = sent; i < n; i++)
        rte_pktmbuf_free(v[i]);
}

static int poll_port(struct mon_bridge *b, unsigned port, uint64_t now_ns)
{
    struct rte_mbuf *rx[BURST], *out[BURST];
    struct netdev *other = b->dev[1 - port];
    uint16_t n = netdev_rx(b->dev[port], rx, BURST, now_ns), k = 0;

    b->st.rx[port] += n;
    for (uint16_t i = 0; i < n; i++) {
        bool pass = judge(b, rx[i], port, now_ns);
        if (other != NULL && pass) {
            out[k++] = rx[i];
            b->st.fwd[port]++;
            continue;
        }
        if (other != NULL)
            b->st.dropped[port]++;
        rte_pktmbuf_free(rx[i]);
    }
    if (other != NULL)
        forward(b, other, out, k, now_ns);
    return n;
}

struct expire_ctx {
    struct mon_bridge *b;
    uint64_t now_ns;
};

static bool on_expire(struct mon_flow *f, void *arg)
{
    struct expire_ctx *x = arg;
    struct mon_pkt pkt = { .flow = f, .sender = MON_SIDE_CLI, .events = MON_EV_TIMEOUT };
    struct mon_side_info si;

    for (unsigned side = 0; side < 2; side++) {
        mon_side_info(f, side, &si);
        pkt.state_before[side] = pkt.state_after[side] = si.state;
    }
    x->b->fn(x->b->arg, NULL, 0, &pkt);
    return true;
}

int mon_bridge_poll(struct mon_bridge *b, uint64_t now_ns)
{
    int work = poll_port(b, 0, now_ns);

    if (b->dev[1] != NULL)
        work += poll_port(b, 1, now_ns);
    if (now_ns >= b->next_expire_ns) {
        struct expire_ctx x = { b, now_ns };
        mon_expire(b->t, now_ns, on_expire, &x);
        b->next_expire_ns = now_ns + EXPIRE_EVERY_NS;
    }
    return work;
}
