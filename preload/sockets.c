/*
 * sockets.c - the socket calls the interposer catches: socket, socketpair,
 * bind, listen, accept, accept4, connect, shutdown, close, close_range,
 * getsockname, getpeername, getsockopt, setsockopt, fcntl, ioctl, dup,
 * dup2, dup3, fork, vfork.
 *
 * Every call first looks whether the fd is ours (one array load); a kernel
 * fd goes to the C library untouched, so it sees exactly the kernel's
 * behaviour, errors included. On our sockets, bad arguments are checked in
 * the order Linux checks them; where Linux would refuse the arguments before
 * looking at the socket's state, the call is handed to the socket's own
 * kernel fd, which refuses them with exactly Linux's errno.
 * Errors: -1 and errno, as the Linux man page of each call lists them.
 */
/* Our definitions of pread, sendfile and fcntl must keep their own names
 * (glibc redirects them to the *64 names under _FILE_OFFSET_BITS=64, which
 * Meson sets); on 64-bit targets off_t is 64 bits either way. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <demi/libos.h>
#include <demi/wait.h>
#include <sluice/socket.h>

#include "internal.h"

/* An IPv4 address argument that Linux would refuse before looking at the
 * socket (then the kernel fd answers). */
static bool sin_arg_bad(const struct sockaddr *addr, socklen_t len)
{
    return addr == NULL || len < (socklen_t)sizeof(struct sockaddr_in) ||
           len > (socklen_t)sizeof(struct sockaddr_storage) || addr->sa_family != AF_INET;
}

/* Copies sin to (addr, *addrlen) as Linux's move_addr_to_user does. */
static int put_addr(const struct sockaddr_in *sin, struct sockaddr *addr, socklen_t *addrlen)
{
    socklen_t n;

    if (addrlen == NULL)
        return -EFAULT;
    if ((int)*addrlen < 0)
        return -EINVAL;
    n = *addrlen < sizeof(*sin) ? *addrlen : (socklen_t)sizeof(*sin);
    if (n > 0) {
        if (addr == NULL)
            return -EFAULT;
        memcpy(addr, sin, n);
    }
    *addrlen = sizeof(*sin);
    return 0;
}

/* ---- socket ---- */

/* Says once per process that IPv6 traffic is not Sluice's (a program that
 * runs "on Sluice" must not silently run on the kernel). */
static void warn_inet6(int base)
{
    static int warned;

    if ((base == SOCK_STREAM || base == SOCK_DGRAM) && !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        plog(PLOG_WARN, "an AF_INET6 socket: Sluice has no IPv6 yet, so this program's IPv6 traffic "
                        "(and IPv4 through dual-stack sockets) stays with the kernel");
}

PRELOAD_API int socket(int domain, int type, int protocol)
{
    int fd, base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

    ENTER();
    fd = real.socket(domain, type, protocol);
    if (fd >= 0 && !t_inside && domain == AF_INET6)
        warn_inet6(base);
    if (fd < 0 || t_inside || domain != AF_INET || fd >= g_fdmax)
        return fd;
    if (!((base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)) ||
          (base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))))
        return fd;
    lock();
    if (g_socks[fd] != NULL || g_eps[fd] != NULL)
        fd_forget(fd); /* closed behind our back (e.g. by fclose): forget it */
    struct psock *s = ps_new(base, (type & SOCK_NONBLOCK) != 0);
    if (s != NULL)
        fd_set_sock(fd, s);
    g_inet_seen = true;
    unlock();
    return fd;
}

PRELOAD_API int socketpair(int domain, int type, int protocol, int sv[2])
{
    ENTER();
    return real.socketpair(domain, type, protocol, sv);
}

/* ---- bind, listen ---- */

