/*
 * sluice/process.h - a stack shared by a process family. DPDK's memory and
 * every socket's state are shared with the processes forked after demi_init
 * (docs/DESIGN.md "Process families"): they may use the stack too, one at a
 * time (the caller serialises, as for threads; the preload does it with a
 * process-shared lock). The process that ran demi_init stops DPDK at exit,
 * unless it leaves the stack to the others first.
 */
#ifndef SLUICE_PROCESS_H
#define SLUICE_PROCESS_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Leaves the stack running for the processes forked from this one after
 * demi_init: this process's exit handler then neither closes the queues
 * still open nor stops DPDK (the memory is freed when the last process
 * mapping it exits). Call it before exit in the process that ran demi_init
 * while its children still serve (a daemon's parent that exits first).
 * Idempotent; allocates nothing.
 * Returns 0, or a positive errno:
 *   ENOSYS    before demi_init (nothing to leave).
 * Source: Sluice's own call (docs/DESIGN.md "Process families").
 */
int sluice_detach(void);

#ifdef __cplusplus
}
#endif

#endif
