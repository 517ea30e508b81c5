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

/*
 * In a process forked after demi_init, once the process that ran it has
 * left the stack to its family (sluice_detach) and exited: this process's
 * exit handler closes every engine's queues and stack and the device (an
 * AF_XDP port takes its XDP program off the interface, a memif port hangs
 * up). Call it in the family's last process before it exits. DPDK itself
 * is not stopped: its threads belonged to the first process. Does nothing
 * in the process that ran demi_init. Idempotent; allocates nothing.
 * Returns 0, or a positive errno:
 *   ENOSYS    before demi_init, or after the stack stopped.
 * Source: Sluice's own call (docs/DESIGN.md "Process families").
 */
int sluice_take_over(void);

/*
 * Repairs what a process of the family left half done when it died (a
 * SIGKILL, a crash) while it held the lock the family's processes take to
 * use the stack. Call it holding that lock, at once, when taking it told
 * you its owner died (pthread_mutex_lock's EOWNERDEAD on a robust mutex).
 * It puts back every DPDK ring-based mempool (the mbuf pools) whose ring
 * was in the middle of an enqueue or dequeue: the half-done operation is
 * undone, so the mbufs in it are leaked (never handed out twice, never
 * waited for). It does not check the stack's own state: a death in the
 * middle of an update of a connection or of DPDK's heap may still leave
 * it inconsistent (docs/DESIGN.md "Process families").
 * repaired (may be NULL) receives how many rings were put back.
 * Returns 0, or a positive errno:
 *   ENOSYS    before demi_init (nothing to repair).
 * Source: Sluice's own call; rte_ring's head/tail protocol (DPDK's
 * programmer's guide, "Ring Library").
 */
int sluice_owner_died(unsigned *repaired);

#ifdef __cplusplus
}
#endif

#endif
