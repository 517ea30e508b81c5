/*
 * mtcp_api.h - mTCP's socket API on Sluice (docs/mtcp.md).
 *
 * One header set serves two dialects: mTCP's (github.com/mtcp-stack/mtcp)
 * and the non-monitor part of mOS's (github.com/mos-stack). The dialect is
 * mOS when SLUICE_MTCP_DIALECT_MOS is 1 before this header is first
 * included: <mos_api.h> sets it, so a program that includes <mos_api.h>
 * first (as mOS's samples do) gets mOS's declarations. Only four calls
 * differ in type between the dialects (mtcp_destroy, mtcp_destroy_context,
 * mtcp_readv, mtcp_writev); the library returns the wider type, which the
 * other dialect's callers ignore or truncate.
 *
 * Every call returns -1 and sets errno on failure, as mTCP does. Sockets
 * are non-blocking. Calls are thread-safe: contexts share Sluice's one
 * engine behind one lock (docs/mtcp.md "Contexts").
 */
#ifndef MTCP_API_H
#define MTCP_API_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef SLUICE_MTCP_DIALECT_MOS
#define SLUICE_MTCP_DIALECT_MOS 0
#endif

#ifndef UNUSED
#define UNUSED(x) (void)x
#endif
#ifndef INPORT_ANY
#define INPORT_ANY (uint16_t)0
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if SLUICE_MTCP_DIALECT_MOS
typedef unsigned char byte;
#endif

/* A context: visible, as in mOS (its samples read mctx->cpu). */
struct mtcp_context {
    int cpu; /* the CPU given to mtcp_create_context */
};
typedef struct mtcp_context *mctx_t;

typedef void (*mtcp_sighandler_t)(int);

/* Settings of mtcp_getconf/mtcp_setconf. The first seven are mTCP's;
 * cpu_mask is mOS's (core_mask of the config file); mOS's application
 * fields follow in the mOS dialect only (Sluice ignores them). */
struct mtcp_conf {
    int num_cores;       /* contexts (CPUs) the program may create */
    int max_concurrency; /* sockets per context */
    int max_num_buffers; /* socket buffers per context (kept, unused) */
    int rcvbuf_size;     /* receive buffer of a socket, bytes */
    int sndbuf_size;     /* send buffer of a socket, bytes */
    int tcp_timewait;    /* TIME-WAIT, s (kept, unused: tcp.msl_ms rules) */
    int tcp_timeout;     /* idle timeout, s, -1 none (kept, unused) */
    uint64_t cpu_mask;   /* CPUs of core_mask, bit i = CPU i */
#if SLUICE_MTCP_DIALECT_MOS
#define APP_NAME_LEN 40
#define MOS_APP 20
#define MOS_APP_ARGC 20
    uint64_t app_cpu_mask[MOS_APP];
    char *app_argv[MOS_APP][MOS_APP_ARGC];
    int app_argc[MOS_APP];
    int num_app;
#endif
};

/*
 * Loads mTCP's configuration file config_file (key = value lines, # starts
 * a comment; keys num_cores, core_mask, max_concurrency, max_num_buffers,
 * rcvbuf, sndbuf, tcp_timeout, tcp_timewait, port; upstream's io,
 * num_mem_ch, stat_print, multiprocess, cc and onvm_* are accepted and
 * ignored; NULL means no file) and starts Sluice (demi_init: Sluice's own
 * settings come from SLUICE_CONFIG and SLUICE_* as always; port is
 * ignored: the device is net.devargs). One line on stderr names the file,
 * line and key of any error.
 * Returns 0, or -1 with errno: ENOENT (or another open error) when the
 * file cannot be read; EINVAL for an unknown key, a line without '=' or a
 * bad value, or when Sluice's own config is bad; EEXIST when already
 * initialised; EIO, ENOMEM when Sluice does not start (demi_init).
 * Source: mTCP's mtcp_init(3); Sluice's choices: docs/mtcp.md.
 */
int mtcp_init(const char *config_file);

#if SLUICE_MTCP_DIALECT_MOS
int mtcp_destroy(void);
#else
/*
 * Ends mTCP: closes every socket of every context and frees the contexts.
 * Sluice's engine keeps running until the process exits (it stops then).
 * mTCP declares it void, mOS int: the mOS dialect's returns 0 (and -1 with
 * errno ENOSYS when mtcp_init was not called).
 * Source: mTCP's mtcp_destroy(3), mOS's mtcp_destroy.
 */
