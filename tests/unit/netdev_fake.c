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

#include "mbuf_fifo.h"
#include "netdev_fake.h"

struct fake {
    struct netdev dev;
    struct mbuf_fifo rx, tx; /* time stamps unused */
    struct netdev *peer;
    uint16_t tx_limit;
    uint64_t last_ns; /* the engine's clock at its last burst: injected frames' time */
};

/* Every frame sent or injected, for the pcap of a failing test
 * (frames_pcap.c, in sluice-unit); nothing where that file is not linked
 * (the fuzz targets). */
__attribute__((weak)) void frames_pcap_record(const struct rte_mbuf *m, uint64_t now_ns)
{
    (void)m;
    (void)now_ns;
}

static struct fake *fake_of(struct netdev *dev)
{
    return (struct fake *)dev;
}

static uint16_t fake_rx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct fake *f = fake_of(dev);
    uint16_t got = 0;

    f->last_ns = now_ns;
    while (got < n && f->rx.len > 0)
        pkts[got++] = mbuf_fifo_pop(&f->rx);
    return got;
}

static uint16_t fake_tx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    struct fake *f = fake_of(dev);
    uint16_t took = 0;

    for (; took < n && took < f->tx_limit; took++) {
        struct mbuf_fifo *to = f->peer != NULL ? &fake_of(f->peer)->rx : &f->tx;
        if (mbuf_fifo_push(to, pkts[took], 0) != 0)
            break;
        frames_pcap_record(pkts[took], now_ns);
    }
    return took;
}

static void fake_close(struct netdev *dev)
{
    struct fake *f = fake_of(dev);

    if (f->peer != NULL)
        fake_of(f->peer)->peer = NULL;
    mbuf_fifo_free(&f->rx);
    mbuf_fifo_free(&f->tx);
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
    f->dev.port_id = -1;
    snprintf(f->dev.name, sizeof(f->dev.name), "fake");
    f->tx_limit = UINT16_MAX;
    return &f->dev;
}

void netdev_fake_inject(struct netdev *dev, struct rte_mbuf *m)
{
    frames_pcap_record(m, fake_of(dev)->last_ns);
    if (mbuf_fifo_push(&fake_of(dev)->rx, m, 0) != 0)
        rte_pktmbuf_free(m);
}

struct rte_mbuf *netdev_fake_take_tx(struct netdev *dev)
{
    return mbuf_fifo_pop(&fake_of(dev)->tx);
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