PRELOAD_API int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct psock *s;
    int rc;

    ENTER();
    if (t_inside || sock_peek(fd) == NULL)
        return real.bind(fd, addr, len);
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state == PS_KERNEL || sin_arg_bad(addr, len)) {
        unlock();
        return real.bind(fd, addr, len);
    }
    if (s->state == PS_TAKEN) {
        unlock();
        return fail(EINVAL); /* already bound, as Linux says for a second bind */
    }
    /* a refused bind leaves the socket undecided, as it leaves it unbound */
    if (rules_take(SA_IN(addr)->sin_addr.s_addr, SA_IN(addr)->sin_port) == 1 && ps_port_in_use(s, SA_IN(addr))) {
        unlock();
        return fail(EADDRINUSE);
    }
    rc = ps_decide(s, fd, SA_IN(addr)->sin_addr.s_addr, SA_IN(addr)->sin_port);
    if (rc <= 0) {
        unlock();
        return rc < 0 ? fail(-rc) : real.bind(fd, addr, len);
    }
    memset(&s->bind_addr, 0, sizeof(s->bind_addr));
    s->bind_addr.sin_family = AF_INET;
    s->bind_addr.sin_addr = SA_IN(addr)->sin_addr;
    s->bind_addr.sin_port = SA_IN(addr)->sin_port;
    s->bound = true;
    /* live at once: the stack's own errors now (EADDRINUSE, EADDRNOTAVAIL,
     * ENETDOWN when it cannot start), datagrams queued from now on, and the
     * stack started while the process may still be root */
    rc = ps_materialise(s, fd);
    if (rc < 0) {
        s->bound = false;
        s->state = PS_CAND; /* a refused bind leaves it undecided */
        g_pstats.taken--;
    }
    unlock();
    return rc < 0 ? fail(-rc) : 0;
}

PRELOAD_API int listen(int fd, int backlog)
{
    struct psock *s;
    int rc;

    ENTER();
    if (t_inside || sock_peek(fd) == NULL)
        return real.listen(fd, backlog);
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state == PS_KERNEL || s->type != SOCK_STREAM) {
        unlock();
        if (s != NULL && s->state == PS_TAKEN)
            return fail(EOPNOTSUPP);
        return real.listen(fd, backlog);
    }
    if (s->state == PS_CAND) {
        rc = ps_decide(s, fd, 0, 0);
        if (rc <= 0) {
            unlock();
            return rc < 0 ? fail(-rc) : real.listen(fd, backlog);
        }
    }
    if (s->conn == CS_CONNECTED || s->conn == CS_CONNECTING || s->conn == CS_FAILED) {
        unlock();
        return fail(EINVAL);
    }
    /* Linux: a backlog above somaxconn (a negative one, unsigned) is capped */
    s->backlog = backlog < 0 || backlog > 4096 ? 4096 : backlog;
    s->listening = true;
    rc = 0;
    if (s->qd < 0) {
        /* live at once: SYNs are answered from now on, not from the first accept */
        rc = ps_materialise(s, fd);
        if (rc < 0) {
            s->listening = false;
            unlock();
            return fail(-rc);
        }
        rc = 0;
    } else {
        t_inside++;
        rc = demi_listen(s->qd, s->backlog);
        t_inside--;
        if (rc == 0)
            ps_listen_everywhere(s);
        if (rc == 0 && s->conn != CS_LISTEN) {
            s->conn = CS_LISTEN;
            ps_refill(s);
        }
    }
    unlock();
    return rc ? fail(rc) : 0;
}

/* ---- accept ---- */

static bool accept_ready(struct psock *s)
{
    return s->aq_n > 0 || s->so_error != 0 || s->dead;
}

/* How long a connection waits for another blocked accepter before the one
 * that took the last connection may take it too. */
#define ACCEPT_TURN_NS 2000000u

static pid_t my_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* accept_ready for a blocking accept: with several threads or processes
 * blocked in accept on s, the one that took the last connection lets the
 * others have the next (for ACCEPT_TURN_NS), as Linux wakes blocked
 * accepters in the order they started waiting (exclusive waits,
 * inet_csk_wait_for_connect); otherwise the one still spinning from its
 * last connection would take every sequential connection while the
 * others nap. */
static bool accept_ready_turn(struct psock *s)
{
    if (s->so_error != 0 || s->dead)
        return true;
    if (s->aq_n == 0)
        return false;
    if (s->acc_waiters <= 1 || s->last_acceptor != my_tid())
        return true;
    return now_ns() - s->aq[s->aq_head].since > ACCEPT_TURN_NS;
}

