/* dmtr/sga.h - Demeter scatter-gather helpers over Sluice's mbuf pool. */
#ifndef DMTR_SGA_H_IS_INCLUDED
#define DMTR_SGA_H_IS_INCLUDED

#include <dmtr/types.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Allocates one contiguous segment of size bytes into *sga_out.
 * ENOSYS before dmtr_init, EINVAL for NULL or a bad size, ENOMEM. */
int dmtr_sgaalloc(dmtr_sgarray_t *sga_out, size_t size);
/* Releases an array from dmtr_sgaalloc() or a completed pop. EINVAL if it is not one. */
int dmtr_sgafree(dmtr_sgarray_t *sga);

#ifdef __cplusplus
}
#endif

#endif /* DMTR_SGA_H_IS_INCLUDED */
