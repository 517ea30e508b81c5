/*
 * eal_args.h - pieces of a DPDK EAL command line that the runtime
 * (runtime.c) and the bench's raw_pingpong build the same way. No DPDK
 * calls: they only read /proc and the CPU affinity.
 */
#ifndef SLUICE_EAL_ARGS_H
#define SLUICE_EAL_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* True when a hugetlbfs this process may write in is mounted (/proc/mounts)
 * and more than min_free
 * hugepages are free (/proc/meminfo HugePages_Free); false when either
 * file cannot be read. */
bool eal_hugepages_free(long min_free);

/* Writes "--lcores=0@(a,b,...)" into buf (cap bytes, at least 32): lcore 0
 * may run on every CPU this process is allowed, so that the EAL does not
 * pin two processes onto the same core; "--lcores=0@(0)" when the
 * affinity cannot be read. Returns buf. */
const char *eal_lcores_arg(char *buf, size_t cap);

#endif