static int do_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    struct psock *s, *n;
    int rc, nfd;

    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return fail(EINVAL);
    sig_call_start();
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state != PS_TAKEN) {
        unlock();
        return real.accept4(fd, addr, addrlen, flags);
    }
    if (s->type != SOCK_STREAM) {
        unlock();
        return fail(EOPNOTSUPP);
    }
    if (!s->listening) {
        unlock();
        return fail(EINVAL);
    }
    rc = ps_materialise(s, fd);
    if (rc != 0) {
        unlock();
        return rc > 0 ? real.accept4(fd, addr, addrlen, flags) : fail(-rc);
    }
    progress();
    if (!accept_ready(s) && s->nonblock) {
        unlock();
        return fail(EAGAIN);
    }
    if (!s->nonblock) {
        s->acc_waiters++;
        rc = accept_ready_turn(s) ? 0 : ps_block(s, accept_ready_turn, &s->rcvtimeo, restarts_with(&s->rcvtimeo));
        if (rc != -EBADF) /* closed meanwhile: s may be freed */
            s->acc_waiters--;
        if (rc) {
            unlock();
            return fail(-rc);
        }
    }
    if (s->dead) {
        unlock();
        return fail(EIO);
    }
    if (s->aq_n == 0) {
        rc = s->so_error;
        s->so_error = 0;
        unlock();
        return fail(rc);
    }
    /* the new connection's own kernel fd: its number is the program's */
    nfd = real.socket(AF_INET, SOCK_STREAM | (flags & (SOCK_NONBLOCK | SOCK_CLOEXEC)), 0);
    if (nfd < 0) {
        rc = errno;
        unlock();
        return fail(rc); /* EMFILE, ENFILE: the connection stays queued */
    }
    if (nfd >= g_fdmax || (n = ps_new(SOCK_STREAM, (flags & SOCK_NONBLOCK) != 0)) == NULL) {
        unlock();
        real.close(nfd);
        return fail(nfd >= g_fdmax ? EMFILE : ENOMEM);
    }
    struct accepted a = aq_take(s);
    s->last_acceptor = my_tid();
    if (g_socks[nfd] != NULL || g_eps[nfd] != NULL)
        fd_forget(nfd);
    n->state = PS_TAKEN;
    n->qd = a.qd;
    n->conn = CS_CONNECTED;
    n->peer = a.addr;
    n->peer.sin_family = AF_INET;
    n->has_peer = true;
    n->sndbuf = s->sndbuf;
    fd_set_sock(nfd, n);
    g_pstats.accepted++;
    ps_refill(n);
    ps_refill(s);
    /* Linux copies the address after accepting: a bad pointer fails the
     * call and the connection is lost with it */
    rc = addr != NULL ? put_addr(&n->peer, addr, addrlen) : 0;
    if (rc != 0) {
        fd_forget(nfd);
        unlock();
        real.close(nfd);
        return fail(-rc);
    }
    unlock();
    return nfd;
}

PRELOAD_API int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.accept(fd, addr, addrlen);
    return do_accept(fd, addr, addrlen, 0);
}

PRELOAD_API int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.accept4(fd, addr, addrlen, flags);
    return do_accept(fd, addr, addrlen, flags);
}

/* ---- connect ---- */

static bool connect_done(struct psock *s)
{
    return s->conn != CS_CONNECTING;
}

/* Waits for the connect of blocking socket s to end (lock held), as
 * Linux's __inet_stream_connect: 0 connected, -errno failed; on
 * SO_SNDTIMEO's expiry -EINPROGRESS for the call that started it (first)
 * and -EALREADY for a later one; -EINTR when a signal handler interrupts
 * (the connection goes on, signal(7): connect restarts after SA_RESTART
 * unless SO_SNDTIMEO is set). Then the program has not been told. */
static int connect_wait(struct psock *s, bool first)
{
    int rc;

    progress();
    if (s->conn == CS_CONNECTING) {
        rc = ps_block(s, connect_done, &s->sndtimeo, restarts_with(&s->sndtimeo));
        if (rc == -EAGAIN || rc == -EINTR) {
            s->conn_unreported = true;
            return rc == -EINTR ? -EINTR : first ? -EINPROGRESS : -EALREADY;
        }
        if (rc)
            return rc;
    }
    s->conn_unreported = false;
    if (s->conn == CS_CONNECTED)
        return 0;
    rc = s->so_error ? s->so_error : ECONNREFUSED;
    s->so_error = 0;
    return -rc;
}

