/*
 * engines.c - the family's engines (docs/preload.md "Engines per
 * process"). With net.queues > 1 the process that starts the stack makes
 * every engine up front, shared by the family (sluice_engines_share): a
 * worker forked afterwards finds them all. Each process that waits on a
 * Sluice socket takes an engine as its home the first time it waits
 * (engines 1.. in order; engine 0, the one the process that started the
 * stack uses, once they are all taken), makes its new sockets there and
 * polls it at every pass; an engine no process has taken is polled at
 * every pass of every process. With SLUICE_PRELOAD_ENGINE_PER_THREAD each
 * thread does so on its own (Onload's EF_STACK_PER_THREAD), for programs
 * whose threads each serve their own connections; a thread that ends gives
 * its engine back. An engine nobody polled for ENG_STALE_NS (its
 * owner busy, dead, or not there yet) is polled by whoever passes next, so
 * no queue is left unread. Everything here runs under the family's lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <demi/wait.h>
#include <sluice/engine.h>
#include <sluice/stats.h>

#include "internal.h"

/* An engine not polled for this long is polled by any process's pass:
 * longer than an owner's busy turn, short against a TCP timer. */
#define ENG_STALE_NS 500000u

bool g_engine_per_thread;

/* The home engine: the process's (home_pid is the process that chose it,
 * 0: not chosen), or with g_engine_per_thread the thread's. */
static pid_t home_pid;
static int home;
static __thread pid_t t_home_pid;
static __thread int t_home;
static __thread bool t_owner; /* this thread's claim made it t_home's owner */
/* Gives the thread's engine back when it ends. */
static pthread_key_t thread_end;
static pthread_once_t thread_end_once = PTHREAD_ONCE_INIT;

static pid_t *home_pid_p(void)
{
    return g_engine_per_thread ? &t_home_pid : &home_pid;
}

static int *home_p(void)
{
    return g_engine_per_thread ? &t_home : &home;
}

/* A thread that claimed an engine ends: the engine is free again. No
 * lock: the thread may end holding it (pthread_exit, cancellation). */
static void on_thread_end(void *arg)
{
    int mine = g_slot + 1;

    (void)arg;
    if (t_home_pid != getpid() || g_slot < 0 || !t_owner)
        return;
    __atomic_compare_exchange_n(&g_fam->eng_owner[t_home], &mine, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    t_home_pid = 0;
}

static void make_thread_end(void)
{
    pthread_key_create(&thread_end, on_thread_end);
}

void eng_share(void)
{
    int n = 1, rc;

    t_inside++;
    rc = sluice_engines_share(&n);
    t_inside--;
    if (rc != 0) {
        plog(PLOG_WARN, "the stack's engines are not shared (%s): the family uses engine 0 alone", strerror(rc));
        n = 1;
    }
    g_fam->nengines = n;
    if (n > 1)
        plog(PLOG_INFO, "%d engines shared by the process family: each process that waits on a socket takes one", n);
}

int eng_home(void)
{
    return *home_pid_p() == getpid() ? *home_p() : 0;
}

void eng_claim(void)
{
    int n = g_fam->nengines;

    if (n <= 1 || g_slot < 0 || *home_pid_p() == getpid())
        return;
    *home_pid_p() = getpid();
    *home_p() = 0;
    /* a worker that replaces a dead one gets its engine: the dead are
     * reaped now, not at the reaper's next turn */
    family_reap_now();
    /* engines 1.. first: engine 0 is the one the process that started the
     * stack uses (nginx's master, which never waits); it goes last */
    for (int i = 1; i <= n && i <= FAM_ENGINES; i++) {
        int k = i % n;
        if (__atomic_load_n(&g_fam->eng_owner[k], __ATOMIC_ACQUIRE) == 0) {
            __atomic_store_n(&g_fam->eng_owner[k], g_slot + 1, __ATOMIC_RELEASE);
            *home_p() = k;
            if (g_engine_per_thread)
                t_owner = true;
            break;
        }
    }
    if (g_engine_per_thread) {
        pthread_once(&thread_end_once, make_thread_end);
        pthread_setspecific(thread_end, (void *)1); /* non-NULL: the destructor runs */
    }
    plog(g_want_stats ? PLOG_STATS : PLOG_INFO, "process %d%s serves engine %d (queue pair %d)", (int)getpid(),
         g_engine_per_thread ? ", a thread of it," : "", *home_p(), *home_p());
}

void eng_release(int slot)
{
    for (int k = 0; k < FAM_ENGINES; k++)
        if (g_fam->eng_owner[k] == slot + 1)
            g_fam->eng_owner[k] = 0;
    if (slot == g_slot) {
        home_pid = 0;
        t_home_pid = 0;
    }
}

/* Engines this thread gave work to since its last pass (bit k). */
static __thread uint64_t t_touched;

void eng_touch(int qd)
{
    int k = sluice_engine_of(qd);

    if (k > 0 && k < FAM_ENGINES)
        t_touched |= 1ull << k;
    else if (k == 0)
        t_touched |= 1;
}

void eng_use(int k)
{
    if (g_fam->nengines <= 1)
        return;
    t_inside++;
    sluice_engine_use(k);
    t_inside--;
}

/* Files every completion engine k has (up to 8 bursts). */
static void drain(int k)
{
    static const struct timespec zero = {0, 0};
    demi_qresult_t qrs[32];
    int n, rc;

    for (int round = 0; round < 8; round++) {
        eng_use(k); /* filing may have taken the thread to another engine */
        n = 0;
        t_inside++;
        rc = demi_wait_next_n(qrs, 32, &n, &zero);
        t_inside--;
        if (rc != 0 || n <= 0)
            break;
        for (int i = 0; i < n; i++)
            file_result(&qrs[i]);
        if (n < 32)
            break;
    }
    if (g_fam->nengines > 1 && k < FAM_ENGINES)
        g_fam->eng_polled_ns[k] = now_ns(); /* one engine: nobody asks */
}

void eng_drain_all(void)
{
    int n = g_fam->nengines, h = eng_home();
    uint64_t now;

    drain(h);
    if (n <= 1)
        return;
    now = now_ns();
    /* an engine this thread just gave work to (a write on a connection
     * another engine accepted) is polled now, so the bytes leave now */
    uint64_t touched = t_touched;
    t_touched = 0;
    for (int k = 0; k < n && k < FAM_ENGINES; k++)
        if (k != h && ((touched >> k & 1) || g_fam->eng_owner[k] == 0 || now - g_fam->eng_polled_ns[k] > ENG_STALE_NS))
            drain(k);
}

void eng_print_stats(void)
{
    static const char *const wanted[] = {"tcp_conns_opened", "tcp_rx_segments", "tcp_tx_segments",
                                         "eng_steered_in", "eng_steered_out"};
    const char *names[256];
    uint64_t values[256];
    char line[512];
    int n;

    for (int k = 0; k < g_fam->nengines && g_fam->nengines > 1; k++) {
        size_t off = 0;
        t_inside++;
        if (sluice_engine_stats(k, names, values, 256, &n) != 0)
            n = 0;
        t_inside--;
        line[0] = '\0';
        for (size_t w = 0; w < sizeof(wanted) / sizeof(wanted[0]); w++)
            for (int i = 0; i < n && i < 256; i++)
                if (strcmp(names[i], wanted[w]) == 0 && off < sizeof(line))
                    off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s %llu", off ? ", " : "",
                                            names[i], (unsigned long long)values[i]);
        plog(PLOG_STATS, "engine %d: %s", k, n > 0 ? line : "no stack");
    }
}
