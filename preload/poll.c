/*
 * poll.c - readiness without epoll: poll, ppoll, select, pselect.
 *
 * A Sluice socket's readiness is the state its completions left (ps_events:
 * buffered bytes, queued connections, room under SO_SNDBUF, end of stream,
 * errors), read once per call and per fd after one engine pass: O(nfds), as
 * POSIX's interfaces are, with no engine scan per fd. Kernel fds are asked
 * of the kernel in the same call (a zero timeout), and when nothing is
 * ready the call spins, then naps in the kernel's own poll/select, so
 * kernel fds wake it at once and Sluice sockets within a nap (the idle
 * policy of <sluice/idle.h>). An epoll fd with Sluice members is asked of both: the
 * kernel for its kernel part, its ready list for the rest (epoll.c).
 * Errors: -1 and errno as poll(2) and select(2) list them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"


/* ---- poll ---- */

/* Who answers for an fd in poll/select. */
enum owner { OWN_KERNEL, OWN_OURS, OWN_BOTH /* an epoll fd with Sluice members */ };

/* Whether epoll fd fd has Sluice members (lock-free hint). */
static bool fd_is_our_epoll(int fd)
{
    struct epset *e = ep_peek(fd);
    return e != NULL && __atomic_load_n(&e->taken, __ATOMIC_RELAXED) > 0;
}

static bool fd_has_ours(int fd)
{
    return fd_is_taken(fd) || fd_is_our_epoll(fd);
}

static bool poll_has_ours(const struct pollfd *fds, nfds_t n)
{
    if (fds == NULL)
        return false;
    for (nfds_t i = 0; i < n; i++)
        if (fd_has_ours(fds[i].fd))
            return true;
    return false;
}

/* The poll(2) bits Sluice has for fd (lock held), and who else answers. */
static short fd_revents(int fd, short events, enum owner *own)
{
    struct psock *s = fd >= 0 && fd < g_fdmax ? g_socks[fd] : NULL;
    uint32_t want = (uint32_t)(unsigned short)events;

    *own = OWN_KERNEL;
    if (s == NULL && fd >= 0 && fd < g_fdmax && g_eps[fd] != NULL && g_eps[fd]->taken > 0) {
        *own = OWN_BOTH;
        return ep_has_ready(g_eps[fd]) ? (short)(want & (POLLIN | POLLRDNORM)) : 0;
    }
    if (s == NULL || s->state != PS_TAKEN)
        return 0;
    *own = OWN_OURS;
    if (s->qd < 0 && !s->dead) {
        int rc = ps_materialise(s, fd);
        if (rc > 0) {
            *own = OWN_KERNEL; /* now the kernel's */
            return 0;
        }
        if (rc < 0)
            return POLLERR;
    }
    return (short)(ps_events(s) & (want | POLLERR | POLLHUP));
}

/* The wait of poll and ppoll with Sluice members (mask applied by the
 * caller): the count, 0 on timeout, -1 and errno (EINTR when a handler ran
 * in this thread: poll never restarts, signal(7)). */
static int poll_loop(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const struct sig_watch *sw)
{
    struct pollfd *k = malloc((n ? n : 1) * sizeof(*k));
    enum owner *own = malloc((n ? n : 1) * sizeof(*own));
    struct idle st;
    uint64_t deadline;
    int rc;

    if (k == NULL || own == NULL) {
        free(k);
        free(own);
        return fail(ENOMEM);
    }
    idle_init(&st);
    deadline = timeout_ns < 0 ? UINT64_MAX : st.start_ns + (uint64_t)timeout_ns;
    for (;;) {
        int cnt = 0;
        uint64_t work;
        memcpy(k, fds, n * sizeof(*k));
        lock();
        work = g_work;
        progress_wait();
        for (nfds_t i = 0; i < n; i++) {
            fds[i].revents = fd_revents(fds[i].fd, fds[i].events, &own[i]);
            if (own[i] == OWN_OURS)
                k[i].fd = -1; /* the kernel skips it */
        }
        if (g_work != work)
            idle_work(&st);
        unlock();
        rc = real.poll(k, n, 0);
        if (rc < 0)
            break;
        for (nfds_t i = 0; i < n; i++) {
            if (own[i] == OWN_KERNEL)
                fds[i].revents = k[i].revents;
            else if (own[i] == OWN_BOTH)
                fds[i].revents |= k[i].revents;
            if (fds[i].revents)
                cnt++;
        }
        rc = cnt;
        if (cnt > 0) {
            idle_work(&st);
            break;
        }
        if (sig_check(sw, false)) { /* events first, as Linux's do_poll */
            rc = fail(EINTR);
            break;
        }
        struct timespec ts;
        enum idle_step step = idle_step(&st, deadline, &ts);
        if (step == IDLE_DONE)
            break;
        if (step == IDLE_SPIN)
            continue;
        rc = real.ppoll(k, n, &ts, NULL);
        if (rc < 0)
            break;
        if (rc > 0) {
            for (nfds_t i = 0; i < n; i++)
                fds[i].revents = own[i] == OWN_OURS ? 0 : k[i].revents;
            break;
        }
    }
    int err = errno;
    free(k);
    free(own);
    errno = err;
    return rc;
}

