/*
 * context.c - the lock, contexts and their socket-id pools
 * (docs/mtcp.md "Contexts"), mtcp_core_affinitize, mtcp_register_signal,
 * mtcp_get_connection_cnt and mOS's utility calls.
 *
 * Every context shares Sluice's one engine for now (engines per core are
 * issue 14): a context records its CPU and owns its ids, so nothing here
 * assumes one engine but the single lock.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mtcp_util.h>

#include "internal.h"

#define MT_MAX_CTX 64
#define MT_CTX_MAGIC 0x6d746370u

/* Recursive: a monitor's callbacks run inside an engine pass that holds
 * it, and call mtcp_* again (monitor.c). */
static pthread_mutex_t g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
volatile int g_mt_signals;
static mtcp_sighandler_t g_handlers[NSIG];

/* Counts the signal for mtcp_app_join, then runs the program's handler. */
static void trampoline(int signum)
{
    g_mt_signals++;
    if (signum > 0 && signum < NSIG && g_handlers[signum] != NULL)
        g_handlers[signum](signum);
}
static struct mt_ctx *g_ctx[MT_MAX_CTX]; /* by CPU */

void mt_lock(void)
{
    pthread_mutex_lock(&g_lock);
}

void mt_unlock(void)
{
    pthread_mutex_unlock(&g_lock);
}

int mt_ret(int rc)
{
    if (rc >= 0)
        return rc;
    errno = -rc;
    return -1;
}

/* The live context mctx points to, or NULL. */
struct mt_ctx *mt_ctx_get(mctx_t mctx)
{
    if (mctx == NULL)
        return NULL;
    for (int i = 0; i < MT_MAX_CTX; i++)
        if (g_ctx[i] != NULL && &g_ctx[i]->pub == mctx)
            return g_ctx[i]->magic == MT_CTX_MAGIC ? g_ctx[i] : NULL;
    return NULL;
}

/* Socket id of mctx: -EINVAL for a context that is not live (mTCP's
 * GetMTCPManager), -EBADF for an id out of range or unused. */
int mt_sock_get(mctx_t mctx, int id, struct mt_sock **out)
{
    struct mt_ctx *c = mt_ctx_get(mctx);

    if (c == NULL)
        return -EINVAL;
    if (id < 0 || id >= c->nsocks || c->socks[id].kind == MT_UNUSED)
        return -EBADF;
    *out = &c->socks[id];
    return 0;
}

static void sock_reset(struct mt_sock *s, struct mt_ctx *c, int id)
{
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->ctx = c;
    s->qd = -1;
    s->ep_id = -1;
}

/* The lowest free id of c, of kind; -ENFILE when the pool is full. */
int mt_sock_alloc(struct mt_ctx *c, enum mt_kind kind, struct mt_sock **out)
{
    for (int i = 0; i < c->nsocks; i++) {
        if (c->socks[i].kind != MT_UNUSED)
            continue;
        sock_reset(&c->socks[i], c, i);
        c->socks[i].kind = kind;
        *out = &c->socks[i];
        return 0;
    }
    return -ENFILE;
}

void mt_sock_free(struct mt_sock *s)
{
    free(s->push);
    free(s->acc_qt);
    free(s->acq);
    sock_reset(s, s->ctx, s->id);
}

/* The hidden socket of the port group of port (network order), or NULL. */
struct mt_sock *mt_group_find(uint16_t port)
{
    for (int i = 0; i < MT_MAX_CTX; i++) {
        struct mt_ctx *c = g_ctx[i];
        for (int j = 0; c != NULL && j < c->nsocks; j++)
            if (c->socks[j].kind != MT_UNUSED && c->socks[j].grp != NULL && c->socks[j].grp->port == port)
                return c->socks[j].grp;
    }
    return NULL;
}

void mt_ctx_close_all(struct mt_ctx *c)
{
    for (int i = 0; i < c->nsocks; i++)
        if (c->socks[i].kind != MT_UNUSED)
            mt_sock_close(&c->socks[i]);
}

static void ctx_free(struct mt_ctx *c)
{
    mt_ctx_close_all(c);
    g_ctx[c->pub.cpu] = NULL;
    c->magic = 0;
    free(c->socks);
    free(c);
}

