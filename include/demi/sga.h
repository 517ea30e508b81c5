/*
 * demi/sga.h - scatter-gather arrays backed by Sluice's mbuf pool.
 */
#ifndef DEMI_SGA_H_IS_INCLUDED
#define DEMI_SGA_H_IS_INCLUDED

#include <demi/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Allocates one contiguous segment of size bytes
 * (1..1 GiB) backed by the mbuf pool (larger than one data room: an
 * external buffer attached to an mbuf). The caller owns it until
 * demi_sgafree or a push that it then frees.
 * On failure sga_numsegs is 0 and errno is ENOSYS (before demi_init),
 * EINVAL (size 0 or above 1 GiB) or ENOMEM (pool or memory exhausted).
 * Source: Demikernel's demi_sgaalloc(3); Sluice's choices: docs/queue-api.md.
 */
demi_sgarray_t demi_sgaalloc(size_t size);
/*
 * Gives back an array from demi_sgaalloc or a completed pop.
 * Returns 0; EINVAL for NULL, an array Sluice did not hand out, or one
 * already freed; ENOSYS before demi_init.
 * Source: Demikernel's demi_sgafree(3); Sluice's choices: docs/queue-api.md.
 */
int demi_sgafree(demi_sgarray_t *sga);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_SGA_H_IS_INCLUDED */
