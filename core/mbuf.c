/*
 * mbuf.c - scatter-gather arrays on rte_mbufs (see mbuf.h).
 */
#include "mbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "runtime.h"

/* Header in front of an external buffer; its shared info carries the
 * reference count that rte_pktmbuf_free drops. */
struct ext_hdr {
    struct rte_mbuf_ext_shared_info shinfo;
    uint64_t len;
} __rte_cache_aligned;

struct obj_index {
    uintptr_t *addr;
    uint32_t n;
};

static void index_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
    struct obj_index *ix = arg;

    (void)mp;
    (void)idx;
    ix->addr[ix->n++] = (uintptr_t)obj;
}

static int cmp_addr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

int mbuf_index_pool(struct rte_mempool *pool)
{
    struct obj_index ix = {.addr = calloc(pool->size, sizeof(uintptr_t)), .n = 0};

    if (ix.addr == NULL)
        return -ENOMEM;
    rte_mempool_obj_iter(pool, index_obj, &ix);
    qsort(ix.addr, ix.n, sizeof(uintptr_t), cmp_addr);
    free(g_rt.pool_objs);
    g_rt.pool_objs = ix.addr;
    g_rt.pool_nobjs = ix.n;
    return 0;
}

bool mbuf_is_ours(const void *p)
{
    uintptr_t key = (uintptr_t)p;

    if (p == NULL || g_rt.pool_objs == NULL)
        return false;
    return bsearch(&key, g_rt.pool_objs, g_rt.pool_nobjs, sizeof(uintptr_t), cmp_addr) != NULL;
}

static struct sga_priv *priv_of(struct rte_mbuf *m)
{
    return rte_mbuf_to_priv(m);
}

static void ext_free(void *addr, void *opaque)
{
    (void)addr;
    rte_free(opaque);
}

/* size bytes in an rte_malloc'd buffer attached to m. rte_mbuf's buf_len is
 * 16 bits, so the mbuf describes at most the first 64 KiB - 1 of a larger
 * buffer; the whole length is in priv->span and the ext_hdr. */
static void *attach_ext(struct rte_mbuf *m, size_t size)
{
    struct ext_hdr *h = rte_malloc("sluice_sga", sizeof(*h) + size, RTE_CACHE_LINE_SIZE);
    uint16_t room = (uint16_t)RTE_MIN(size, (size_t)UINT16_MAX);
    void *data;

    if (h == NULL)
        return NULL;
    data = h + 1;
    h->len = size;
    h->shinfo.free_cb = ext_free;
    h->shinfo.fcb_opaque = h;
    rte_mbuf_ext_refcnt_set(&h->shinfo, 1);
    /* virt2iova reads the malloc header: ask for h, then offset */
    rte_pktmbuf_attach_extbuf(m, data, rte_malloc_virt2iova(h) + sizeof(*h), room, &h->shinfo);
    m->data_len = room;
    m->pkt_len = room;
    return data;
}

struct rte_mbuf *mbuf_alloc_span(size_t size, void **data)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(g_rt.pool);
    struct sga_priv *pv;

    if (m == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    pv = priv_of(m);
    pv->magic = SGA_PRIV_MAGIC;
    pv->app_refs = 0;
    pv->span = size;
    if (size <= rte_pktmbuf_tailroom(m)) {
        *data = rte_pktmbuf_append(m, (uint16_t)size);
        return m;
    }
    *data = attach_ext(m, size);
    if (*data == NULL) {
        rte_pktmbuf_free(m);
        errno = ENOMEM;
        return NULL;
    }
    return m;
}

void mbuf_adopt(struct rte_mbuf *m)
{
    struct sga_priv *pv = priv_of(m);

    pv->magic = SGA_PRIV_MAGIC;
    pv->app_refs = 0;
    pv->span = rte_pktmbuf_data_len(m);
}

void sga_hand_out(demi_sgarray_t *sga, struct rte_mbuf *m, void *data, uint32_t len)
{
    memset(sga, 0, sizeof(*sga));
    priv_of(m)->app_refs++;
    sga->sga_buf = m;
    sga->sga_numsegs = 1;
    sga->sga_segs[0].sgaseg_buf = data;
    sga->sga_segs[0].sgaseg_len = len;
}

/* A live array we handed out: our mbuf, stamped, with a handle outstanding. */
static struct rte_mbuf *live_mbuf(void *p)
{
    struct rte_mbuf *m = p;

    if (!mbuf_is_ours(p))
        return NULL;
    if (priv_of(m)->magic != SGA_PRIV_MAGIC || priv_of(m)->app_refs == 0)
        return NULL;
    return m;
}

/* The segment must lie within [data start, data start + span): a segment may
 * be a sub-span of the array (e.g. a header skipped) but never outside it. */
static bool seg_inside(struct rte_mbuf *m, const demi_sgaseg_t *seg)
{
    uintptr_t lo = (uintptr_t)m->buf_addr;
    uintptr_t hi = rte_pktmbuf_mtod(m, uintptr_t) + priv_of(m)->span;
    uintptr_t b = (uintptr_t)seg->sgaseg_buf;

    return b >= lo && b <= hi && seg->sgaseg_len <= hi - b;
}

int sga_check(const demi_sgarray_t *sga, struct rte_mbuf **m_out)
{
    struct rte_mbuf *m = NULL;

    if (sga == NULL || sga->sga_numsegs == 0 || sga->sga_numsegs > DEMI_SGARRAY_MAXSIZE)
        return -EINVAL;
    if (sga->sga_buf != NULL) {
        m = live_mbuf(sga->sga_buf);
        if (m == NULL)
            return -EINVAL;
    }
    for (uint32_t i = 0; i < sga->sga_numsegs; i++) {
        const demi_sgaseg_t *seg = &sga->sga_segs[i];
        if (seg->sgaseg_buf == NULL || seg->sgaseg_len == 0)
            return -EINVAL;
        if (m != NULL && !seg_inside(m, seg))
            return -EINVAL;
    }
    *m_out = m;
    return 0;
}

int sga_release(demi_sgarray_t *sga)
{
    struct rte_mbuf *m;

    if (sga == NULL)
        return -EINVAL;
    m = live_mbuf(sga->sga_buf);
    if (m == NULL)
        return -EINVAL;
    priv_of(m)->app_refs--;
    rte_pktmbuf_free(m);
    return 0;
}

size_t sga_bytes(const demi_sgarray_t *sga)
{
    size_t n = 0;

    for (uint32_t i = 0; i < sga->sga_numsegs; i++)
        n += sga->sga_segs[i].sgaseg_len;
    return n;
}
