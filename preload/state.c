/*
 * state.c - the interposer's state: the fd tables, the sockets Sluice
 * took, the demi tokens they have outstanding, the engine loop that files
 * completions, readiness, blocking, fork and exit.
 *
 * Design (docs/preload.md): a taken socket keeps pops outstanding and
 * buffers what they return; a listener keeps one accept outstanding and
 * queues what completes; a write copies into a fresh array (demi_sgaalloc)
 * and pushes it, and the bytes of pushes not yet completed are bounded by
 * SO_SNDBUF (what EPOLLOUT and EAGAIN report). Readiness is computed from
 * that buffered state. Completions are collected for the whole process with
 * demi_wait_next_n and a zero timeout (one engine pass), keyed by token
 * (a queue descriptor may be reused while results of its old queue are
 * still on their way).
 */
/* Our definitions of pread, sendfile and fcntl must keep their own names
 * (glibc redirects them to the *64 names under _FILE_OFFSET_BITS=64, which
 * Meson sets); on 64-bit targets off_t is 64 bits either way. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <dmtr/libos.h>
#include <sluice/stats.h>

#include "internal.h"

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
int g_fdmax;
struct psock **g_socks;
struct epset **g_eps;
uint8_t *g_fdflags;
struct pstats g_pstats;
uint64_t g_work; /* completions filed: a waiter that sees it move is not idle */
int g_log_level = PLOG_WARN;

static struct psock *all_socks;

/* Whether this process started the stack (demi_init succeeded here), and
 * whether it is a child of one that did (then it must never touch it). */
static bool started, init_failed, detached;
static pid_t started_pid;
static uint32_t default_sndbuf = 256 * 1024;
static unsigned spin_us = 200;
static bool want_stats;

/* Outstanding pops per socket (more than one lets an engine pass hand over
 * several segments) and the buffered bytes above which no pop is issued. */
#define POPS_MAX 4
#define RBUF_HIGH (1u << 20)

int fail(int err)
{
    errno = err;
    return -1;
}

void plog(int level, const char *fmt, ...)
{
    char buf[512];
    static const char *names[] = {"error", "warn", "info", "debug", "stats"};
    va_list ap;
    int n;

    if (level > g_log_level && level != PLOG_STATS)
        return;
    n = snprintf(buf, sizeof(buf), "sluice-preload[%d]: %s: ", (int)getpid(), names[level]);
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    /* straight to the kernel: stderr may be anything, even one of ours */
    syscall(SYS_write, 2, buf, (size_t)n);
}

void lock(void)
{
    pthread_mutex_lock(&g_lock);
}

void unlock(void)
{
    pthread_mutex_unlock(&g_lock);
}

uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- tokens ---- */

enum tok_kind { TK_POP = 1, TK_PUSH, TK_ACCEPT, TK_CONNECT };

struct tok {
    demi_qtoken_t qt;        /* 0: free slot */
    struct psock *s;
    enum tok_kind kind;
    uint32_t bytes;
    demi_sgarray_t sga;      /* a push's array, freed when it completes (none for a small write) */
};

/* Frees a push's array; one of our own memory (sga_numsegs 0) has none. */
static void push_sga_free(demi_sgarray_t *sga)
{
    if (sga->sga_numsegs == 0)
        return;
    t_inside++;
    demi_sgafree(sga);
    t_inside--;
}

static struct tok *toks;
static size_t tok_cap, tok_n; /* open addressing, power-of-two capacity */

static size_t tok_hash(demi_qtoken_t qt)
{
    return (size_t)((qt * 0x9e3779b97f4a7c15ull) >> 17);
}

static void tok_put_raw(struct tok *tab, size_t cap, const struct tok *t)
{
    size_t i = tok_hash(t->qt) & (cap - 1);

    while (tab[i].qt != 0)
        i = (i + 1) & (cap - 1);
    tab[i] = *t;
}

static int tok_add(const struct tok *t)
{
    if ((tok_n + 1) * 2 > tok_cap) {
        size_t ncap = tok_cap ? tok_cap * 2 : 1024;
        struct tok *n = calloc(ncap, sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < tok_cap; i++)
            if (toks[i].qt != 0)
                tok_put_raw(n, ncap, &toks[i]);
        free(toks);
        toks = n;
        tok_cap = ncap;
    }
    tok_put_raw(toks, tok_cap, t);
    tok_n++;
    return 0;
}

