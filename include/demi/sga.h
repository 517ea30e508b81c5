/*
 * demi/sga.h - scatter-gather arrays backed by Sluice's mbuf pool.
 */
#ifndef DEMI_SGA_H_IS_INCLUDED
#define DEMI_SGA_H_IS_INCLUDED

#include <demi/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Allocates one contiguous segment of size bytes (1 .. 1 GiB). On failure
 * the result has sga_numsegs == 0 and errno says why (ENOSYS before
 * demi_init, EINVAL for a bad size, ENOMEM when the pool is empty). */
demi_sgarray_t demi_sgaalloc(size_t size);
/* Releases an array from demi_sgaalloc() or from a completed pop.
 * EINVAL for NULL, an array Sluice did not hand out, or one already freed. */
int demi_sgafree(demi_sgarray_t *sga);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_SGA_H_IS_INCLUDED */
