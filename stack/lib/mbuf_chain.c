/* mbuf_chain.c - see mbuf_chain.h. */
#include "mbuf_chain.h"

#include <rte_mbuf.h>

struct rte_mbuf *mbuf_chain_trim_front(struct rte_mbuf *m, uint32_t n)
{
    while (n >= m->data_len && m->next != NULL) {
        struct rte_mbuf *next = m->next;

        next->pkt_len = m->pkt_len - m->data_len;
        next->nb_segs = (uint16_t)(m->nb_segs - 1);
        n -= m->data_len;
        m->next = NULL;
        m->nb_segs = 1;
        m->pkt_len = m->data_len;
        rte_pktmbuf_free_seg(m);
        m = next;
    }
    /* n <= data_len now: the rest is inside this segment */
    rte_pktmbuf_adj(m, (uint16_t)n);
    return m;
}

void mbuf_chain_trim_back(struct rte_mbuf *m, uint32_t n)
{
    /* strictly inside the last segment: trimming it whole would leave an
     * empty segment in the chain */
    if (n < rte_pktmbuf_lastseg(m)->data_len) {
        rte_pktmbuf_trim(m, (uint16_t)n);
        return;
    }

    uint32_t keep = m->pkt_len - n, acc = 0;
    uint16_t segs = 1;
    struct rte_mbuf *cur = m;

    while (acc + cur->data_len < keep) {
        acc += cur->data_len;
        cur = cur->next;
        segs++;
    }
    cur->data_len = (uint16_t)(keep - acc);
    for (struct rte_mbuf *rest = cur->next, *next; rest != NULL; rest = next) {
        next = rest->next;
        rest->next = NULL; /* one segment at a time: not a packet head */
        rte_pktmbuf_free_seg(rest);
    }
    cur->next = NULL;
    m->pkt_len = keep;
    m->nb_segs = segs;
}
