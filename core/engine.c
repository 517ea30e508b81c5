/*
 * engine.c - the engines (see engine.h): which one a thread uses, one pass
 * of it, the idle policy, and the public calls of <sluice/engine.h>.
 */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <sluice/engine.h>
#include <sluice/idle.h>

#include "export.h"
#include "log.h"
#include "net.h"
#include "qtoken.h"
#include "queue.h"
#include "runtime.h"

/* Longest sleep of an idle native waiter: short, because the peer of a pipe
 * has no way to wake us, so this bounds the latency an idle pipe adds. */
#define IDLE_SLEEP_MAX_NS 20000u

/* The running engines, by id. The structs are in DPDK's heap; this array is
 * per process (a forked child inherits the parent's view). Changed under
 * engines_mu; read without it by the engine's own thread. */
static struct engine *engines[ENGINE_MAX];
static pthread_mutex_t engines_mu = PTHREAD_MUTEX_INITIALIZER;
/* The calling thread's own engine, NULL for engine 0's users. */
static __thread struct engine *t_engine;
/* sluice_engines_share was called: engines 1.. belong to no thread, and a
 * descriptor or token selects its engine (engine_follow). Inherited by
 * forked children with the engines themselves. */
static bool g_shared;

static void engine_free(struct engine *e)
{
    queue_table_destroy(e->qtab);
    qtoken_table_destroy(e->qs);
    rte_free(e);
}