static int tcp_connect(struct psock *s, const struct sockaddr_in *to)
{
    demi_qtoken_t qt;
    int rc;

    switch (s->conn) {
    case CS_CONNECTED:
        if (s->conn_unreported) {
            /* Linux: the first connect after one that returned EINPROGRESS
             * or EINTR says 0 (SS_CONNECTING becomes SS_CONNECTED), the next
             * EISCONN */
            s->conn_unreported = false;
            return 0;
        }
        return -EISCONN;
    case CS_CONNECTING:
        /* Linux: a blocking socket waits again; a non-blocking one says so */
        return s->nonblock ? -EALREADY : connect_wait(s, false);
    case CS_LISTEN:
        return -EISCONN; /* Linux: a listener is not in CLOSE */
    case CS_FAILED:
        s->conn_unreported = false;
        rc = s->so_error ? s->so_error : ECONNABORTED;
        s->so_error = 0;
        return -rc;
    case CS_NONE:
        break;
    }
    if (s->listening)
        return -EISCONN;
    t_inside++;
    rc = demi_connect(&qt, s->qd, (const struct sockaddr *)to, sizeof(*to));
    t_inside--;
    if (rc != 0)
        return -rc;
    if (tok_add_connect(s, qt) != 0)
        return -ENOMEM;
    s->conn = CS_CONNECTING;
    s->peer = *to;
    s->has_peer = true;
    /* Linux answers a non-blocking connect EINPROGRESS even when the
     * answer is already there (poll and SO_ERROR then tell) */
    if (s->nonblock) {
        s->conn_unreported = true;
        return -EINPROGRESS;
    }
    return connect_wait(s, true);
}

static int udp_connect(struct psock *s, const struct sockaddr_in *to)
{
    demi_qtoken_t qt;
    demi_qresult_t qr;
    int rc;

    t_inside++;
    rc = demi_connect(&qt, s->qd, (const struct sockaddr *)to, sizeof(*to));
    if (rc == 0)
        rc = demi_wait(&qr, qt, NULL);
    t_inside--;
    if (rc != 0)
        return -rc;
    if (qr.qr_opcode == DEMI_OPC_FAILED)
        return -(int)qr.qr_ret;
    s->peer = *to;
    s->has_peer = true;
    return 0;
}

PRELOAD_API int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct psock *s;
    struct sockaddr_in to;
    int rc;

    ENTER();
    if (t_inside || sock_peek(fd) == NULL)
        return real.connect(fd, addr, len);
    sig_call_start();
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state == PS_KERNEL || (s->state == PS_CAND && sin_arg_bad(addr, len))) {
        unlock();
        return real.connect(fd, addr, len);
    }
    if (s->dead) {
        unlock();
        return fail(EIO);
    }
    if (sin_arg_bad(addr, len)) {
        /* a taken socket: Linux's own checks, on its kernel fd, before any state */
        unlock();
        if (addr != NULL && len >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC)
            return 0; /* dissolving an association: Sluice keeps it (docs/preload.md) */
        return real.connect(fd, addr, len);
    }
    to = *SA_IN(addr);
    memset(to.sin_zero, 0, sizeof(to.sin_zero));
    if (s->state == PS_CAND) {
        rc = ps_decide(s, fd, to.sin_addr.s_addr, to.sin_port);
        if (rc <= 0) {
            unlock();
            return rc < 0 ? fail(-rc) : real.connect(fd, addr, len);
        }
    }
    rc = ps_materialise(s, fd);
    if (rc != 0) {
        unlock();
        return rc > 0 ? real.connect(fd, addr, len) : fail(-rc);
    }
    rc = s->type == SOCK_STREAM ? tcp_connect(s, &to) : udp_connect(s, &to);
    unlock();
    return rc ? fail(-rc) : 0;
}

/* ---- shutdown, close ---- */

