/*
 * idle.c - the idle state of the interposer's waiters (when the process
 * last found work, across threads and calls) under the one idle policy of
 * <sluice/idle.h>, and ps_block, the wait of every blocking call on one
 * socket, which a signal handler interrupts as signal(7) says (sig_check).
 */
#include <errno.h>
#include <sched.h>
#include <time.h>

#include <sluice/idle.h>

#include "internal.h"

/* When any waiter of the process last found work (ns, now_ns()'s clock;
 * 0 before the first wait). Waiters may run in several threads. */
static uint64_t g_last_work_ns;

void idle_init(struct idle *st)
{
    uint64_t now = now_ns(), last = __atomic_load_n(&g_last_work_ns, __ATOMIC_RELAXED);

    if (last == 0) {
        last = now;
        __atomic_store_n(&g_last_work_ns, last, __ATOMIC_RELAXED);
    }
    st->start_ns = now;
    st->last_work_ns = last;
    st->spins = 0;
}

void idle_work(struct idle *st)
{
    st->last_work_ns = now_ns();
    __atomic_store_n(&g_last_work_ns, st->last_work_ns, __ATOMIC_RELAXED);
}

uint64_t idle_next(struct idle *st)
{
    uint64_t now = now_ns(), nap;

    st->spins++;
    nap = sluice_idle_nap_ns(now - st->last_work_ns, (uint64_t)g_spin_us * 1000u, SLUICE_IDLE_LONG_NAP_NS);
    /* two cores shared with the peer: while spinning, let it run now and then */
    if (nap == 0 && (st->spins & 63) == 0)
        sched_yield();
    return nap;
}

enum idle_step idle_step(struct idle *st, uint64_t deadline_ns, struct timespec *ts)
{
    uint64_t now = now_ns(), nap;

    if (now >= deadline_ns)
        return IDLE_DONE;
    nap = idle_next(st);
    if (nap == 0)
        return IDLE_SPIN;
    if (nap > deadline_ns - now)
        nap = deadline_ns - now;
    ts->tv_sec = (time_t)(nap / 1000000000u);
    ts->tv_nsec = (long)(nap % 1000000000u);
    return IDLE_NAP;
}

int ps_block(struct psock *s, bool (*ready)(struct psock *), const struct timeval *timeout, bool restartable)
{
    struct idle st;
    uint64_t deadline = UINT64_MAX;
    int rc = 0;

    idle_init(&st);
    if (timeout != NULL && (timeout->tv_sec != 0 || timeout->tv_usec != 0))
        deadline = st.start_ns + (uint64_t)timeout->tv_sec * 1000000000u + (uint64_t)timeout->tv_usec * 1000u;
    s->busy++;
    for (;;) {
        uint64_t gen = s->gen;
        progress_wait();
        if (s->closed) {
            rc = -EBADF;
            break;
        }
        if (ready(s)) {
            idle_work(&st); /* the program has something to do again */
            break;
        }
        if (s->gen != gen)
            idle_work(&st);
        /* after readiness, as Linux's waits look (inet_csk_wait_for_connect,
         * sk_wait_data): what is there is returned, the signal stays due */
        rc = sig_check(sig_call(), restartable);
        if (rc)
            break;
        if (now_ns() >= deadline) {
            rc = -EAGAIN;
            break;
        }
        uint64_t nap = idle_next(&st);
        if (nap > 0) {
            unlock();
            struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)nap};
            /* a handler ends the nap early (EINTR, whatever SA_RESTART
             * says: nanosleep never restarts); the next turn asks sig_check */
            nanosleep(&ts, NULL);
            g_pstats.waits_slept++;
            lock();
        } else {
            unlock();
            lock();
        }
    }
    s->busy--;
    ps_maybe_free(s);
    return rc;
}
