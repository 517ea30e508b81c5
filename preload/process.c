/*
 * process.c - the exit handlers: let pushes in flight finish, close the
 * sockets only this process held, print the statistics. (Fork and exec:
 * family.c.)
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/process.h>
#include <sluice/stats.h>

#include "internal.h"

/* ---- exit ---- */

/* Whether a socket this process names still has pushes in flight. */
static bool pushes_pending(void)
{
    int hi = g_slot >= 0 ? g_fam->slots[g_slot].fd_hi : -1;

    for (int fd = 0; fd <= hi; fd++) {
        struct psock *s = g_socks[fd];
        if (s != NULL && s->pushes_out > 0 && !s->reset)
            return true;
    }
    return false;
}

/* At exit in every process of the family: let pushes still in flight on
 * its sockets finish (up to 2 s), then forget every fd it names, which
 * closes the sockets only it held, so that a client that writes and exits
 * is heard, as it would be with the kernel; the last process closes what
 * is left. The one that started the stack leaves it running if others
 * still use it (sluice_detach). Runs before the core's own exit handler
 * (registered later, so it runs earlier). */
void linger_at_exit(void)
{
    uint64_t deadline;
    bool others;

    if (!g_started || g_slot < 0)
        return;
    lock();
    deadline = now_ns() + 2000000000u;
    do
        progress();
    while (pushes_pending() && now_ns() < deadline);
    others = family_others_live();
    family_exit(); /* leaves the slot too: nothing after this handler may touch its tables */
    if (!others && g_want_stats)
        eng_print_stats(); /* the family's last process: every engine's share */
    if (!others && getpid() != g_started_pid) {
        /* the first process left the stack to us: our exit closes the
         * device (an AF_XDP port's program comes off the interface) */
        t_inside++;
        sluice_take_over();
        t_inside--;
    }
    if (!others)
        for (struct psock *s = g_all_socks; s != NULL; s = s->next_all)
            if (s->qd >= 0)
                ps_release_demi(s);
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
