/*
 * sluice/stats.h - the network stack's counters: packets and bytes per
 * layer, and every drop by its cause (one counter per cause, e.g.
 * ip_drop_checksum, udp_drop_rcvq_full, arp_drop_unresolved). With
 * SLUICE_LOG=info the non-zero ones are also printed at exit.
 */
#ifndef SLUICE_STATS_H
#define SLUICE_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copies the first max counters: names[i] (static strings, not to be freed)
 * and values[i]. Returns how many counters there are (call with max 0 and
 * NULL arrays to size them), or -1 with errno ENOSYS (before demi_init),
 * ENETDOWN (the network has not started: the first socket starts it) or
 * EINVAL (max < 0, or NULL arrays with max > 0). */
int sluice_stats(const char **names, uint64_t *values, int max);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_STATS_H */
