/*
 * observe.h - a running process seen from outside (observe.c): DPDK
 * telemetry commands for tools/sluice-stat, and packet capture to pcapng
 * (docs/observe.md).
 */
#ifndef SLUICE_OBSERVE_H
#define SLUICE_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

struct stack;

/* Registers the /sluice/... telemetry commands (after the EAL started).
 * 0, or -EINVAL (logged: sluice-stat will not see the process). */
int observe_start(void);

/* Answers a pending telemetry request (a table page, a capture start or
 * stop): called by the engine between two passes, in its thread. Costs one
 * atomic load when nothing is pending. */
void observe_poll(struct stack *s);

/* Captures every frame in and out to file (pcapng) until the network
 * stops (net.pcap, SLUICE_PCAP). 0, or -errno (logged). */
int observe_capture_file(const char *file);

/* Whether frame (len bytes) passes filter, a libpcap struct bpf_program:
 * the match function of a capture with a tcpdump expression. */
bool observe_filter_match(const void *frame, uint32_t len, const void *filter);

#endif
