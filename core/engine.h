/*
 * engine.h - the run-to-completion engine (docs/DESIGN.md "Engine").
 *
 * There are no background threads: every wait drives the engine until its
 * token completes or its timeout passes. One pass runs the poll hook (the
 * network stack plugs in here: rx burst, timers, tx flush) and then moves
 * every queue with pending work forward (pipes).
 */
#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H

#include <stdint.h>

/* The stack's poll function: now_ns is CLOCK_MONOTONIC in ns; returns how
 * much work it did (0 when idle), used to decide when to stop spinning. */
typedef int (*engine_poll_fn)(void *ctx, uint64_t now_ns);

/* Installs (fn) or removes (NULL) the stack's poll hook. */
void engine_set_poll_hook(engine_poll_fn fn, void *ctx);

/* CLOCK_MONOTONIC in ns. */
uint64_t engine_now_ns(void);

/* One pass of the engine at now_ns; returns the work done. */
int engine_poll_once(uint64_t now_ns);

/* Called when a pass did nothing: spins while less than spin_us has passed
 * since the last work, then sleeps briefly, never past deadline_ns, so that
 * an idle waiter does not burn a core. */
void engine_idle(uint64_t now_ns, uint64_t last_work_ns, uint64_t deadline_ns);

#endif
