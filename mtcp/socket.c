/*
 * socket.c - mTCP's socket calls over demi sockets and pipes
 * (docs/mtcp.md). Checks run in mTCP's order: the context (EINVAL, or
 * EACCES where mTCP's page says so), the id (EBADF), its kind (ENOTSOCK),
 * then the arguments and the state. Nothing waits: sockets are
 * non-blocking, as mTCP's page says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

#define MT_PUSH_MAX (64 * 1024)


static bool is_stream(const struct mt_sock *s)
{
    return s->kind == MT_STREAM || s->kind == MT_LISTENER;
}

/* The id as a socket of the stack (stream or listener): ENOTSOCK else. */
static int stream_get(mctx_t mctx, int id, struct mt_sock **s)
{
    int rc = mt_sock_get(mctx, id, s);

    if (rc != 0)
        return rc;
    return is_stream(*s) ? 0 : -ENOTSOCK;
}

/* ---- socket, bind, listen, accept, connect ---- */

static int do_socket(mctx_t mctx, int domain, int type)
{
    struct mt_ctx *c = mt_ctx_get(mctx);
    struct mt_sock *s;
    int qd, rc;

    if (c == NULL)
        return -EACCES; /* mtcp_socket(3) */
    if (domain != AF_INET)
        return -EAFNOSUPPORT;
    if (type == 3 || type == 7) /* mOS's MOS_SOCK_MONITOR_STREAM, MOS_SOCK_MONITOR_RAW */
        return mt_mon_socket(c, type);
    if (type != SOCK_STREAM && type != 4 /* mOS's MOS_SOCK_STREAM */)
        return -EINVAL;
    rc = mt_sock_alloc(c, MT_STREAM, &s);
    if (rc != 0)
        return rc;
    rc = demi_socket(&qd, AF_INET, SOCK_STREAM, 0);
    if (rc == 0)
        rc = -mt_map_qd(s, qd);
    else
        rc = -rc;
    if (rc != 0) {
        if (s->qd >= 0)
            demi_close(s->qd);
        mt_sock_free(s);
        return rc;
    }
    return s->id;
}

MT_API int mtcp_socket(mctx_t mctx, int domain, int type, int protocol)
{
    int rc;

    (void)protocol; /* mTCP ignores it too */
    mt_lock();
    rc = do_socket(mctx, domain, type);
    mt_unlock();
    return mt_ret(rc);
}

static int check_sin(const struct sockaddr *addr, socklen_t len)
{
    if (addr == NULL || len < sizeof(struct sockaddr_in))
        return -EINVAL;
    return addr->sa_family == AF_INET ? 0 : -EINVAL;
}

static uint16_t local_port(int qd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    return demi_getsockname(qd, (struct sockaddr *)&a, &len) == 0 ? a.sin_port : 0;
}

static int group_add(struct mt_sock *g, struct mt_sock *s)
{
    struct mt_sock **m = realloc(g->members, (size_t)(g->nmembers + 1) * sizeof(*m));

    if (m == NULL)
        return -ENOMEM;
    g->members = m;
    g->members[g->nmembers++] = s;
    s->grp = g;
    s->bound = true;
    return 0;
}

/* s was bound: it starts the group of its port (see internal.h). */
static int group_create(struct mt_sock *s)
{
    struct mt_sock *g = calloc(1, sizeof(*g));
    int rc;

    if (g == NULL)
        return -ENOMEM;
    g->kind = MT_STREAM;
    g->id = -1;
    g->ep_id = -1;
    g->qd = s->qd;
    g->port = local_port(s->qd);
    rc = group_add(g, s);
    if (rc != 0)
        free(g);
    return rc;
}

static int bind_sock(struct mt_sock *s, const struct sockaddr_in *a)
{
    struct mt_sock *g = a->sin_port != 0 ? mt_group_find(a->sin_port) : NULL;
    int rc;

    if (g != NULL) /* mTCP's cores each have the port; mtcp_listen refuses a
                    * second listener in one context, as one mTCP stack does */
        return group_add(g, s);
    rc = demi_bind(s->qd, (const struct sockaddr *)a, sizeof(*a));
    if (rc != 0)
        return -rc;
    return group_create(s);
}

static int do_bind(mctx_t mctx, int id, const struct sockaddr *addr, socklen_t len)
{
    struct mt_sock *s;
    int rc = stream_get(mctx, id, &s);

    if (rc != 0)
        return rc;
    if ((rc = check_sin(addr, len)) != 0)
        return rc;
    if (s->kind == MT_LISTENER || s->bound || s->state != ST_NEW)
        return -EINVAL;
    return bind_sock(s, (const struct sockaddr_in *)addr);
}

