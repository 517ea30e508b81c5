/*
 * psock.c - the life of a socket Sluice takes: made, decided (taken or the
 * kernel's, by the rules), materialised on the demi side at its first use
 * (which starts the stack in this process: demi_init), written to (ps_push:
 * a copy into a fresh array, the bytes not yet completed bounded by
 * SO_SNDBUF), and freed once its last fd is closed and its tokens are back.
 * Design: docs/preload.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <dmtr/libos.h>
#include <sluice/engine.h>

#include "internal.h"

/* Frees a push's array; one of our own memory (sga_numsegs 0) has none. */
void push_sga_free(demi_sgarray_t *sga)
{
    if (sga->sga_numsegs == 0)
        return;
    t_inside++;
    demi_sgafree(sga);
    t_inside--;
}

static bool init_failed;
bool g_inet_seen;


struct psock *ps_new(int type, bool nonblock)
{
    struct psock *s = arena_alloc(sizeof(*s));

    if (s == NULL)
        return NULL;
    s->type = type;
    s->nonblock = nonblock;
    s->qd = -1;
    s->sndbuf = g_default_sndbuf;
    s->next_all = g_all_socks;
    g_all_socks = s;
    return s;
}

static void ps_unlink(struct psock *s)
{
    for (struct psock **p = &g_all_socks; *p != NULL; p = &(*p)->next_all) {
        if (*p == s) {
            *p = s->next_all;
            return;
        }
    }
}

static int ps_outstanding(const struct psock *s)
{
    return s->pops_out + s->pushes_out + __builtin_popcountll(s->accept_out) + (s->connect_out ? 1 : 0);
}

/* Frees what s holds on the demi side and, once nothing refers to it, s. */
void ps_maybe_free(struct psock *s)
{
    if (!s->closed || s->busy > 0 || ps_outstanding(s) > 0)
        return;
    ps_unlink(s);
    arena_free(s->opts);
    arena_free(s->rq);
    arena_free(s->aq);
    arena_free(s->lqd);
    arena_free(s);
}

