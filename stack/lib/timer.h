/*
 * timer.h - a hashed timer wheel (docs/DESIGN.md "Engine": RTO, delayed ACK,
 * persist, keepalive, TIME_WAIT, ARP retries, reassembly). Time is whatever
 * the caller passes as now (ns), so tests drive it with a virtual clock.
 * O(1) arm and cancel; a run visits only the slots whose ticks passed.
 */
#ifndef SLUICE_TIMER_H
#define SLUICE_TIMER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#define TIMER_SLOTS 1024u
#define TIMER_TICK_NS 1000000ull /* 1 ms */

struct timer;
typedef void (*timer_fn)(struct timer *t, void *ctx, uint64_t now_ns);

struct timer {
    uint64_t expires_ns;
    timer_fn fn;
    void *ctx;
    bool armed;
    LIST_ENTRY(timer) link;
};

LIST_HEAD(timer_list, timer);

struct timer_wheel {
    struct timer_list slots[TIMER_SLOTS];
    uint64_t tick;       /* the last tick run */
    unsigned armed;      /* timers armed */
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ns);
/* Sets up t to call fn(t, ctx, now) when it expires. Not armed. */
void timer_init(struct timer *t, timer_fn fn, void *ctx);
/* Arms (or re-arms) t to expire at expires_ns (ns, same clock as now). */
void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expires_ns);
/* Disarms t; no-op if it is not armed. */
void timer_cancel(struct timer_wheel *w, struct timer *t);
/* Runs every timer with expires_ns <= now_ns (a callback may re-arm its own
 * timer or arm others); returns how many ran. */
unsigned timer_wheel_run(struct timer_wheel *w, uint64_t now_ns);

#endif