MT_API int mtcp_bind(mctx_t mctx, int sockid, const struct sockaddr *addr, socklen_t addrlen)
{
    int rc;

    mt_lock();
    rc = do_bind(mctx, sockid, addr, addrlen);
    mt_unlock();
    return mt_ret(rc);
}

/* A listener of s's context has s's port (mTCP's ListenerHTSearch). */
static bool port_listened(const struct mt_sock *s)
{
    const struct mt_sock *g = s->grp;

    for (int i = 0; g != NULL && i < g->nmembers; i++)
        if (g->members[i] != s && g->members[i]->ctx == s->ctx && g->members[i]->kind == MT_LISTENER)
            return true;
    return false;
}

static int do_listen(mctx_t mctx, int id, int backlog)
{
    struct mt_sock *s;
    int rc = stream_get(mctx, id, &s);

    if (rc != 0)
        return rc;
    if (s->kind == MT_LISTENER || s->state != ST_NEW)
        return -ENOTSOCK; /* mTCP: only a fresh stream socket becomes a listener */
    if (backlog <= 0 || backlog > g_mt_conf.max_concurrency)
        return -EINVAL;
    if (!s->bound) { /* as listen(2): an ephemeral port first */
        struct sockaddr_in any = {.sin_family = AF_INET};
        if ((rc = bind_sock(s, &any)) != 0)
            return rc;
    }
    if (port_listened(s))
        return -EADDRINUSE;
    struct mt_sock *g = s->grp;
    if (g->kind != MT_LISTENER) { /* the group's first listener */
        rc = demi_listen(g->qd, backlog);
        if (rc != 0)
            return -rc;
        g->kind = MT_LISTENER;
        if ((rc = mt_map_qd(g, g->qd)) != 0 || (rc = mt_listen_start(g, backlog)) != 0)
            return rc;
    }
    s->kind = MT_LISTENER;
    return 0;
}

MT_API int mtcp_listen(mctx_t mctx, int sockid, int backlog)
{
    int rc;

    mt_lock();
    rc = do_listen(mctx, sockid, backlog);
    mt_unlock();
    return mt_ret(rc);
}

static void copy_addr(const struct sockaddr_in *a, struct sockaddr *addr, socklen_t *addrlen)
{
    if (addr == NULL)
        return;
    memcpy(addr, a, *addrlen < sizeof(*a) ? *addrlen : sizeof(*a));
    *addrlen = sizeof(*a);
}

static int take_conn(struct mt_sock *l, struct mt_ctx *c, struct sockaddr *addr, socklen_t *addrlen)
{
    struct mt_conn *conn = &l->acq[l->acq_head];
    struct mt_sock *s;
    int rc = mt_sock_alloc(c, MT_STREAM, &s);

    if (rc != 0)
        return rc; /* ENFILE: the connection waits for the next call */
    rc = mt_map_qd(s, conn->qd);
    if (rc != 0) {
        mt_sock_free(s);
        return rc;
    }
    copy_addr(&conn->addr, addr, addrlen);
    l->acq_head = (l->acq_head + 1) % l->acq_cap;
    l->acq_n--;
    s->state = ST_CONNECTED;
    s->bound = true;
    mt_start_pop(s);
    mt_listen_rearm(l);
    return s->id;
}

static int do_accept(mctx_t mctx, int id, struct sockaddr *addr, socklen_t *addrlen)
{
    struct mt_sock *s;
    int rc = mt_sock_get(mctx, id, &s);

    if (rc != 0)
        return rc;
    if (s->kind != MT_LISTENER)
        return -EINVAL;
    if (addr != NULL && addrlen == NULL)
        return -EINVAL;
    struct mt_sock *g = s->grp;
    if (g->acq_n == 0)
        mt_progress();
    if (g->acq_n == 0)
        return -EAGAIN;
    return take_conn(g, s->ctx, addr, addrlen);
}

MT_API int mtcp_accept(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen)
{
    int rc;

    mt_lock();
    rc = do_accept(mctx, sockid, addr, addrlen);
    mt_unlock();
    return mt_ret(rc);
}

