/*
 * poll.c - readiness: epoll_create, epoll_create1, epoll_ctl, epoll_wait,
 * epoll_pwait, epoll_pwait2, poll, ppoll, select, pselect.
 *
 * The program's epoll fd is a real kernel epoll fd: kernel fds (eventfd,
 * timerfd, pipes, AF_UNIX, files, kernel sockets) are registered in it as
 * usual. A Sluice socket is registered beside it, in a struct epset (its
 * kernel fd is not in the kernel set: that unconnected socket would report
 * readiness of its own). A wait with Sluice members alternates: one engine
 * pass and the Sluice members' readiness, then the kernel set with a zero
 * timeout; when nothing is ready it spins for SLUICE_PRELOAD_SPIN_US, then
 * sleeps in the kernel's wait with short timeouts (50 us, 1 ms after 100 ms
 * of idleness), so kernel fds wake it at once and Sluice sockets within a
 * nap. Level and edge triggering, EPOLLONESHOT, MOD and DEL, EPOLLRDHUP,
 * EPOLLHUP and EPOLLERR follow Linux; edge triggering reports a socket again
 * after any new completion on it (new data, acknowledged bytes, a
 * connection), as Linux reports one per arriving segment.
 * Errors: -1 and errno as the Linux man pages list them.
 */
/* Our definitions of pread, sendfile and fcntl must keep their own names
 * (glibc redirects them to the *64 names under _FILE_OFFSET_BITS=64, which
 * Meson sets); on 64-bit targets off_t is 64 bits either way. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ENTER() \
    do { \
        if (g_fdmax == 0) \
            preload_init(); \
    } while (0)

struct epset *g_all_eps;
extern uint64_t g_work;

/* ---- epoll sets ---- */

void ep_free(struct epset *e)
{
    for (struct epset **p = &g_all_eps; *p != NULL; p = &(*p)->next_all) {
        if (*p == e) {
            *p = e->next_all;
            break;
        }
    }
    free(e->m);
    free(e);
}

static struct ep_member *ep_find(struct epset *e, int fd)
{
    for (int i = 0; i < e->n; i++)
        if (e->m[i].fd == fd)
            return &e->m[i];
    return NULL;
}

static void ep_remove_at(struct epset *e, int i)
{
    if (e->m[i].s != NULL && !e->m[i].in_kernel)
        e->taken--;
    e->m[i] = e->m[--e->n];
}

static struct ep_member *ep_add(struct epset *e, int fd, struct psock *s)
{
    if (e->n == e->cap) {
        int ncap = e->cap ? e->cap * 2 : 16;
        struct ep_member *n = realloc(e->m, (size_t)ncap * sizeof(*n));
        if (n == NULL)
            return NULL;
        e->m = n;
        e->cap = ncap;
    }
    struct ep_member *m = &e->m[e->n++];
    memset(m, 0, sizeof(*m));
    m->fd = fd;
    m->s = s;
    return m;
}

void ep_drop_sock(struct psock *s)
{
    for (struct epset *e = g_all_eps; e != NULL; e = e->next_all)
        for (int i = e->n - 1; i >= 0; i--)
            if (e->m[i].s == s)
                ep_remove_at(e, i);
}

void ep_sock_decided(struct psock *s)
{
    for (struct epset *e = g_all_eps; e != NULL; e = e->next_all) {
        for (int i = e->n - 1; i >= 0; i--) {
            struct ep_member *m = &e->m[i];
            if (m->s != s || !m->in_kernel)
                continue;
            if (s->state == PS_KERNEL) {
                e->m[i] = e->m[--e->n]; /* the kernel registration is the real one */
            } else if (s->state == PS_TAKEN) {
                int epfd = e->fd;
                if (epfd >= 0)
                    real.epoll_ctl(epfd, EPOLL_CTL_DEL, m->fd, NULL);
                m->in_kernel = false;
                m->last_gen = s->gen - 1;
                e->taken++;
            }
        }
    }
}

PRELOAD_API int epoll_create(int size)
{
    ENTER();
    return real.epoll_create(size);
}

PRELOAD_API int epoll_create1(int flags)
{
    ENTER();
    return real.epoll_create1(flags);
}

