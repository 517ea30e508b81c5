/*
 * epoll.c - epoll_create, epoll_create1, epoll_ctl, epoll_wait,
 * epoll_pwait, epoll_pwait2 over a ready list, as Linux's fs/eventpoll.c.
 *
 * The program's epoll fd is a real kernel epoll fd: kernel fds (eventfd,
 * timerfd, pipes, AF_UNIX, files, kernel sockets, other epoll fds) are
 * registered in it as usual. A Sluice socket is registered beside it, as
 * an ep_item of the fd's struct epset (its kernel fd is not in the kernel
 * set: that unconnected socket would report readiness of its own).
 *
 * Ready list (docs/preload.md "Readiness"): every completion the engine
 * files on a socket calls ep_wake, which appends the socket's items whose
 * events ask for that kind of event to the tail of their set's ready list
 * unless they are queued already - Linux's ep_poll_callback. A wait reports
 * from the head, in the order things became ready, and costs O(events
 * reported), whatever the number of members. Reporting follows
 * ep_send_events: an item found not ready leaves the list; a level-
 * triggered one still ready goes back to the tail; an edge-triggered one
 * leaves until its next event; EPOLLONESHOT disarms it until EPOLL_CTL_MOD;
 * items beyond maxevents stay at the head, in order.
 *
 * A wait with Sluice members alternates: one engine pass and the ready
 * list, then the kernel set with a zero timeout (which side fills the
 * events first alternates whenever maxevents was reached, so neither
 * starves); when nothing is ready it spins, then naps in the kernel's wait
 * (the idle policy of <sluice/idle.h>, preload/idle.c), so kernel fds wake it at once and Sluice
 * sockets within a nap.
 *
 * An epoll fd inside another epoll set (or in poll/select) is readable when
 * its kernel part is (the kernel tells) or an item of its ready list is
 * ready (an ep_item with `inner` in the outer set tells).
 *
 * Errors: -1 and errno as epoll_ctl(2) and epoll_wait(2) list them, in
 * Linux's order (its own checks run on the socket's kernel fd first).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"


/* ---- sets and items ---- */

static struct epset *ep_new(int epfd)
{
    struct epset *e = arena_alloc(sizeof(*e));

    if (e == NULL)
        return NULL;
    e->fd = epfd;
    e->owner = getpid();
    TAILQ_INIT(&e->items);
    TAILQ_INIT(&e->ready);
    LIST_INIT(&e->parents);
    fd_set_ep(epfd, e);
    return e;
}

/* The set of epoll fd epfd, made on first use (lock held); NULL: ENOMEM. */
static struct epset *ep_get(int epfd)
{
    return g_eps[epfd] != NULL ? g_eps[epfd] : ep_new(epfd);
}

static void ep_enqueue(struct ep_item *m);

/* Something was queued on e: the sets e is registered in hear of it as of
 * readable data (Linux's ep_poll_callback wakes the epoll file's poll
 * waiters on every event, whatever the list held before). */
static void ep_wake_parents(struct epset *e)
{
    struct ep_item *p;

    LIST_FOREACH(p, &e->parents, src_link)
        if (p->events & (EPOLLIN | EPOLLRDNORM))
            ep_enqueue(p);
}

/* An event for m: to the tail of the ready list unless it is queued
 * already, and the sets holding m's set hear of it either way. */
static void ep_enqueue(struct ep_item *m)
{
    if (m->disarmed || m->in_kernel)
        return;
    if (!m->queued) {
        TAILQ_INSERT_TAIL(&m->ep->ready, m, rd_link);
        m->queued = true;
        m->ep->nready++;
    }
    ep_wake_parents(m->ep);
}

static void ep_dequeue(struct ep_item *m)
{
    if (!m->queued)
        return;
    TAILQ_REMOVE(&m->ep->ready, m, rd_link);
    m->queued = false;
    m->ep->nready--;
}

static struct ep_item *item_new(struct epset *e, int fd, struct psock *s, struct epset *inner)
{
    struct ep_item *m = arena_alloc(sizeof(*m));

