/*
 * sluice/engine.h - an engine of its own for a thread: one queue pair of
 * the device, with its own connections, timers, queue descriptors, tokens
 * and mbuf cache, driven by that thread alone, with no lock on its data
 * path (docs/DESIGN.md "Engines per thread").
 *
 * The device is opened with net.queues queue pairs (config key, env
 * SLUICE_NET_QUEUES; 1 by default). Queue pair 0 belongs to engine 0, the
 * process's shared engine: every thread that did not start an engine uses
 * it, and those threads serialise their calls (as in Demikernel). Queue
 * pair k (1 .. net.queues-1) belongs to engine k once a thread starts it.
 * Every engine has the same address; each picks its own ephemeral ports
 * (port % net.queues == k), so two engines' connections never share a
 * 4-tuple. A server listens on each engine it serves from (one socket per
 * engine, same port). Which engine a peer's connection reaches is the
 * device's choice: net_memif delivers on the queue the peer sent on (a
 * Sluice peer with engines of its own: engine k talks to engine k), a NIC
 * or net_tap by RSS hash.
 *
 * What may cross engines and what may not: queue descriptors and tokens
 * belong to the engine that made them. Used from a thread of another
 * engine they are refused (EXDEV for a descriptor, EINVAL for a token).
 * sgas (demi_sgaalloc, popped arrays) come from one mbuf pool shared by
 * all engines: they may be freed or pushed from any engine's thread.
 * Memory queues and pipes are descriptors like the others.
 */
#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Gives the calling thread engine `queue` (1 .. net.queues-1), or with
 * queue -1 the lowest that no thread has, and starts its stack on that
 * queue pair (opening the device first if no socket has yet). With cpu >=
 * 0 the thread is pinned to that CPU first (it must be one this process
 * may run on); -1 leaves its affinity alone. The thread also becomes a
 * DPDK lcore (rte_thread_register) so that it has an mbuf cache of its
 * own. From then on every demi_* call of this thread uses its engine;
 * sluice_engine_stop gives it back.
 * engine_out (may be NULL) receives the engine's number (= its queue).
 * Returns 0, or a positive errno (one log line says what to fix):
 *   ENOSYS    before demi_init;
 *   EBUSY     this thread already has an engine, another thread has
 *             engine `queue`, or engines are shared (sluice_engines_share:
 *             they belong to no thread);
 *   EINVAL    queue is 0 (engine 0 is the shared one: use it without this
 *             call), below -1, or not below net.queues; or cpu is below -1
 *             or not one this process may run on;
 *   ENOSPC    every queue pair already has an engine (raise net.queues);
 *   ENETDOWN  the device did not open or the stack did not start;
 *   ENOMEM    out of memory.
 * Source: Sluice's own call (Demikernel has none; Onload's
 * EF_STACK_PER_THREAD and mTCP's mtcp_create_context are the models).
 */
int sluice_engine_start(int queue, int cpu);

/*
 * Closes every queue descriptor of the calling thread's engine (pending
 * operations fail with ECANCELED, connections are closed as by demi_close)
 * and its stack, and gives the queue pair back: the thread uses engine 0
 * again. Tokens of the engine not yet taken are gone.
 * Returns 0, or a positive errno:
 *   ENOSYS    before demi_init;
 *   ENOENT    the calling thread has no engine of its own;
 *   EPERM     engines are shared (sluice_engines_share): they are closed
 *             at exit, not by a thread.
 * Source: Sluice's own call.
 */
int sluice_engine_stop(void);

/*
 * The engine the calling thread's calls use: 0 (the shared one) unless it
 * started one with sluice_engine_start, or, with shared engines, the one
 * sluice_engine_use picked or the last descriptor or token named.
 * Allocates nothing.
 * Returns the engine's number (= its queue pair), or -1 before demi_init.
 * Source: Sluice's own call.
 */
int sluice_engine_self(void);

/*
 * sluice_stats (<sluice/stats.h>) for one engine: the counters of engine
 * `engine`'s stack alone (sluice_stats sums every engine's). Names, units
 * and arrays as sluice_stats.
 * Returns 0, or a positive errno:
 *   ENOSYS    before demi_init;
 *   ENOENT    no such engine runs, or its network has not started;
 *   EINVAL    count_out NULL, max < 0, or NULL arrays with max > 0.
 * Source: Sluice's own call (docs/network.md "Counters").
 */
int sluice_engine_stats(int engine, const char **names, uint64_t *values, int max, int *count_out);

/*
 * Makes engines 1 .. net.queues-1 now, each with its stack on its queue
 * pair, owned by no thread: shared engines, for a program (or the
 * interposer's process family) that serialises every call itself and
 * decides which thread or process drives which engine. From then on, in
 * this process and in every process forked from it afterwards, a call
 * that names a descriptor or a token runs on the engine that made it (no
 * EXDEV, no EINVAL for another engine's), and so do the calls that follow
 * it in that thread; sluice_engine_use picks the engine for the calls that
 * name none (demi_socket, demi_wait_next_n). demi_wait_any on tokens of
 * several engines drives the engine of the last one (a done token of
 * another is still returned, and given back to its own engine). A failure
 * leaves no engine made. Idempotent.
 * count_out (may be NULL) receives net.queues: engines 0 .. count-1 exist.
 * Returns 0, or a positive errno:
 *   ENOSYS    before demi_init;
 *   EBUSY     a thread started an engine of its own (sluice_engine_start):
 *             shared engines and engines per thread do not mix;
 *   ENETDOWN  the device did not open or a stack did not start;
 *   ENOMEM    out of memory.
 * Source: Sluice's own call (docs/preload.md "Engines per process").
 */
int sluice_engines_share(int *count_out);

/*
 * After sluice_engines_share: the calling thread's calls that name no
 * descriptor or token (demi_socket, demi_wait_next_n, ...) go to engine
 * id (0 .. count-1) until a call names another engine's. Allocates
 * nothing.
 * Returns 0, or a positive errno:
 *   ENOSYS    before demi_init;
 *   ENOENT    engine id does not run;
 *   EPERM     id is not 0 and engines are not shared, or the calling
 *             thread has an engine of its own (sluice_engine_stop).
 * Source: Sluice's own call.
 */
int sluice_engine_use(int id);

/*
 * The engine a queue descriptor belongs to: qd >> 20 (engine k's
 * descriptors are k << 20 | index). Checks nothing: a closed descriptor
 * still names its engine.
 * Returns the engine's number, or -1 when qd is negative.
 * Source: Sluice's own call.
 */
int sluice_engine_of(int qd);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_ENGINE_H */
