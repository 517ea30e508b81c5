/*
 * netdev_fake.c - a device for unit tests (see netdev.h): transmitted
 * frames are kept for the test (or handed to a linked peer device), and
 * received frames are the ones the test injected.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>

#include "netdev.h"

/* A growable FIFO of mbuf pointers. */
struct mbuf_fifo {
    struct rte_mbuf **v;
    unsigned cap, head, len;
};

struct fake {
    struct netdev dev;
    struct mbuf_fifo rx, tx;
    struct netdev *peer;
    uint16_t tx_limit;
};

static int fifo_push(struct mbuf_fifo *f, struct rte_mbuf *m)
{
    if (f->len == f->cap) {
        unsigned cap = f->cap ? f->cap * 2 : 64;
        struct rte_mbuf **v = malloc(cap * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        for (unsigned i = 0; i < f->len; i++)
            v[i] = f->v[(f->head + i) % f->cap];
        free(f->v);
        f->v = v;
        f->cap = cap;
        f->head = 0;
    }
    f->v[(f->head + f->len) % f->cap] = m;
    f->len++;
    return 0;
}

static struct rte_mbuf *fifo_pop(struct mbuf_fifo *f)
{
    struct rte_mbuf *m;

    if (f->len == 0)
        return NULL;
    m = f->v[f->head];
    f->head = (f->head + 1) % f->cap;
    f->len--;
    return m;
}

static void fifo_free(struct mbuf_fifo *f)
{
    struct rte_mbuf *m;

    while ((m = fifo_pop(f)) != NULL)
        rte_pktmbuf_free(m);
    free(f->v);
}

static struct fake *fake_of(struct netdev *dev)
{
    return (struct fake *)dev;
}

static uint16_t fake_rx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct fake *f = fake_of(dev);
    uint16_t got = 0;

    (void)now_ns;
    while (got < n && f->rx.len > 0)
        pkts[got++] = fifo_pop(&f->rx);
    return got;
}

static uint16_t fake_tx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct fake *f = fake_of(dev);
    uint16_t took = 0;

    (void)now_ns;
    for (; took < n && took < f->tx_limit; took++) {
        struct mbuf_fifo *to = f->peer != NULL ? &fake_of(f->peer)->rx : &f->tx;
        if (fifo_push(to, pkts[took]) != 0)
            break;
    }
    return took;
}

static void fake_close(struct netdev *dev)
{
    struct fake *f = fake_of(dev);

    if (f->peer != NULL)
        fake_of(f->peer)->peer = NULL;
    fifo_free(&f->rx);
    fifo_free(&f->tx);
    free(f);
}

static const struct netdev_ops fake_ops = {
    .rx_burst = fake_rx,
    .tx_burst = fake_tx,
    .close = fake_close,
};

struct netdev *netdev_fake_create(const struct rte_ether_addr *mac, uint16_t mtu)
{
    struct fake *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->dev.ops = &fake_ops;
    f->dev.mac = *mac;
    f->dev.mtu = mtu;
    f->dev.offloads = 0;
    f->dev.rx_intr_fd = -1;
    snprintf(f->dev.name, sizeof(f->dev.name), "fake");
    f->tx_limit = UINT16_MAX;
    return &f->dev;
}

void netdev_fake_inject(struct netdev *dev, struct rte_mbuf *m)
{
    if (fifo_push(&fake_of(dev)->rx, m) != 0)
        rte_pktmbuf_free(m);
}

struct rte_mbuf *netdev_fake_take_tx(struct netdev *dev)
{
    return fifo_pop(&fake_of(dev)->tx);
}

unsigned netdev_fake_tx_count(const struct netdev *dev)
{
    return ((const struct fake *)dev)->tx.len;
}

void netdev_fake_set_tx_limit(struct netdev *dev, uint16_t n)
{
    fake_of(dev)->tx_limit = n;
}

void netdev_fake_link(struct netdev *a, struct netdev *b)
{
    fake_of(a)->peer = b;
    fake_of(b)->peer = a;
}