    if (m == NULL)
        return NULL;
    m->ep = e;
    m->fd = fd;
    m->s = s;
    m->inner = inner;
    TAILQ_INSERT_TAIL(&e->items, m, set_link);
    if (s != NULL)
        LIST_INSERT_HEAD(&s->ep_items, m, src_link);
    else
        LIST_INSERT_HEAD(&inner->parents, m, src_link);
    e->taken++;
    return m;
}

static void item_free(struct ep_item *m)
{
    ep_dequeue(m);
    TAILQ_REMOVE(&m->ep->items, m, set_link);
    LIST_REMOVE(m, src_link);
    if (!m->in_kernel)
        m->ep->taken--;
    arena_free(m);
}

/* The registration of (s or inner, fd) in e, or NULL. */
static struct ep_item *item_find(struct epset *e, int fd, struct psock *s, struct epset *inner)
{
    struct ep_item *m = LIST_FIRST(s != NULL ? &s->ep_items : &inner->parents);

    for (; m != NULL; m = LIST_NEXT(m, src_link))
        if (m->ep == e && m->fd == fd)
            return m;
    return NULL;
}

void ep_free(struct epset *e)
{
    struct ep_item *m;

    while ((m = TAILQ_FIRST(&e->items)) != NULL)
        item_free(m);
    /* closing the last fd of an epoll set removes it from the sets it was
     * in (Linux: eventpoll_release) */
    while ((m = LIST_FIRST(&e->parents)) != NULL)
        item_free(m);
    arena_free(e);
}

void ep_drop_sock(struct psock *s)
{
    struct ep_item *m;

    while ((m = LIST_FIRST(&s->ep_items)) != NULL)
        item_free(m);
}

void ep_wake(struct psock *s, uint32_t key)
{
    struct ep_item *m;

    LIST_FOREACH(m, &s->ep_items, src_link)
        if (key == 0 || (key & (m->events | EPOLLERR | EPOLLHUP)) != 0)
            ep_enqueue(m);
}

void ep_sock_decided(struct psock *s)
{
    struct ep_item *m, *next;

    for (m = LIST_FIRST(&s->ep_items); m != NULL; m = next) {
        next = LIST_NEXT(m, src_link);
        if (m->ep->owner != getpid())
            continue; /* a set of another process of the family: its fd is not ours to name */
        if (m->in_kernel && s->state == PS_KERNEL) {
            item_free(m); /* the kernel registration is the real one */
        } else if (m->in_kernel && s->state == PS_TAKEN) {
            real.epoll_ctl(m->ep->fd, EPOLL_CTL_DEL, m->fd, NULL);
            m->in_kernel = false;
            m->ep->taken++;
            ep_enqueue(m); /* looked at (and materialised) by the next wait */
        } else if (!m->in_kernel && s->state == PS_KERNEL) {
            /* the stack could not take it after all: the kernel reports it */
            struct epoll_event ev = {.events = m->events, .data = m->data};
            ep_dequeue(m);
            real.epoll_ctl(m->ep->fd, EPOLL_CTL_ADD, m->fd, &ev);
            m->in_kernel = true;
            m->ep->taken--;
        }
    }
}

/* ---- readiness of an item ---- */

static uint32_t item_poll(struct ep_item *m);

/* Whether an item on e's ready list is ready now (lock held). */
bool ep_has_ready(struct epset *e)
{
    struct ep_item *m;

    TAILQ_FOREACH(m, &e->ready, rd_link)
        if (item_poll(m) != 0)
            return true;
    return false;
}

/* What m reports now: its socket's EPOLL* bits that its events ask for
 * (EPOLLERR and EPOLLHUP always), or EPOLLIN for a nested set with a ready
 * item (lock held). Materialises a socket Sluice took while it was in the
 * set as a candidate. */
static uint32_t item_poll(struct ep_item *m)
{
    struct psock *s = m->s;

    if (m->in_kernel)
        return 0;
    if (m->inner != NULL)
        return ep_has_ready(m->inner) ? m->events & (EPOLLIN | EPOLLRDNORM) : 0;
    if (s->state != PS_TAKEN)
        return 0;
    if (s->qd < 0 && !s->dead) {
        int rc = ps_materialise(s, m->fd);
        if (rc > 0)
            return 0; /* now the kernel's (ep_sock_decided moved it) */
        if (rc < 0)
            return EPOLLERR;
    }
    return ps_events(s) & (m->events | EPOLLERR | EPOLLHUP);
}

