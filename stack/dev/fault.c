/*
 * fault.c - the seeded fault injector (see fault.h).
 *
 * Each direction is a line: a frame goes through loss, corrupt, duplicate,
 * reorder (one frame held at a time) and delay (a FIFO ordered by release
 * time, since now_ns only grows) into a ready FIFO: on Rx the frames the
 * caller gets next, on Tx the frames inner gets next. Nothing here reads a
 * clock: time is the now_ns the caller passes.
 */
#include "netdev.h"
#include "smem.h"
#include "stack.h"
#include "mbuf_fifo.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#define TX_CHUNK 32 /* frames handed to inner per tx_burst of inner */
#define RX_CHUNK 32 /* frames read from inner per rx_burst of inner */

/* One direction. */
struct line {
    struct fault_dir cfg;
    uint64_t rng;          /* splitmix64 state */
    struct rte_mbuf *held; /* reorder: the frame waiting for a later one */
    uint64_t held_at;
    struct mbuf_fifo delay;     /* entries leave when now >= t */
    struct mbuf_fifo ready;
};

struct fault {
    struct netdev dev;
    struct netdev *inner;
    struct stack_counters *ctr;
    struct stack_counters own_ctr; /* when the caller gave none */
    struct line rx, tx;
};

/* ---- PRNG: splitmix64, small and good enough for coin flips ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* True with probability ppm / 1e6. Draws nothing at 0 ppm, so a fault
 * that is off does not change the dice of the others. */
static bool chance(struct line *l, uint32_t ppm)
{
    if (ppm == 0)
        return false;
    return rng_next(&l->rng) % FAULT_PPM_MAX < ppm;
}

/* ---- the stages ---- */

/* Puts m in fifo; a frame we cannot queue is lost like any other. */
static void enqueue(struct fault *f, struct mbuf_fifo *fifo, struct rte_mbuf *m, uint64_t t)
{
    if (mbuf_fifo_push(fifo, m, t) == 0)
        return;
    rte_pktmbuf_free(m);
    f->ctr->fault_dropped++;
}

/* The last stage: the delay line, or straight out. */
static void delay_stage(struct fault *f, struct line *l, struct rte_mbuf *m, uint64_t now)
{
    if (l->cfg.delay_ns == 0) {
        enqueue(f, &l->ready, m, 0);
        return;
    }
    f->ctr->fault_delayed++;
    enqueue(f, &l->delay, m, now + l->cfg.delay_ns);
}

static void reorder_stage(struct fault *f, struct line *l, struct rte_mbuf *m, uint64_t now)
{
    if (l->held != NULL) {
        delay_stage(f, l, m, now);
        delay_stage(f, l, l->held, now);
        l->held = NULL;
        f->ctr->fault_reordered++;
        return;
    }
    if (chance(l, l->cfg.reorder_ppm)) {
        l->held = m;
        l->held_at = now;
        return;
    }
    delay_stage(f, l, m, now);
}

/* True if another holder may see m's bytes: writing them would change the
 * application's (zero-copy) data or another clone's. */
static bool is_shared(const struct rte_mbuf *m)
{
    for (const struct rte_mbuf *seg = m; seg != NULL; seg = seg->next)
        if (!RTE_MBUF_DIRECT(seg) || rte_mbuf_refcnt_read(seg) > 1)
            return true;
    return false;
}

/* Flips one random bit of one random byte of m, in a private copy when m
 * is shared; returns the frame to go on with. If no copy can be made the
 * frame goes on intact (the dice are still thrown, for determinism). */
static struct rte_mbuf *corrupt(struct fault *f, struct line *l, struct rte_mbuf *m)
{
    uint32_t len = rte_pktmbuf_pkt_len(m);
    uint64_t off, bit;
    struct rte_mbuf *seg;

    if (len == 0)
        return m;
    off = rng_next(&l->rng) % len;
    bit = rng_next(&l->rng) % 8;
    if (is_shared(m)) {
        struct rte_mbuf *copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        if (copy == NULL)
            return m;
        rte_pktmbuf_free(m);
        m = copy;
    }
    for (seg = m; off >= seg->data_len; seg = seg->next)
        off -= seg->data_len;
    *rte_pktmbuf_mtod_offset(seg, uint8_t *, off) ^= (uint8_t)(1u << bit);
    f->ctr->fault_corrupted++;
    return m;
}

/* Runs one arriving frame through the line. */
static void process(struct fault *f, struct line *l, struct rte_mbuf *m, uint64_t now)
{
    struct rte_mbuf *dup = NULL;

    if (chance(l, l->cfg.loss_ppm)) {
        rte_pktmbuf_free(m);
        f->ctr->fault_dropped++;
        return;
    }
    if (chance(l, l->cfg.corrupt_ppm))
        m = corrupt(f, l, m);
    if (chance(l, l->cfg.duplicate_ppm)) {
        dup = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        f->ctr->fault_duplicated += dup != NULL;
    }
    reorder_stage(f, l, m, now);
    if (dup != NULL)
        reorder_stage(f, l, dup, now);
}

/* Lets out what time has freed: a frame held for reordering too long (so
 * it is never stuck when no later frame comes), then due delayed frames. */
