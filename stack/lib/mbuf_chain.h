/*
 * mbuf_chain.h - trimming bytes off either end of an mbuf chain. DPDK's
 * rte_pktmbuf_adj and rte_pktmbuf_trim only work inside the first or last
 * segment; TCP cuts received segments anywhere (headers, overlaps, window
 * edges), so chains from IP reassembly need the general case.
 */
#ifndef SLUICE_MBUF_CHAIN_H
#define SLUICE_MBUF_CHAIN_H

#include <stdint.h>

struct rte_mbuf;

/* Drops the first n bytes of chain m (n <= its length); leading segments
 * left empty are freed. Returns the new head (m, or a later segment that
 * now carries the chain's totals). */
struct rte_mbuf *mbuf_chain_trim_front(struct rte_mbuf *m, uint32_t n);
/* Drops the last n bytes of chain m (n < its length); trailing segments
 * left empty are freed. */
void mbuf_chain_trim_back(struct rte_mbuf *m, uint32_t n);

#endif
