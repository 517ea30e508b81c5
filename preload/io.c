/*
 * io.c - reading and writing on the sockets Sluice took: read, readv,
 * pread (ESPIPE), recv, recvfrom, recvmsg, recvmmsg, write, writev, send,
 * sendto, sendmsg, sendmmsg, sendfile, and the _chk variants of
 * _FORTIFY_SOURCE.
 *
 * Linux semantics: a stream read returns what is buffered (a partial read
 * keeps the rest), 0 at end of stream, EAGAIN when non-blocking and empty;
 * a datagram read returns one datagram, truncated to the buffer (MSG_TRUNC
 * says so); a write copies what SO_SNDBUF has room for (all of it when
 * blocking), EAGAIN when full; EPIPE (and SIGPIPE unless MSG_NOSIGNAL) once
 * the connection cannot send; a pending error (ECONNRESET, ECONNREFUSED) is
 * reported once by the next call. A signal handler that runs while a call
 * waits ends it as signal(7) says: EINTR, or a restart (keep waiting) after
 * an SA_RESTART handler unless SO_RCVTIMEO (reads) or SO_SNDTIMEO (writes)
 * is set; a call that moved bytes before returns their count (ps_block).
 * Errors: -1 and errno.
 */
/* Our definitions of pread, sendfile and fcntl must keep their own names
 * (glibc redirects them to the *64 names under _FILE_OFFSET_BITS=64, which
 * Meson sets); on 64-bit targets off_t is 64 bits either way. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* A push carries at most this much (larger arrays are rte_malloc'd). */
#define PUSH_CHUNK (64u * 1024u)
/* 65535 - 20 - 8 */
#define UDP_MAX 65507u
#define VIEW_MAX 64
#define PASS (-100000) /* not ours after all: the caller hands the call to the kernel */

extern void __chk_fail(void) __attribute__((noreturn));

/* Linux's MAX_RW_COUNT: a longer single-buffer read or write is cut to it
 * (not refused, as a readv with a negative length is). */
#define RW_MAX ((size_t)(INT_MAX & ~4095))
static inline size_t rw_clamp(size_t len)
{
    return len > RW_MAX ? RW_MAX : len;
}

static bool recv_ready(struct psock *s)
{
    return s->rq_n > 0 || s->so_error || s->rd_eof || s->rd_shut || s->dead ||
           (s->type == SOCK_STREAM && s->conn != CS_CONNECTED && s->conn != CS_CONNECTING);
}

static bool send_ready(struct psock *s)
{
    return s->unacked < s->sndbuf || s->so_error || s->reset || s->wr_shut || s->dead ||
           (s->type == SOCK_STREAM && s->conn != CS_CONNECTED && s->conn != CS_CONNECTING);
}

static bool iov_total(const struct iovec *iov, size_t n, size_t *total)
{
    size_t t = 0;

    for (size_t i = 0; i < n; i++) {
        if ((ssize_t)iov[i].iov_len < 0)
            return false;
        t += iov[i].iov_len;
        if (t > SSIZE_MAX)
            return false;
    }
    *total = t;
    return true;
}

/* Copies up to want bytes of s's stream buffer into iov; consumes them
 * unless peek. Returns the count, or -EFAULT for a NULL buffer. */
static ssize_t copy_stream(struct psock *s, const struct iovec *iov, size_t iovcnt, size_t want, bool peek)
{
    size_t done = 0, vi = 0, voff = 0;
    int ri = 0;
    uint32_t roff = s->rq_n > 0 ? s->rq[s->rq_head].off : 0;

    while (done < want && ri < s->rq_n) {
        struct rseg *r = &s->rq[(s->rq_head + ri) % s->rq_cap];
        uint32_t avail = r->sga.sga_segs[0].sgaseg_len - roff;
        while (vi < iovcnt && iov[vi].iov_len == voff) {
            vi++;
            voff = 0;
        }
        if (vi == iovcnt)
            break;
        size_t n = iov[vi].iov_len - voff;
        if (n > avail)
            n = avail;
        if (n > want - done)
            n = want - done;
        if (iov[vi].iov_base == NULL)
            return done > 0 ? (ssize_t)done : -EFAULT;
        memcpy((char *)iov[vi].iov_base + voff, (char *)r->sga.sga_segs[0].sgaseg_buf + roff, n);
        done += n;
        voff += n;
        roff += (uint32_t)n;
        if (roff == r->sga.sga_segs[0].sgaseg_len) {
            ri++;
            roff = 0;
        }
    }
    if (!peek) {
        s->rbytes -= done;
        for (int i = 0; i < ri; i++) {
            ps_free_sga(&s->rq[s->rq_head].sga);
            s->rq_head = (s->rq_head + 1) % s->rq_cap;
            s->rq_n--;
        }
        if (s->rq_n > 0)
            s->rq[s->rq_head].off = roff;
    }
    return (ssize_t)done;
}

