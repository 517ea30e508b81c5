/*
 * net.h - the network stack of this process, started on first use.
 *
 * demi_init starts only DPDK; the first socket call opens the configured
 * device (net.devargs, hot-plugged) and creates the stack, so programs
 * that use only pipes and memory queues never need a network.
 */
#ifndef SLUICE_NET_H
#define SLUICE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack;
struct stack_params;
struct sluice_config;

/* The stack's parameters from the config: addresses, and net.arp_static
 * parsed ("a.b.c.d=xx:xx:xx:xx:xx:xx" entries, space or comma separated, at
 * most STACK_ARP_STATIC_MAX). 0, or -EINVAL with one log line naming the
 * key and the bad entry. */
int net_params_from_config(const struct sluice_config *cfg, struct stack_params *p);

/* The stack, starting it if needed: NULL with errno ENETDOWN when the
 * device does not open or the stack cannot start (one log line says why and
 * how to fix it; the next call tries again). */
struct stack *net_stack(void);

/* Stops the stack (closing its device); logs its counters at info level. */
void net_stop(void);

struct netdev_capture;
/* The capture point at the device, NULL before the network started. */
struct netdev_capture *net_capture(void);
/* The stack's IPv4 address (network order), 0 before it started. */
uint32_t net_addr(void);

/* The devargs of engine engine_id's own port on a device that takes one
 * queue per port (net_af_xdp): the name becomes net_af_xdp<engine_id>,
 * start_queue becomes the configured one (0 if none) + engine_id, and
 * queue_count=1. Written into out (cap bytes). 0, -EINVAL (NULL, not
 * net_af_xdp, or devargs longer than net.devargs may be), -ENAMETOOLONG
 * (out too short). */
int net_queue_devargs(const char *devargs, unsigned engine_id, char *out, size_t cap);

/* For a net_af_xdp device: whether no bpffs is mounted at mnt (libxdp's
 * dispatcher lives there); says so in one warning line with the command
 * that fixes it. false for other devices and when it is mounted. */
bool net_bpffs_missing(const char *devargs, const char *mnt);

struct netdev;
/* Puts the fault injector in front of *dev when the config's fault.* keys
 * ask for it (a warning says so); *dev is then the wrapper. 0, or -errno
 * with a log line (*dev unchanged). */
int net_wrap_faults(struct netdev **dev);
/* Whether a monitor (core/monitor.c) owns the engine's poll hook. */
bool monitor_running(void);

#endif