void mtcp_destroy(void);
#endif

/*
 * Copies the settings into *conf (the fields of struct mtcp_conf up to
 * cpu_mask; mOS's application fields are not touched). Works before and
 * after mtcp_init: before it, the defaults and what mtcp_setconf set.
 * Returns 0, or -1 with errno EINVAL for a NULL conf.
 * Source: mTCP's mtcp_getconf.
 */
int mtcp_getconf(struct mtcp_conf *conf);
/*
 * Changes the settings: each of num_cores, max_concurrency,
 * max_num_buffers, rcvbuf_size, sndbuf_size, tcp_timewait, tcp_timeout
 * that is > 0 replaces the current value (others are left), as mTCP does;
 * cpu_mask is not changed. Before mtcp_init the file's keys then override;
 * after it, contexts and sockets created later use the new values.
 * Returns 0, or -1 with errno EINVAL for a NULL conf.
 * Source: mTCP's mtcp_setconf.
 */
int mtcp_setconf(const struct mtcp_conf *conf);
/*
 * Pins the calling thread to CPU cpu (sched_setaffinity).
 * Returns 0, or -1 with errno EINVAL when cpu is negative, beyond the
 * machine's CPUs or not allowed to this process.
 * Source: mTCP's mtcp_core_affinitize.
 */
int mtcp_core_affinitize(int cpu);
/*
 * Creates the context of CPU cpu (0..num_cores-1): a pool of
 * max_concurrency socket ids (epolls and pipes count) of its own. Every
 * context shares Sluice's one engine for now; calls on two contexts from
 * two threads are safe (one lock, released while mtcp_epoll_wait naps).
 * The caller frees it with mtcp_destroy_context.
 * Returns the context, or NULL with errno: ENOSYS before mtcp_init;
 * EINVAL for a cpu outside 0..num_cores-1; EEXIST when cpu has a context;
 * ENOMEM.
 * Source: mTCP's mtcp_create_context(3); docs/mtcp.md "Contexts".
 */
mctx_t mtcp_create_context(int cpu);

#if SLUICE_MTCP_DIALECT_MOS
int mtcp_destroy_context(mctx_t mctx);
#else
/*
 * Closes every socket, epoll and pipe of context mctx and frees it; mctx
 * is invalid afterwards. mTCP declares it void, mOS int: the mOS dialect's
 * returns 0, or -1 with errno EINVAL for a context that is not live.
 * Source: mTCP's mtcp_destroy_context(3).
 */
void mtcp_destroy_context(mctx_t mctx);
#endif

/*
 * Installs handler for signal signum (sigaction, SA_RESTART) for the
 * whole process.
 * Returns handler, or SIG_ERR with errno EINVAL for a bad signum (or one
 * that cannot be caught).
 * Source: mTCP's mtcp_register_signal; mOS's returns its argument too.
 */
mtcp_sighandler_t mtcp_register_signal(int signum, mtcp_sighandler_t handler);
/*
 * Makes a pipe in context mctx: bytes written to pipeid[1] are read from
 * pipeid[0]; both ids work with mtcp_read/mtcp_write and mtcp_epoll_*
 * (pipeid[0] readable, pipeid[1] writable), and are closed with
 * mtcp_close (closing pipeid[1] gives pipeid[0] end of file). It is a
 * Sluice shared-memory pipe (demi_create_pipe).
 * Returns 0, or -1 with errno: EINVAL for an invalid mctx or NULL pipeid;
 * ENFILE when the context's pool has not two free ids; ENOMEM, EMFILE
 * (Sluice's queue table is full).
 * Source: mTCP's mtcp_pipe.
 */
int mtcp_pipe(mctx_t mctx, int pipeid[2]);
/*
 * Reads option optname at level of socket sockid into optval (*optlen
 * bytes of room in, written out). SOL_SOCKET SO_ERROR gives and clears the
 * socket's pending error (a failed connect: ECONNREFUSED, ETIMEDOUT, ...);
 * the others are demi_getsockopt's (SO_REUSEADDR, SO_KEEPALIVE, SO_SNDBUF,
 * SO_RCVBUF, SO_LINGER, SO_TYPE, TCP_NODELAY, TCP_MAXSEG, TCP_INFO, ...).
 * Returns 0, or -1 with errno: EINVAL for an invalid mctx, NULL optval or
 * optlen, or a short *optlen; EBADF for an unused sockid; ENOTSOCK for an
 * epoll or a pipe; ENOPROTOOPT for an option Sluice does not have (mTCP
 * has only SO_ERROR and fails others with ENOSYS). On a monitor socket,
 * level SOL_MONSOCKET: mOS's options (<mos_api.h>, enum mos_socket_opts:
 * what each gives, its errors; MOS_FRAGINFO_* count *optlen in elements);
 * ENOMEM there when a copy cannot be allocated.
 * Source: mTCP's mtcp_getsockopt(3), mOS's for SOL_MONSOCKET.
 */
