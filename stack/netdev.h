/*
 * netdev.h - the stack's only view of a network device: bursts of rte_mbuf
 * in and out (docs/DESIGN.md "Layers"). Implementations: a DPDK ethdev port
 * (netdev_dpdk.c: net_af_packet, net_tap, net_memif, a PCI NIC), a fake
 * for unit tests (netdev_fake.c), and the fault injector that wraps either
 * (fault.c).
 */
#ifndef SLUICE_NETDEV_H
#define SLUICE_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

struct rte_mbuf;
struct rte_mempool;
struct netdev;

struct netdev_ops {
    /* Receives up to n frames into pkts (the caller owns them); returns how
     * many. now_ns: the engine's clock (the fault injector delays by it). */
    uint16_t (*rx_burst)(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns);
    /* Sends up to n frames; returns how many the device took (it owns
     * those); the caller keeps the rest. */
    uint16_t (*tx_burst)(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns);
    /* Stops the device and frees dev. */
    void (*close)(struct netdev *dev);
};

/* Offloads a device does for us (subsets of DPDK's RTE_ETH_{RX,TX}_OFFLOAD_*). */
#define NETDEV_TX_IPV4_CKSUM (1u << 0)
#define NETDEV_TX_UDP_CKSUM (1u << 1)
#define NETDEV_TX_TCP_CKSUM (1u << 2)
#define NETDEV_RX_IPV4_CKSUM (1u << 3) /* mbuf ol_flags carry RTE_MBUF_F_RX_IP_CKSUM_{GOOD,BAD} */
#define NETDEV_RX_L4_CKSUM (1u << 4)   /* ... and RTE_MBUF_F_RX_L4_CKSUM_{GOOD,BAD} */

struct netdev {
    const struct netdev_ops *ops;
    struct rte_ether_addr mac;
    uint16_t mtu;       /* bytes of IP packet per frame */
    uint32_t offloads;  /* NETDEV_* */
    int rx_intr_fd;     /* an fd that becomes readable on Rx, or -1 */
    char name[64];      /* for log lines */
    void *priv;
};

static inline uint16_t netdev_rx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    return dev->ops->rx_burst(dev, pkts, n, now_ns);
}

static inline uint16_t netdev_tx(struct netdev *dev, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns)
{
    return dev->ops->tx_burst(dev, pkts, n, now_ns);
}

static inline void netdev_close(struct netdev *dev)
{
    if (dev != NULL)
        dev->ops->close(dev);
}

/* ---- netdev_fake.c: for unit tests ---- */

/* A device whose transmitted frames are kept for the test to inspect and
 * whose received frames are the ones the test injects. mtu bytes. */
struct netdev *netdev_fake_create(const struct rte_ether_addr *mac, uint16_t mtu);
/* Queues m (ownership passes) to be returned by the next rx_burst. */
void netdev_fake_inject(struct netdev *dev, struct rte_mbuf *m);
/* Takes the oldest transmitted frame (the caller owns it), or NULL. */
struct rte_mbuf *netdev_fake_take_tx(struct netdev *dev);
/* Frames transmitted and not yet taken. */
unsigned netdev_fake_tx_count(const struct netdev *dev);
/* Makes the device accept only up to n frames per tx_burst (n = UINT16_MAX: all). */
void netdev_fake_set_tx_limit(struct netdev *dev, uint16_t n);
/* Joins two fake devices: what one transmits, the other receives. */
void netdev_fake_link(struct netdev *a, struct netdev *b);

#endif