static int do_connect(mctx_t mctx, int id, const struct sockaddr *addr, socklen_t len)
{
    struct mt_sock *s;
    int rc = mt_sock_get(mctx, id, &s);

    if (rc != 0)
        return rc;
    if (s->kind != MT_STREAM)
        return -ENOTSOCK;
    if (addr == NULL)
        return -EFAULT;
    if (len < sizeof(struct sockaddr_in))
        return -EINVAL;
    if (addr->sa_family != AF_INET)
        return -EAFNOSUPPORT;
    if (s->state == ST_CONNECTED)
        return -EISCONN;
    if (s->state == ST_CONNECTING)
        return -EALREADY;
    if (s->state == ST_CLOSED)
        return -EBADF; /* a failed attempt: mTCP wants a new socket */
    rc = demi_connect(&s->conn_qt, s->qd, addr, sizeof(struct sockaddr_in));
    if (rc != 0)
        return -rc;
    s->conn_pending = true;
    s->state = ST_CONNECTING;
    s->bound = true;
    return -EINPROGRESS;
}

MT_API int mtcp_connect(mctx_t mctx, int sockid, const struct sockaddr *addr, socklen_t addrlen)
{
    int rc;

    mt_lock();
    rc = do_connect(mctx, sockid, addr, addrlen);
    mt_unlock();
    return mt_ret(rc);
}

MT_API int mtcp_init_rss(mctx_t mctx, in_addr_t saddr_base, int num_addr, in_addr_t daddr, in_addr_t dport)
{
    int rc = 0;

    (void)saddr_base, (void)daddr, (void)dport;
    mt_lock();
    if (mt_ctx_get(mctx) == NULL)
        rc = -EACCES; /* as mTCP's code */
    else if (num_addr < 1)
        rc = -EINVAL;
    mt_unlock();
    return mt_ret(rc);
}

/* ---- close ---- */

static int do_close(mctx_t mctx, int id, bool abort)
{
    struct mt_sock *s;
    int rc = mt_sock_get(mctx, id, &s);

    if (rc != 0)
        return rc;
    if (abort) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};

        if (s->kind != MT_STREAM)
            return -ENOTSOCK;
        demi_setsockopt(s->qd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    return mt_sock_close(s);
}

MT_API int mtcp_close(mctx_t mctx, int sockid)
{
    int rc;

    mt_lock();
    rc = do_close(mctx, sockid, false);
    mt_unlock();
    return mt_ret(rc);
}

MT_API int mtcp_abort(mctx_t mctx, int sockid)
{
    int rc;

    mt_lock();
    rc = do_close(mctx, sockid, true);
    mt_unlock();
    return mt_ret(rc);
}

/* ---- reading ---- */

/* The id as something one reads from; -errno else. */
static int readable_get(mctx_t mctx, int id, const void *buf, struct mt_sock **s)
{
    int rc = mt_sock_get(mctx, id, s);

    if (rc != 0)
        return rc;
    if ((*s)->kind == MT_PIPE)
        return (*s)->pipe_writer ? -EBADF : (buf == NULL ? -EFAULT : 0);
    if ((*s)->kind != MT_STREAM)
        return -ENOTSOCK;
    if (buf == NULL)
        return -EFAULT;
    if ((*s)->state == ST_NEW || (*s)->state == ST_CONNECTING)
        return -ENOTCONN;
    return 0;
}

/* Copies up to len buffered bytes; consumes them unless peek. */
static size_t copy_out(struct mt_sock *s, char *buf, size_t len, bool peek)
{
    struct mt_rx *rx = s->rx_head;
    size_t done = 0;

    while (rx != NULL && done < len) {
        uint32_t have = rx->sga.sga_segs[0].sgaseg_len - rx->off;
        size_t n = len - done < have ? len - done : have;

        memcpy(buf + done, (char *)rx->sga.sga_segs[0].sgaseg_buf + rx->off, n);
        done += n;
        if (peek) {
            rx = rx->next;
            continue;
        }
        rx->off += (uint32_t)n;
        s->rx_bytes -= n;
        if (rx->off < rx->sga.sga_segs[0].sgaseg_len)
            break;
        s->rx_head = rx->next;
        if (s->rx_head == NULL)
            s->rx_tail = NULL;
        demi_sgafree(&rx->sga);
        free(rx);
        rx = s->rx_head;
    }
    return done;
}

static ssize_t read_some(struct mt_sock *s, char *buf, size_t len, bool peek)
{
    size_t n;

    if (s->rx_bytes == 0 && !s->eof)
        mt_progress(); /* a program that polls without epoll still moves */
    if (s->rx_bytes == 0) {
        if (s->err != 0) {
            int e = s->err;
            s->err = 0;
            return -e;
        }
        return s->eof ? 0 : -EAGAIN;
    }
    if (len == 0)
        return 0;
    n = copy_out(s, buf, len, peek);
    mt_start_pop(s);
    return (ssize_t)n;
}

