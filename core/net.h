/*
 * net.h - the network stack of this process, started on first use.
 *
 * demi_init starts only DPDK; the first socket call opens the configured
 * device (net.devargs, hot-plugged) and creates the stack, so programs
 * that use only pipes and memory queues never need a network.
 */
#ifndef SLUICE_NET_H
#define SLUICE_NET_H

struct stack;

/* The stack, starting it if needed: NULL with errno ENETDOWN when the
 * device does not open or the stack cannot start (one log line says why and
 * how to fix it; the next call tries again). */
struct stack *net_stack(void);

/* Stops the stack (closing its device); logs its counters at info level. */
void net_stop(void);

#endif