int mtcp_getsockopt(mctx_t mctx, int sockid, int level, int optname, void *optval, socklen_t *optlen);
/*
 * Sets option optname at level (optlen bytes at optval) on socket sockid,
 * as demi_setsockopt: SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_SNDBUF,
 * SO_RCVBUF, SO_LINGER, TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT, TCP_CONGESTION.
 * Returns 0, or -1 with errno: EINVAL for an invalid mctx, NULL optval, a
 * short optlen or a bad value; EBADF for an unused sockid; ENOTSOCK for an
 * epoll or a pipe; ENOPROTOOPT for any other option (upstream mTCP returns
 * 0 for every option and mOS asserts: Sluice never pretends). On a
 * monitor socket, level SOL_MONSOCKET: mOS's options (<mos_api.h>);
 * EOPNOTSUPP for MOS_CLIOVERLAP/SVROVERLAP MOS_OVERLAP_POLICY_LAST, which
 * the tracker does not do; ENOMEM when a buffer cannot be resized.
 * Source: mTCP's mtcp_setsockopt(3), mOS's for SOL_MONSOCKET.
 */
int mtcp_setsockopt(mctx_t mctx, int sockid, int level, int optname, const void *optval, socklen_t optlen);
/*
 * Marks socket sockid non-blocking. Every socket already is (accept, read,
 * write and connect never wait): the call only checks its arguments.
 * Returns 0, or -1 with errno EINVAL for an invalid mctx, EBADF for an
 * unused sockid.
 * Source: mTCP's mtcp_setsock_nonblock.
 */
int mtcp_setsock_nonblock(mctx_t mctx, int sockid);
/*
 * ioctl on socket sockid: FIONREAD stores in *(int *)argp the bytes a read
 * would return now; FIONBIO reads *(int *)argp and changes nothing
 * (sockets are always non-blocking).
 * Returns 0, or -1 with errno: EINVAL for an invalid mctx or another
 * request; EBADF for an unused sockid or an epoll; EFAULT for NULL argp.
 * Source: mTCP's mtcp_socket_ioctl.
 */
int mtcp_socket_ioctl(mctx_t mctx, int sockid, int request, void *argp);
/*
 * mOS's name of mtcp_socket_ioctl: the same call, the same errors.
 * Source: mOS's mtcp_ioctl.
 */
int mtcp_ioctl(mctx_t mctx, int sockid, int request, void *argp);
/*
 * Creates a TCP socket in context mctx: domain AF_INET, type SOCK_STREAM
 * (mOS's MOS_SOCK_STREAM is accepted too), protocol ignored. It is
 * non-blocking. The caller closes it with mtcp_close.
 * Returns the socket id (0..max_concurrency-1, the lowest free), or -1
 * with errno: EACCES for an invalid mctx; EAFNOSUPPORT for another domain;
 * EINVAL for another type (mOS's monitor sockets are not there yet);
 * ENFILE when the context's pool is full; EMFILE, ENOMEM, ENETDOWN from
 * Sluice (demi_socket).
 * Source: mTCP's and mOS's mtcp_socket(3).
 */
int mtcp_socket(mctx_t mctx, int domain, int type, int protocol);
/*
 * Binds socket sockid to addr (a struct sockaddr_in of addrlen bytes;
 * address 0 or Sluice's, port 0 for an ephemeral one).
 * Returns 0, or -1 with errno: EINVAL for an invalid mctx, a NULL addr, a
 * short addrlen, another family, a socket already bound or listening;
 * EBADF for an unused sockid; ENOTSOCK for an epoll or a pipe;
 * EADDRNOTAVAIL, EADDRINUSE from Sluice (demi_bind).
 * Source: mTCP's mtcp_bind(3).
 */