PRELOAD_API int shutdown(int fd, int how)
{
    struct psock *s;

    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.shutdown(fd, how);
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state != PS_TAKEN) {
        unlock();
        return real.shutdown(fd, how);
    }
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
        unlock();
        return fail(EINVAL);
    }
    /* Linux, on a socket in CLOSE (unconnected UDP, unconnected TCP):
     * ENOTCONN, and yet the shutdown is recorded ("a hack to wake up other
     * listeners" in inet_shutdown) */
    int rc = ((s->type == SOCK_STREAM && s->conn != CS_CONNECTED && s->conn != CS_LISTEN &&
               s->conn != CS_CONNECTING) ||
              (s->type == SOCK_DGRAM && !s->has_peer))
                 ? ENOTCONN
                 : 0;
    if (how != SHUT_WR)
        s->rd_shut = true;
    /* SHUT_WR on an established connection: the FIN goes out now, after
     * the bytes already written (RFC 9293 §3.6 half-close), so a peer that
     * reads to end of stream answers while this side still reads */
    if (how != SHUT_RD && !s->wr_shut && s->type == SOCK_STREAM && s->conn == CS_CONNECTED && s->qd >= 0 &&
        !s->dead) {
        t_inside++;
        sluice_shutdown(s->qd, SHUT_WR);
        t_inside--;
    }
    if (how != SHUT_RD)
        s->wr_shut = true;
    s->gen++;
    ep_wake(s, 0);
    unlock();
    return rc ? fail(rc) : 0;
}

PRELOAD_API int close(int fd)
{
    ENTER();
    fd_mark_epoll(fd, false);
    if (!t_inside && (sock_peek(fd) != NULL || ep_peek(fd) != NULL)) {
        lock();
        fd_forget(fd);
        unlock();
    }
    return real.close(fd);
}

PRELOAD_API int close_range(unsigned first, unsigned last, int flags)
{
    ENTER();
    if (!t_inside && !(flags & CLOSE_RANGE_CLOEXEC) && first <= last) {
        for (unsigned fd = first; fd <= last && fd < (unsigned)g_fdmax; fd++)
            fd_mark_epoll((int)fd, false);
        lock();
        for (unsigned fd = first; fd <= last && fd < (unsigned)g_fdmax; fd++)
            if (g_socks[fd] != NULL || g_eps[fd] != NULL)
                fd_forget((int)fd);
        unlock();
    }
    if (real.close_range != NULL)
        return real.close_range(first, last, flags);
    return (int)syscall(SYS_close_range, first, last, flags);
}

/* ---- names ---- */

static int name_of(int fd, struct sockaddr *addr, socklen_t *addrlen, bool peer)
{
    struct psock *s;
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    int rc = 0;

    lock();
    s = g_socks[fd];
    if (s == NULL || s->state != PS_TAKEN) {
        unlock();
        return peer ? real.getpeername(fd, addr, addrlen) : real.getsockname(fd, addr, addrlen);
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    if (peer) {
        bool connected = s->type == SOCK_STREAM ? s->conn == CS_CONNECTED : s->has_peer;
        if (!connected)
            rc = -ENOTCONN;
        else
            sin = s->peer;
    } else if (s->qd < 0 && s->bound && s->bind_addr.sin_port != 0) {
        sin = s->bind_addr; /* not materialised yet: what bind recorded */
    } else if (s->qd < 0 && !s->bound && !s->listening) {
        /* never bound: 0.0.0.0:0, as Linux */
    } else {
        rc = ps_materialise(s, fd);
        if (rc > 0) {
            unlock();
            return real.getsockname(fd, addr, addrlen);
        }
        if (rc == 0) {
            t_inside++;
            rc = -demi_getsockname(s->qd, (struct sockaddr *)&sin, &sl);
            t_inside--;
        }
    }
    if (rc == 0)
        rc = put_addr(&sin, addr, addrlen);
    unlock();
    return rc ? fail(-rc) : 0;
}

PRELOAD_API int getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.getsockname(fd, addr, addrlen);
    return name_of(fd, addr, addrlen, false);
}

PRELOAD_API int getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.getpeername(fd, addr, addrlen);
    return name_of(fd, addr, addrlen, true);
}

/* ---- options ---- */