/* Removes the entry of qt into *out; false if unknown. */
static bool tok_take(demi_qtoken_t qt, struct tok *out)
{
    size_t i, j;

    if (tok_cap == 0)
        return false;
    i = tok_hash(qt) & (tok_cap - 1);
    while (toks[i].qt != qt) {
        if (toks[i].qt == 0)
            return false;
        i = (i + 1) & (tok_cap - 1);
    }
    *out = toks[i];
    toks[i].qt = 0;
    tok_n--;
    /* re-insert the rest of the cluster (deletion in linear probing) */
    for (j = (i + 1) & (tok_cap - 1); toks[j].qt != 0; j = (j + 1) & (tok_cap - 1)) {
        struct tok t = toks[j];
        toks[j].qt = 0;
        tok_put_raw(toks, tok_cap, &t);
    }
    return true;
}

/* ---- init ---- */

static void atfork_prepare(void);
static void atfork_parent(void);
static void atfork_child(void);

static void parse_env(void)
{
    const char *v = getenv("SLUICE_LOG");

    if (v != NULL) {
        if (strcmp(v, "error") == 0)
            g_log_level = PLOG_ERROR;
        else if (strcmp(v, "info") == 0)
            g_log_level = PLOG_INFO;
        else if (strcmp(v, "debug") == 0)
            g_log_level = PLOG_DEBUG;
    }
    v = getenv("SLUICE_PRELOAD_SPIN_US");
    if (v != NULL) {
        char *end;
        unsigned long u = strtoul(v, &end, 10);
        if (*v != '\0' && *end == '\0' && u <= 1000000)
            spin_us = (unsigned)u;
        else
            plog(PLOG_WARN, "SLUICE_PRELOAD_SPIN_US: expected 0..1000000, got '%s'; using %u", v, spin_us);
    }
    v = getenv("SLUICE_PRELOAD_STATS");
    want_stats = v != NULL && strcmp(v, "0") != 0 && *v != '\0';
}

static void init_once(void);

void preload_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    real_resolve();
    pthread_once(&once, init_once);
}

static void stats_at_exit(void);
static void linger_at_exit(void);

/* SLUICE_* variables as the program started with them. Some programs
 * clear their environment before the first I/O (nginx's worker keeps only
 * TZ); the stack reads its configuration from it when it starts. */
#define SAVED_ENV_MAX 64
static char *saved_env[SAVED_ENV_MAX];

static void save_env(void)
{
    extern char **environ;
    int n = 0;

    for (char **e = environ; e != NULL && *e != NULL && n < SAVED_ENV_MAX; e++)
        if (strncmp(*e, "SLUICE_", 7) == 0 && (saved_env[n] = strdup(*e)) != NULL)
            n++;
}

static void restore_env(void)
{
    for (int i = 0; i < SAVED_ENV_MAX && saved_env[i] != NULL; i++) {
        char *eq = strchr(saved_env[i], '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        if (getenv(saved_env[i]) == NULL)
            setenv(saved_env[i], eq + 1, 0);
        *eq = '=';
    }
}

static void init_once(void)
{
    struct rlimit rl;
    rlim_t n = 65536;

    parse_env();
    save_env();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max > n)
        n = rl.rlim_max;
    if (n > (1u << 22))
        n = 1u << 22;
    /* calloc of this size is fresh mmap'd zero pages: only touched ones cost */
    g_socks = calloc((size_t)n, sizeof(*g_socks));
    g_eps = calloc((size_t)n, sizeof(*g_eps));
    g_fdflags = calloc((size_t)n, sizeof(*g_fdflags));
    if (g_socks == NULL || g_eps == NULL || g_fdflags == NULL) {
        free(g_socks);
        free(g_eps);
        free(g_fdflags);
        g_socks = NULL;
        g_eps = NULL;
        g_fdflags = NULL;
        plog(PLOG_ERROR, "cannot allocate the fd tables: every socket stays with the kernel");
        return;
    }
    __atomic_store_n(&g_fdmax, (int)n, __ATOMIC_RELEASE);
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    if (want_stats)
        atexit(stats_at_exit);
}

