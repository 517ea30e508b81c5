/*
 * timer.c - a hashed timer wheel (see timer.h). A timer lives in the slot
 * of its expiry tick; a slot holds timers of every revolution, so a run
 * checks expires_ns before firing one (timers a revolution or more away
 * stay). The expiry tick is rounded up, so a timer is never visited early
 * and skipped; it fires at most one tick (1 ms) after its time.
 */
#include "timer.h"

#include <stddef.h>

static uint64_t tick_of(uint64_t ns)
{
    return ns / TIMER_TICK_NS;
}

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ns)
{
    for (unsigned i = 0; i < TIMER_SLOTS; i++)
        LIST_INIT(&w->slots[i]);
    w->tick = tick_of(now_ns);
    w->armed = 0;
}

void timer_init(struct timer *t, timer_fn fn, void *ctx)
{
    t->fn = fn;
    t->ctx = ctx;
    t->armed = false;
    t->expires_ns = 0;
}

void timer_cancel(struct timer_wheel *w, struct timer *t)
{
    if (!t->armed)
        return;
    LIST_REMOVE(t, link);
    t->armed = false;
    w->armed--;
}

void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expires_ns)
{
    /* The slot of the first tick that starts at or after expires_ns: a
     * run visits a slot once, when its tick begins, and so must find the
     * timer due then. (The slot of the tick holding expires_ns would be
     * visited a moment too early and then not again for a whole
     * revolution: a timer 1.024 s late.) */
    uint64_t tick = tick_of(expires_ns) + (expires_ns % TIMER_TICK_NS != 0);

    timer_cancel(w, t);
    /* a timer already due goes in the next slot the run will visit */
    if (tick <= w->tick)
        tick = w->tick + 1;
    t->expires_ns = expires_ns;
    LIST_INSERT_HEAD(&w->slots[tick % TIMER_SLOTS], t, link);
    t->armed = true;
    w->armed++;
}

/* Fires the due timers of one slot. A callback may arm timers into this
 * very slot; those are for a later revolution or later tick, or already
 * due, in which case they wait for the next run (no unbounded loop). */
static unsigned run_slot(struct timer_wheel *w, struct timer_list *slot, uint64_t now_ns)
{
    struct timer_list due = LIST_HEAD_INITIALIZER(due);
    struct timer *t, *next;
    unsigned ran = 0;

    for (t = LIST_FIRST(slot); t != NULL; t = next) {
        next = LIST_NEXT(t, link);
        if (t->expires_ns > now_ns)
            continue;
        LIST_REMOVE(t, link);
        LIST_INSERT_HEAD(&due, t, link);
    }
    while ((t = LIST_FIRST(&due)) != NULL) {
        LIST_REMOVE(t, link);
        t->armed = false;
        w->armed--;
        t->fn(t, t->ctx, now_ns);
        ran++;
    }
    return ran;
}

unsigned timer_wheel_run(struct timer_wheel *w, uint64_t now_ns)
{
    uint64_t now_tick = tick_of(now_ns);
    unsigned ran = 0;

    if (w->armed == 0) {
        w->tick = now_tick > w->tick ? now_tick : w->tick;
        return 0;
    }
    /* after a long gap every slot is visited once, not every tick */
    uint64_t first = w->tick + 1;
    if (now_tick >= first && now_tick - first >= TIMER_SLOTS)
        first = now_tick - TIMER_SLOTS + 1;
    for (uint64_t tick = first; tick <= now_tick; tick++)
        ran += run_slot(w, &w->slots[tick % TIMER_SLOTS], now_ns);
    if (now_tick > w->tick)
        w->tick = now_tick;
    return ran;
}
