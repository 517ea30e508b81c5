/*
 * netdev_fake.h - a fake network device for the unit tests (netdev_fake.c):
 * frames the stack transmits are kept for the test to inspect, frames the
 * test injects are what the stack receives. Not part of libsluice.
 */
#ifndef SLUICE_NETDEV_FAKE_H
#define SLUICE_NETDEV_FAKE_H

#include <stdint.h>

#include <rte_ether.h>

#include "netdev.h"

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

struct rte_mbuf;
/* Records frame m (not taken) at virtual time now_ns (ns) in the pcap of
 * the running test (frames_pcap.c): the file is kept and named when the
 * test fails. */
void frames_pcap_record(const struct rte_mbuf *m, uint64_t now_ns);

#endif
