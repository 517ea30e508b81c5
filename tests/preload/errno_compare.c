/*
 * errno_compare.c - the same calls, with bad and good arguments, against
 * the kernel and under the interposer: one line per call (its result and
 * errno, and what it wrote where that matters), so that two runs can be
 * compared line by line (tests/preload/run.sh does: one run on the kernel,
 * one under sluice-run, whose AF_INET sockets bound to 0.0.0.0 or talking to
 * DEST are then Sluice's).
 *
 *   errno_compare DEST PORT
 *
 * DEST is an IPv4 address with nothing listening on PORT+1 (TCP) and PORT+2
 * (UDP), reachable from where the program runs. Ports PORT..PORT+9 are bound
 * locally. Prints "errno_compare: N calls" last; exits 0 unless it could not
 * run at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int ncalls;
/* bad values the compiler must not see through (it would refuse them) */
static volatile int minus_one = -1, too_many = 1025;
static void *volatile null_ptr;

static const char *ename(int e)
{
    static char buf[16];
    switch (e) {
#define E(x) case x: return #x;
        E(EBADF) E(EFAULT) E(EINVAL) E(ENOTSOCK) E(EAGAIN) E(ENOTCONN) E(EISCONN) E(EOPNOTSUPP)
        E(ENOPROTOOPT) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(EDESTADDRREQ) E(EMSGSIZE)
        E(EPIPE) E(ECONNREFUSED) E(ECONNRESET) E(EINPROGRESS) E(EALREADY) E(ESPIPE) E(EEXIST)
        E(ENOENT) E(EPERM) E(ELOOP) E(ENOTTY) E(EPROTONOSUPPORT) E(ENETUNREACH) E(EHOSTUNREACH)
        E(ETIMEDOUT) E(ENOSYS) E(EMFILE) E(EINTR)
#undef E
    default:
        snprintf(buf, sizeof(buf), "errno%d", e);
        return buf;
    }
}

/* Prints "what -> rc [ERRNO]" and returns rc. */
static long show(const char *what, long rc)
{
    ncalls++;
    if (rc < 0)
        printf("%-58s -> %ld %s\n", what, rc, ename(errno));
    else
        printf("%-58s -> %ld\n", what, rc);
    fflush(stdout);
    return rc;
}

#define CALL(expr) (errno = 0, show(#expr, (long)(expr)))