/* A new engine's tables (its stack starts on its first socket). */
static int engine_make(unsigned id, struct engine **out)
{
    struct engine *e = rte_zmalloc("sluice_engine", sizeof(*e), 0);
    int rc;

    if (e == NULL)
        return -ENOMEM;
    e->id = id;
    rc = queue_table_create(id, &e->qtab);
    rc = rc ? rc : qtoken_table_create(id, &e->qs);
    if (rc) {
        engine_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

/* A child forked by a thread that has an engine: that engine stays its
 * parent's (a queue is read by one thread); the child's thread uses
 * engine 0, and knows no other engine. */
static void forget_engines_in_child(void)
{
    if (g_shared)
        return; /* made to be shared by the family: the caller serialises */
    t_engine = NULL;
    for (unsigned id = 1; id < ENGINE_MAX; id++)
        engines[id] = NULL;
}

int engine_init(void)
{
    if (engines[0] != NULL)
        return 0;
    pthread_atfork(NULL, NULL, forget_engines_in_child);
    return engine_make(0, &engines[0]);
}

struct engine *engine_cur(void)
{
    return t_engine != NULL ? t_engine : engines[0];
}

struct engine *engine_get(unsigned id)
{
    return id < ENGINE_MAX ? engines[id] : NULL;
}

void engine_follow(unsigned id)
{
    if (!g_shared || id >= ENGINE_MAX || engines[id] == NULL)
        return;
    t_engine = id == 0 ? NULL : engines[id];
}

void engine_lock(void)
{
    pthread_mutex_lock(&engines_mu);
}

void engine_unlock(void)
{
    pthread_mutex_unlock(&engines_mu);
}


void engine_set_poll_hook(engine_poll_fn fn, void *ctx)
{
    struct engine *e = engine_cur();

    e->poll_hook = fn;
    e->poll_ctx = ctx;
}

uint64_t engine_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int engine_poll_once(uint64_t now_ns)
{
    struct engine *e = engine_cur();
    int work = 0;

    if (e->poll_hook != NULL)
        work += e->poll_hook(e->poll_ctx, now_ns);
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

/* Closes e's queues and stack as if its own thread did (the calling thread
 * borrows it). */
static void engine_close(struct engine *e)
{
    struct engine *saved = t_engine;

    t_engine = e;
    queue_close_all();
    qtoken_drop_all_done(); /* results nobody will take: their arrays go back */
    net_stop();
    t_engine = saved;
}

void engine_close_all(void)
{
    /* the exiting thread may be on an engine about to be freed (its own,
     * or a shared one a descriptor took it to): engine 0's close is last */
    t_engine = NULL;
    for (unsigned id = 1; id < ENGINE_MAX; id++) {
        struct engine *e = engines[id];
        if (e == NULL)
            continue;
        engine_lock();
        engines[id] = NULL;
        engine_unlock();
        engine_close(e);
        engine_free(e);
    }
    queue_close_all(); /* engine 0's: net_stop (runtime.c) follows */
}

/* ---- <sluice/engine.h> ---- */

/* Pins the calling thread to cpu, one the process may run on. */
static int pin(int cpu)
{
    cpu_set_t allowed, one;

    if (cpu == -1)
        return 0;
    if (cpu < 0 || sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) {
        SLOG_ERR("sluice_engine_start: CPU %d is not one this process may run on (see taskset -p %d, nproc)", cpu,
                 (int)getpid());
        return EINVAL;
    }
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
}

/* The engine id for queue (-1: the lowest free), or a positive errno. */
static int choose_queue(int queue, unsigned *id)
{
    unsigned nq = g_rt.cfg.net_queues;

    if (queue == 0 || queue < -1 || (queue > 0 && (unsigned)queue >= nq)) {
        SLOG_ERR("sluice_engine_start: queue %d: expected 1..%u (net.queues is %u; queue 0 is the shared engine's), "
                 "or -1", queue, nq > 1 ? nq - 1 : 1, nq);
        return EINVAL;
    }
    if (queue > 0) {
        if (engines[queue] != NULL)
            return EBUSY;
        *id = (unsigned)queue;
        return 0;
    }
    for (unsigned i = 1; i < nq && i < ENGINE_MAX; i++) {
        if (engines[i] == NULL) {
            *id = i;
            return 0;
        }
    }
    SLOG_ERR("sluice_engine_start: all %u queue pairs have an engine; raise net.queues", nq);
    return ENOSPC;
}

/* Engine id for the calling thread, under engines_mu: its tables, an lcore
 * id (its own mbuf cache), then its stack. */
static int start_locked(int queue, int cpu)
{
    struct engine *e;
    unsigned id = 0;
    int rc = choose_queue(queue, &id);

    rc = rc ? rc : pin(cpu); /* only once the call cannot fail for its queue */
    if (rc)
        return rc;
    if (net_stack() == NULL) /* engine 0's: it opens the device's queue pairs */
        return ENETDOWN;
    if (engine_make(id, &e) != 0)
        return ENOMEM;
    /* A thread with an lcore id of its own has a per-lcore mempool cache;
     * without one it uses the pool's ring (correct, slower). */
    if (rte_lcore_id() == LCORE_ID_ANY) {
        e->lcore_registered = rte_thread_register() == 0;
        if (!e->lcore_registered)
            SLOG_WARN("engine %u: no DPDK lcore id for this thread (%s): mbufs come from the pool's ring", id,
                      rte_strerror(rte_errno));
    }
    t_engine = e;
    if (net_stack() == NULL) {
        t_engine = NULL;
        if (e->lcore_registered)
            rte_thread_unregister();
        engine_free(e);
        return ENETDOWN;
    }
    engines[id] = e;
    return 0;
}

/* sluice_engine_start: documented in <sluice/engine.h>. */
SLUICE_API int sluice_engine_start(int queue, int cpu)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    if (t_engine != NULL || g_shared)
        return EBUSY;
    pthread_mutex_lock(&engines_mu);
    rc = start_locked(queue, cpu);
    pthread_mutex_unlock(&engines_mu);
    return rc;
}

/* sluice_engine_stop: documented in <sluice/engine.h>. */
SLUICE_API int sluice_engine_stop(void)
{
    struct engine *e = t_engine;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (e == NULL)
        return ENOENT;
    if (g_shared)
        return EPERM; /* a shared engine: the family's, closed at exit */
    /* out of the table first: the counters' readers (sluice_stats) take
     * engines_mu and never see a stack that is going away */
    pthread_mutex_lock(&engines_mu);
    engines[e->id] = NULL;
    pthread_mutex_unlock(&engines_mu);
    queue_close_all();
    qtoken_drop_all_done(); /* results nobody will take: their arrays go back */
    net_stop();
    t_engine = NULL;
    if (e->lcore_registered)
        rte_thread_unregister();
    engine_free(e);
    return 0;
}

/* sluice_engine_self: documented in <sluice/engine.h>. */
SLUICE_API int sluice_engine_self(void)
{
    if (runtime_check() != 0)
        return -1;
    return (int)engine_cur()->id;
}

/* Makes engine id on its queue pair, its stack started, owned by no
 * thread (engines_mu held). 0 or a positive errno. */
static int make_shared(unsigned id)
{
    struct engine *e;

    if (engine_make(id, &e) != 0)
        return ENOMEM;
    t_engine = e;
    if (net_stack() == NULL) {
        t_engine = NULL;
        engine_free(e);
        return ENETDOWN;
    }
    t_engine = NULL;
    engines[id] = e;
    return 0;
}

/* sluice_engines_share: documented in <sluice/engine.h>. */
SLUICE_API int sluice_engines_share(int *count_out)
{
    unsigned nq = g_rt.cfg.net_queues;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (t_engine != NULL && !g_shared)
        return EBUSY;
    pthread_mutex_lock(&engines_mu);
    for (unsigned id = 1; id < nq && id < ENGINE_MAX && rc == 0; id++)
        if (engines[id] != NULL && !g_shared)
            rc = EBUSY; /* a thread started it: it is that thread's */
    if (rc == 0 && net_stack() == NULL) /* engine 0's: it opens the device's queue pairs */
        rc = ENETDOWN;
    uint64_t made = 0; /* engines this call made (ENGINE_MAX is 64) */
    for (unsigned id = 1; id < nq && id < ENGINE_MAX && rc == 0; id++)
        if (engines[id] == NULL && (rc = make_shared(id)) == 0)
            made |= 1ull << id;
    if (rc == 0)
        g_shared = true;
    for (unsigned id = 1; rc != 0 && id < ENGINE_MAX; id++) {
        /* a partial failure leaves nothing behind: a retry starts over */
        if ((made >> id & 1) && engines[id] != NULL) {
            struct engine *e = engines[id];
            engines[id] = NULL;
            engine_close(e);
            engine_free(e);
        }
    }
    pthread_mutex_unlock(&engines_mu);
    if (rc == 0 && count_out != NULL)
        *count_out = (int)nq;
    return rc;
}

/* sluice_engine_use: documented in <sluice/engine.h>. */
SLUICE_API int sluice_engine_use(int id)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    if (id < 0 || id >= ENGINE_MAX)
        return ENOENT;
    if (id != 0 && !g_shared)
        return EPERM;
    if (engines[id] == NULL)
        return ENOENT;
    if (id == 0 && t_engine != NULL && !g_shared)
        return EPERM; /* its own engine: sluice_engine_stop gives it back */
    t_engine = id == 0 ? NULL : engines[id];
    return 0;
}

/* sluice_engine_of: documented in <sluice/engine.h>. */
SLUICE_API int sluice_engine_of(int qd)
{
    return qd < 0 ? -1 : (int)((unsigned)qd >> ENGINE_QD_SHIFT);
}
