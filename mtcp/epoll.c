/*
 * epoll.c - mtcp_epoll_*: a ready list per epoll, as Linux's
 * fs/eventpoll.c and the preload's (docs/preload.md "Readiness"): a
 * socket's event appends its registration to its epoll's list; a wait
 * reports from the head, checking readiness item by item: one found not
 * ready leaves the list, a level-triggered one still ready goes back to
 * the tail, an edge-triggered one leaves until its next event, a oneshot
 * one is disarmed until MTCP_EPOLL_CTL_MOD.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sluice/idle.h>

#include "internal.h"

#define MT_SPIN_NS 200000u
#define MT_NAP_MAX_NS 1000000u
#define ALWAYS (MTCP_EPOLLERR | MTCP_EPOLLHUP)

/* What s is ready for now (MTCP_EPOLL* bits). */
uint32_t mt_sock_events(const struct mt_sock *s)
{
    uint32_t ev = 0;

    if (s->kind == MT_LISTENER)
        return s->grp != NULL && s->grp->acq_n > 0 ? MTCP_EPOLLIN : 0;
    if (s->kind != MT_STREAM && s->kind != MT_PIPE)
        return 0;
    if (!s->pipe_writer && (s->rx_bytes > 0 || s->eof))
        ev |= MTCP_EPOLLIN;
    if (s->eof && !s->pipe_writer)
        ev |= MTCP_EPOLLRDHUP;
    if (s->dead && s->err != 0)
        ev |= MTCP_EPOLLERR;
    if (s->dead && (s->eof || s->state == ST_CLOSED))
        ev |= MTCP_EPOLLHUP;
    if (s->state == ST_CLOSED)
        ev |= MTCP_EPOLLOUT; /* a failed connect, as Linux */
    if (s->state == ST_CONNECTED && !s->dead && s->tx_bytes < (size_t)s->ctx->sndbuf &&
        (s->kind == MT_STREAM || s->pipe_writer))
        ev |= MTCP_EPOLLOUT;
    return ev;
}

static struct mt_sock *ep_of(const struct mt_sock *s)
{
    return s->ep_id >= 0 ? &s->ctx->socks[s->ep_id] : NULL;
}

static void rl_remove(struct mt_sock *ep, struct mt_sock *s)
{
    if (!s->ep_queued)
        return;
    if (s->rl_prev != NULL)
        s->rl_prev->rl_next = s->rl_next;
    else
        ep->rl_head = s->rl_next;
    if (s->rl_next != NULL)
        s->rl_next->rl_prev = s->rl_prev;
    else
        ep->rl_tail = s->rl_prev;
    s->rl_prev = s->rl_next = NULL;
    s->ep_queued = false;
}

static void rl_append(struct mt_sock *ep, struct mt_sock *s)
{
    if (s->ep_queued)
        return;
    s->rl_prev = ep->rl_tail;
    s->rl_next = NULL;
    if (ep->rl_tail != NULL)
        ep->rl_tail->rl_next = s;
    else
        ep->rl_head = s;
    ep->rl_tail = s;
    s->ep_queued = true;
}

/* Something happened on s: queue its registration if it asks for it. */
void mt_wake(struct mt_sock *s)
{
    struct mt_sock *ep;

    for (int i = 0; i < s->nmembers; i++) /* a port group: every context's listener */
        mt_wake(s->members[i]);
    if (s->ctx == NULL || s->nmembers > 0)
        return;
    ep = ep_of(s);

    if (ep == NULL || s->ep_disabled)
        return;
    if (mt_sock_events(s) & (s->ep_events | ALWAYS))
        rl_append(ep, s);
}

void mt_ep_forget(struct mt_sock *s)
{
    struct mt_sock *ep = ep_of(s);

    if (ep != NULL)
        rl_remove(ep, s);
    s->ep_id = -1;
    s->ep_disabled = false;
}

void mt_ep_close(struct mt_sock *ep)
{
    struct mt_ctx *c = ep->ctx;

    for (int i = 0; i < c->nsocks; i++)
        if (c->socks[i].ep_id == ep->id)
            mt_ep_forget(&c->socks[i]);
}

static int ep_create(mctx_t mctx)
{
    struct mt_ctx *c = mt_ctx_get(mctx);
    struct mt_sock *s;
    int rc;

    if (c == NULL)
        return -EINVAL;
    rc = mt_sock_alloc(c, MT_EPOLL, &s);
    return rc != 0 ? rc : s->id;
}

MT_API int mtcp_epoll_create(mctx_t mctx, int size)
{
    int rc;

    mt_lock();
    rc = size <= 0 ? -EINVAL : ep_create(mctx);
    mt_unlock();
    return mt_ret(rc);
}

MT_API int mtcp_epoll_create1(mctx_t mctx, int flags)
{
    int rc;

    mt_lock();
    rc = (flags & ~O_CLOEXEC) != 0 ? -EINVAL : ep_create(mctx);
    mt_unlock();
    return mt_ret(rc);
}

static int ep_get(mctx_t mctx, int epid, struct mt_sock **ep)
{
    int rc = mt_sock_get(mctx, epid, ep);

    if (rc != 0)
        return rc;
    return (*ep)->kind == MT_EPOLL ? 0 : -EINVAL;
}