static ssize_t do_recv(mctx_t mctx, int id, char *buf, size_t len, int flags)
{
    struct mt_sock *s;
    int rc = readable_get(mctx, id, buf, &s);

    if (rc != 0)
        return rc;
    if (flags != 0 && flags != MSG_PEEK)
        return -EINVAL;
    return read_some(s, buf, len, flags == MSG_PEEK);
}

MT_API ssize_t mtcp_recv(mctx_t mctx, int sockid, char *buf, size_t len, int flags)
{
    ssize_t rc;

    mt_lock();
    rc = do_recv(mctx, sockid, buf, len, flags);
    mt_unlock();
    return rc < 0 ? mt_ret((int)rc) : rc;
}

MT_API ssize_t mtcp_read(mctx_t mctx, int sockid, char *buf, size_t len)
{
    return mtcp_recv(mctx, sockid, buf, len, 0);
}

static ssize_t do_readv(mctx_t mctx, int id, const struct iovec *iov, int n)
{
    struct mt_sock *s;
    ssize_t total = 0, r;
    int rc;

    if (iov == NULL || n < 1)
        return mt_sock_get(mctx, id, &s) != 0 ? mt_sock_get(mctx, id, &s) : -EINVAL;
    rc = readable_get(mctx, id, iov, &s);
    if (rc != 0)
        return rc;
    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len == 0)
            continue;
        if (iov[i].iov_base == NULL)
            return total > 0 ? total : -EFAULT;
        r = read_some(s, iov[i].iov_base, iov[i].iov_len, false);
        if (r <= 0)
            return total > 0 ? total : r;
        total += r;
        if ((size_t)r < iov[i].iov_len)
            break;
    }
    return total;
}

MT_API ssize_t mtcp_readv(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV)
{
    ssize_t rc;

    mt_lock();
    rc = do_readv(mctx, sockid, iov, numIOV);
    mt_unlock();
    return rc < 0 ? mt_ret((int)rc) : rc;
}

/* ---- writing ---- */

static int writable_get(mctx_t mctx, int id, const void *buf, struct mt_sock **s)
{
    int rc = mt_sock_get(mctx, id, s);

    if (rc != 0)
        return rc;
    if ((*s)->kind == MT_PIPE)
        return !(*s)->pipe_writer ? -EBADF : (buf == NULL ? -EFAULT : 0);
    if ((*s)->kind != MT_STREAM)
        return -ENOTSOCK;
    if (buf == NULL)
        return -EFAULT;
    if ((*s)->state == ST_NEW || (*s)->state == ST_CONNECTING)
        return -ENOTCONN;
    return 0;
}

