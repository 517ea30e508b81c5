/* test_timer.c - the hashed timer wheel: timers fire once, at or after
 * their time (1 ms ticks), in any order of arming, across revolutions and
 * long gaps, and callbacks may re-arm. */
#include <criterion/criterion.h>

#include "timer.h"

#define MS 1000000ull

struct rec {
    int fired;
    uint64_t at;
    struct timer_wheel *w;
    uint64_t rearm_every; /* 0: do not re-arm */
    int rearm_left;
};

static void on_fire(struct timer *t, void *ctx, uint64_t now)
{
    struct rec *r = ctx;
    r->fired++;
    r->at = now;
    if (r->rearm_every != 0 && r->rearm_left-- > 0)
        timer_arm(r->w, t, now + r->rearm_every);
}

Test(timer, fires_once_not_before_its_time)
{
    struct timer_wheel w;
    struct timer t;
    struct rec r = {0};
    timer_wheel_init(&w, 1000 * MS);
    timer_init(&t, on_fire, &r);
    timer_arm(&w, &t, 1010 * MS);
    cr_assert_eq(timer_wheel_run(&w, 1009 * MS), 0);
    cr_assert_eq(r.fired, 0);
    cr_assert_eq(timer_wheel_run(&w, 1010 * MS), 1);
    cr_assert_eq(r.fired, 1);
    cr_assert_eq(r.at, 1010 * MS);
    cr_assert_eq(timer_wheel_run(&w, 2000 * MS), 0);
    cr_assert_eq(r.fired, 1);
    cr_assert_not(t.armed);
}

/* A deadline inside a tick, with the wheel run at that tick's start and
 * then a little later: it fires in that tick or the next one, never a
 * revolution (1024 ticks) late. */
Test(timer, mid_tick_deadline_fires_within_a_tick)
{
    struct timer_wheel w;
    struct timer t;
    struct rec r = {0};
    timer_wheel_init(&w, 1000 * MS);
    timer_init(&t, on_fire, &r);
    timer_arm(&w, &t, 1200 * MS + MS / 2);
    cr_assert_eq(timer_wheel_run(&w, 1200 * MS), 0);
    cr_assert_eq(timer_wheel_run(&w, 1200 * MS + MS / 4), 0);
    cr_assert_eq(r.fired, 0);
    for (uint64_t now = 1200 * MS + MS / 2; now <= 1202 * MS && r.fired == 0; now += MS / 4)
        timer_wheel_run(&w, now);
    cr_assert_eq(r.fired, 1, "fired %d times by 1202 ms", r.fired);
    cr_assert_geq(r.at, 1200 * MS + MS / 2);
    cr_assert_leq(r.at, 1201 * MS + MS / 2);
}

Test(timer, cancelled_timer_does_not_fire)
{
    struct timer_wheel w;
    struct timer t;
    struct rec r = {0};
    timer_wheel_init(&w, 0);
    timer_init(&t, on_fire, &r);
    timer_arm(&w, &t, 5 * MS);
    timer_cancel(&w, &t);
    timer_cancel(&w, &t); /* twice is harmless */
    cr_assert_eq(timer_wheel_run(&w, 10 * MS), 0);
    cr_assert_eq(r.fired, 0);
    cr_assert_eq(w.armed, 0);
}

Test(timer, rearming_moves_the_timer)
{
    struct timer_wheel w;
    struct timer t;
    struct rec r = {0};
    timer_wheel_init(&w, 0);
    timer_init(&t, on_fire, &r);
    timer_arm(&w, &t, 5 * MS);
    timer_arm(&w, &t, 50 * MS);
    cr_assert_eq(w.armed, 1);
    cr_assert_eq(timer_wheel_run(&w, 10 * MS), 0);
    cr_assert_eq(timer_wheel_run(&w, 50 * MS), 1);
}

Test(timer, timers_beyond_one_revolution_wait_for_their_time)
{
    struct timer_wheel w;
    struct timer t;
    struct rec r = {0};
    timer_wheel_init(&w, 0);
    timer_init(&t, on_fire, &r);
    /* same slot as 7 ms, but two revolutions later */
    timer_arm(&w, &t, (7 + 2 * TIMER_SLOTS) * MS);
    for (uint64_t now = 1; now < (7 + 2 * TIMER_SLOTS) * MS; now += MS)
        timer_wheel_run(&w, now);
    cr_assert_eq(r.fired, 0);
    timer_wheel_run(&w, (7 + 2 * TIMER_SLOTS) * MS);
    cr_assert_eq(r.fired, 1);
}

Test(timer, a_long_gap_fires_everything_due_once)
{
    struct timer_wheel w;
    struct timer t[50];
    struct rec r[50];
    timer_wheel_init(&w, 0);
    for (int i = 0; i < 50; i++) {
        r[i] = (struct rec){0};
        timer_init(&t[i], on_fire, &r[i]);
        timer_arm(&w, &t[i], (uint64_t)(i * 97 + 1) * MS);
    }
    cr_assert_eq(timer_wheel_run(&w, 3600000 * MS), 50);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(r[i].fired, 1, "timer %d", i);
}

Test(timer, callback_may_rearm_itself)
{
    struct timer_wheel w;
    struct timer t;
    timer_wheel_init(&w, 0);
    struct rec r = {.w = &w, .rearm_every = 10 * MS, .rearm_left = 3};
    timer_init(&t, on_fire, &r);
    timer_arm(&w, &t, 10 * MS);
    for (uint64_t now = 0; now <= 100 * MS; now += MS)
        timer_wheel_run(&w, now);
    cr_assert_eq(r.fired, 4);
    cr_assert_eq(r.at, 40 * MS);
    cr_assert_not(t.armed);
}

Test(timer, already_due_timer_fires_on_the_next_tick)
{
    struct timer_wheel w;
    struct timer t;
    struct rec r = {0};
    timer_wheel_init(&w, 100 * MS);
    timer_init(&t, on_fire, &r);
    timer_arm(&w, &t, 50 * MS);
    cr_assert_eq(timer_wheel_run(&w, 101 * MS), 1);
}