static int ep_ctl(mctx_t mctx, int epid, int op, int sockid, struct mtcp_epoll_event *event)
{
    struct mt_sock *ep, *s;
    int rc = ep_get(mctx, epid, &ep);

    if (rc != 0)
        return rc;
    if (op != MTCP_EPOLL_CTL_ADD && op != MTCP_EPOLL_CTL_MOD && op != MTCP_EPOLL_CTL_DEL)
        return -EINVAL;
    if (op != MTCP_EPOLL_CTL_DEL && event == NULL)
        return -EINVAL;
    rc = mt_sock_get(mctx, sockid, &s);
    if (rc != 0)
        return rc;
    if (s == ep || s->kind == MT_EPOLL)
        return -EINVAL;
    if (mt_is_monitor(s))
        return -EPERM; /* a monitor reports through callbacks, never readiness (as Linux for a file that cannot poll) */
    if (op == MTCP_EPOLL_CTL_ADD && s->ep_id >= 0)
        return -EEXIST;
    if (op != MTCP_EPOLL_CTL_ADD && s->ep_id != epid)
        return -ENOENT;
    if (op == MTCP_EPOLL_CTL_DEL) {
        mt_ep_forget(s);
        return 0;
    }
    rl_remove(ep, s);
    s->ep_id = epid;
    s->ep_events = (uint32_t)event->events | ALWAYS; /* the low 32 bits of either width */
    s->ep_data = event->data;
    s->ep_disabled = false;
    mt_wake(s); /* ADD and MOD report a ready socket at once, as Linux */
    return 0;
}

MT_API int mtcp_epoll_ctl(mctx_t mctx, int epid, int op, int sockid, struct mtcp_epoll_event *event)
{
    int rc;

    mt_lock();
    rc = ep_ctl(mctx, epid, op, sockid, event);
    mt_unlock();
    return mt_ret(rc);
}

/* Reports up to max ready items of ep into out. */
static int collect(struct mt_sock *ep, struct mtcp_epoll_event *out, int max)
{
    struct mt_sock *again[64];
    int n = 0, nagain = 0;

    while (ep->rl_head != NULL && n < max && nagain < 64) {
        struct mt_sock *s = ep->rl_head;
        uint32_t ev = mt_sock_events(s) & (s->ep_events | ALWAYS);

        rl_remove(ep, s);
        if (ev == 0)
            continue;
        memset(&out[n], 0, sizeof(out[n])); /* the high half of mOS's 64-bit events */
        out[n].events = ev;
        out[n].data = s->ep_data;
        n++;
        if (s->ep_events & MTCP_EPOLLONESHOT)
            s->ep_disabled = true;
        else if (!(s->ep_events & MTCP_EPOLLET))
            again[nagain++] = s; /* level-triggered: back to the tail */
    }
    for (int i = 0; i < nagain; i++)
        rl_append(ep, again[i]);
    return n;
}

/* Sleeps ns; false when a signal handler ran (the wait returns EINTR). */
static bool nap(uint64_t ns)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};

    return nanosleep(&ts, NULL) == 0 || errno != EINTR;
}

static int ep_wait(mctx_t mctx, int epid, struct mtcp_epoll_event *events, int maxevents, int timeout)
{
    uint64_t deadline = timeout < 0 ? UINT64_MAX : mt_now_ns() + (uint64_t)timeout * 1000000u;
    struct mt_sock *ep;
    int rc, n;

    for (;;) {
        mt_lock();
        rc = ep_get(mctx, epid, &ep);
        if (rc == 0 && (events == NULL || maxevents <= 0))
            rc = -EINVAL;
        if (rc != 0) {
            mt_unlock();
            return rc;
        }
        mt_progress();
        n = collect(ep, events, maxevents);
        mt_unlock();
        if (n > 0)
            return n;
        uint64_t now = mt_now_ns();
        if (now >= deadline)
            return 0;
        uint64_t ns = sluice_idle_nap_ns(now - g_mt_last_work_ns, MT_SPIN_NS, MT_NAP_MAX_NS);
        if (ns > deadline - now)
            ns = deadline - now;
        if (ns > 0 && !nap(ns))
            return -EINTR;
        else
            sched_yield(); /* let the other context's thread take the lock */
    }
}

MT_API int mtcp_epoll_wait(mctx_t mctx, int epid, struct mtcp_epoll_event *events, int maxevents, int timeout)
{
    return mt_ret(ep_wait(mctx, epid, events, maxevents, timeout));
}

static const struct {
    uint32_t bit;
    const char *name;
} names[] = {
    {MTCP_EPOLLIN, "EPOLLIN"},         {MTCP_EPOLLPRI, "EPOLLPRI"},     {MTCP_EPOLLOUT, "EPOLLOUT"},
    {MTCP_EPOLLERR, "EPOLLERR"},       {MTCP_EPOLLHUP, "EPOLLHUP"},     {MTCP_EPOLLRDNORM, "EPOLLRDNORM"},
    {MTCP_EPOLLRDBAND, "EPOLLRDBAND"}, {MTCP_EPOLLWRNORM, "EPOLLWRNORM"}, {MTCP_EPOLLWRBAND, "EPOLLWRBAND"},
    {MTCP_EPOLLMSG, "EPOLLMSG"},       {MTCP_EPOLLRDHUP, "EPOLLRDHUP"}, {MTCP_EPOLLONESHOT, "EPOLLONESHOT"},
    {(uint32_t)MTCP_EPOLLET, "EPOLLET"},
};

MT_API char *EventToString(uint32_t event)
{
    static __thread char buf[192];
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (event & names[i].bit)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "|" : "", names[i].name);
    if (len == 0)
        snprintf(buf, sizeof(buf), "NONE");
    return buf;
}
