/*
 * runtime.h - the process-wide state of the queue core: whether demi_init has
 * run, the configuration, and the mbuf pool. One per process (the Demikernel
 * model); the demi API is not thread-safe, callers serialise.
 */
#ifndef SLUICE_RUNTIME_H
#define SLUICE_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include <errno.h>

#include "config.h"

struct rte_mempool;

struct runtime {
    bool running;                  /* demi_init succeeded */
    bool eal_failed;               /* rte_eal_init failed: it cannot be retried in this process */
    bool detached;                 /* sluice_detach: the exit handler leaves the stack running */
    struct sluice_config cfg;
    struct rte_mempool *pool;      /* mbufs for sgas, pops and (later) packets */
    uintptr_t *pool_objs;          /* sorted addresses of every mbuf of pool */
    uint32_t pool_nobjs;
};

extern struct runtime g_rt;

/* Starts DPDK's EAL and creates the mbuf pool from cfg. eal_argv, when not
 * NULL, replaces the EAL arguments built from cfg (dmtr_init's argv).
 * Returns 0, -EINVAL for a bad config or EAL argument, -ENOMEM when the pool
 * cannot be created, -EIO when the EAL does not start; logs one line that says
 * what is wrong and how to fix it. */
int runtime_start(int eal_argc, char **eal_argv);

/* 0 when demi_init has succeeded, else ENOSYS (positive: for demi_* callers). */
static inline int runtime_check(void)
{
    return g_rt.running ? 0 : ENOSYS;
}

#endif