/* The receive side of every read call on a taken socket (lock held).
 * Returns bytes, or -errno, or PASS. *mflags gets MSG_TRUNC. */
static ssize_t do_recv(struct psock *s, int fd, const struct iovec *iov, size_t iovcnt, int flags,
                       struct sockaddr *from, socklen_t *fromlen, int *mflags)
{
    size_t total, copied = 0, ncur = iovcnt;
    bool peek = flags & MSG_PEEK, nb = s->nonblock || (flags & MSG_DONTWAIT);
    const struct iovec *cur = iov;
    static __thread struct iovec view[VIEW_MAX];
    int rc;

    if (!iov_total(iov, iovcnt, &total))
        return -EINVAL;
    rc = ps_materialise(s, fd);
    if (rc != 0)
        return rc > 0 ? PASS : rc;
    if (s->dead)
        return -EIO;
    if (flags & MSG_ERRQUEUE)
        return -EAGAIN; /* nothing is ever queued there */
    if (s->type == SOCK_STREAM) {
        if (flags & MSG_OOB)
            return -EINVAL; /* no urgent data, ever */
        if (s->conn == CS_LISTEN || s->conn == CS_NONE)
            return -ENOTCONN;
    }
    for (;;) {
        progress();
        if (s->type == SOCK_DGRAM) {
            if (s->so_error) {
                rc = s->so_error;
                s->so_error = 0;
                return -rc;
            }
            if (s->rq_n > 0) {
                struct rseg *r = &s->rq[s->rq_head];
                uint32_t dlen = r->sga.sga_segs[0].sgaseg_len;
                size_t want = total < dlen ? total : dlen;
                ssize_t n = copy_stream(s, iov, iovcnt, want, true);
                if (n < 0)
                    return n;
                int addr_err = 0;
                if (from != NULL) {
                    /* after the data, as Linux's move_addr_to_user */
                    struct sockaddr_in sin = r->sga.sga_addr;
                    if (fromlen == NULL) {
                        addr_err = -EFAULT;
                    } else if ((int)*fromlen < 0) {
                        addr_err = -EINVAL;
                    } else {
                        socklen_t l = *fromlen < sizeof(sin) ? *fromlen : (socklen_t)sizeof(sin);
                        memcpy(from, &sin, l);
                        *fromlen = sizeof(sin);
                    }
                }
                if (dlen > total && mflags != NULL)
                    *mflags |= MSG_TRUNC;
                if (!peek) {
                    ps_free_sga(&r->sga);
                    s->rbytes -= dlen;
                    s->rq_head = (s->rq_head + 1) % s->rq_cap;
                    s->rq_n--;
                    ps_refill(s);
                }
                if (addr_err)
                    return addr_err;
                return (flags & MSG_TRUNC) ? (ssize_t)dlen : n;
            }
        } else {
            if (total == 0)
                return 0;
            if (s->rbytes > 0) {
                ssize_t n = copy_stream(s, cur, ncur, total - copied, peek);
                if (n < 0)
                    return copied > 0 ? (ssize_t)copied : n;
                if (peek)
                    return n;
                copied += (size_t)n;
                ps_refill(s);
                if (!(flags & MSG_WAITALL) || copied == total || nb)
                    return (ssize_t)copied;
                /* MSG_WAITALL: the rest goes after what was copied */
                size_t skip = copied, vi = 0;
                ncur = 0;
                while (vi < iovcnt && skip >= iov[vi].iov_len)
                    skip -= iov[vi++].iov_len;
                for (; vi < iovcnt && ncur < VIEW_MAX; vi++, ncur++) {
                    view[ncur].iov_base = (char *)iov[vi].iov_base + skip;
                    view[ncur].iov_len = iov[vi].iov_len - skip;
                    skip = 0;
                }
                cur = view;
            }
            if (s->so_error) {
                if (copied > 0)
                    return (ssize_t)copied;
                rc = s->so_error;
                s->so_error = 0;
                return -rc;
            }
            if (s->rd_eof || s->rd_shut || s->conn == CS_FAILED)
                return (ssize_t)copied;
        }
        if (nb)
            return copied > 0 ? (ssize_t)copied : -EAGAIN;
        /* bytes already copied: any handler ends the wait with their count
         * (Linux's tcp_recvmsg), SA_RESTART or not */
        rc = ps_block(s, recv_ready, &s->rcvtimeo, copied == 0 && restarts_with(&s->rcvtimeo));
        if (rc)
            return copied > 0 ? (ssize_t)copied : rc;
    }
}

