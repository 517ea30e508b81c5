/*
 * mbuf.h - scatter-gather arrays on rte_mbufs: allocation, ownership checks
 * and references (docs/DESIGN.md "Buffers").
 *
 * An sga handed to the application has sga_buf = its rte_mbuf and one
 * segment pointing into that mbuf's data (or into an external buffer
 * attached to it, for sizes above one data room). The mbuf's private area
 * counts the handles the application holds (app_refs) so that a second
 * demi_sgafree of the same array is refused with EINVAL instead of
 * corrupting the pool. Internal holders (a queue, an in-flight push) take
 * rte_mbuf references, which do not count as application handles.
 */
#ifndef SLUICE_MBUF_H
#define SLUICE_MBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <demi/types.h>

struct rte_mbuf;
struct rte_mempool;

#define SGA_PRIV_MAGIC 0x53474131u /* "SGA1" */
/* Largest segment demi_sgaalloc hands out, in bytes. */
#define SGA_MAX_BYTES (1u << 30)

/* The mbuf private area (rte_mbuf_to_priv). */
struct sga_priv {
    uint32_t magic;    /* SGA_PRIV_MAGIC once the mbuf has been handed out by us */
    uint32_t app_refs; /* sga handles the application holds */
    uint64_t span;     /* bytes usable from the start of the data (external buffers: the whole buffer) */
};

/* Records the address of every mbuf of pool, so that mbuf_is_ours() can
 * tell a real mbuf from any other pointer without dereferencing it.
 * 0 or -ENOMEM. */
int mbuf_index_pool(struct rte_mempool *pool);

/* True if p is the address of one of the pool's mbufs. */
bool mbuf_is_ours(const void *p);

/* Allocates an mbuf with size contiguous bytes of data (1..SGA_MAX_BYTES):
 * from the pool's data room when it fits, else an external buffer from
 * rte_malloc attached to the mbuf. Sets *data to the first byte. The caller
 * owns one rte_mbuf reference. NULL with errno ENOMEM when memory runs out. */
struct rte_mbuf *mbuf_alloc_span(size_t size, void **data);

/* Lets an mbuf that did not come from mbuf_alloc_span (a received frame)
 * be handed out with sga_hand_out: its data becomes the usable span. */
void mbuf_adopt(struct rte_mbuf *m);

/* Fills *sga with one segment (data, len) owned by m and counts one more
 * application handle on m. Takes over the caller's mbuf reference. */
void sga_hand_out(demi_sgarray_t *sga, struct rte_mbuf *m, void *data, uint32_t len);

/* Checks an sga the application pushes: non-NULL, 1..DEMI_SGARRAY_MAXSIZE
 * segments, each non-NULL and non-empty; if sga_buf is set it must be a live
 * array we handed out and every segment must lie inside its memory.
 * *m_out gets that mbuf, or NULL for application memory.
 * 0 or -EINVAL (demi_push: "does not point to a valid scatter-gather array",
 * "refers to a zero-length buffer"). */
int sga_check(const demi_sgarray_t *sga, struct rte_mbuf **m_out);

/* Gives back one application handle: 0, or -EINVAL if sga is NULL, was not
 * handed out by us, or was already freed. */
int sga_release(demi_sgarray_t *sga);

/* Total bytes of the segments of a checked sga. */
size_t sga_bytes(const demi_sgarray_t *sga);

#endif