int mtcp_bind(mctx_t mctx, int sockid, const struct sockaddr *addr, socklen_t addrlen);
/*
 * Makes socket sockid a listener with a queue of backlog connections.
 * Returns 0, or -1 with errno: EINVAL for an invalid mctx or a backlog <= 0
 * or above max_concurrency (as mTCP); EBADF for an unused sockid; ENOTSOCK
 * for an epoll, a pipe, or a connected socket; EADDRINUSE when another
 * listener has the port.
 * Source: mTCP's mtcp_listen(3).
 */
int mtcp_listen(mctx_t mctx, int sockid, int backlog);
/*
 * Takes a connection from listener sockid: a new socket id, and its peer's
 * address into addr (*addrlen bytes of room in, the address size out) when
 * addr is not NULL. Never waits.
 * Returns the new id, or -1 with errno: EINVAL for an invalid mctx, a
 * socket that does not listen, or addr without addrlen; EBADF for an
 * unused sockid; EAGAIN when no connection is ready (mtcp_epoll_wait
 * reports MTCP_EPOLLIN when one is); ENFILE when the context's pool is
 * full (the connection waits for the next call).
 * Source: mTCP's mtcp_accept(3).
 */
int mtcp_accept(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen);
/*
 * mTCP's choice of source addresses and ports so that replies reach the
 * context's core (RSS). Sluice has one engine that receives everything, so
 * any port works: the call only checks its arguments.
 * Returns 0, or -1 with errno EACCES for an invalid mctx, EINVAL for
 * num_addr < 1.
 * Source: mTCP's mtcp_init_rss(3).
 */
int mtcp_init_rss(mctx_t mctx, in_addr_t saddr_base, int num_addr, in_addr_t daddr, in_addr_t dport);
/*
 * Starts connecting socket sockid to addr (struct sockaddr_in, addrlen
 * bytes). Never waits: it returns -1 with EINPROGRESS, and
 * mtcp_epoll_wait reports MTCP_EPOLLOUT when the connection is up, or
 * MTCP_EPOLLERR (SO_ERROR then says ECONNREFUSED, ETIMEDOUT, ENETUNREACH,
 * EHOSTUNREACH) when it failed.
 * Returns -1 with errno: EINPROGRESS (started); EINVAL for an invalid mctx
 * or a short addrlen; EFAULT for a NULL addr; EAFNOSUPPORT for another
 * family; EBADF for an unused sockid; ENOTSOCK for an epoll, a pipe or a
 * listener; EISCONN when connected; EALREADY when connecting;
 * EADDRNOTAVAIL, ENETUNREACH, EADDRINUSE from Sluice (demi_connect).
 * Source: mTCP's mtcp_connect(3).
 */
int mtcp_connect(mctx_t mctx, int sockid, const struct sockaddr *addr, socklen_t addrlen);
/*
 * Closes socket, epoll or pipe end sockid: a connection sends what was
 * written, then FIN; an epoll forgets its sockets; the id is free again.
 * Returns 0, or -1 with errno EINVAL for an invalid mctx, EBADF for an
 * unused sockid.
 * Source: mTCP's mtcp_close(3).
 */
int mtcp_close(mctx_t mctx, int sockid);
/*
 * Closes connection sockid with a RST instead of a FIN (SO_LINGER 0), and
 * frees the id.
 * Returns 0, or -1 with errno EINVAL for an invalid mctx, EBADF for an
 * unused sockid, ENOTSOCK for an epoll, a pipe or a listener.
 * Source: mOS's mtcp_abort.
 */
int mtcp_abort(mctx_t mctx, int sockid);
/*
 * The local address of socket sockid into addr (*addrlen bytes in, the
 * address size out); 0.0.0.0:0 before bind.
 * Returns 0, or -1 with errno: EINVAL for an invalid mctx or NULL addr or
 * addrlen; EBADF for an unused sockid; ENOTSOCK for an epoll or a pipe.
 * Source: mTCP's mtcp_getsockname(3).
 */
int mtcp_getsockname(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen);
/*
 * The peer address of connection sockid into addr (*addrlen bytes in, the
 * address size out). mOS's five-argument form
 * mtcp_getpeername(mctx, sock, addr, addrlen, side) is the same call
 * (a macro picks mtcp_getpeername_side by the number of arguments).
 * Returns 0, or -1 with errno: EINVAL for an invalid mctx or NULL addr or
 * addrlen; EBADF for an unused sockid; ENOTSOCK for an epoll or a pipe;
 * ENOTCONN for a socket that is not connected or a listener.
 * Source: mTCP's mtcp_getpeername(3).
 */
