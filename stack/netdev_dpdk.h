/*
 * netdev_dpdk.h - a netdev on one DPDK ethdev port (one Rx and one Tx
 * queue): a hot-plugged virtual device (net_af_packet, net_tap, net_memif)
 * or a PCI NIC. The EAL must be running (demi_init) before it is opened.
 */
#ifndef SLUICE_NETDEV_DPDK_H
#define SLUICE_NETDEV_DPDK_H

#include <stddef.h>
#include <stdint.h>

#include "netdev.h"

struct rte_mempool;

struct netdev_dpdk_params {
    /* DPDK device string: "net_af_packet0,iface=sluice0" | "net_tap0,iface=sl0" |
     * "net_memif0,role=server,socket=/run/x.sock" | a PCI address "0000:03:00.0". */
    const char *devargs;
    uint16_t mtu;                    /* bytes of IP packet; 0: keep the device's */
    uint16_t nb_rx_desc, nb_tx_desc; /* ring sizes; 0: 1024 */
    uint64_t link_timeout_ns;        /* how long to wait for link up; 0: do not wait */
};

/*
 * Opens the device named by p->devargs: probes it (rte_dev_probe; a device
 * the EAL has already probed, e.g. a PCI NIC named with eal.args -a, is
 * just looked up), configures one Rx queue (mbufs from pool, which the
 * caller keeps owning and must outlive the device) and one Tx queue,
 * enables the checksum offloads the port offers (reported in
 * (*out)->offloads as NETDEV_*), sets the MTU, starts the port and waits up
 * to p->link_timeout_ns for link up. (*out)->rx_intr_fd is the Rx queue's
 * interrupt fd when the PMD has one (readable on Rx; poll it, never read
 * it), else -1.
 *
 * Returns 0 and *out (the caller owns it; netdev_close stops, closes and
 * removes the device), or -errno with one line in err (errlen bytes, always
 * NUL-terminated when errlen > 0) saying what is wrong and how to fix it:
 *   -EINVAL  a NULL argument or empty devargs, or the port refused the
 *            configuration (e.g. an MTU it cannot do);
 *   -ENODEV  no such device: the interface of net_af_packet is missing, no
 *            driver takes the devargs, or no port came of the probe;
 *   -EBUSY   the device is already open (in this process);
 *   -ETIMEDOUT  the link did not come up within link_timeout_ns;
 *   -ENOMEM  out of memory;
 *   other    what DPDK returned (e.g. -EPERM when not root).
 * On failure everything it did is undone (port stopped and closed, device
 * removed if it probed it). Never lets DPDK panic.
 */
int netdev_dpdk_open(const struct netdev_dpdk_params *p, struct rte_mempool *pool, struct netdev **out,
                     char *err, size_t errlen);

#endif
