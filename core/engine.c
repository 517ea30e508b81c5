/*
 * engine.c - one pass of the run-to-completion engine, and the idle policy
 * (see engine.h).
 */
#include "engine.h"

#include <sched.h>
#include <time.h>

#include <sluice/idle.h>

#include "queue.h"
#include "runtime.h"

/* Longest sleep of an idle native waiter: short, because the peer of a pipe
 * has no way to wake us, so this bounds the latency an idle pipe adds. */
#define IDLE_SLEEP_MAX_NS 20000u

static engine_poll_fn poll_hook;
static void *poll_ctx;

void engine_set_poll_hook(engine_poll_fn fn, void *ctx)
{
    poll_hook = fn;
    poll_ctx = ctx;
}

uint64_t engine_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int engine_poll_once(uint64_t now_ns)
{
    int work = 0;

    if (poll_hook != NULL)
        work += poll_hook(poll_ctx, now_ns);
    return work + queue_poll_all();
}

void engine_idle(uint64_t now_ns, uint64_t last_work_ns, uint64_t deadline_ns)
{
    uint64_t nap = sluice_idle_nap_ns(now_ns - last_work_ns, (uint64_t)g_rt.cfg.spin_us * 1000u, IDLE_SLEEP_MAX_NS);

    if (nap == 0 || deadline_ns <= now_ns)
        return;
    if (deadline_ns - now_ns < nap)
        nap = deadline_ns - now_ns;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)nap};
    nanosleep(&ts, NULL);
}
