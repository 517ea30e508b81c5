/*
 * smem.h - where the stack's state lives: DPDK's heap (rte_malloc), never
 * the C library's. DPDK's memory stays shared with processes forked after
 * the EAL started, so a connection, a socket or a table made by one member
 * of a process family is the same object in every other
 * (docs/DESIGN.md "Process families"); malloc's heap would be copied.
 * Each call is the rte_* one: NULL on failure (no memory left in the heap,
 * sized by eal.memory_mb).
 */
#ifndef SLUICE_STACK_SMEM_H
#define SLUICE_STACK_SMEM_H

#include <stddef.h>

#include <rte_malloc.h>

/* n zeroed objects of size bytes (calloc's contract), cache-line aligned. */
static inline void *smem_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return rte_zmalloc("sluice_stack", n * size, 0);
}

/* size bytes, not zeroed. */
static inline void *smem_malloc(size_t size)
{
    return rte_malloc("sluice_stack", size, 0);
}

/* Frees p (NULL: nothing). */
static inline void smem_free(void *p)
{
    rte_free(p);
}

#endif