struct gather {
    const struct iovec *iov;
    size_t n, vi, off;
};

static int gather_fill(void *dst, size_t len, void *ctx)
{
    struct gather *g = ctx;
    size_t done = 0;

    while (done < len && g->vi < g->n) {
        size_t k = g->iov[g->vi].iov_len - g->off;
        if (k > len - done)
            k = len - done;
        if (k > 0) {
            if (g->iov[g->vi].iov_base == NULL)
                return -EFAULT;
            memcpy((char *)dst + done, (const char *)g->iov[g->vi].iov_base + g->off, k);
        }
        done += k;
        g->off += k;
        if (g->off == g->iov[g->vi].iov_len) {
            g->vi++;
            g->off = 0;
        }
    }
    return (int)done;
}

/* Checks whether s can send now; 0, or -errno (-EPIPE: SIGPIPE due). */
static int send_state(struct psock *s)
{
    int rc;

    if (s->so_error) {
        rc = s->so_error;
        s->so_error = 0;
        return -rc;
    }
    if (s->type == SOCK_STREAM && (s->reset || s->wr_shut || s->conn == CS_NONE || s->conn == CS_LISTEN ||
                                   s->conn == CS_FAILED))
        return -EPIPE;
    if (s->type == SOCK_DGRAM && s->wr_shut)
        return -EPIPE;
    return 0;
}

/* The send side of every write call on a taken socket (lock held). */
static ssize_t do_send(struct psock *s, int fd, const struct iovec *iov, size_t iovcnt, int flags,
                       const struct sockaddr *to, socklen_t tolen)
{
    size_t total, sent = 0;
    bool nb = s->nonblock || (flags & MSG_DONTWAIT);
    struct gather g = {.iov = iov, .n = iovcnt};
    struct sockaddr_in dst;
    int rc;

    if (!iov_total(iov, iovcnt, &total))
        return -EINVAL;
    if (s->type == SOCK_DGRAM && to != NULL) {
        if (tolen < sizeof(struct sockaddr_in))
            return -EINVAL;
        if (to->sa_family != AF_INET)
            return -EAFNOSUPPORT;
        dst = *SA_IN(to);
        memset(dst.sin_zero, 0, sizeof(dst.sin_zero));
    }
    if (s->state == PS_CAND) {
        /* a datagram socket's first sendto decides, as its implicit bind */
        if (s->type != SOCK_DGRAM || to == NULL)
            return PASS;
        rc = ps_decide(s, fd, dst.sin_addr.s_addr, dst.sin_port);
        if (rc <= 0)
            return rc < 0 ? rc : PASS;
    }
    rc = ps_materialise(s, fd);
    if (rc != 0)
        return rc > 0 ? PASS : rc;
    if (s->dead)
        return -EIO;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    if (s->type == SOCK_DGRAM) {
        if (total > UDP_MAX)
            return -EMSGSIZE;
        if (to == NULL && !s->has_peer)
            return -EDESTADDRREQ;
    }
    for (;;) {
        progress();
        rc = send_state(s);
        if (rc)
            return sent > 0 ? (ssize_t)sent : rc;
        if (s->type == SOCK_STREAM && s->conn == CS_CONNECTING) {
            if (nb)
                return -EAGAIN;
        } else if (s->type == SOCK_DGRAM) {
            if (s->unacked < s->sndbuf || total == 0) {
                if (total == 0)
                    return 0; /* demi has no empty datagram: nothing is sent */
                ssize_t n = ps_push(s, NULL, total, to != NULL ? &dst : NULL, gather_fill, &g);
                /* one engine pass puts it on the wire now, as Linux's sendto
                 * does (a program may _exit right after) */
                progress();
                return n < 0 ? n : (ssize_t)total;
            }
            if (nb)
                return -EAGAIN;
        } else {
            if (total == 0)
                return 0;
            while (sent < total && s->unacked < s->sndbuf) {
                size_t room = s->sndbuf - s->unacked, n = total - sent;
                if (n > room)
                    n = room;
                if (n > PUSH_CHUNK)
                    n = PUSH_CHUNK;
                ssize_t k = ps_push(s, NULL, n, NULL, gather_fill, &g);
                if (k < 0)
                    return sent > 0 ? (ssize_t)sent : k;
                sent += (size_t)k;
            }
            if (sent == total || (nb && sent > 0)) {
                progress(); /* out now, not at the next call */
                return (ssize_t)sent;
            }
            if (nb)
                return -EAGAIN;
        }
        /* bytes already sent: any handler ends the wait with their count
         * (Linux's tcp_sendmsg), SA_RESTART or not */
        rc = ps_block(s, send_ready, &s->sndtimeo, sent == 0 && restarts_with(&s->sndtimeo));
        if (rc)
            return sent > 0 ? (ssize_t)sent : rc;
    }
}