int mtcp_getpeername(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen);
/*
 * mOS's five-argument mtcp_getpeername: side (MOS_SIDE_CLI, MOS_SIDE_SVR
 * or MOS_SIDE_BOTH of <mos_api.h>) names a side of a monitored flow; an
 * end-point socket has one peer, so side is checked and then ignored.
 * Returns as mtcp_getpeername, and -1 with errno EINVAL for a side outside
 * 0..2.
 * Source: mOS's mtcp_getpeername.
 */
int mtcp_getpeername_side(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen, int side);
#define SLUICE_MTCP_PICK5_(a, b, c, d, e, f, ...) f
#define mtcp_getpeername(...) \
    SLUICE_MTCP_PICK5_(__VA_ARGS__, mtcp_getpeername_side, mtcp_getpeername, ~)(__VA_ARGS__)

/*
 * Reads up to len bytes of connection or pipe sockid into buf (the
 * caller's memory). Never waits. Upstream declares it plain inline
 * (programs built with -fgnu89-inline): here it is an ordinary function.
 * Returns the bytes read; 0 at end of stream (the peer closed); or -1 with
 * errno: EINVAL for an invalid mctx; EFAULT for a NULL buf; EBADF for an
 * unused sockid or a pipe's write end; ENOTSOCK for an epoll or a
 * listener; ENOTCONN for a socket not connected; EAGAIN when nothing is
 * there yet; ECONNRESET, ETIMEDOUT (once) when the connection died.
 * Source: mTCP's mtcp_read(3).
 */
ssize_t mtcp_read(mctx_t mctx, int sockid, char *buf, size_t len);
/*
 * As mtcp_read; flags 0 or MSG_PEEK (the bytes stay to be read again).
 * Returns as mtcp_read, and -1 with errno EINVAL for other flags.
 * Source: mTCP's mtcp_recv(3).
 */
ssize_t mtcp_recv(mctx_t mctx, int sockid, char *buf, size_t len, int flags);

#if SLUICE_MTCP_DIALECT_MOS
ssize_t mtcp_readv(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV);
ssize_t mtcp_writev(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV);
#else
/*
 * Reads into the numIOV buffers of iov in turn, as mtcp_read (int in mTCP,
 * ssize_t in mOS).
 * Returns the bytes read, 0 at end of stream, or -1 with mtcp_read's
 * errors and EINVAL for a NULL iov or numIOV < 1.
 * Source: mTCP's mtcp_readv.
 */
int mtcp_readv(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV);
/*
 * Writes the numIOV buffers of iov in turn, as mtcp_write: as many bytes
 * as the send buffer takes (int in mTCP, ssize_t in mOS).
 * Returns the bytes written, or -1 with mtcp_write's errors and EINVAL for
 * a NULL iov or numIOV < 1.
 * Source: mTCP's mtcp_writev.
 */
int mtcp_writev(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV);
#endif

/*
 * Writes up to len bytes of buf (copied: the caller may reuse buf at once)
 * to connection or pipe sockid: as many as the send buffer (sndbuf,
 * bytes not yet acknowledged by the peer) has room for. Never waits.
 * Returns the bytes written, or -1 with errno: EINVAL for an invalid mctx;
 * EFAULT for a NULL buf; EBADF for an unused sockid or a pipe's read end;
 * ENOTSOCK for an epoll or a listener; ENOTCONN for a socket not connected
 * (or still connecting, as mTCP); EAGAIN when the send buffer is full
 * (mtcp_epoll_wait reports MTCP_EPOLLOUT when there is room); EPIPE after
 * the connection or the pipe's other end closed; ECONNRESET, ETIMEDOUT
 * (once) when the connection died. No SIGPIPE.
 * Source: mTCP's mtcp_write(3).
 */
ssize_t mtcp_write(mctx_t mctx, int sockid, const char *buf, size_t len);
/*
 * The connections of context mctx that are established or closing
 * (accepted or connected, not yet closed by the program).
 * Returns the count; 0 for an invalid mctx (errno EINVAL).
 * Source: mOS's mtcp_get_connection_cnt.
 */
uint32_t mtcp_get_connection_cnt(mctx_t mctx);

#ifdef __cplusplus
}
#endif

#endif /* MTCP_API_H */