/* Reports up to max ready items of e from the head of its ready list, as
 * Linux's ep_send_events (lock held). *nested: whether one was a set. */
static int ep_send_events(struct epset *e, struct epoll_event *evs, int max, bool *nested)
{
    struct ep_item_tailq again = TAILQ_HEAD_INITIALIZER(again);
    struct ep_item *m;
    int n = 0, left = e->nready;

    while (n < max && left-- > 0 && (m = TAILQ_FIRST(&e->ready)) != NULL) {
        ep_dequeue(m);
        uint32_t r = item_poll(m);
        if (r == 0)
            continue; /* not ready: off the list until its next event */
        evs[n].events = r;
        evs[n].data = m->data;
        n++;
        if (m->inner != NULL)
            *nested = true;
        if (m->events & EPOLLONESHOT) {
            m->disarmed = true;
        } else if (!(m->events & EPOLLET)) {
            /* level-triggered: back to the tail, looked at again next time
             * (marked queued once it is there: until then a dequeue of it
             * must not touch the ready list) */
            TAILQ_INSERT_TAIL(&again, m, rd_link);
        }
    }
    TAILQ_FOREACH(m, &again, rd_link) {
        m->queued = true;
        e->nready++;
    }
    TAILQ_CONCAT(&e->ready, &again, rd_link);
    return n;
}

/* ---- epoll_create ---- */

/* A new epoll fd of the program (not DPDK's) is marked as one, so that
 * added to another set it is known as a set. */
static int epoll_fd_made(int fd)
{
    if (fd >= 0 && !t_inside)
        fd_mark_epoll(fd, true);
    return fd;
}

PRELOAD_API int epoll_create(int size)
{
    ENTER();
    return epoll_fd_made(real.epoll_create(size));
}

PRELOAD_API int epoll_create1(int flags)
{
    ENTER();
    return epoll_fd_made(real.epoll_create1(flags));
}

/* ---- epoll_ctl ---- */

/* Linux's own checks of epfd, op, fd and ev, in its order, done by the
 * kernel on fd's kernel fd (lock held). For a socket of ours that fd is
 * not in the kernel set: an ADD that passes is undone, and ENOENT from MOD
 * or DEL means the checks passed. 0 or -errno. */
static int ctl_check(int epfd, int op, int fd, struct epoll_event *ev)
{
    /* the common case passes every check: no system call (a connection
     * rate benchmark adds one socket per connection) */
    if (fd_is_epoll(epfd) && fd != epfd &&
        (op == EPOLL_CTL_DEL || ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && ev != NULL &&
                                 !(ev->events & EPOLLEXCLUSIVE))))
        return 0;
    if (real.epoll_ctl(epfd, op, fd, ev) == 0) {
        if (op == EPOLL_CTL_ADD)
            real.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    return errno == ENOENT && op != EPOLL_CTL_ADD ? 0 : -errno;
}

/* Queues m if what it asks for is ready now (Linux polls on ADD and MOD). */
static void ep_poll_now(struct ep_item *m)
{
    if (!m->queued && item_poll(m) != 0)
        ep_enqueue(m);
}

/* epoll_ctl on a candidate: the kernel set holds it; remembered here so
 * that the registration moves to our side if Sluice takes it (lock held). */
static int ctl_candidate(int epfd, int op, int fd, struct epoll_event *ev, struct psock *s)
{
    struct epset *e;
    struct ep_item *m;

    if (real.epoll_ctl(epfd, op, fd, ev) != 0)
        return -errno;
    if ((e = ep_get(epfd)) == NULL)
        return 0; /* the kernel reports it as long as it stays a candidate */
    m = item_find(e, fd, s, NULL);
    if (op == EPOLL_CTL_ADD && m == NULL && (m = item_new(e, fd, s, NULL)) != NULL) {
        m->in_kernel = true;
        e->taken--;
    }
    if (m == NULL)
        return 0;
    if (op == EPOLL_CTL_DEL) {
        item_free(m);
        return 0;
    }
    m->events = ev->events;
    m->data = ev->data;
    return 0;
}

