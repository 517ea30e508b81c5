/*
 * engine.h - the run-to-completion engines (docs/DESIGN.md "Engine",
 * "Engines per thread").
 *
 * There are no background threads: every wait drives the caller's engine
 * until its token completes or its timeout passes. One pass runs the poll
 * hook (the network stack plugs in here: rx burst, timers, tx flush) and
 * then moves every queue with pending work forward (pipes).
 *
 * An engine owns a queue-descriptor table, a token table, a poll hook and
 * (net.c) a stack on one queue pair of the device. Engine 0 is the
 * process's shared engine: every thread that has no engine of its own
 * uses it (callers serialise). A thread that asks (sluice_engine_start,
 * <sluice/engine.h>) gets engine k on queue pair k, used by that thread
 * alone, with no lock. A descriptor or token names its engine
 * (ENGINE_QD_SHIFT, qtoken.h), so one used from another engine's thread is
 * refused, never confused with one of the caller's.
 */
#ifndef SLUICE_CORE_ENGINE_H
#define SLUICE_CORE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

/* Engines per process (queue pairs of the device: config net.queues). */
#define ENGINE_MAX 64
/* Engine k's descriptors are k << ENGINE_QD_SHIFT | index (index <
 * queues.max <= 1 << ENGINE_QD_SHIFT): engine 0's are the small integers
 * a program expects. */
#define ENGINE_QD_SHIFT 20

/* The stack's poll function: now_ns is CLOCK_MONOTONIC in ns; returns how
 * much work it did (0 when idle), used to decide when to stop spinning. */
typedef int (*engine_poll_fn)(void *ctx, uint64_t now_ns);

struct queue_table;
struct qtoken_state;
struct stack;
struct netdev_capture;

struct engine {
    unsigned id;                   /* = the device queue pair it serves */
    struct queue_table *qtab;      /* queue.c */
    struct qtoken_state *qs;       /* qtoken.c */
    engine_poll_fn poll_hook;
    void *poll_ctx;
    struct stack *stack;           /* net.c: NULL until the first socket */
    struct netdev_capture *capture; /* net.c: engine 0's capture point */
    bool lcore_registered;         /* its thread got a DPDK lcore id from sluice_engine_start */
};

/* Makes engine 0 (its tables in DPDK's heap, shared with processes forked
 * after demi_init); called once by runtime_start. 0 or -ENOMEM. */
int engine_init(void);

/* The calling thread's engine: its own, else engine 0. Never NULL after
 * engine_init. */
struct engine *engine_cur(void);

/* Engine id, or NULL when it does not run. */
struct engine *engine_get(unsigned id);

/* After sluice_engines_share: the calling thread's calls go to engine id
 * from now on (a descriptor or a token of it was named). Does nothing
 * when engines are not shared or id does not run. */
void engine_follow(unsigned id);

/* The lock over the table of running engines: held, engine_get's engines
 * stay (sluice_engine_stop takes its engine out under it before closing
 * it). Never held while a stack is polled. */
void engine_lock(void);
void engine_unlock(void);

/* Installs (fn) or removes (NULL) the calling thread's engine's poll hook. */
void engine_set_poll_hook(engine_poll_fn fn, void *ctx);

/* CLOCK_MONOTONIC in ns. */
uint64_t engine_now_ns(void);

/* One pass of the calling thread's engine at now_ns; returns the work done. */
int engine_poll_once(uint64_t now_ns);

/* Called when a pass did nothing: spins while less than spin_us has passed
 * since the last work, then sleeps briefly, never past deadline_ns, so that
 * an idle waiter does not burn a core. */
void engine_idle(uint64_t now_ns, uint64_t last_work_ns, uint64_t deadline_ns);

/* At exit, in the process that started DPDK: closes the queues and stacks
 * of every engine but 0 still running (their threads must not use them
 * any more), then engine 0's queues. */
void engine_close_all(void);

#endif
