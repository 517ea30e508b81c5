/*
 * steer.h - engines sharing one device
 * (docs/DESIGN.md "Engines per thread"): a frame the device delivered to an engine that does not own
 * its connection (the peer's hash chose the queue) goes to the one that
 * does through an rte_ring; a SYN for a port only another engine listens
 * on goes to that engine; every engine learns from every ARP frame to our
 * address. Used only when the device has more than one queue pair
 * (net.queues > 1).
 */
#ifndef SLUICE_STEER_H
#define SLUICE_STEER_H

struct engine;

/* Joins e (its stack just made) to the device's directory, making the
 * directory and e's ring on first use. 0 (also when net.queues is 1:
 * nothing to do), or -ENOMEM. */
int steer_attach(struct engine *e);

/* Takes e out before its stack is destroyed: its connections and
 * listeners are forgotten, frames waiting for it are freed. */
void steer_detach(struct engine *e);

#endif