/* poll and ppoll with Sluice members: mask (NULL: none) is this thread's
 * signal mask for the whole call, as Linux sets it. As poll_loop. */
static int poll_common(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const sigset_t *mask)
{
    struct sig_watch sw;
    sigset_t saved;
    int rc;

    sig_watch_start(&sw);
    rc = sig_mask_enter(mask, &saved);
    if (rc)
        return fail(-rc);
    rc = poll_loop(fds, n, timeout_ns, &sw);
    sig_mask_leave(mask, &saved);
    return rc;
}

PRELOAD_API int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    ENTER();
    if (t_inside || !poll_has_ours(fds, n))
        return real.poll(fds, n, timeout);
    return poll_common(fds, n, timeout < 0 ? -1 : (int64_t)timeout * 1000000, NULL);
}

PRELOAD_API int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    ENTER();
    if (t_inside || !poll_has_ours(fds, n))
        return real.ppoll(fds, n, timeout, mask);
    if (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L))
        return fail(EINVAL);
    return poll_common(fds, n, timeout == NULL ? -1 : (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec,
                       mask);
}

/* ---- select ---- */

static bool select_has_ours(int nfds, fd_set *r, fd_set *w, fd_set *x)
{
    if (nfds > FD_SETSIZE)
        nfds = FD_SETSIZE;
    for (int fd = 0; fd < nfds; fd++)
        if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))) && fd_has_ours(fd))
            return true;
    return false;
}

/* The time from now to deadline (ns; -1 when none), what select writes back. */
static int64_t select_left(uint64_t deadline)
{
    uint64_t now = now_ns();

    return deadline == UINT64_MAX ? -1 : now >= deadline ? 0 : (int64_t)(deadline - now);
}

#define SEL_IN (EPOLLIN | EPOLLRDNORM | EPOLLRDBAND | EPOLLHUP | EPOLLERR)
#define SEL_OUT (EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND | EPOLLERR)

/* The wait of select and pselect with Sluice members (mask applied by the
 * caller): the count, 0 on timeout, -1 and errno (EINTR when a handler ran
 * in this thread: select never restarts, signal(7)); *left_ns the time not
 * waited. */