/* Sets errno (raising SIGPIPE for EPIPE unless asked not to) and -1. */
static ssize_t finish(ssize_t rc, int flags)
{
    if (rc >= 0)
        return rc;
    if (rc == -EPIPE && !(flags & MSG_NOSIGNAL))
        raise(SIGPIPE);
    errno = (int)-rc;
    return -1;
}

/* ---- reads ---- */

static ssize_t recv_common(int fd, const struct iovec *iov, size_t n, int flags, struct sockaddr *from,
                           socklen_t *fromlen, int *mflags, bool *pass)
{
    struct psock *s;
    ssize_t rc;

    sig_call_start();
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state != PS_TAKEN) {
        unlock();
        *pass = true;
        return 0;
    }
    rc = do_recv(s, fd, iov, n, flags, from, fromlen, mflags);
    unlock();
    *pass = rc == PASS;
    return rc;
}

PRELOAD_API ssize_t read(int fd, void *buf, size_t len)
{
    struct iovec v = {buf, rw_clamp(len)};
    bool pass;
    ssize_t rc;

    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.read(fd, buf, len);
    rc = recv_common(fd, &v, 1, 0, NULL, NULL, NULL, &pass);
    return pass ? real.read(fd, buf, len) : finish(rc, 0);
}

PRELOAD_API ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
    if (len > buflen)
        __chk_fail();
    return read(fd, buf, len);
}

PRELOAD_API ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    bool pass;
    ssize_t rc;

    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.readv(fd, iov, cnt);
    if (cnt < 0 || cnt > IOV_MAX)
        return fail(EINVAL);
    if (cnt > 0 && iov == NULL)
        return fail(EFAULT);
    rc = recv_common(fd, iov, (size_t)cnt, 0, NULL, NULL, NULL, &pass);
    return pass ? real.readv(fd, iov, cnt) : finish(rc, 0);
}

PRELOAD_API ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.pread(fd, buf, len, off);
    return fail(ESPIPE);
}

PRELOAD_API ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.pread64(fd, buf, len, off);
    return fail(ESPIPE);
}

PRELOAD_API ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
    struct iovec v = {buf, rw_clamp(len)};
    bool pass;
    ssize_t rc;
    int mflags = 0;

    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.recvfrom(fd, buf, len, flags, from, fromlen);
    rc = recv_common(fd, &v, 1, flags, from, fromlen, &mflags, &pass);
    if (pass)
        return real.recvfrom(fd, buf, len, flags, from, fromlen);
    /* a stream socket has no source address: Linux leaves *fromlen 0 */
    if (rc >= 0 && fromlen != NULL && sock_peek(fd) != NULL && sock_peek(fd)->type == SOCK_STREAM)
        *fromlen = 0;
    return finish(rc, 0);
}

PRELOAD_API ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.recv(fd, buf, len, flags);
    return recvfrom(fd, buf, len, flags, NULL, NULL);
}

PRELOAD_API ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    if (len > buflen)
        __chk_fail();
    return recv(fd, buf, len, flags);
}

PRELOAD_API ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *from,
                                   socklen_t *fromlen)
{
    if (len > buflen)
        __chk_fail();
    return recvfrom(fd, buf, len, flags, from, fromlen);
}