/* epoll_ctl on a socket of ours (lock held). */
static int ctl_ours(int epfd, int op, int fd, struct epoll_event *ev, struct psock *s)
{
    struct epset *e = g_eps[epfd];
    struct ep_member *m;
    int rc;

    if (e == NULL || s->state == PS_CAND) {
        /* Linux's own checks of epfd, op and ev: on the socket's kernel fd */
        rc = real.epoll_ctl(epfd, op, fd, ev);
        if (rc != 0 && !(e != NULL && errno == ENOENT))
            return -errno;
        if (rc == 0 && s->state == PS_TAKEN && op == EPOLL_CTL_ADD)
            real.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
        if (e == NULL) {
            e = calloc(1, sizeof(*e));
            if (e == NULL)
                return -ENOMEM;
            e->fd = epfd;
            e->next_all = g_all_eps;
            g_all_eps = e;
            fd_set_ep(epfd, e);
        }
    } else {
        if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
            return -EINVAL;
        if (op != EPOLL_CTL_DEL && ev == NULL)
            return -EFAULT;
        if (fd == epfd)
            return -EINVAL;
    }
    m = ep_find(e, fd);
    if (s->state == PS_CAND) {
        /* registered in the kernel set above; remembered here so that the
         * registration moves to our side if Sluice takes the socket */
        if (op == EPOLL_CTL_ADD && m == NULL && (m = ep_add(e, fd, s)) != NULL)
            m->in_kernel = true;
        if (op == EPOLL_CTL_DEL && m != NULL)
            ep_remove_at(e, (int)(m - e->m));
        if (m != NULL && op != EPOLL_CTL_DEL) {
            m->events = ev->events;
            m->data = ev->data;
        }
        return 0;
    }
    switch (op) {
    case EPOLL_CTL_ADD:
        if (m != NULL)
            return -EEXIST;
        rc = ps_materialise(s, fd);
        if (rc > 0)
            return real.epoll_ctl(epfd, op, fd, ev) == 0 ? 0 : -errno;
        if (rc < 0)
            return rc;
        m = ep_add(e, fd, s);
        if (m == NULL)
            return -ENOMEM;
        e->taken++;
        m->events = ev->events & ~(uint32_t)EPOLLEXCLUSIVE;
        m->data = ev->data;
        m->last_gen = s->gen - 1;
        return 0;
    case EPOLL_CTL_MOD:
        if (m == NULL)
            return -ENOENT;
        if (ev->events & EPOLLEXCLUSIVE)
            return -EINVAL;
        m->events = ev->events;
        m->data = ev->data;
        m->disabled = false;
        m->last_gen = s->gen - 1;
        return 0;
    case EPOLL_CTL_DEL:
        if (m == NULL)
            return -ENOENT;
        ep_remove_at(e, (int)(m - e->m));
        return 0;
    default:
        return -EINVAL;
    }
}

PRELOAD_API int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct psock *s;
    int rc;

    ENTER();
    if (t_inside || sock_peek(fd) == NULL || epfd < 0 || epfd >= g_fdmax)
        return real.epoll_ctl(epfd, op, fd, ev);
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state == PS_KERNEL) {
        unlock();
        return real.epoll_ctl(epfd, op, fd, ev);
    }
    rc = ctl_ours(epfd, op, fd, ev, s);
    unlock();
    return rc ? fail(-rc) : 0;
}

/* The ready Sluice members of e into evs (lock held). */
static int ep_collect(struct epset *e, struct epoll_event *evs, int max)
{
    int n = 0, cnt = e->n;

    for (int k = 0; k < cnt && n < max; k++) {
        int i = (e->rr + k) % cnt;
        struct ep_member *m = &e->m[i];
        struct psock *s = m->s;
        if (m->in_kernel || m->disabled || s == NULL || s->state != PS_TAKEN)
            continue;
        if (s->qd < 0 && !s->dead && ps_materialise(s, m->fd) != 0)
            continue;
        uint32_t r = ps_events(s) & (m->events | EPOLLERR | EPOLLHUP);
        if (r == 0)
            continue;
        if (m->events & EPOLLET) {
            if (m->last_gen == s->gen)
                continue;
            m->last_gen = s->gen;
        }
        if (m->events & EPOLLONESHOT)
            m->disabled = true;
        evs[n].events = r;
        evs[n].data = m->data;
        n++;
    }
    if (cnt > 0)
        e->rr = (e->rr + 1) % cnt;
    return n;
}