static int select_loop(int nfds, fd_set *r, fd_set *w, fd_set *x, int64_t timeout_ns, const struct sig_watch *sw,
                       int64_t *left_ns)
{
    fd_set kr, kw, kx, orr, ow, ox, our_r, our_w;
    struct idle st;
    uint64_t deadline;
    int rc;

    if (nfds > FD_SETSIZE)
        nfds = FD_SETSIZE;
    FD_ZERO(&orr);
    FD_ZERO(&ow);
    FD_ZERO(&ox);
    if (r)
        orr = *r;
    if (w)
        ow = *w;
    if (x)
        ox = *x;
    idle_init(&st);
    deadline = timeout_ns < 0 ? UINT64_MAX : st.start_ns + (uint64_t)timeout_ns;
    for (;;) {
        int cnt = 0;
        uint64_t work;
        kr = orr;
        kw = ow;
        kx = ox;
        FD_ZERO(&our_r);
        FD_ZERO(&our_w);
        lock();
        work = g_work;
        progress_wait();
        for (int fd = 0; fd < nfds; fd++) {
            enum owner own;
            bool want = FD_ISSET(fd, &orr) || FD_ISSET(fd, &ow) || FD_ISSET(fd, &ox);
            if (!want)
                continue;
            short ev = fd_revents(fd, (short)(POLLIN | POLLOUT), &own);
            if (own == OWN_KERNEL)
                continue;
            if (own == OWN_OURS) {
                FD_CLR(fd, &kr);
                FD_CLR(fd, &kw);
                FD_CLR(fd, &kx);
            }
            if (FD_ISSET(fd, &orr) && (ev & SEL_IN))
                FD_SET(fd, &our_r), cnt++;
            if (FD_ISSET(fd, &ow) && (ev & SEL_OUT))
                FD_SET(fd, &our_w), cnt++;
        }
        if (g_work != work)
            idle_work(&st);
        unlock();
        struct timeval zero = {0, 0};
        rc = real.select(nfds, r ? &kr : NULL, w ? &kw : NULL, x ? &kx : NULL, &zero);
        if (rc < 0)
            return -1;
        if (rc + cnt > 0) {
            /* an epoll fd both sides call readable counts once */
            for (int fd = 0; fd < nfds; fd++) {
                if (FD_ISSET(fd, &our_r) && !FD_ISSET(fd, &kr))
                    FD_SET(fd, &kr), rc++;
                if (FD_ISSET(fd, &our_w) && !FD_ISSET(fd, &kw))
                    FD_SET(fd, &kw), rc++;
            }
            idle_work(&st);
            break;
        }
        if (sig_check(sw, false)) { /* events first, as Linux's do_select */
            rc = -1;
            errno = EINTR;
            break;
        }
        struct timespec ts;
        enum idle_step step = idle_step(&st, deadline, &ts);
        if (step == IDLE_DONE) {
            rc = 0;
            break;
        }
        if (step == IDLE_SPIN)
            continue;
        kr = orr;
        kw = ow;
        kx = ox;
        for (int fd = 0; fd < nfds; fd++)
            if (fd_is_taken(fd)) { /* an epoll fd stays: its kernel part may wake us */
                FD_CLR(fd, &kr);
                FD_CLR(fd, &kw);
                FD_CLR(fd, &kx);
            }
        rc = real.pselect(nfds, r ? &kr : NULL, w ? &kw : NULL, x ? &kx : NULL, &ts, NULL);
        if (rc < 0)
            break; /* EINTR: a handler ran in the nap */
        if (rc > 0)
            break;
    }
    if (rc < 0) {
        /* Linux leaves the sets as given on an error; the time left is
         * written back even for EINTR */
        if (left_ns != NULL)
            *left_ns = select_left(deadline);
        return -1;
    }
    if (r)
        *r = kr;
    if (w)
        *w = kw;
    if (x)
        *x = kx;
    if (left_ns != NULL)
        *left_ns = select_left(deadline);
    return rc;
}

/* select and pselect with Sluice members: mask (NULL: none) is this
 * thread's signal mask for the whole call, as Linux sets it. As
 * select_loop. */
static int select_common(int nfds, fd_set *r, fd_set *w, fd_set *x, int64_t timeout_ns, const sigset_t *mask,
                         int64_t *left_ns)
{
    struct sig_watch sw;
    sigset_t saved;
    int rc;

    sig_watch_start(&sw);
    rc = sig_mask_enter(mask, &saved);
    if (rc)
        return fail(-rc);
    rc = select_loop(nfds, r, w, x, timeout_ns, &sw, left_ns);
    sig_mask_leave(mask, &saved);
    return rc;
}

PRELOAD_API int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
    int64_t left = -1;
    int rc;

    ENTER();
    if (t_inside || nfds < 0 || !select_has_ours(nfds, r, w, x))
        return real.select(nfds, r, w, x, tv);
    if (tv != NULL && (tv->tv_sec < 0 || tv->tv_usec < 0))
        return fail(EINVAL);
    rc = select_common(nfds, r, w, x, tv == NULL ? -1 : (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000,
                       NULL, &left);
    if (tv != NULL && left >= 0) {
        /* Linux writes back the time not slept */
        tv->tv_sec = (time_t)(left / 1000000000);
        tv->tv_usec = (suseconds_t)(left % 1000000000 / 1000);
    }
    return rc;
}

PRELOAD_API int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts, const sigset_t *mask)
{
    ENTER();
    if (t_inside || nfds < 0 || !select_has_ours(nfds, r, w, x))
        return real.pselect(nfds, r, w, x, ts, mask);
    if (ts != NULL && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L))
        return fail(EINVAL);
    return select_common(nfds, r, w, x, ts == NULL ? -1 : (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec, mask,
                         NULL);
}