/* epoll_ctl on a socket Sluice took (lock held). 0 or -errno. */
static int ctl_taken(int epfd, int op, int fd, struct epoll_event *ev, struct psock *s)
{
    struct epset *e;
    struct ep_item *m;
    int rc = ctl_check(epfd, op, fd, ev);

    if (rc != 0)
        return rc;
    if ((e = ep_get(epfd)) == NULL)
        return -ENOMEM;
    m = item_find(e, fd, s, NULL);
    switch (op) {
    case EPOLL_CTL_ADD:
        if (m != NULL)
            return -EEXIST;
        rc = ps_materialise(s, fd);
        if (rc > 0) /* the stack could not take it: the kernel's */
            return real.epoll_ctl(epfd, op, fd, ev) == 0 ? 0 : -errno;
        if (rc < 0)
            return rc;
        if ((m = item_new(e, fd, s, NULL)) == NULL)
            return -ENOMEM;
        m->events = ev->events;
        m->data = ev->data;
        ep_poll_now(m);
        return 0;
    case EPOLL_CTL_MOD:
        if (m == NULL)
            return -ENOENT;
        if (m->events & EPOLLEXCLUSIVE)
            return -EINVAL;
        m->events = ev->events;
        m->data = ev->data;
        m->disarmed = false;
        ep_poll_now(m);
        return 0;
    case EPOLL_CTL_DEL:
        if (m == NULL)
            return -ENOENT;
        item_free(m);
        return 0;
    default:
        return -EINVAL;
    }
}

/* epoll_ctl of epoll fd fd in set epfd (lock held): the kernel holds the
 * registration (its checks, ELOOP, and the kernel part's readiness); an
 * item with `inner` reports fd readable when its Sluice part is ready. */
static int ctl_nested(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct epset *e, *inner;
    struct ep_item *m;

    if (real.epoll_ctl(epfd, op, fd, ev) != 0)
        return -errno;
    if ((e = ep_get(epfd)) == NULL || (inner = ep_get(fd)) == NULL)
        return 0; /* no memory: the kernel part still reports */
    m = item_find(e, fd, NULL, inner);
    if (op == EPOLL_CTL_DEL) {
        if (m != NULL)
            item_free(m);
        return 0;
    }
    if (m == NULL && (op != EPOLL_CTL_ADD || (m = item_new(e, fd, NULL, inner)) == NULL))
        return 0;
    m->events = ev->events;
    m->data = ev->data;
    m->disarmed = false;
    ep_poll_now(m);
    return 0;
}

PRELOAD_API int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct psock *s;
    int rc;

    ENTER();
    if (t_inside || epfd < 0 || epfd >= g_fdmax || (sock_peek(fd) == NULL && !fd_is_epoll(fd)))
        return real.epoll_ctl(epfd, op, fd, ev);
    lock();
    s = g_socks[fd];
    if (s != NULL && s->state == PS_CAND)
        rc = ctl_candidate(epfd, op, fd, ev, s);
    else if (s != NULL && s->state == PS_TAKEN)
        rc = ctl_taken(epfd, op, fd, ev, s);
    else if (s == NULL && fd_is_epoll(fd) && fd != epfd)
        rc = ctl_nested(epfd, op, fd, ev);
    else
        rc = real.epoll_ctl(epfd, op, fd, ev) == 0 ? 0 : -errno;
    unlock();
    return rc ? fail(-rc) : 0;
}

/* ---- epoll_wait ---- */

/* Kernel events whose data equals that of a nested set reported by us:
 * the same fd twice (its kernel part and its Sluice part both ready). */
static int drop_nested_twins(struct epoll_event *evs, int ours_from, int ours_n, int k_from, int k_n)
{
    int out = k_from;

    for (int i = k_from; i < k_from + k_n; i++) {
        bool twin = false;
        for (int j = ours_from; j < ours_from + ours_n && !twin; j++)
            twin = evs[j].data.u64 == evs[i].data.u64;
        if (!twin)
            evs[out++] = evs[i];
    }
    return out - k_from;
}