/* The wait of every epoll_wait variant on a set with Sluice members.
 * timeout_ns < 0: forever. */
static int ep_wait(int epfd, struct epoll_event *evs, int max, int64_t timeout_ns, const sigset_t *mask)
{
    struct idle st;
    uint64_t deadline;
    int n, k;

    if (max <= 0)
        return fail(EINVAL);
    if (evs == NULL)
        return fail(EFAULT);
    idle_init(&st);
    deadline = timeout_ns < 0 ? UINT64_MAX : st.start_ns + (uint64_t)timeout_ns;
    for (;;) {
        struct epset *e;
        uint64_t work;
        lock();
        e = g_eps[epfd];
        work = g_work;
        progress();
        n = e != NULL ? ep_collect(e, evs, max) : 0;
        if (g_work != work)
            idle_work(&st);
        unlock();
        if (n < max) {
            k = real.epoll_wait(epfd, evs + n, max - n, 0);
            if (k < 0)
                return n > 0 ? n : -1;
            n += k;
        }
        if (n > 0) {
            idle_work(&st); /* the program has something to do again */
            return n;
        }
        uint64_t now = now_ns();
        if (now >= deadline)
            return 0;
        uint64_t nap = idle_next(&st);
        if (nap == 0)
            continue;
        if (nap > deadline - now)
            nap = deadline - now;
        struct timespec ts = {.tv_sec = (time_t)(nap / 1000000000u), .tv_nsec = (long)(nap % 1000000000u)};
        if (real.epoll_pwait2 != NULL)
            k = real.epoll_pwait2(epfd, evs, max, &ts, mask);
        else
            k = real.epoll_pwait(epfd, evs, max, 1, mask);
        if (k != 0)
            return k; /* kernel events, or -1 (EINTR) */
    }
}

static bool ep_has_ours(int epfd)
{
    struct epset *e = ep_peek(epfd);
    return e != NULL && __atomic_load_n(&e->taken, __ATOMIC_RELAXED) > 0;
}

PRELOAD_API int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
    ENTER();
    if (t_inside || !ep_has_ours(epfd))
        return real.epoll_wait(epfd, evs, max, timeout);
    return ep_wait(epfd, evs, max, timeout < 0 ? -1 : (int64_t)timeout * 1000000, NULL);
}

PRELOAD_API int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout, const sigset_t *mask)
{
    ENTER();
    if (t_inside || !ep_has_ours(epfd))
        return real.epoll_pwait(epfd, evs, max, timeout, mask);
    return ep_wait(epfd, evs, max, timeout < 0 ? -1 : (int64_t)timeout * 1000000, mask);
}

PRELOAD_API int epoll_pwait2(int epfd, struct epoll_event *evs, int max, const struct timespec *timeout,
                             const sigset_t *mask)
{
    ENTER();
    if (t_inside || !ep_has_ours(epfd)) {
        if (real.epoll_pwait2 == NULL)
            return fail(ENOSYS);
        return real.epoll_pwait2(epfd, evs, max, timeout, mask);
    }
    if (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L))
        return fail(EINVAL);
    return ep_wait(epfd, evs, max,
                   timeout == NULL ? -1 : (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec, mask);
}

/* ---- poll ---- */

static bool poll_has_ours(const struct pollfd *fds, nfds_t n)
{
    if (fds == NULL)
        return false;
    for (nfds_t i = 0; i < n; i++)
        if (fd_is_taken(fds[i].fd))
            return true;
    return false;
}

/* The poll(2) bits of a taken socket (lock held): 0 if not ours. */
static short sock_revents(int fd, short events, bool *ours)
{
    struct psock *s = fd >= 0 && fd < g_fdmax ? g_socks[fd] : NULL;

    *ours = s != NULL && s->state == PS_TAKEN;
    if (!*ours)
        return 0;
    if (s->qd < 0 && !s->dead) {
        int rc = ps_materialise(s, fd);
        if (rc > 0) {
            *ours = false; /* now the kernel's */
            return 0;
        }
        if (rc < 0)
            return POLLERR;
    }
    uint32_t ev = ps_events(s);
    return (short)(ev & ((uint32_t)(unsigned short)events | POLLERR | POLLHUP));
}

