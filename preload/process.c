/*
 * process.c - fork and exit: the pthread_atfork handlers (a child of a
 * process running the stack detaches from it), and the exit handlers (let
 * pushes in flight finish, close every socket, print the statistics).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/stats.h>

#include "internal.h"

/* ---- fork ---- */

void atfork_prepare(void)
{
    lock();
}

void atfork_parent(void)
{
    unlock();
}

/* The child shares DPDK's memory with the parent: it must never touch the
 * stack. Its inherited sockets become dead (closing them only forgets
 * them); candidates and taken sockets not yet materialised stay usable, and
 * may start a stack of the child's own if the parent never started one. */
void atfork_child(void)
{
    pthread_mutex_init(&g_lock, NULL);
    if (!g_started)
        return;
    g_detached = true;
    g_started = false;
    for (struct psock *s = g_all_socks; s != NULL; s = s->next_all) {
        if (s->state == PS_TAKEN && s->qd >= 0) {
            s->dead = true;
            s->qd = -1;
            s->rq_n = 0;
            s->rbytes = 0;
            s->aq_n = 0;
            s->pops_out = s->pushes_out = 0;
            s->accept_out = s->connect_out = false;
            s->unacked = 0;
            ep_wake(s, 0); /* EPOLLHUP from now on */
        }
    }
    tok_reset(); /* the tokens are the parent's */
}

/* ---- exit ---- */

/* At exit in the process running the stack: let pushes still in flight
 * finish (up to 2 s), then close every socket, so that a client that
 * writes and exits is heard, as it would be with the kernel. Runs before
 * the core's own exit handler (registered later, so it runs earlier). */
void linger_at_exit(void)
{
    uint64_t deadline;
    bool pending;

    if (!g_started || getpid() != g_started_pid)
        return;
    lock();
    deadline = now_ns() + 2000000000u;
    do {
        progress();
        pending = false;
        for (struct psock *s = g_all_socks; s != NULL; s = s->next_all)
            if (s->pushes_out > 0 && !s->reset)
                pending = true;
    } while (pending && now_ns() < deadline);
    for (struct psock *s = g_all_socks; s != NULL; s = s->next_all) {
        if (s->qd >= 0) {
            ps_release_demi(s);
        }
    }
    /* a few engine passes for the FINs */
    for (int i = 0; i < 50; i++) {
        progress();
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    unlock();
}

void stats_at_exit(void)
{
    static bool printed;
    const char *names[256];
    uint64_t values[256];
    int n;

    if (printed)
        return;
    printed = true;
    if (!g_started && g_pstats.taken == 0 && g_pstats.kernel == 0)
        return; /* no AF_INET socket here (a shell, a helper): nothing to say */
    plog(PLOG_STATS,
         " sockets taken %llu, left to the kernel %llu, accepted %llu, bytes in %llu, out %llu, "
         "pushes %llu, pops %llu, naps %llu",
         (unsigned long long)g_pstats.taken, (unsigned long long)g_pstats.kernel,
         (unsigned long long)g_pstats.accepted, (unsigned long long)g_pstats.bytes_in,
         (unsigned long long)g_pstats.bytes_out, (unsigned long long)g_pstats.pushes,
         (unsigned long long)g_pstats.pops, (unsigned long long)g_pstats.waits_slept);
    if (!g_started || getpid() != g_started_pid)
        return;
    t_inside++;
    if (sluice_stats(names, values, 256, &n) != 0)
        n = 0;
    t_inside--;
    for (int i = 0; i < n && i < 256; i++)
        if (values[i] != 0)
            plog(PLOG_STATS, "%s %llu", names[i],
                 (unsigned long long)values[i]);
}