static int push_chunk(struct mt_sock *s, const char *buf, size_t n)
{
    demi_sgarray_t sga;
    demi_qtoken_t qt;
    int rc;

    if (s->npush == s->cap_push) {
        int cap = s->cap_push ? s->cap_push * 2 : 16;
        struct mt_push *p = realloc(s->push, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        s->push = p;
        s->cap_push = cap;
    }
    sga = demi_sgaalloc(n);
    if (sga.sga_numsegs == 0)
        return -ENOMEM;
    memcpy(sga.sga_segs[0].sgaseg_buf, buf, n);
    rc = demi_push(&qt, s->qd, &sga);
    demi_sgafree(&sga); /* the push holds its own reference (free protection) */
    if (rc != 0)
        return -rc;
    s->push[s->npush].qt = qt;
    s->push[s->npush].bytes = n;
    s->npush++;
    s->tx_bytes += n;
    return 0;
}

/* The error a write reports on a connection that cannot send. */
static ssize_t dead_error(struct mt_sock *s)
{
    int e = s->err;

    if (e == 0)
        return -EPIPE;
    s->err = 0;
    return -e;
}

static ssize_t write_some(struct mt_sock *s, const char *buf, size_t len)
{
    size_t sndbuf = (size_t)s->ctx->sndbuf, done = 0;

    if (s->dead)
        return dead_error(s);
    if (len == 0)
        return 0;
    if (s->tx_bytes >= sndbuf)
        mt_progress();
    while (done < len && s->tx_bytes < sndbuf) {
        size_t n = len - done;
        if (n > sndbuf - s->tx_bytes)
            n = sndbuf - s->tx_bytes;
        if (n > MT_PUSH_MAX)
            n = MT_PUSH_MAX;
        int rc = push_chunk(s, buf + done, n);
        if (rc != 0)
            return done > 0 ? (ssize_t)done : (rc == -ENOMEM ? -EAGAIN : rc);
        done += n;
    }
    if (done == 0) {
        s->want_out = true;
        return -EAGAIN;
    }
    return (ssize_t)done;
}

MT_API ssize_t mtcp_write(mctx_t mctx, int sockid, const char *buf, size_t len)
{
    struct mt_sock *s;
    ssize_t rc;

    mt_lock();
    rc = writable_get(mctx, sockid, buf, &s);
    if (rc == 0)
        rc = write_some(s, buf, len);
    mt_unlock();
    return rc < 0 ? mt_ret((int)rc) : rc;
}

static ssize_t do_writev(mctx_t mctx, int id, const struct iovec *iov, int n)
{
    struct mt_sock *s;
    ssize_t total = 0, r;
    int rc;

    if (iov == NULL || n < 1)
        return mt_sock_get(mctx, id, &s) != 0 ? mt_sock_get(mctx, id, &s) : -EINVAL;
    rc = writable_get(mctx, id, iov, &s);
    if (rc != 0)
        return rc;
    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len == 0)
            continue;
        if (iov[i].iov_base == NULL)
            return total > 0 ? total : -EFAULT;
        r = write_some(s, iov[i].iov_base, iov[i].iov_len);
        if (r < 0)
            return total > 0 ? total : r;
        total += r;
        if ((size_t)r < iov[i].iov_len)
            break;
    }
    return total;
}

MT_API ssize_t mtcp_writev(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV)
{
    ssize_t rc;

    mt_lock();
    rc = do_writev(mctx, sockid, iov, numIOV);
    mt_unlock();
    return rc < 0 ? mt_ret((int)rc) : rc;
}

/* ---- options, ioctl, names ---- */

static int do_getsockopt(mctx_t mctx, int id, int level, int opt, void *val, socklen_t *len)
{
    struct mt_sock *s;
    int rc = mt_sock_get(mctx, id, &s);

    if (rc == 0 && mt_is_monitor(s))
        return val == NULL || len == NULL ? -EINVAL : mt_mon_getsockopt(s, level, opt, val, len);
    if (rc == 0 && !is_stream(s))
        rc = -ENOTSOCK;
    if (rc != 0)
        return rc;
    if (val == NULL || len == NULL)
        return -EINVAL;
    if (level == SOL_SOCKET && opt == SO_ERROR) {
        if (*len < sizeof(int))
            return -EINVAL;
        *(int *)val = s->err;
        *len = sizeof(int);
        s->err = 0;
        return 0;
    }
    return -demi_getsockopt(s->qd, level, opt, val, len);
}

MT_API int mtcp_getsockopt(mctx_t mctx, int sockid, int level, int optname, void *optval, socklen_t *optlen)
{
    int rc;

    mt_lock();
    rc = do_getsockopt(mctx, sockid, level, optname, optval, optlen);
    mt_unlock();
    return mt_ret(rc);
}

static int do_setsockopt(mctx_t mctx, int id, int level, int opt, const void *val, socklen_t len)
{
    struct mt_sock *s;
    int rc = mt_sock_get(mctx, id, &s);

    if (rc == 0 && mt_is_monitor(s))
        return val == NULL ? -EINVAL : mt_mon_setsockopt(s, level, opt, val, len);
    if (rc == 0 && !is_stream(s))
        rc = -ENOTSOCK;
    if (rc != 0)
        return rc;
    if (val == NULL)
        return -EINVAL;
    return -demi_setsockopt(s->qd, level, opt, val, len);
}

MT_API int mtcp_setsockopt(mctx_t mctx, int sockid, int level, int optname, const void *optval, socklen_t optlen)
{
    int rc;

    mt_lock();
    rc = do_setsockopt(mctx, sockid, level, optname, optval, optlen);
    mt_unlock();
    return mt_ret(rc);
}

MT_API int mtcp_setsock_nonblock(mctx_t mctx, int sockid)
{
    struct mt_sock *s;
    int rc;

    mt_lock();
    rc = mt_sock_get(mctx, sockid, &s);
    mt_unlock();
    return mt_ret(rc);
}