__attribute__((constructor)) static void preload_ctor(void)
{
    preload_init();
}

/* ---- sockets ---- */

struct psock *ps_new(int type, bool nonblock)
{
    struct psock *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->type = type;
    s->nonblock = nonblock;
    s->qd = -1;
    s->sndbuf = default_sndbuf;
    s->next_all = all_socks;
    all_socks = s;
    return s;
}

static void ps_unlink(struct psock *s)
{
    for (struct psock **p = &all_socks; *p != NULL; p = &(*p)->next_all) {
        if (*p == s) {
            *p = s->next_all;
            return;
        }
    }
}

static int ps_outstanding(const struct psock *s)
{
    return s->pops_out + s->pushes_out + (s->accept_out ? 1 : 0) + (s->connect_out ? 1 : 0);
}

/* Frees what s holds on the demi side and, once nothing refers to it, s. */
static void ps_maybe_free(struct psock *s)
{
    if (!s->closed || s->busy > 0 || (ps_outstanding(s) > 0 && !detached))
        return;
    ps_unlink(s);
    free(s->opts);
    free(s->rq);
    free(s->aq);
    free(s);
}

static void ps_release_demi(struct psock *s)
{
    if (s->dead || detached) {
        /* inherited over fork: the stack is the parent's; forget only */
        s->qd = -1;
        return;
    }
    while (s->rq_n > 0) {
        demi_sgafree(&s->rq[s->rq_head].sga);
        s->rq_head = (s->rq_head + 1) % s->rq_cap;
        s->rq_n--;
    }
    s->rbytes = 0;
    while (s->aq_n > 0) {
        t_inside++;
        demi_close(s->aq[s->aq_head].qd);
        t_inside--;
        s->aq_head = (s->aq_head + 1) % s->aq_cap;
        s->aq_n--;
    }
    if (s->qd >= 0) {
        t_inside++;
        demi_close(s->qd);
        t_inside--;
        s->qd = -1;
    }
}

void fd_set_sock(int fd, struct psock *s)
{
    if (s != NULL)
        s->refs++;
    __atomic_store_n(&g_socks[fd], s, __ATOMIC_RELEASE);
}

void fd_set_ep(int fd, struct epset *e)
{
    if (e != NULL)
        e->refs++;
    __atomic_store_n(&g_eps[fd], e, __ATOMIC_RELEASE);
}

void fd_forget(int fd)
{
    struct psock *s;
    struct epset *e;

    if (fd < 0 || fd >= g_fdmax)
        return;
    s = g_socks[fd];
    e = g_eps[fd];
    if (s != NULL) {
        __atomic_store_n(&g_socks[fd], NULL, __ATOMIC_RELEASE);
        if (--s->refs == 0) {
            s->closed = true;
            ep_drop_sock(s);
            ps_release_demi(s);
            ps_maybe_free(s);
        }
    }
    if (e != NULL) {
        __atomic_store_n(&g_eps[fd], NULL, __ATOMIC_RELEASE);
        if (--e->refs == 0)
            ep_free(e);
    }
}

int ps_decide(struct psock *s, int fd, uint32_t addr, uint16_t port)
{
    int take;

    (void)fd;
    if (s->state != PS_CAND)
        return s->state == PS_TAKEN;
    take = rules_take(addr, port);
    if (take < 0)
        return take;
    s->state = take ? PS_TAKEN : PS_KERNEL;
    if (take)
        g_pstats.taken++;
    else
        g_pstats.kernel++;
    ep_sock_decided(s);
    return take;
}

/* Starts Sluice in this process (demi_init), once. 0 or -errno. */
static int ensure_started(void)
{
    int rc;

    if (started)
        return 0;
    if (detached) {
        plog(PLOG_ERROR, "this process is a child of one that runs the Sluice stack (fork after I/O): "
                         "its sockets cannot be used here; open new ones before the first I/O, or exec");
        return -ENETDOWN;
    }
    if (init_failed)
        return -ENETDOWN;
    restore_env();
    t_inside++;
    rc = demi_init(NULL);
    t_inside--;
    if (rc != 0 && rc != EEXIST) {
        init_failed = true;
        plog(PLOG_ERROR, "Sluice did not start (demi_init: %s); the lines above say why", strerror(rc));
        return -ENETDOWN;
    }
    started = true;
    started_pid = getpid();
    /* atexit runs handlers last-registered first: these run before the
     * core's own (registered by demi_init), while the stack still runs */
    if (want_stats)
        atexit(stats_at_exit);
    atexit(linger_at_exit);
    return 0;
}