void mt_destroy_all(void)
{
    for (int i = 0; i < MT_MAX_CTX; i++)
        if (g_ctx[i] != NULL)
            ctx_free(g_ctx[i]);
}

static int ctx_create(int cpu, struct mt_ctx **out)
{
    struct mt_ctx *c;

    if (!g_mt_inited)
        return -ENOSYS;
    if (cpu < 0 || cpu >= g_mt_conf.num_cores || cpu >= MT_MAX_CTX)
        return -EINVAL;
    if (g_ctx[cpu] != NULL)
        return -EEXIST;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->nsocks = g_mt_conf.max_concurrency;
    c->socks = calloc((size_t)c->nsocks, sizeof(*c->socks));
    if (c->socks == NULL) {
        free(c);
        return -ENOMEM;
    }
    for (int i = 0; i < c->nsocks; i++)
        sock_reset(&c->socks[i], c, i);
    c->pub.cpu = cpu;
    c->magic = MT_CTX_MAGIC;
    c->rcvbuf = g_mt_conf.rcvbuf_size;
    c->sndbuf = g_mt_conf.sndbuf_size;
    g_ctx[cpu] = c;
    *out = c;
    return 0;
}

MT_API mctx_t mtcp_create_context(int cpu)
{
    struct mt_ctx *c = NULL;
    int rc;

    mt_lock();
    rc = ctx_create(cpu, &c);
    mt_unlock();
    if (rc != 0) {
        errno = -rc;
        return NULL;
    }
    return &c->pub;
}

MT_API int mtcp_destroy_context(mctx_t mctx)
{
    struct mt_ctx *c;
    int rc = 0;

    mt_lock();
    c = mt_ctx_get(mctx);
    if (c == NULL)
        rc = -EINVAL;
    else
        ctx_free(c);
    mt_unlock();
    return mt_ret(rc);
}

MT_API int mtcp_core_affinitize(int cpu)
{
    cpu_set_t set;
    long n = sysconf(_SC_NPROCESSORS_CONF);

    if (cpu < 0 || cpu >= n || cpu >= CPU_SETSIZE)
        return mt_ret(-EINVAL);
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        return mt_ret(-EINVAL);
    return 0;
}

MT_API mtcp_sighandler_t mtcp_register_signal(int signum, mtcp_sighandler_t handler)
{
    struct sigaction sa;

    if (signum <= 0 || signum >= NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    memset(&sa, 0, sizeof(sa));
    g_handlers[signum] = handler;
    /* SIG_IGN and SIG_DFL stay themselves; a function goes through the
     * trampoline so that mtcp_app_join sees the signal */
    sa.sa_handler = handler == SIG_IGN || handler == SIG_DFL ? handler : trampoline;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(signum, &sa, NULL) != 0) {
        errno = EINVAL;
        return SIG_ERR;
    }
    return handler;
}

MT_API uint32_t mtcp_get_connection_cnt(mctx_t mctx)
{
    struct mt_ctx *c;
    uint32_t n = 0;

    mt_lock();
    c = mt_ctx_get(mctx);
    if (c == NULL) {
        mt_unlock();
        errno = EINVAL;
        return 0;
    }
    for (int i = 0; i < c->nsocks; i++)
        if (c->socks[i].kind == MT_STREAM && c->socks[i].state == ST_CONNECTED)
            n++;
    mt_unlock();
    return n;
}

MT_API int GetRSSCPUCore(in_addr_t sip, in_addr_t dip, in_port_t sp, in_port_t dp, int num_queues)
{
    (void)sip, (void)dip, (void)sp, (void)dp;
    return num_queues < 1 ? -1 : 0;
}

MT_API int StrToArgs(char *str, int *argc, char **argv, int max_argc)
{
    char *save = NULL, *tok;
    int n = 0;

    if (str == NULL || argc == NULL || argv == NULL || max_argc < 1)
        return -1;
    for (tok = strtok_r(str, " \t\n", &save); tok != NULL; tok = strtok_r(NULL, " \t\n", &save)) {
        if (n == max_argc) {
            *argc = n;
            return -1;
        }
        argv[n++] = tok;
    }
    *argc = n;
    return 0;
}