static struct sockaddr_in sin_of(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

#define SA(p) ((struct sockaddr *)(p))

static void bad_fds(void)
{
    char buf[16];
    struct sockaddr_in a = sin_of("0.0.0.0", 1);
    socklen_t len = sizeof(a);
    int v = 1;
    struct epoll_event ev = {.events = EPOLLIN};
    struct iovec iov = {buf, sizeof(buf)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    int p[2];

    CALL(read(-1, buf, sizeof(buf)));
    CALL(write(-1, buf, sizeof(buf)));
    CALL(recv(9999, buf, sizeof(buf), 0));
    CALL(send(9999, buf, sizeof(buf), 0));
    CALL(recvmsg(-1, &msg, 0));
    CALL(sendmsg(-1, &msg, 0));
    CALL(readv(-1, &iov, 1));
    CALL(writev(-1, &iov, 1));
    CALL(close(-1));
    CALL(close(9999));
    CALL(bind(-1, SA(&a), sizeof(a)));
    CALL(listen(-1, 1));
    CALL(accept(-1, NULL, NULL));
    CALL(accept4(-1, NULL, NULL, SOCK_NONBLOCK));
    CALL(connect(-1, SA(&a), sizeof(a)));
    CALL(shutdown(-1, SHUT_RDWR));
    CALL(getsockname(-1, SA(&a), &len));
    CALL(getpeername(-1, SA(&a), &len));
    CALL(getsockopt(-1, SOL_SOCKET, SO_ERROR, &v, &len));
    CALL(setsockopt(-1, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
    CALL(fcntl(-1, F_GETFL));
    CALL(ioctl(-1, FIONREAD, &v));
    CALL(dup(-1));
    CALL(dup2(-1, 100));
    CALL(epoll_ctl(-1, EPOLL_CTL_ADD, 0, &ev));
    CALL(epoll_wait(-1, &ev, 1, 0));
    CALL(sendfile(-1, 0, NULL, 10));
    if (pipe(p) == 0) {
        CALL(recv(p[0], buf, sizeof(buf), MSG_DONTWAIT));
        CALL(send(p[1], buf, 1, 0));
        CALL(bind(p[0], SA(&a), sizeof(a)));
        CALL(getsockopt(p[0], SOL_SOCKET, SO_TYPE, &v, &len));
        CALL(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
        close(p[0]);
        close(p[1]);
    }
}

/* A UDP socket bound to 0.0.0.0:port (Sluice's under the interposer). */
static void udp(const char *dest, int port)
{
    char buf[2048], big[70000];
    struct sockaddr_in any = sin_of("0.0.0.0", port), to = sin_of(dest, port + 2), got;
    struct sockaddr_in6 six = {.sin6_family = AF_INET6};
    socklen_t len;
    int v = 1, s = socket(AF_INET, SOCK_DGRAM, 0), s2 = socket(AF_INET, SOCK_DGRAM, 0), ep, r;
    struct iovec iov = {buf, sizeof(buf)}, neg_iov = {buf, (size_t)minus_one};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = 7}, out[4];
    struct pollfd pfd;
    fd_set wr;
    struct timeval tv = {0, 0};

    memset(big, 'x', sizeof(big));
    /* bad arguments before the socket is bound (the kernel decides either way) */
    CALL(bind(s, NULL, sizeof(any)));
    CALL(bind(s, SA(&any), 4));
    CALL(bind(s, SA(&six), sizeof(six)));
    CALL(bind(s, SA(&any), sizeof(any)));
    CALL(bind(s2, SA(&any), sizeof(any)));
    CALL(bind(s, SA(&any), sizeof(any)));
    /* now bound: Sluice's under the interposer */
    CALL(recv(s, buf, sizeof(buf), MSG_DONTWAIT));
    CALL(recv(s, NULL, sizeof(buf), MSG_DONTWAIT));
    /* a negative length in an iovec (a huge one in recv would depend on
     * where ASLR put the stack: Linux checks the whole range) */
    CALL(readv(s, &neg_iov, 1));
    CALL(writev(s, &neg_iov, 1));
    CALL(recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, SA(&got), NULL));
    CALL(recvmsg(s, NULL, MSG_DONTWAIT));
    CALL(recvmsg(s, &msg, MSG_DONTWAIT));
    CALL(readv(s, &iov, minus_one));
    CALL(readv(s, &iov, too_many));
    CALL(writev(s, &iov, minus_one));
    CALL(sendmsg(s, NULL, 0));
    CALL(send(s, buf, 10, 0));
    CALL(sendto(s, buf, 10, 0, SA(&to), 8));
    CALL(sendto(s, buf, 10, 0, SA(&six), sizeof(six)));
    CALL(sendto(s, big, sizeof(big), 0, SA(&to), sizeof(to)));
    CALL(pread(s, buf, 10, 0));
    CALL(listen(s, 5));
    CALL(accept(s, NULL, NULL));
    CALL(shutdown(s, 7));
    len = sizeof(got);
    CALL(getpeername(s, SA(&got), &len));
    CALL(getsockname(s, SA(&got), NULL));
    len = (socklen_t)-1;
    CALL(getsockname(s, SA(&got), &len));
    len = 4;
    memset(&got, 0, sizeof(got));
    CALL(getsockname(s, SA(&got), &len));
    printf("  getsockname(len 4): len %u family %d port %d\n", (unsigned)len, got.sin_family, ntohs(got.sin_port));
    len = sizeof(got);
    CALL(getsockname(s, SA(&got), &len));
    printf("  getsockname: len %u port %d\n", (unsigned)len, ntohs(got.sin_port));
    len = sizeof(v);
    CALL(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len));
    printf("  SO_ERROR %d len %u\n", v, (unsigned)len);
    CALL(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, NULL));
    len = (socklen_t)-1;
    CALL(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
    len = sizeof(v);
    CALL(getsockopt(s, SOL_SOCKET, 9999, &v, &len));
    CALL(getsockopt(s, 9999, 1, &v, &len));
    CALL(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
    printf("  SO_TYPE %d\n", v);
    CALL(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, null_ptr, sizeof(v)));
    CALL(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
    CALL(setsockopt(s, SOL_SOCKET, 9999, &v, sizeof(v)));
    CALL(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
    CALL(fcntl(s, F_GETFL) & O_NONBLOCK);
    CALL(fcntl(s, F_SETFL, O_NONBLOCK));
    CALL(fcntl(s, F_GETFL) & O_NONBLOCK);
    CALL(recv(s, buf, sizeof(buf), 0));
    CALL(fcntl(s, 9999));
    CALL(ioctl(s, FIONREAD, &v));
    CALL(ioctl(s, FIONREAD, NULL));
    /* readiness: writable, not readable */
    ep = epoll_create1(0);
    CALL(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev));
    CALL(epoll_ctl(ep, EPOLL_CTL_DEL, s, &ev));
    CALL(epoll_ctl(ep, 99, s, &ev));
    CALL(epoll_ctl(ep, EPOLL_CTL_ADD, s, NULL));
    CALL(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    CALL(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
    CALL(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
    CALL(epoll_wait(ep, out, 0, 0));
    CALL(epoll_wait(ep, null_ptr, 4, 0));
    r = (int)CALL(epoll_wait(ep, out, 4, 100));
    if (r == 1)
        printf("  events %#x data %u\n", out[0].events, out[0].data.u32);
    ev.events = EPOLLIN;
    CALL(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev));
    CALL(epoll_wait(ep, out, 4, 50));
    ev.events = EPOLLOUT | EPOLLONESHOT;
    CALL(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev));
    CALL(epoll_wait(ep, out, 4, 50));
    CALL(epoll_wait(ep, out, 4, 50));
    CALL(epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL));
    close(ep);
    pfd.fd = s;
    pfd.events = POLLIN | POLLOUT;
    CALL(poll(&pfd, 1, 0));
    printf("  revents %#x\n", pfd.revents);
    FD_ZERO(&wr);
    FD_SET(s, &wr);
    CALL(select(s + 1, NULL, &wr, NULL, &tv));
    printf("  writable %d\n", FD_ISSET(s, &wr) ? 1 : 0);
    /* connected to a closed port: the ICMP error comes back as ECONNREFUSED */
    CALL(connect(s, SA(&to), 4));
    CALL(connect(s, SA(&to), sizeof(to)));
    len = sizeof(got);
    CALL(getpeername(s, SA(&got), &len));
    printf("  peer %s:%d\n", inet_ntoa(got.sin_addr), ntohs(got.sin_port));
    CALL(send(s, "ping", 4, 0));
    for (int i = 0; i < 40; i++) {
        errno = 0;
        ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
        if (n >= 0 || errno != EAGAIN) {
            show("recv(s, ...) after the port unreachable", n);
            break;
        }
        usleep(50000);
    }
    CALL(recv(s, buf, sizeof(buf), MSG_DONTWAIT));
    CALL(shutdown(s, SHUT_WR));
    CALL(send(s, "x", 1, MSG_NOSIGNAL));
    /* Linux: ENOTCONN for an unconnected one, and still shut down */
    any.sin_port = htons((uint16_t)(port + 3));
    CALL(bind(s2, SA(&any), sizeof(any)));
    CALL(shutdown(s2, SHUT_RDWR));
    pfd.fd = s2;
    pfd.events = POLLIN | POLLOUT;
    CALL(poll(&pfd, 1, 0));
    printf("  revents %#x\n", pfd.revents);
    CALL(sendto(s2, "x", 1, MSG_NOSIGNAL, SA(&to), sizeof(to)));
    CALL(dup(s) > s);
    CALL(close(s));
    CALL(close(s));
    CALL(close(s2));
}

static void tcp(const char *dest, int port)
{
    char buf[64];
    struct sockaddr_in any = sin_of("0.0.0.0", port + 5), to = sin_of(dest, port + 1), got;
    socklen_t len;
    int v = 1, l = socket(AF_INET, SOCK_STREAM, 0), c, c2;
    struct pollfd pfd;

    CALL(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
    CALL(bind(l, SA(&any), sizeof(any)));
    CALL(listen(l, -1));
    CALL(fcntl(l, F_SETFL, O_NONBLOCK));
    CALL(accept(l, NULL, NULL));
    CALL(accept4(l, NULL, NULL, 0x40000000));
    len = 2;
    CALL(accept(l, SA(&got), NULL));
    CALL(recv(l, buf, sizeof(buf), MSG_DONTWAIT));
    CALL(send(l, buf, 1, MSG_NOSIGNAL));
    CALL(connect(l, SA(&to), sizeof(to)));
    len = sizeof(v);
    CALL(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
    printf("  SO_ACCEPTCONN %d\n", v);
    len = sizeof(got);
    CALL(getsockname(l, SA(&got), &len));
    printf("  listening on port %d\n", ntohs(got.sin_port));
    CALL(getpeername(l, SA(&got), &len));
    /* a refused connection, blocking */
    c = socket(AF_INET, SOCK_STREAM, 0);
    CALL(send(c, "x", 1, MSG_NOSIGNAL));
    CALL(connect(c, SA(&to), sizeof(to)));
    CALL(close(c));
    /* a refused connection, non-blocking: EINPROGRESS, POLLOUT|POLLERR, SO_ERROR */
    c2 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CALL(connect(c2, SA(&to), sizeof(to)));
    pfd.fd = c2;
    pfd.events = POLLOUT;
    CALL(poll(&pfd, 1, 3000));
    printf("  revents has POLLOUT %d POLLERR %d\n", !!(pfd.revents & POLLOUT), !!(pfd.revents & POLLERR));
    len = sizeof(v);
    CALL(getsockopt(c2, SOL_SOCKET, SO_ERROR, &v, &len));
    printf("  SO_ERROR %s\n", v ? ename(v) : "0");
    CALL(getsockopt(c2, SOL_SOCKET, SO_ERROR, &v, &len));
    printf("  SO_ERROR %s\n", v ? ename(v) : "0");
    CALL(close(c2));
    CALL(close(l));
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: errno_compare DEST PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    bad_fds();
    udp(argv[1], atoi(argv[2]));
    tcp(argv[1], atoi(argv[2]));
    printf("errno_compare: %d calls\n", ncalls);
    return 0;
}