static int poll_common(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const sigset_t *mask)
{
    struct pollfd *k = malloc((n ? n : 1) * sizeof(*k));
    bool *ours = malloc((n ? n : 1) * sizeof(*ours));
    struct idle st;
    uint64_t deadline;
    int rc;

    if (k == NULL || ours == NULL) {
        free(k);
        free(ours);
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
        progress();
        for (nfds_t i = 0; i < n; i++) {
            short r = sock_revents(fds[i].fd, fds[i].events, &ours[i]);
            if (ours[i]) {
                fds[i].revents = r;
                k[i].fd = -1; /* the kernel skips it */
            }
        }
        if (g_work != work)
            idle_work(&st);
        unlock();
        rc = real.poll(k, n, 0);
        if (rc < 0)
            break;
        for (nfds_t i = 0; i < n; i++) {
            if (!ours[i])
                fds[i].revents = k[i].revents;
            if (fds[i].revents)
                cnt++;
        }
        rc = cnt;
        if (cnt > 0) {
            idle_work(&st);
            break;
        }
        uint64_t now = now_ns();
        if (now >= deadline)
            break;
        uint64_t nap = idle_next(&st);
        if (nap == 0)
            continue;
        if (nap > deadline - now)
            nap = deadline - now;
        struct timespec ts = {.tv_sec = (time_t)(nap / 1000000000u), .tv_nsec = (long)(nap % 1000000000u)};
        rc = real.ppoll(k, n, &ts, mask);
        if (rc < 0)
            break;
        if (rc > 0) {
            for (nfds_t i = 0; i < n; i++)
                fds[i].revents = ours[i] ? 0 : k[i].revents;
            break;
        }
    }
    int err = errno;
    free(k);
    free(ours);
    errno = err;
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
        if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))) && fd_is_taken(fd))
            return true;
    return false;
}

#define SEL_IN (EPOLLIN | EPOLLRDNORM | EPOLLRDBAND | EPOLLHUP | EPOLLERR)
#define SEL_OUT (EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND | EPOLLERR)

static int select_common(int nfds, fd_set *r, fd_set *w, fd_set *x, int64_t timeout_ns, const sigset_t *mask,
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
        progress();
        for (int fd = 0; fd < nfds; fd++) {
            bool ours;
            bool want = FD_ISSET(fd, &orr) || FD_ISSET(fd, &ow) || FD_ISSET(fd, &ox);
            if (!want)
                continue;
            short ev = sock_revents(fd, (short)(POLLIN | POLLOUT), &ours);
            if (!ours)
                continue;
            FD_CLR(fd, &kr);
            FD_CLR(fd, &kw);
            FD_CLR(fd, &kx);
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
            for (int fd = 0; fd < nfds; fd++) {
                if (FD_ISSET(fd, &our_r))
                    FD_SET(fd, &kr);
                if (FD_ISSET(fd, &our_w))
                    FD_SET(fd, &kw);
            }
            rc += cnt;
            idle_work(&st);
            break;
        }
        uint64_t now = now_ns();
        if (now >= deadline) {
            rc = 0;
            break;
        }
        uint64_t nap = idle_next(&st);
        if (nap == 0)
            continue;
        if (nap > deadline - now)
            nap = deadline - now;
        struct timespec ts = {.tv_sec = (time_t)(nap / 1000000000u), .tv_nsec = (long)(nap % 1000000000u)};
        kr = orr;
        kw = ow;
        kx = ox;
        for (int fd = 0; fd < nfds; fd++)
            if (fd_is_taken(fd)) {
                FD_CLR(fd, &kr);
                FD_CLR(fd, &kw);
                FD_CLR(fd, &kx);
            }
        rc = real.pselect(nfds, r ? &kr : NULL, w ? &kw : NULL, x ? &kx : NULL, &ts, mask);
        if (rc < 0)
            return -1;
        if (rc > 0)
            break;
    }
    if (r)
        *r = kr;
    if (w)
        *w = kw;
    if (x)
        *x = kx;
    if (left_ns != NULL) {
        uint64_t now = now_ns();
        *left_ns = deadline == UINT64_MAX ? -1 : now >= deadline ? 0 : (int64_t)(deadline - now);
    }
    return rc;
}

PRELOAD_API int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
    int64_t left;
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