/* One look at both sides, without waiting: the number of events, or -1. */
static int ep_poll_both(int epfd, struct epoll_event *evs, int max, struct idle *st)
{
    struct epset *e = ep_peek(epfd);
    bool kfirst = e != NULL && __atomic_load_n(&e->kernel_first, __ATOMIC_RELAXED);
    bool nested = false;
    int n = 0, k = 0, ours, kfrom;
    uint64_t work;

    if (kfirst) {
        k = real.epoll_wait(epfd, evs, max, 0);
        if (k < 0)
            return -1;
        n = k;
    }
    lock();
    e = g_eps[epfd];
    work = g_work;
    progress_wait();
    ours = e != NULL && n < max ? ep_send_events(e, evs + n, max - n, &nested) : 0;
    if (g_work != work)
        idle_work(st);
    if (e != NULL && n + ours == max)
        e->kernel_first = !kfirst; /* the other side goes first next time */
    unlock();
    kfrom = kfirst ? 0 : n + ours;
    if (!kfirst && n + ours < max) {
        k = real.epoll_wait(epfd, evs + n + ours, max - n - ours, 0);
        if (k < 0)
            return n + ours > 0 ? n + ours : -1;
    }
    if (nested && k > 0) {
        int ofrom = kfirst ? k : 0;
        int kept = drop_nested_twins(evs, ofrom, ours, kfrom, k);
        if (kfirst) /* close the gap between the kernel's and ours */
            memmove(evs + kept, evs + k, (size_t)ours * sizeof(*evs));
        k = kept;
    }
    return k + ours;
}

/* The wait of every epoll_wait variant on a set with Sluice members (mask
 * already applied by the caller). Events, 0 on timeout, or -1: EINTR when
 * a signal handler ran in this thread (epoll_wait never restarts,
 * signal(7)), or the kernel's errno. timeout_ns < 0: forever. */
static int ep_wait_loop(int epfd, struct epoll_event *evs, int max, int64_t timeout_ns, const struct sig_watch *sw)
{
    struct idle st;
    uint64_t deadline;
    int n, k;

    idle_init(&st);
    deadline = timeout_ns < 0 ? UINT64_MAX : st.start_ns + (uint64_t)timeout_ns;
    for (;;) {
        n = ep_poll_both(epfd, evs, max, &st);
        if (n != 0) {
            if (n > 0)
                idle_work(&st); /* the program has something to do again */
            return n;
        }
        /* events first, then signals, as Linux's ep_poll looks */
        if (sig_check(sw, false))
            return fail(EINTR);
        struct timespec ts;
        enum idle_step step = idle_step(&st, deadline, &ts);
        if (step == IDLE_DONE)
            return 0;
        if (step == IDLE_SPIN)
            continue;
        if (real.epoll_pwait2 != NULL)
            k = real.epoll_pwait2(epfd, evs, max, &ts, NULL);
        else
            k = real.epoll_wait(epfd, evs, max, 1);
        if (k != 0)
            return k; /* kernel events, or -1 (EINTR: a handler ran in the nap) */
    }
}

/* epoll_wait, epoll_pwait, epoll_pwait2 on a set with Sluice members: mask
 * (NULL: none) is this thread's signal mask for the whole call, as Linux
 * sets it. Returns as ep_wait_loop. */
static int ep_wait(int epfd, struct epoll_event *evs, int max, int64_t timeout_ns, const sigset_t *mask)
{
    struct sig_watch sw;
    sigset_t saved;
    int rc;

    if (max <= 0)
        return fail(EINVAL);
    if (evs == NULL)
        return fail(EFAULT);
    sig_watch_start(&sw);
    rc = sig_mask_enter(mask, &saved);
    if (rc)
        return fail(-rc);
    rc = ep_wait_loop(epfd, evs, max, timeout_ns, &sw);
    sig_mask_leave(mask, &saved);
    return rc;
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
