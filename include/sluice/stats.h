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

/*
 * Copies the first max counters into the caller's arrays: names[i] (static
 * strings owned by the library, not to be freed) and values[i] (packets,
 * bytes or drops since the network started), for i < min(max, *count_out),
 * and sets *count_out to how many counters there are (call with max 0 and
 * NULL arrays to size them). Nothing is allocated.
 * Returns 0, or a positive errno like every public call
 * (<sluice/socket.h>), *count_out then untouched:
 *   ENOSYS    before demi_init;
 *   ENETDOWN  the network has not started (the first socket starts it);
 *   EINVAL    count_out NULL, max < 0, or NULL arrays with max > 0.
 * Source: Sluice's own call (docs/network.md "Counters").
 */
int sluice_stats(const char **names, uint64_t *values, int max, int *count_out);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_STATS_H */
