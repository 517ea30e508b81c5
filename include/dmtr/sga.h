/* dmtr/sga.h - Demeter scatter-gather helpers over Sluice's mbuf pool. */
#ifndef DMTR_SGA_H_IS_INCLUDED
#define DMTR_SGA_H_IS_INCLUDED

#include <dmtr/types.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * As demi_sgaalloc, into *sga_out: 0; EINVAL for NULL
 * sga_out or a bad size; ENOMEM; ENOSYS.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_sgaalloc(dmtr_sgarray_t *sga_out, size_t size);
/*
 * As demi_sgafree.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_sgafree(dmtr_sgarray_t *sga);

#ifdef __cplusplus
}
#endif

#endif /* DMTR_SGA_H_IS_INCLUDED */
