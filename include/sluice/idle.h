/*
 * sluice/idle.h - the idle policy of a Sluice waiter, one for the native
 * waits (demi_wait*, core/engine.c) and the interposer's blocking calls
 * (preload/idle.c): how long a thread that found nothing to do sleeps
 * before it looks at the engine again.
 *
 * Run to completion has no interrupt to wake a sleeper (net_af_packet and
 * net_memif give none here), so a waiter spins while the process found
 * work recently, then naps: short naps while it was busy within the last
 * SLUICE_IDLE_LONG_AFTER_NS, longer ones once it has long been idle, so an
 * idle server does not burn a core and a busy one loses little latency.
 * Header-only: it is not a call of the library.
 */
#ifndef SLUICE_IDLE_H
#define SLUICE_IDLE_H

#include <stdint.h>

/* Nap of a waiter idle for less than SLUICE_IDLE_LONG_AFTER_NS (ns). */
#define SLUICE_IDLE_SHORT_NAP_NS 50000u
/* Nap once idle for SLUICE_IDLE_LONG_AFTER_NS (ns). */
#define SLUICE_IDLE_LONG_NAP_NS 1000000u
#define SLUICE_IDLE_LONG_AFTER_NS 100000000u

/*
 * sluice_idle_nap_ns - nanoseconds a waiter should sleep now, or 0 to
 * spin (look at the engine again at once).
 *   idle_ns: how long ago the waiter's process last found work (ns);
 *   spin_ns: how long to spin after work before napping (ns; the
 *            configured spin budget);
 *   max_ns:  the longest nap this caller allows (ns; a native waiter on a
 *            pipe, whose peer has no way to wake it, keeps this short).
 * No errors; pure.
 */
static inline uint64_t sluice_idle_nap_ns(uint64_t idle_ns, uint64_t spin_ns, uint64_t max_ns)
{
    uint64_t nap;

    if (idle_ns < spin_ns)
        return 0;
    nap = idle_ns < SLUICE_IDLE_LONG_AFTER_NS ? SLUICE_IDLE_SHORT_NAP_NS : SLUICE_IDLE_LONG_NAP_NS;
    return nap < max_ns ? nap : max_ns;
}

#endif /* SLUICE_IDLE_H */