static void record_opt(struct psock *s, int level, int name, const void *val, socklen_t len)
{
    struct opt_rec *o = NULL;

    if (len > sizeof(o->val) || val == NULL)
        return;
    for (int i = 0; i < s->nopts; i++)
        if (s->opts[i].level == level && s->opts[i].name == name)
            o = &s->opts[i];
    if (o == NULL) {
        struct opt_rec *n = arena_realloc(s->opts, (size_t)s->nopts * sizeof(*n), (size_t)(s->nopts + 1) * sizeof(*n));
        if (n == NULL)
            return;
        s->opts = n;
        o = &s->opts[s->nopts++];
    }
    o->level = level;
    o->name = name;
    o->len = len;
    memcpy(o->val, val, len);
}

PRELOAD_API int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    struct psock *s;
    int rc;

    ENTER();
    if (t_inside || sock_peek(fd) == NULL)
        return real.setsockopt(fd, level, name, val, len);
    /* The kernel fd checks the arguments exactly as Linux does and keeps
     * the value (so getsockopt of options Sluice does not know answers). */
    rc = real.setsockopt(fd, level, name, val, len);
    if (rc != 0)
        return rc;
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state == PS_KERNEL) {
        unlock();
        return 0;
    }
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        struct timeval tv;
        socklen_t tl = sizeof(tv);
        if (real.getsockopt(fd, level, name, &tv, &tl) == 0)
            *(name == SO_RCVTIMEO ? &s->rcvtimeo : &s->sndtimeo) = tv;
        unlock();
        return 0;
    }
    record_opt(s, level, name, val, len);
    rc = 0;
    if (s->state == PS_TAKEN && s->qd >= 0 && !s->dead) {
        t_inside++;
        rc = demi_setsockopt(s->qd, level, name, val, len);
        t_inside--;
        if (rc == ENOPROTOOPT)
            rc = 0; /* kept on the kernel socket only (docs/preload.md) */
        if (rc == 0 && level == SOL_SOCKET && name == SO_SNDBUF) {
            int v = 0;
            socklen_t vl = sizeof(v);
            t_inside++;
            if (demi_getsockopt(s->qd, SOL_SOCKET, SO_SNDBUF, &v, &vl) == 0 && v > 0)
                s->sndbuf = (uint32_t)v;
            t_inside--;
            ep_wake(s, EPOLLOUT | EPOLLWRNORM);
        }
    }
    unlock();
    return rc ? fail(rc) : 0;
}

PRELOAD_API int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    struct psock *s;
    int rc, v;

    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.getsockopt(fd, level, name, val, len);
    if (len == NULL)
        return fail(EFAULT);
    if ((int)*len < 0)
        return fail(EINVAL);
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state != PS_TAKEN) {
        unlock();
        return real.getsockopt(fd, level, name, val, len);
    }
    if (level == SOL_SOCKET && (name == SO_ERROR || name == SO_ACCEPTCONN)) {
        if (name == SO_ERROR) {
            progress();
            v = s->so_error;
            s->so_error = 0;
        } else {
            v = s->listening;
        }
        unlock();
        socklen_t n = *len < sizeof(int) ? *len : (socklen_t)sizeof(int);
        if (n > 0 && val == NULL)
            return fail(EFAULT);
        memcpy(val, &v, n);
        *len = n;
        return 0;
    }
    if (s->qd >= 0 && !s->dead && val != NULL) {
        socklen_t l = *len;
        t_inside++;
        rc = demi_getsockopt(s->qd, level, name, val, &l);
        t_inside--;
        if (rc == 0) {
            *len = l;
            unlock();
            return 0;
        }
        if (rc != ENOPROTOOPT) {
            unlock();
            return fail(rc);
        }
    }
    unlock();
    return real.getsockopt(fd, level, name, val, len);
}

/* ---- fcntl, ioctl, dup ---- */

/* newfd names what oldfd names (after a successful dup of oldfd). */
static void dup_entry(int oldfd, int newfd)
{
    if (t_inside || newfd < 0 || newfd >= g_fdmax || oldfd == newfd)
        return;
    fd_mark_epoll(newfd, fd_is_epoll(oldfd));
    lock();
    if (g_socks[newfd] != NULL || g_eps[newfd] != NULL)
        fd_forget(newfd); /* dup2 over one of ours closed it */
    if (oldfd >= 0 && oldfd < g_fdmax) {
        if (g_socks[oldfd] != NULL)
            fd_set_sock(newfd, g_socks[oldfd]);
        if (g_eps[oldfd] != NULL)
            fd_set_ep(newfd, g_eps[oldfd]);
    }
    unlock();
}