static int do_ioctl(mctx_t mctx, int id, int request, void *argp)
{
    struct mt_sock *s;
    int rc = mt_sock_get(mctx, id, &s);

    if (rc != 0)
        return rc;
    if (s->kind == MT_EPOLL)
        return -EBADF; /* as mTCP */
    if (argp == NULL)
        return -EFAULT;
    if (request == FIONREAD) {
        if (s->rx_bytes == 0)
            mt_progress();
        *(int *)argp = s->rx_bytes > INT32_MAX ? INT32_MAX : (int)s->rx_bytes;
        return 0;
    }
    if (request == FIONBIO)
        return 0; /* always non-blocking */
    return -EINVAL;
}

MT_API int mtcp_socket_ioctl(mctx_t mctx, int sockid, int request, void *argp)
{
    int rc;

    mt_lock();
    rc = do_ioctl(mctx, sockid, request, argp);
    mt_unlock();
    return mt_ret(rc);
}

MT_API int mtcp_ioctl(mctx_t mctx, int sockid, int request, void *argp)
{
    return mtcp_socket_ioctl(mctx, sockid, request, argp);
}

static int do_name(mctx_t mctx, int id, struct sockaddr *addr, socklen_t *len, bool peer)
{
    struct mt_sock *s;
    int rc = stream_get(mctx, id, &s);

    if (rc != 0)
        return rc;
    if (addr == NULL || len == NULL)
        return -EINVAL;
    if (peer && s->kind == MT_LISTENER)
        return -ENOTCONN;
    int qd = s->grp != NULL && s->kind == MT_LISTENER ? s->grp->qd : s->qd;
    return -(peer ? demi_getpeername(qd, addr, len) : demi_getsockname(qd, addr, len));
}

MT_API int mtcp_getsockname(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen)
{
    int rc;

    mt_lock();
    rc = do_name(mctx, sockid, addr, addrlen, false);
    mt_unlock();
    return mt_ret(rc);
}

MT_API int(mtcp_getpeername)(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen)
{
    int rc;

    mt_lock();
    rc = do_name(mctx, sockid, addr, addrlen, true);
    mt_unlock();
    return mt_ret(rc);
}

MT_API int mtcp_getpeername_side(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen, int side)
{
    int rc;

    struct mt_sock *s;

    mt_lock();
    if (mt_sock_get(mctx, sockid, &s) == 0 && mt_is_monitor(s)) {
        rc = addr == NULL || addrlen == NULL ? -EINVAL : mt_mon_peername(s, addr, addrlen, side);
        mt_unlock();
        return mt_ret(rc);
    }
    rc = do_name(mctx, sockid, addr, addrlen, true);
    if (side < 0 || side > 2) /* the caller's argument first, as EINVAL of NULL addr */
        rc = mt_ctx_get(mctx) == NULL || rc == -EBADF ? rc : -EINVAL;
    mt_unlock();
    return mt_ret(rc);
}

/* ---- pipes ---- */

static int do_pipe(mctx_t mctx, int pipeid[2])
{
    static unsigned serial;
    struct mt_ctx *c = mt_ctx_get(mctx);
    struct mt_sock *r = NULL, *w = NULL;
    char name[64];
    int rc, qr = -1, qw = -1;

    if (c == NULL || pipeid == NULL)
        return -EINVAL;
    if ((rc = mt_sock_alloc(c, MT_PIPE, &r)) != 0)
        return rc;
    if ((rc = mt_sock_alloc(c, MT_PIPE, &w)) != 0) {
        mt_sock_free(r);
        return rc;
    }
    snprintf(name, sizeof(name), "mtcp-%ld-%u", (long)getpid(), serial++);
    rc = demi_create_pipe(&qw, name);
    if (rc == 0 && (rc = demi_open_pipe(&qr, name)) != 0) {
        demi_close(qw);
        qw = -1;
    }
    if (rc == 0 && (rc = mt_map_qd(r, qr)) == 0 && (rc = mt_map_qd(w, qw)) == 0) {
        r->state = w->state = ST_CONNECTED;
        w->pipe_writer = true;
        mt_start_pop(r);
        pipeid[0] = r->id;
        pipeid[1] = w->id;
        return 0;
    }
    rc = rc > 0 ? -rc : rc;
    mt_sock_close(r);
    mt_sock_close(w);
    return rc;
}

MT_API int mtcp_pipe(mctx_t mctx, int pipeid[2])
{
    int rc;

    mt_lock();
    rc = do_pipe(mctx, pipeid);
    mt_unlock();
    return mt_ret(rc);
}