PRELOAD_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    bool pass;
    ssize_t rc;
    int mflags = 0;
    socklen_t nl;

    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.recvmsg(fd, msg, flags);
    if (msg == NULL)
        return fail(EFAULT);
    if (msg->msg_iovlen > IOV_MAX)
        return fail(EMSGSIZE);
    if (msg->msg_iovlen > 0 && msg->msg_iov == NULL)
        return fail(EFAULT);
    nl = msg->msg_name != NULL ? msg->msg_namelen : 0;
    if ((int)nl < 0)
        return fail(EINVAL);
    rc = recv_common(fd, msg->msg_iov, msg->msg_iovlen, flags, msg->msg_name, msg->msg_name ? &nl : NULL,
                     &mflags, &pass);
    if (pass)
        return real.recvmsg(fd, msg, flags);
    if (rc >= 0) {
        struct psock *s = sock_peek(fd);
        msg->msg_namelen = s != NULL && s->type == SOCK_DGRAM && msg->msg_name != NULL ? nl : 0;
        msg->msg_controllen = 0;
        msg->msg_flags = mflags;
    }
    return finish(rc, 0);
}

PRELOAD_API int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags, struct timespec *timeout)
{
    unsigned i;

    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.recvmmsg(fd, vec, vlen, flags, timeout);
    if (vec == NULL)
        return fail(EFAULT);
    if (vlen > UIO_MAXIOV)
        vlen = UIO_MAXIOV;
    for (i = 0; i < vlen; i++) {
        int f = flags & ~MSG_WAITFORONE;
        if (i > 0 && (flags & MSG_WAITFORONE))
            f |= MSG_DONTWAIT;
        ssize_t n = recvmsg(fd, &vec[i].msg_hdr, i > 0 ? (f | MSG_DONTWAIT) : f);
        if (n < 0) {
            if (i == 0)
                return -1;
            break;
        }
        vec[i].msg_len = (unsigned)n;
    }
    (void)timeout; /* checked between datagrams by Linux; every one here is immediate after the first */
    return (int)i;
}

/* ---- writes ---- */

static ssize_t send_common(int fd, const struct iovec *iov, size_t n, int flags, const struct sockaddr *to,
                           socklen_t tolen, bool *pass)
{
    struct psock *s;
    ssize_t rc;

    sig_call_start();
    lock();
    s = g_socks[fd];
    if (s == NULL || s->state == PS_KERNEL) {
        unlock();
        *pass = true;
        return 0;
    }
    rc = do_send(s, fd, iov, n, flags, to, tolen);
    unlock();
    *pass = rc == PASS;
    return rc;
}

/* A write of ours: a taken socket, or a datagram candidate given an address. */
static bool send_is_ours(int fd, bool has_to)
{
    struct psock *s = sock_peek(fd);

    return s != NULL && (s->state == PS_TAKEN || (s->state == PS_CAND && has_to && s->type == SOCK_DGRAM));
}

PRELOAD_API ssize_t write(int fd, const void *buf, size_t len)
{
    struct iovec v = {(void *)buf, rw_clamp(len)};
    bool pass;
    ssize_t rc;

    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.write(fd, buf, len);
    rc = send_common(fd, &v, 1, 0, NULL, 0, &pass);
    return pass ? real.write(fd, buf, len) : finish(rc, 0);
}

PRELOAD_API ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    bool pass;
    ssize_t rc;

    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.writev(fd, iov, cnt);
    if (cnt < 0 || cnt > IOV_MAX)
        return fail(EINVAL);
    if (cnt > 0 && iov == NULL)
        return fail(EFAULT);
    rc = send_common(fd, iov, (size_t)cnt, 0, NULL, 0, &pass);
    return pass ? real.writev(fd, iov, cnt) : finish(rc, 0);
}

PRELOAD_API ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
    struct iovec v = {(void *)buf, rw_clamp(len)};
    bool pass;
    ssize_t rc;

    ENTER();
    if (t_inside || !send_is_ours(fd, to != NULL))
        return real.sendto(fd, buf, len, flags, to, tolen);
    if (to != NULL && ((int)tolen < 0 || tolen > sizeof(struct sockaddr_storage)))
        return fail(EINVAL);
    rc = send_common(fd, &v, 1, flags, to, tolen, &pass);
    return pass ? real.sendto(fd, buf, len, flags, to, tolen) : finish(rc, flags);
}

PRELOAD_API ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    ENTER();
    if (t_inside || !fd_is_taken(fd))
        return real.send(fd, buf, len, flags);
    return sendto(fd, buf, len, flags, NULL, 0);
}