void ps_release_demi(struct psock *s)
{
    if (s->dead) {
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
    for (int k = 0; s->lqd != NULL && k < g_fam->nengines; k++) {
        if (s->lqd[k] >= 0 && s->lqd[k] != s->qd) {
            t_inside++;
            demi_close(s->lqd[k]);
            t_inside--;
        }
        s->lqd[k] = -1;
    }
    if (s->qd >= 0) {
        eng_touch(s->qd); /* its FIN leaves at the next pass */
        t_inside++;
        demi_close(s->qd);
        t_inside--;
        s->qd = -1;
    }
}

void fd_set_sock(int fd, struct psock *s)
{
    if (s != NULL)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    family_note_fd(fd);
    __atomic_store_n(&g_socks[fd], s, __ATOMIC_RELEASE);
}

void fd_set_ep(int fd, struct epset *e)
{
    if (e != NULL)
        __atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
    family_note_fd(fd);
    __atomic_store_n(&g_eps[fd], e, __ATOMIC_RELEASE);
}

void ps_unref(struct psock *s)
{
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    s->closed = true;
    ep_drop_sock(s);
    ps_release_demi(s);
    ps_maybe_free(s);
}

void ep_unref(struct epset *e)
{
    if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0)
        ep_free(e);
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
        ps_unref(s);
    }
    if (e != NULL) {
        __atomic_store_n(&g_eps[fd], NULL, __ATOMIC_RELEASE);
        ep_unref(e);
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

/* Which user this process runs as, and what to look at: a server that
 * drops privileges must bind or listen before it does (that starts the
 * stack while it is still root, and its workers inherit it). */
static void say_user(void)
{
    struct passwd pw, *res = NULL;
    char buf[1024];
    uid_t uid = geteuid();

    getpwuid_r(uid, &pw, buf, sizeof(buf), &res);
    plog(PLOG_ERROR, "this process runs as user %s (uid %u), and Sluice's network device needs root: a server "
                     "that switches user (nginx's 'user', apache's 'User', mosquitto's 'user') starts Sluice when "
                     "it binds or listens as root and its workers inherit it; one that binds after switching, or "
                     "never was root, needs CAP_NET_RAW and CAP_NET_ADMIN (e.g. setpriv --ambient-caps +net_raw,+net_admin)",
         res != NULL ? res->pw_name : "?", (unsigned)uid);
}

/* Starts Sluice in this process (demi_init), once: the process's family
 * shares it from then on. 0 or -errno. */
static int ensure_started(void)
{
    int rc;

    if (g_started)
        return 0;
    if (init_failed)
        return -ENETDOWN;
    restore_env();
    sigset_t saved;
    sig_block_for_threads(&saved);
    t_inside++;
    rc = demi_init(NULL);
    t_inside--;
    sig_unblock_after_threads(&saved);
    if (rc != 0 && rc != EEXIST) {
        init_failed = true;
        plog(PLOG_ERROR, "Sluice did not start (demi_init: %s); the lines above say why", strerror(rc));
        if (geteuid() != 0)
            say_user();
        return -ENETDOWN;
    }
    g_started = true;
    g_started_pid = getpid();
    eng_share();
    /* atexit runs handlers last-registered first: these run before the
     * core's own (registered by demi_init), while the stack still runs */
    if (g_want_stats)
        atexit(stats_at_exit);
    atexit(linger_at_exit);
    return 0;
}

int ps_start_stack(void)
{
    int rc = ensure_started(), qd;

    if (rc)
        return rc;
    /* the device opens with the stack's first socket: open one now, while
     * the process may still open the device */
    t_inside++;
    rc = demi_socket(&qd, AF_INET, SOCK_DGRAM, 0);
    if (rc == 0)
        demi_close(qd);
    t_inside--;
    return -rc;
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

void query_sndbuf(struct psock *s)
{
    int v = 0;
    socklen_t len = sizeof(v);

    t_inside++;
    if (demi_getsockopt(s->qd, SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 && v > 0)
        s->sndbuf = (uint32_t)v;
    t_inside--;
}

/* One accept on qd, engine eng's listener of s. 0 or -errno. */
static int accept_on(struct psock *s, int qd, int eng)
{
    struct tok t = {.s = s, .kind = TK_ACCEPT, .eng = eng};
    int rc;

    if (s->accept_out & (1ull << eng))
        return 0;
    t_inside++;
    rc = demi_accept(&t.qt, qd);
    t_inside--;
    if (rc != 0)
        return -rc;
    if (tok_add(&t) != 0) {
        t_inside++;
        dmtr_drop(t.qt);
        t_inside--;
        return -ENOMEM;
    }
    s->accept_out |= 1ull << eng;
    return 0;
}

int issue_accept(struct psock *s)
{
    int rc = accept_on(s, s->qd, sluice_engine_of(s->qd));

    for (int k = 0; rc == 0 && s->lqd != NULL && k < g_fam->nengines; k++)
        if (s->lqd[k] >= 0 && s->lqd[k] != s->qd)
            rc = accept_on(s, s->lqd[k], k);
    return rc;
}

/* A listening socket on engine k like s's: its options, address and port
 * (the port s got, when it asked for any). The descriptor, or -errno. */
static int listen_on(struct psock *s, int k, const struct sockaddr_in *at)
{
    int qd = -1, rc;

    eng_use(k);
    t_inside++;
    rc = demi_socket(&qd, AF_INET, SOCK_STREAM, 0);
    if (rc != 0) {
        t_inside--;
        return -rc;
    }
    for (int i = 0; i < s->nopts; i++)
        demi_setsockopt(qd, s->opts[i].level, s->opts[i].name, s->opts[i].val, s->opts[i].len);
    if (sluice_engine_of(qd) != k)
        rc = EXDEV; /* never: eng_use put demi_socket on k */
    rc = rc ? rc : demi_bind(qd, (const struct sockaddr *)at, sizeof(*at));
    rc = rc ? rc : demi_listen(qd, s->backlog);
    if (rc != 0)
        demi_close(qd);
    t_inside--;
    return rc ? -rc : qd;
}

void ps_listen_everywhere(struct psock *s)
{
    int n = g_fam->nengines, mine = sluice_engine_of(s->qd);
    struct sockaddr_in at;
    socklen_t len = sizeof(at);

    if (n <= 1 || s->type != SOCK_STREAM || s->qd < 0)
        return;
    if (s->lqd == NULL) {
        s->lqd = arena_calloc((size_t)n, sizeof(int));
        if (s->lqd == NULL) {
            plog(PLOG_WARN, "no memory for a listener on each engine: engine %d alone listens", mine);
            return;
        }
        for (int k = 0; k < n; k++)
            s->lqd[k] = -1;
    }
    s->lqd[mine] = s->qd;
    t_inside++;
    int rc = demi_getsockname(s->qd, (struct sockaddr *)&at, &len);
    t_inside--;
    if (rc != 0)
        return;
    for (int k = 0; k < n; k++) {
        if (s->lqd[k] >= 0)
            continue;
        int qd = listen_on(s, k, &at);
        if (qd < 0)
            plog(PLOG_WARN, "port %u: no listener on engine %d (%s): its SYNs go to an engine that listens",
                 (unsigned)ntohs(at.sin_port), k, strerror(-qd));
        else
            s->lqd[k] = qd;
    }
    eng_use(eng_home());
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
    eng_use(eng_home());
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
            ps_listen_everywhere(s);
        if (rc == 0)
            rc = -issue_accept(s);
        if (rc != 0) {
            ps_release_demi(s); /* its listeners on every engine */
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
    eng_touch(s->qd);
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

/* Whether a bind of s to sin clashes with o, by Linux's rules (socket(7);
 * net/ipv4/inet_connection_sock.c inet_bind_conflict for TCP, udp.c
 * udp_lib_lport_inuse for UDP): the addresses overlap (equal, or either is
 * INADDR_ANY) and the sockets do not both set SO_REUSEPORT (one process:
 * the same owner) or, for UDP, both SO_REUSEADDR; for TCP both
 * SO_REUSEADDR with o not listening. */
static bool bind_clash(const struct psock *s, const struct sockaddr_in *sin, const struct psock *o)
{
    if (o->bind_addr.sin_addr.s_addr != sin->sin_addr.s_addr && o->bind_addr.sin_addr.s_addr != 0 &&
        sin->sin_addr.s_addr != 0)
        return false;
    if (opt_on(s, SOL_SOCKET, SO_REUSEPORT) && opt_on(o, SOL_SOCKET, SO_REUSEPORT))
        return false;
    if (opt_on(s, SOL_SOCKET, SO_REUSEADDR) && opt_on(o, SOL_SOCKET, SO_REUSEADDR))
        return s->type == SOCK_STREAM && o->listening;
    return true;
}

bool ps_port_in_use(const struct psock *s, const struct sockaddr_in *sin)
{
    if (sin->sin_port == 0)
        return false;
    for (const struct psock *o = g_all_socks; o != NULL; o = o->next_all) {
        if (o == s || o->closed || o->dead || o->state != PS_TAKEN || o->type != s->type || !o->bound ||
            o->bind_addr.sin_port != sin->sin_port)
            continue;
        if (bind_clash(s, sin, o))
            return true;
    }
    return false;
}