/* The kernel does what was recorded (TCP not available on the stack yet). */
static int ps_fallback(struct psock *s, int fd)
{
    static bool warned;

    if (!warned) {
        plog(PLOG_WARN, "Sluice has no %s sockets yet: they stay with the kernel",
             s->type == SOCK_STREAM ? "TCP" : "UDP");
        warned = true;
    }
    s->state = PS_KERNEL;
    g_pstats.taken--;
    g_pstats.kernel++;
    ep_sock_decided(s);
    if (s->bound && real.bind(fd, (const struct sockaddr *)&s->bind_addr, sizeof(s->bind_addr)) != 0)
        return -errno;
    if (s->listening && real.listen(fd, s->backlog) != 0)
        return -errno;
    return 1;
}

static void query_sndbuf(struct psock *s)
{
    int v = 0;
    socklen_t len = sizeof(v);

    t_inside++;
    if (demi_getsockopt(s->qd, SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 && v > 0)
        s->sndbuf = (uint32_t)v;
    t_inside--;
}

static int issue_accept(struct psock *s)
{
    struct tok t = {.s = s, .kind = TK_ACCEPT};
    int rc;

    t_inside++;
    rc = demi_accept(&t.qt, s->qd);
    t_inside--;
    if (rc != 0)
        return -rc;
    if (tok_add(&t) != 0) {
        t_inside++;
        dmtr_drop(t.qt);
        t_inside--;
        return -ENOMEM;
    }
    s->accept_out = true;
    return 0;
}

int ps_materialise(struct psock *s, int fd)
{
    int rc, qd;

    if (s->state != PS_TAKEN)
        return 1;
    if (s->qd >= 0)
        return 0;
    if (s->dead)
        return -EIO;
    rc = ensure_started();
    if (rc)
        return rc;
    t_inside++;
    rc = demi_socket(&qd, AF_INET, s->type, 0);
    t_inside--;
    if (rc == ENOTSUP || rc == EOPNOTSUPP || rc == EPROTONOSUPPORT)
        return ps_fallback(s, fd);
    if (rc != 0)
        return -rc;
    t_inside++;
    for (int i = 0; i < s->nopts; i++) {
        /* the kernel fd accepted each of them already; the stack may not
         * know them all (kept on the kernel socket only, docs/preload.md) */
        const struct opt_rec *o = &s->opts[i];
        demi_setsockopt(qd, o->level, o->name, o->val, o->len);
    }
    t_inside--;
    if (s->bound) {
        t_inside++;
        rc = demi_bind(qd, (const struct sockaddr *)&s->bind_addr, sizeof(s->bind_addr));
        t_inside--;
        if (rc == EINVAL && s->bind_addr.sin_addr.s_addr != 0)
            rc = EADDRNOTAVAIL; /* "not our address", as Linux says it */
        if (rc != 0) {
            t_inside++;
            demi_close(qd);
            t_inside--;
            return -rc;
        }
    }
    s->qd = qd;
    if (s->listening) {
        t_inside++;
        rc = demi_listen(qd, s->backlog);
        t_inside--;
        if (rc == 0)
            rc = -issue_accept(s);
        if (rc != 0) {
            t_inside++;
            demi_close(qd);
            t_inside--;
            s->qd = -1;
            return -rc;
        }
        s->conn = CS_LISTEN;
    }
    query_sndbuf(s);
    plog(PLOG_DEBUG, "fd %d: %s socket on Sluice (qd %d)%s port %u%s", fd, s->type == SOCK_STREAM ? "TCP" : "UDP",
         qd, s->bound ? ", bound to" : "", (unsigned)ntohs(s->bind_addr.sin_port), s->listening ? ", listening" : "");
    if (s->type == SOCK_DGRAM)
        ps_refill(s);
    return 0;
}

void ps_free_sga(demi_sgarray_t *sga)
{
    t_inside++;
    demi_sgafree(sga);
    t_inside--;
}

/* ---- completions ---- */

static int rq_push(struct psock *s, const demi_sgarray_t *sga)
{
    if (s->rq_n == s->rq_cap) {
        int ncap = s->rq_cap ? s->rq_cap * 2 : 8;
        struct rseg *n = malloc((size_t)ncap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        for (int i = 0; i < s->rq_n; i++)
            n[i] = s->rq[(s->rq_head + i) % s->rq_cap];
        free(s->rq);
        s->rq = n;
        s->rq_cap = ncap;
        s->rq_head = 0;
    }
    struct rseg *r = &s->rq[(s->rq_head + s->rq_n) % s->rq_cap];
    r->sga = *sga;
    r->off = 0;
    s->rq_n++;
    s->rbytes += sga->sga_segs[0].sgaseg_len;
    return 0;
}

static int aq_push(struct psock *s, int qd, const struct sockaddr_in *addr)
{
    if (s->aq_n == s->aq_cap) {
        int ncap = s->aq_cap ? s->aq_cap * 2 : 16;
        struct accepted *n = malloc((size_t)ncap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        for (int i = 0; i < s->aq_n; i++)
            n[i] = s->aq[(s->aq_head + i) % s->aq_cap];
        free(s->aq);
        s->aq = n;
        s->aq_cap = ncap;
        s->aq_head = 0;
    }
    struct accepted *a = &s->aq[(s->aq_head + s->aq_n) % s->aq_cap];
    a->qd = qd;
    a->addr = *addr;
    s->aq_n++;
    return 0;
}

static bool wants_pops(const struct psock *s)
{
    if (s->closed || s->dead || s->qd < 0 || s->rd_eof || s->reset)
        return false;
    if (s->type == SOCK_STREAM && s->conn != CS_CONNECTED)
        return false;
    return s->rbytes < RBUF_HIGH && s->rq_n < 256;
}

void ps_refill(struct psock *s)
{
    while (wants_pops(s) && s->pops_out < POPS_MAX) {
        struct tok t = {.s = s, .kind = TK_POP};
        int rc;
        t_inside++;
        rc = demi_pop(&t.qt, s->qd);
        t_inside--;
        if (rc != 0 || tok_add(&t) != 0) {
            if (rc == 0) {
                t_inside++;
                dmtr_drop(t.qt);
                t_inside--;
            }
            break;
        }
        s->pops_out++;
        g_pstats.pops++;
    }
    if (s->listening && s->conn == CS_LISTEN && !s->accept_out && !s->closed && !s->dead && s->qd >= 0)
        issue_accept(s);
}

static void on_pop(struct psock *s, const demi_qresult_t *qr)
{
    s->pops_out--;
    if (qr->qr_opcode == DEMI_OPC_POP) {
        demi_sgarray_t sga = qr->qr_value.sga;
        uint32_t len = sga.sga_numsegs ? sga.sga_segs[0].sgaseg_len : 0;
        if (s->closed) {
            t_inside++;
            demi_sgafree(&sga);
            t_inside--;
            return;
        }
        if (len == 0 && s->type == SOCK_STREAM) {
            s->rd_eof = true;
            t_inside++;
            demi_sgafree(&sga);
            t_inside--;
        } else if (rq_push(s, &sga) != 0) {
            t_inside++;
            demi_sgafree(&sga);
            t_inside--;
            s->so_error = ENOMEM;
        } else {
            g_pstats.bytes_in += len;
        }
    } else if (qr->qr_ret != ECANCELED && !s->closed) {
        s->so_error = (int)qr->qr_ret;
        if (s->type == SOCK_STREAM) {
            s->reset = true;
            s->rd_eof = true;
        }
    }
    ps_refill(s);
}

static void on_accept(struct psock *s, const demi_qresult_t *qr)
{
    s->accept_out = false;
    if (qr->qr_opcode == DEMI_OPC_ACCEPT) {
        int qd = qr->qr_value.ares.qd;
        struct sockaddr_in addr = qr->qr_value.ares.addr;
        if (s->closed || aq_push(s, qd, &addr) != 0) {
            t_inside++;
            demi_close(qd);
            t_inside--;
        }
    } else if (qr->qr_ret != ECANCELED && !s->closed) {
        plog(PLOG_INFO, "accept failed on the stack: %s", strerror((int)qr->qr_ret));
    }
    ps_refill(s);
}

static void on_connect(struct psock *s, const demi_qresult_t *qr)
{
    s->connect_out = false;
    if (s->closed)
        return;
    if (qr->qr_opcode == DEMI_OPC_CONNECT) {
        s->conn = CS_CONNECTED;
        query_sndbuf(s);
        ps_refill(s);
    } else {
        s->conn = CS_FAILED;
        s->so_error = qr->qr_ret == ECANCELED ? ECONNABORTED : (int)qr->qr_ret;
        s->reset = true;
        s->rd_eof = true;
    }
}

static void file_result(const demi_qresult_t *qr)
{
    struct tok t;

    if (!tok_take(qr->qr_qt, &t)) {
        /* not ours: nothing else in this process uses demi, but never leak */
        if (qr->qr_opcode == DEMI_OPC_POP) {
            demi_sgarray_t sga = qr->qr_value.sga;
            t_inside++;
            demi_sgafree(&sga);
            t_inside--;
        }
        return;
    }
    struct psock *s = t.s;
    /* the EPOLL* bits this completion can raise (0: any), for ep_wake */
    uint32_t key = 0;
    bool wake = true;
    switch (t.kind) {
    case TK_POP:
        if (qr->qr_opcode == DEMI_OPC_POP && qr->qr_value.sga.sga_numsegs > 0 &&
            qr->qr_value.sga.sga_segs[0].sgaseg_len > 0)
            key = EPOLLIN | EPOLLRDNORM; /* data; end of stream and errors raise any */
        on_pop(s, qr);
        break;
    case TK_PUSH: {
        bool was_full = s->unacked >= s->sndbuf;
        s->pushes_out--;
        s->unacked -= t.bytes;
        push_sga_free(&t.sga);
        if (qr->qr_opcode == DEMI_OPC_FAILED && qr->qr_ret != ECANCELED && !s->closed &&
            s->type == SOCK_STREAM) {
            s->so_error = (int)qr->qr_ret;
            s->reset = true;
        } else {
            /* room to write is an event only where a writer found none
             * (Linux wakes writers once SOCK_NOSPACE was set) */
            key = EPOLLOUT | EPOLLWRNORM;
            wake = was_full && s->unacked < s->sndbuf;
        }
        break;
    }
    case TK_ACCEPT:
        key = EPOLLIN | EPOLLRDNORM;
        on_accept(s, qr);
        break;
    case TK_CONNECT:
        on_connect(s, qr);
        break;
    }
    s->gen++;
    g_work++;
    if (wake)
        ep_wake(s, key);
    ps_maybe_free(s);
}

void progress(void)
{
    static const struct timespec zero = {0, 0};
    demi_qresult_t qrs[32];
    int n, rc;

    if (!started || detached)
        return;
    for (int round = 0; round < 8; round++) {
        n = 0;
        t_inside++;
        rc = demi_wait_next_n(qrs, 32, &n, &zero);
        t_inside--;
        if (rc != 0 || n <= 0)
            return;
        for (int i = 0; i < n; i++)
            file_result(&qrs[i]);
        if (n < 32)
            return;
    }
}

uint32_t ps_events(struct psock *s)
{
    uint32_t ev = 0;

    if (s->dead)
        return EPOLLHUP;
    if (s->so_error)
        ev |= EPOLLERR;
    if (s->type == SOCK_DGRAM) {
        if (s->rq_n > 0 || s->so_error || s->rd_shut)
            ev |= EPOLLIN | EPOLLRDNORM;
        if (s->rd_shut)
            ev |= EPOLLRDHUP;
        if (s->rd_shut && s->wr_shut)
            ev |= EPOLLHUP;
        if (s->unacked < s->sndbuf)
            ev |= EPOLLOUT | EPOLLWRNORM;
        return ev;
    }
    switch (s->conn) {
    case CS_LISTEN:
        if (s->aq_n > 0)
            ev |= EPOLLIN | EPOLLRDNORM;
        return ev;
    case CS_CONNECTING:
        return ev;
    case CS_NONE:
        /* bound, neither listening nor connected: what Linux says of a
         * fresh TCP socket */
        return ev | EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
    case CS_FAILED:
        return ev | EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
    case CS_CONNECTED:
        break;
    }
    if (s->rbytes > 0 || s->rd_eof || s->rd_shut)
        ev |= EPOLLIN | EPOLLRDNORM;
    if (s->rd_eof || s->rd_shut)
        ev |= EPOLLRDHUP;
    if (s->wr_shut || s->reset || s->unacked < s->sndbuf)
        ev |= EPOLLOUT | EPOLLWRNORM;
    if ((s->rd_eof && s->wr_shut) || s->reset)
        ev |= EPOLLHUP;
    return ev;
}

/* Stream writes up to this many bytes are pushed from a buffer on our C
 * stack, not from a pool array: the stack copies them and merges small
 * ones into the mbuf of the write before (tcp_send), so a program writing
 * a few bytes at a time holds an mbuf per 2 KiB or so, not two per write -
 * which emptied the pool (ENOBUFS) after about 4,000 one-byte writes. */
#define PUSH_COPY_MAX 1024u

ssize_t ps_push(struct psock *s, const void *data, size_t len, const struct sockaddr_in *to,
                int (*fill)(void *dst, size_t len, void *ctx), void *ctx)
{
    struct tok t = {.s = s, .kind = TK_PUSH, .bytes = (uint32_t)len};
    uint8_t local[PUSH_COPY_MAX];
    demi_sgarray_t sga;
    int rc;

    if (s->type == SOCK_STREAM && to == NULL && len <= PUSH_COPY_MAX) {
        memset(&sga, 0, sizeof(sga));
        sga.sga_numsegs = 1;
        sga.sga_segs[0].sgaseg_buf = local;
        sga.sga_segs[0].sgaseg_len = (uint32_t)len;
    } else {
        t_inside++;
        sga = demi_sgaalloc(len);
        t_inside--;
        if (sga.sga_numsegs == 0)
            return -ENOBUFS;
        t.sga = sga; /* freed when the push completes */
    }
    if (fill != NULL) {
        rc = fill(sga.sga_segs[0].sgaseg_buf, len, ctx);
        if (rc <= 0) {
            push_sga_free(&t.sga);
            return rc;
        }
        /* a sub-span of our own array is a valid segment */
        len = (size_t)rc;
        sga.sga_segs[0].sgaseg_len = (uint32_t)len;
        t.bytes = (uint32_t)len;
    } else {
        memcpy(sga.sga_segs[0].sgaseg_buf, data, len);
    }
    t_inside++;
    if (to != NULL)
        rc = demi_pushto(&t.qt, s->qd, &sga, (const struct sockaddr *)to, sizeof(*to));
    else
        rc = demi_push(&t.qt, s->qd, &sga);
    t_inside--;
    if (rc == 0 && tok_add(&t) != 0) {
        /* cannot track it: wait for it here so the array is not lost */
        demi_qresult_t qr;
        t_inside++;
        demi_wait(&qr, t.qt, NULL);
        t_inside--;
        push_sga_free(&t.sga);
        return (ssize_t)len;
    }
    if (rc != 0) {
        push_sga_free(&t.sga);
        return rc == EAGAIN ? -ENOBUFS : -rc;
    }
    s->pushes_out++;
    s->unacked += len;
    g_pstats.pushes++;
    g_pstats.bytes_out += len;
    return (ssize_t)len;
}

int tok_add_connect(struct psock *s, demi_qtoken_t qt)
{
    struct tok t = {.qt = qt, .s = s, .kind = TK_CONNECT};

    if (tok_add(&t) != 0)
        return -ENOMEM;
    s->connect_out = true;
    return 0;
}

static bool opt_on(const struct psock *s, int level, int name)
{
    for (int i = 0; i < s->nopts; i++)
        if (s->opts[i].level == level && s->opts[i].name == name && s->opts[i].len >= sizeof(int))
            return *(const int *)(const void *)s->opts[i].val != 0;
    return false;
}

bool ps_port_in_use(const struct psock *s, const struct sockaddr_in *sin)
{
    if (sin->sin_port == 0)
        return false;
    for (const struct psock *o = all_socks; o != NULL; o = o->next_all) {
        if (o == s || o->closed || o->dead || o->state != PS_TAKEN || o->type != s->type || !o->bound ||
            o->bind_addr.sin_port != sin->sin_port)
            continue;
        if (o->bind_addr.sin_addr.s_addr != sin->sin_addr.s_addr && o->bind_addr.sin_addr.s_addr != 0 &&
            sin->sin_addr.s_addr != 0)
            continue;
        if (opt_on(s, SOL_SOCKET, SO_REUSEPORT) && opt_on(o, SOL_SOCKET, SO_REUSEPORT))
            continue;
        if (s->type == SOCK_STREAM && opt_on(s, SOL_SOCKET, SO_REUSEADDR) &&
            opt_on(o, SOL_SOCKET, SO_REUSEADDR) && !o->listening)
            continue;
        return true;
    }
    return false;
}

/* ---- waiting ---- */

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
    uint64_t now = now_ns(), idle = now - st->last_work_ns;

    st->spins++;
    if (idle < (uint64_t)spin_us * 1000u) {
        /* two cores shared with the peer: let it run now and then */
        if ((st->spins & 63) == 0)
            sched_yield();
        return 0;
    }
    /* short naps while the program was busy recently, longer ones when it
     * has long been idle (an idle server must not burn a core) */
    if (idle < 100000000u)
        return 50000;
    return 1000000;
}

int ps_block(struct psock *s, bool (*ready)(struct psock *), const struct timeval *timeout)
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
        progress();
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
        if (now_ns() >= deadline) {
            rc = -EAGAIN;
            break;
        }
        uint64_t nap = idle_next(&st);
        if (nap > 0) {
            unlock();
            struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)nap};
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

/* ---- fork ---- */

static void atfork_prepare(void)
{
    lock();
}

static void atfork_parent(void)
{
    unlock();
}

/* The child shares DPDK's memory with the parent: it must never touch the
 * stack. Its inherited sockets become dead (closing them only forgets
 * them); candidates and taken sockets not yet materialised stay usable, and
 * may start a stack of the child's own if the parent never started one. */
static void atfork_child(void)
{
    pthread_mutex_init(&g_lock, NULL);
    if (!started)
        return;
    detached = true;
    started = false;
    for (struct psock *s = all_socks; s != NULL; s = s->next_all) {
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
    /* the tokens are the parent's */
    toks = NULL;
    tok_cap = tok_n = 0;
}

/* ---- exit ---- */

/* At exit in the process running the stack: let pushes still in flight
 * finish (up to 2 s), then close every socket, so that a client that
 * writes and exits is heard, as it would be with the kernel. Runs before
 * the core's own exit handler (registered later, so it runs earlier). */
static void linger_at_exit(void)
{
    uint64_t deadline;
    bool pending;

    if (!started || getpid() != started_pid)
        return;
    lock();
    deadline = now_ns() + 2000000000u;
    do {
        progress();
        pending = false;
        for (struct psock *s = all_socks; s != NULL; s = s->next_all)
            if (s->pushes_out > 0 && !s->reset)
                pending = true;
    } while (pending && now_ns() < deadline);
    for (struct psock *s = all_socks; s != NULL; s = s->next_all) {
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

static void stats_at_exit(void)
{
    static bool printed;
    const char *names[256];
    uint64_t values[256];
    int n;

    if (printed)
        return;
    printed = true;
    if (!started && g_pstats.taken == 0 && g_pstats.kernel == 0)
        return; /* no AF_INET socket here (a shell, a helper): nothing to say */
    plog(PLOG_STATS,
         " sockets taken %llu, left to the kernel %llu, accepted %llu, bytes in %llu, out %llu, "
         "pushes %llu, pops %llu, naps %llu",
         (unsigned long long)g_pstats.taken, (unsigned long long)g_pstats.kernel,
         (unsigned long long)g_pstats.accepted, (unsigned long long)g_pstats.bytes_in,
         (unsigned long long)g_pstats.bytes_out, (unsigned long long)g_pstats.pushes,
         (unsigned long long)g_pstats.pops, (unsigned long long)g_pstats.waits_slept);
    if (!started || getpid() != started_pid)
        return;
    t_inside++;
    n = sluice_stats(names, values, 256);
    t_inside--;
    for (int i = 0; i < n && i < 256; i++)
        if (values[i] != 0)
            plog(PLOG_STATS, "%s %llu", names[i],
                 (unsigned long long)values[i]);
}