static bool fd_known(int fd)
{
    return sock_peek(fd) != NULL || ep_peek(fd) != NULL || fd_is_epoll(fd);
}

static int do_fcntl(int (*fn)(int, int, ...), int fd, int cmd, unsigned long arg)
{
    int rc = fn(fd, cmd, arg);

    if (rc < 0 || t_inside)
        return rc;
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
        dup_entry(fd, rc);
    } else if (cmd == F_SETFL) {
        lock();
        if (g_socks[fd] != NULL)
            g_socks[fd]->nonblock = (arg & O_NONBLOCK) != 0;
        unlock();
    }
    return rc;
}

PRELOAD_API int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    unsigned long arg;

    va_start(ap, cmd);
    arg = va_arg(ap, unsigned long); /* int or pointer: one register either way */
    va_end(ap);
    ENTER();
    if (t_inside || !fd_known(fd))
        return real.fcntl(fd, cmd, arg);
    return do_fcntl(real.fcntl, fd, cmd, arg);
}

PRELOAD_API int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    unsigned long arg;

    va_start(ap, cmd);
    arg = va_arg(ap, unsigned long);
    va_end(ap);
    ENTER();
    if (t_inside || !fd_known(fd))
        return real.fcntl64(fd, cmd, arg);
    return do_fcntl(real.fcntl64, fd, cmd, arg);
}

PRELOAD_API int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    void *arg;
    struct psock *s;
    int rc;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    ENTER();
    if (t_inside || sock_peek(fd) == NULL)
        return real.ioctl(fd, req, arg);
    if (req == FIONBIO) {
        rc = real.ioctl(fd, req, arg);
        if (rc == 0) {
            lock();
            if (g_socks[fd] != NULL)
                g_socks[fd]->nonblock = *(int *)arg != 0;
            unlock();
        }
        return rc;
    }
    if (req != FIONREAD && req != SIOCOUTQ)
        return real.ioctl(fd, req, arg);
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state != PS_TAKEN || s->qd < 0) {
        unlock();
        return real.ioctl(fd, req, arg);
    }
    if (s->type == SOCK_STREAM && s->conn == CS_LISTEN) {
        unlock();
        return fail(EINVAL);
    }
    progress();
    if (req == FIONREAD)
        rc = s->type == SOCK_STREAM ? (int)(s->rbytes > INT32_MAX ? INT32_MAX : s->rbytes)
             : s->rq_n > 0            ? (int)s->rq[s->rq_head].sga.sga_segs[0].sgaseg_len
                                      : 0;
    else
        rc = (int)s->unacked;
    unlock();
    if (arg == NULL)
        return fail(EFAULT);
    *(int *)arg = rc;
    return 0;
}

PRELOAD_API int dup(int fd)
{
    int nfd;

    ENTER();
    nfd = real.dup(fd);
    if (nfd >= 0 && !t_inside && fd_known(fd))
        dup_entry(fd, nfd);
    return nfd;
}

PRELOAD_API int dup2(int fd, int nfd)
{
    int rc;

    ENTER();
    rc = real.dup2(fd, nfd);
    if (rc >= 0 && !t_inside && (fd_known(fd) || fd_known(nfd)))
        dup_entry(fd, rc);
    return rc;
}

PRELOAD_API int dup3(int fd, int nfd, int flags)
{
    int rc;

    ENTER();
    rc = real.dup3(fd, nfd, flags);
    if (rc >= 0 && !t_inside && (fd_known(fd) || fd_known(nfd)))
        dup_entry(fd, rc);
    return rc;
}

/* ---- fork ---- */

/* The pthread_atfork handlers (family.c) do the work, so that daemon() and
 * other callers of the C library's internal fork are covered too; here the
 * result is known, and a failed fork gives its child's slot back at once. */
PRELOAD_API pid_t fork(void)
{
    pid_t pid;

    ENTER();
    pid = real.fork();
    if (pid < 0) {
        int e = errno;
        family_fork_failed();
        errno = e;
    }
    return pid;
}

/* A vfork child shares our memory: one that touched a socket before exec
 * would change the parent's state under it. A real fork is what POSIX
 * allows vfork to be. */
PRELOAD_API pid_t vfork(void)
{
    return fork();
}