PRELOAD_API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    bool pass;
    ssize_t rc;

    ENTER();
    if (t_inside || msg == NULL || !send_is_ours(fd, msg->msg_name != NULL))
        return real.sendmsg(fd, msg, flags);
    if (msg->msg_iovlen > IOV_MAX)
        return fail(EMSGSIZE);
    if (msg->msg_iovlen > 0 && msg->msg_iov == NULL)
        return fail(EFAULT);
    if (msg->msg_name != NULL && ((int)msg->msg_namelen < 0 || msg->msg_namelen > sizeof(struct sockaddr_storage)))
        return fail(EINVAL);
    rc = send_common(fd, msg->msg_iov, msg->msg_iovlen, flags, msg->msg_name, msg->msg_namelen, &pass);
    return pass ? real.sendmsg(fd, msg, flags) : finish(rc, flags);
}

PRELOAD_API int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
    unsigned i;

    ENTER();
    if (t_inside || vec == NULL || vlen == 0 || !send_is_ours(fd, vec[0].msg_hdr.msg_name != NULL))
        return real.sendmmsg(fd, vec, vlen, flags);
    if (vlen > UIO_MAXIOV)
        vlen = UIO_MAXIOV;
    for (i = 0; i < vlen; i++) {
        ssize_t n = sendmsg(fd, &vec[i].msg_hdr, i > 0 ? flags | MSG_DONTWAIT : flags);
        if (n < 0) {
            if (i == 0)
                return -1;
            break;
        }
        vec[i].msg_len = (unsigned)n;
    }
    return (int)i;
}

/* ---- sendfile ---- */

struct file_src {
    int fd;
    off_t *off;
    int err;
};

static int file_fill(void *dst, size_t len, void *ctx)
{
    struct file_src *f = ctx;
    ssize_t n;

    if (f->off != NULL) {
        n = real.pread(f->fd, dst, len, *f->off);
        if (n > 0)
            *f->off += n;
    } else {
        n = real.read(f->fd, dst, len);
    }
    if (n < 0) {
        f->err = errno;
        return -errno;
    }
    return (int)n;
}

static ssize_t do_sendfile(int out, int in, off_t *off, size_t count, bool *pass)
{
    struct psock *s;
    struct file_src src = {.fd = in, .off = off};
    size_t sent = 0;
    int rc;

    sig_call_start();
    lock();
    s = g_socks[out];
    if (s == NULL || s->state != PS_TAKEN) {
        unlock();
        *pass = true;
        return 0;
    }
    *pass = false;
    rc = ps_materialise(s, out);
    if (rc != 0) {
        unlock();
        *pass = rc > 0;
        return rc > 0 ? 0 : rc;
    }
    if (s->type != SOCK_STREAM) {
        unlock();
        *pass = true; /* a datagram per chunk is what Linux does; rare enough for the kernel path */
        return 0;
    }
    while (sent < count) {
        progress();
        rc = send_state(s);
        if (rc) {
            unlock();
            return sent > 0 ? (ssize_t)sent : rc;
        }
        if (s->conn == CS_CONNECTED && s->unacked < s->sndbuf) {
            size_t n = count - sent, room = s->sndbuf - s->unacked;
            if (n > room)
                n = room;
            if (n > PUSH_CHUNK)
                n = PUSH_CHUNK;
            ssize_t k = ps_push(s, NULL, n, NULL, file_fill, &src);
            if (k < 0) {
                unlock();
                return sent > 0 ? (ssize_t)sent : k;
            }
            if (k == 0)
                break; /* end of file */
            sent += (size_t)k;
            continue;
        }
        if (s->nonblock) {
            if (sent > 0)
                break;
            unlock();
            return -EAGAIN;
        }
        rc = ps_block(s, send_ready, &s->sndtimeo, sent == 0 && restarts_with(&s->sndtimeo));
        if (rc) {
            unlock();
            return sent > 0 ? (ssize_t)sent : rc;
        }
    }
    progress();
    unlock();
    return (ssize_t)sent;
}

PRELOAD_API ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
    bool pass;
    ssize_t rc;

    ENTER();
    if (t_inside || !fd_is_taken(out))
        return real.sendfile(out, in, off, count);
    if (count == 0)
        return 0;
    rc = do_sendfile(out, in, off, count, &pass);
    return pass ? real.sendfile(out, in, off, count) : finish(rc, 0);
}

PRELOAD_API ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
    bool pass;
    ssize_t rc;

    ENTER();
    if (t_inside || !fd_is_taken(out))
        return real.sendfile64(out, in, off, count);
    if (count == 0)
        return 0;
    rc = do_sendfile(out, in, off, count, &pass);
    return pass ? real.sendfile64(out, in, off, count) : finish(rc, 0);
}