static void tick(struct fault *f, struct line *l, uint64_t now)
{
    if (l->held != NULL && now >= l->held_at + FAULT_REORDER_HOLD_NS) {
        struct rte_mbuf *m = l->held;
        l->held = NULL;
        delay_stage(f, l, m, now);
    }
    while (l->delay.len > 0 && mbuf_fifo_at(&l->delay, 0)->t <= now)
        enqueue(f, &l->ready, mbuf_fifo_pop(&l->delay), 0);
}

/* Hands the Tx ready frames to inner, oldest first, until it refuses. */
static void tx_flush(struct fault *f, uint64_t now)
{
    struct mbuf_fifo *ready = &f->tx.ready;
    struct rte_mbuf *batch[TX_CHUNK];

    tick(f, &f->tx, now);
    while (ready->len > 0) {
        uint16_t k = (uint16_t)RTE_MIN(ready->len, (unsigned)TX_CHUNK);
        for (uint16_t i = 0; i < k; i++)
            batch[i] = mbuf_fifo_at(ready, i)->m;
        uint16_t sent = netdev_tx(f->inner, batch, k, now);
        for (uint16_t i = 0; i < sent; i++)
            mbuf_fifo_pop(ready);
        if (sent < k)
            return;
    }
}

/* ---- the netdev ---- */

static struct fault *fault_of(struct netdev *dev)
{
    return (struct fault *)dev;
}

/* Also moves the Tx side on: the stack calls rx_burst on every poll but
 * tx_burst only when it has something to send. */
static uint16_t fault_rx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct fault *f = fault_of(dev);
    struct line *l = &f->rx;
    uint16_t out = 0;

    tx_flush(f, now_ns);
    tick(f, l, now_ns);
    if (l->ready.len < n) {
        struct rte_mbuf *in[RX_CHUNK];
        uint16_t want = (uint16_t)RTE_MIN(n - l->ready.len, (unsigned)RX_CHUNK);
        uint16_t got = netdev_rx(f->inner, in, want, now_ns);
        for (uint16_t i = 0; i < got; i++)
            process(f, l, in[i], now_ns);
    }
    while (out < n && l->ready.len > 0)
        pkts[out++] = mbuf_fifo_pop(&l->ready);
    return out;
}

static uint16_t fault_tx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct fault *f = fault_of(dev);

    tx_flush(f, now_ns);
    /* inner is still refusing older frames: take nothing new, so that
     * what we hold stays bounded (the caller counts these as a full
     * device). */
    if (f->tx.ready.len > 0)
        return 0;
    for (uint16_t i = 0; i < n; i++)
        process(f, &f->tx, pkts[i], now_ns);
    tx_flush(f, now_ns);
    return n;
}

static void line_free(struct line *l)
{
    rte_pktmbuf_free(l->held); /* NULL is fine */
    l->held = NULL;
    mbuf_fifo_free(&l->delay);
    mbuf_fifo_free(&l->ready);
}

static void fault_close(struct netdev *dev)
{
    struct fault *f = fault_of(dev);

    line_free(&f->rx);
    line_free(&f->tx);
    netdev_close(f->inner);
    smem_free(f);
}

static const struct netdev_ops fault_ops = {
    .rx_burst = fault_rx,
    .tx_burst = fault_tx,
    .close = fault_close,
};

static bool dir_valid(const struct fault_dir *d)
{
    return d->loss_ppm <= FAULT_PPM_MAX && d->duplicate_ppm <= FAULT_PPM_MAX && d->reorder_ppm <= FAULT_PPM_MAX &&
           d->corrupt_ppm <= FAULT_PPM_MAX;
}

/* Each direction gets its own stream from the seed, so that how rx and tx
 * calls interleave does not change either direction's outcome. */
static void line_init(struct line *l, const struct fault_dir *cfg, uint64_t seed, uint64_t salt)
{
    uint64_t s = seed ^ salt;

    memset(l, 0, sizeof(*l));
    l->cfg = *cfg;
    l->rng = rng_next(&s);
}

int netdev_fault_wrap(struct netdev *inner, const struct fault_params *p, struct stack_counters *ctr,
                      struct netdev **out)
{
    struct fault *f;

    if (inner == NULL || p == NULL || out == NULL || !dir_valid(&p->rx) || !dir_valid(&p->tx))
        return -EINVAL;
    f = smem_calloc(1, sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    f->dev.ops = &fault_ops;
    f->dev.mac = inner->mac;
    f->dev.mtu = inner->mtu;
    f->dev.offloads = inner->offloads;
    f->dev.rx_intr_fd = inner->rx_intr_fd;
    f->dev.port_id = inner->port_id;
    snprintf(f->dev.name, sizeof(f->dev.name), "fault:%.56s", inner->name);
    f->inner = inner;
    f->ctr = ctr != NULL ? ctr : &f->own_ctr;
    line_init(&f->rx, &p->rx, p->seed, 0x7278000000000000ull /* "rx" */);
    line_init(&f->tx, &p->tx, p->seed, 0x7478000000000000ull /* "tx" */);
    *out = &f->dev;
    return 0;
}
