/*
 * signals.c - signal handlers interrupting blocking calls, run against the
 * kernel and under sluice-run, the two outputs compared line by line
 * (tests/preload/run.sh). signal(7), "Interruption of system calls and
 * library functions by signal handlers", is the rule; the kernel the
 * reference.
 *
 *   signals server PORT          prints one line per check
 *   signals client HOST PORT     the peer: obeys the server's commands
 *
 * The server listens on PORT (control) and PORT+1 (data); the client
 * connects to PORT and listens on PORT+2 (never accepting: the kernel
 * completes handshakes into its queue). Each check: the server's main
 * thread makes one blocking call while a helper thread sends it signals
 * with pthread_kill, 20 ms apart, then maybe asks the client (a command
 * byte on the control connection) to connect or to send bytes, so that
 * the call can end otherwise than by the signal:
 *  - "until it returns": signals until the call returns (an EINTR check:
 *    signals sent before the call blocked only run their handler);
 *  - "N, then X": N signals, each handled before the next (the call must
 *    keep waiting: a restart, or another thread's handler, or no handler),
 *    then command X, and the call must return what X brings.
 * A line shows the call, the handlers' flags, what it returned and errno;
 * handler counts only where they are deterministic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define GAP_MS 20
#define UNTIL_RETURN 0
#define PARTIAL_LEN (8u << 20)

static pthread_t g_main;
static int g_ctl = -1;                  /* control connection (server side) */
static volatile sig_atomic_t g_hits[_NSIG];
static volatile sig_atomic_t g_info_ok; /* the SA_SIGINFO handler saw signo, code, context */
static int g_returned;                  /* the main thread's call returned */
static struct sockaddr_in g_peer;       /* the client's address */

static void die(const char *what)
{
    fprintf(stderr, "signals: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void on_sig(int sig)
{
    g_hits[sig]++;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
    g_hits[sig]++;
    g_info_ok = si != NULL && si->si_signo == sig && si->si_code == SI_TKILL && uc != NULL;
}

/* Installs on_sig for sig with flags (SA_RESTART or not). */
static void handle(int sig, int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sig;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        die("sigaction");
}

static void disposition(int sig, sighandler_t h)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        die("sigaction");
}

static void nap_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void command(char c)
{
    if (write(g_ctl, &c, 1) != 1)
        die("command to the client");
}

/* ---- the helper thread ---- */

struct job {
    int sig;          /* sent to the main thread (or the helper itself) */
    int count;        /* UNTIL_RETURN, or this many, each handled before the next */
    bool to_self;     /* to the helper thread instead */
    bool no_wait;     /* the handler cannot run now (no handler, or blocked) */
    int then_sig;     /* after them, this one to the main thread (0: none) */
    char then_cmd;    /* after them, this command to the client (0: none) */
};

static bool returned(void)
{
    return __atomic_load_n(&g_returned, __ATOMIC_ACQUIRE) != 0;
}

/* Waits until the handler of sig ran more than n times (the main thread
 * handles it at its next chance), up to 5 s. */
static void wait_hits(int sig, int n)
{
    for (int i = 0; i < 5000 && g_hits[sig] <= n; i++)
        nap_ms(1);
}

static void *pester(void *arg)
{
    const struct job *j = arg;
    pthread_t to = j->to_self ? pthread_self() : g_main;

    for (int i = 0; j->count == UNTIL_RETURN ? i < 250 : i < j->count; i++) {
        int before = g_hits[j->sig];
        nap_ms(GAP_MS);
        if (j->count == UNTIL_RETURN && returned())
            return NULL;
        pthread_kill(to, j->sig);
        if (!j->no_wait)
            wait_hits(j->sig, before);
    }
    if (j->then_sig != 0) {
        nap_ms(GAP_MS);
        pthread_kill(g_main, j->then_sig);
    }
    if (j->then_cmd != 0) {
        nap_ms(GAP_MS);
        command(j->then_cmd);
    }
    return NULL;
}

static pthread_t g_helper;
static struct job g_job;

static void begin(struct job j)
{
    g_job = j;
    __atomic_store_n(&g_returned, 0, __ATOMIC_RELEASE);
    for (int s = 1; s < _NSIG; s++)
        g_hits[s] = 0;
    if (pthread_create(&g_helper, NULL, pester, &g_job) != 0)
        die("pthread_create");
}

/* Prints one line: label, what the call returned, errno, extra. */
static void show(const char *label, long rc, int err, const char *extra)
{
    if (rc >= 0)
        printf("%-66s -> %ld%s\n", label, rc, extra);
    else
        printf("%-66s -> -1 %s%s\n", label, strerrorname_np(err), extra);
    fflush(stdout);
}

/* The call returned rc (errno err): stops the helper and prints the line. */
static void end(const char *label, long rc, int err, const char *extra)
{
    __atomic_store_n(&g_returned, 1, __ATOMIC_RELEASE);
    pthread_join(g_helper, NULL);
    show(label, rc, err, extra);
}

#define CHECK(label, job, call, extra) \
    do { \
        begin(job); \
        long rc_ = (long)(call); \
        int err_ = errno; \
        end(label, rc_, err_, extra); \
    } while (0)

static const struct job UNTIL_ALRM = {.sig = SIGALRM, .count = UNTIL_RETURN};

/* SIGUSR1 three times (each handled), then cmd. */
static struct job three_then(int sig, char cmd)
{
    return (struct job){.sig = sig, .count = 3, .then_cmd = cmd};
}

/* ---- small helpers ---- */

static void set_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static void set_timeo(int fd, int opt, int sec)
{
    struct timeval tv = {.tv_sec = sec};
    if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) != 0)
        die("setsockopt timeo");
}

/* Waits (poll, up to 5 s) until n bytes are there to read on fd. */
static void wait_bytes(int fd, int n)
{
    for (int i = 0; i < 500; i++) {
        int avail = 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ioctl(fd, FIONREAD, &avail);
        if (avail >= n)
            return;
        poll(&p, 1, 10);
        if (avail > 0 || (p.revents & POLLIN))
            nap_ms(1); /* part of it already: look again */
    }
    errno = ETIMEDOUT;
    die("waiting for bytes from the client");
}

static void drain(int fd)
{
    char buf[64];

    set_nonblock(fd, true);
    while (recv(fd, buf, sizeof(buf), 0) > 0)
        ;
    set_nonblock(fd, false);
}

/* Fills fd's send buffer (the client reads nothing, with a small receive
 * buffer) until a blocking send can copy nothing: SO_SNDBUF fixed (no
 * growth as acknowledgements come), non-blocking writes until EAGAIN and
 * no room for 300 ms, then blocking 4 KiB writes with a 200 ms SO_SNDTIMEO
 * until one copies nothing (Linux still fits a few bytes into the last
 * segment after EAGAIN). */
static void fill(int fd)
{
    static char buf[65536];
    int size = 65536;
    struct timeval short_wait = {.tv_usec = 200000}, none = {0, 0};

    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) != 0)
        die("SO_SNDBUF");
    set_nonblock(fd, true);
    for (;;) {
        while (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) > 0 || send(fd, buf, 1, MSG_NOSIGNAL) > 0)
            ;
        if (errno != EAGAIN)
            die("fill");
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, 300) == 0)
            break;
    }
    set_nonblock(fd, false);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &short_wait, sizeof(short_wait));
    while (send(fd, buf, 4096, MSG_NOSIGNAL) > 0)
        ;
    if (errno != EAGAIN)
        die("fill (blocking)");
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
}

static int tcp_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    return fd;
}

static struct sockaddr_in addr_of(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    return a;
}

/* ---- the checks ---- */

static int check_accept(int l)
{
    int c;

    handle(SIGALRM, 0);
    CHECK("accept, handler without SA_RESTART, until it returns", UNTIL_ALRM, accept(l, NULL, NULL), "");
    handle(SIGUSR1, SA_RESTART);
    begin(three_then(SIGUSR1, 'C'));
    c = accept(l, NULL, NULL);
    end("accept, SA_RESTART: 3 signals, then a connection", c >= 0 ? 1 : -1, errno, c >= 0 ? " (a connection)" : "");
    if (c < 0)
        die("accept");
    set_timeo(l, SO_RCVTIMEO, 10);
    handle(SIGALRM, SA_RESTART);
    CHECK("accept4, SO_RCVTIMEO 10 s, SA_RESTART, until it returns", UNTIL_ALRM, accept4(l, NULL, NULL, 0), "");
    set_timeo(l, SO_RCVTIMEO, 0);
    return c;
}

/* Accepts the connection command cmd brings about while signals of job
 * arrive; prints whether one came. */
static void accept_while(int l, const char *label, struct job j)
{
    begin(j);
    int c = accept(l, NULL, NULL);
    end(label, c >= 0 ? 1 : -1, errno, c >= 0 ? " (a connection)" : "");
    if (c >= 0)
        close(c);
}

static void check_not_interrupting(int l)
{
    handle(SIGUSR2, 0);
    accept_while(l, "accept, a handler without SA_RESTART runs in another thread",
                 (struct job){.sig = SIGUSR2, .count = 3, .to_self = true, .then_cmd = 'C'});
    disposition(SIGCHLD, SIG_DFL);
    accept_while(l, "accept, SIGCHLD with its default action (none)",
                 (struct job){.sig = SIGCHLD, .count = 3, .no_wait = true, .then_cmd = 'C'});
    disposition(SIGUSR2, SIG_IGN);
    accept_while(l, "accept, SIGUSR2 ignored (SIG_IGN)",
                 (struct job){.sig = SIGUSR2, .count = 3, .no_wait = true, .then_cmd = 'C'});
}

static void check_reads(int c)
{
    char buf[16];
    struct iovec v = {buf, sizeof(buf)};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    char extra[64];

    handle(SIGALRM, 0);
    CHECK("recv, without SA_RESTART, until it returns", UNTIL_ALRM, recv(c, buf, sizeof(buf), 0), "");
    CHECK("read, without SA_RESTART, until it returns", UNTIL_ALRM, read(c, buf, sizeof(buf)), "");
    CHECK("readv, without SA_RESTART, until it returns", UNTIL_ALRM, readv(c, &v, 1), "");
    CHECK("recvfrom, without SA_RESTART, until it returns", UNTIL_ALRM, recvfrom(c, buf, sizeof(buf), 0, NULL, NULL),
          "");
    CHECK("recvmsg, without SA_RESTART, until it returns", UNTIL_ALRM, recvmsg(c, &m, 0), "");
    handle(SIGUSR1, SA_RESTART);
    CHECK("recv, SA_RESTART: 3 signals, then a byte", three_then(SIGUSR1, 'B'), recv(c, buf, sizeof(buf), 0), "");
    CHECK("read, SA_RESTART: 3 signals, then a byte", three_then(SIGUSR1, 'B'), read(c, buf, sizeof(buf)), "");
    set_timeo(c, SO_RCVTIMEO, 10);
    handle(SIGALRM, SA_RESTART);
    CHECK("recv, SO_RCVTIMEO 10 s, SA_RESTART, until it returns", UNTIL_ALRM, recv(c, buf, sizeof(buf), 0), "");
    CHECK("read, SO_RCVTIMEO 10 s, SA_RESTART, until it returns", UNTIL_ALRM, read(c, buf, sizeof(buf)), "");
    set_timeo(c, SO_RCVTIMEO, 0);
    /* some bytes first, then the signal: their count, not EINTR */
    handle(SIGALRM, 0);
    command('T');
    wait_bytes(c, 3);
    CHECK("recv MSG_WAITALL of 10, 3 there, without SA_RESTART", UNTIL_ALRM, recv(c, buf, 10, MSG_WAITALL), "");
    handle(SIGALRM, SA_RESTART);
    command('T');
    wait_bytes(c, 3);
    CHECK("recv MSG_WAITALL of 10, 3 there, SA_RESTART", UNTIL_ALRM, recv(c, buf, 10, MSG_WAITALL), "");
    /* an SA_SIGINFO handler gets what the kernel gave */
    struct sigaction sa = {.sa_sigaction = on_info, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    g_info_ok = 0;
    begin(UNTIL_ALRM);
    long rc = recv(c, buf, sizeof(buf), 0);
    int err = errno;
    snprintf(extra, sizeof(extra), ", siginfo and context %s", g_info_ok ? "given" : "missing");
    end("recv, SA_SIGINFO handler, until it returns", rc, err, extra);
}

static void check_waits(int c)
{
    char buf[16];
    struct pollfd p = {.fd = c, .events = POLLIN};
    struct epoll_event ev = {.events = EPOLLIN}, out;
    int ep = epoll_create1(0);
    fd_set r;
    sigset_t block, none, old;
    struct timespec forever = {.tv_sec = 30};

    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) != 0)
        die("epoll");
    handle(SIGALRM, SA_RESTART);
    CHECK("epoll_wait, SA_RESTART (never restarts), until it returns", UNTIL_ALRM, epoll_wait(ep, &out, 1, -1), "");
    CHECK("epoll_pwait, SA_RESTART, until it returns", UNTIL_ALRM, epoll_pwait(ep, &out, 1, -1, NULL), "");
    CHECK("epoll_pwait2, SA_RESTART, until it returns", UNTIL_ALRM, epoll_pwait2(ep, &out, 1, NULL, NULL), "");
    CHECK("poll, SA_RESTART, until it returns", UNTIL_ALRM, poll(&p, 1, -1), "");
    CHECK("ppoll, SA_RESTART, until it returns", UNTIL_ALRM, ppoll(&p, 1, NULL, NULL), "");
    FD_ZERO(&r);
    FD_SET(c, &r);
    CHECK("select, SA_RESTART, until it returns", UNTIL_ALRM, select(c + 1, &r, NULL, NULL, NULL), "");
    FD_SET(c, &r);
    CHECK("pselect, SA_RESTART, until it returns", UNTIL_ALRM, pselect(c + 1, &r, NULL, NULL, &forever, NULL), "");

    /* the sigmask argument holds for the whole wait */
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&none);
    handle(SIGUSR1, 0);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    CHECK("ppoll, SIGUSR1 blocked but not in the wait's mask, until it returns",
          ((struct job){.sig = SIGUSR1, .count = UNTIL_RETURN, .no_wait = true}), ppoll(&p, 1, NULL, &none), "");
    CHECK("epoll_pwait, SIGUSR1 blocked but not in the wait's mask",
          ((struct job){.sig = SIGUSR1, .count = UNTIL_RETURN, .no_wait = true}), epoll_pwait(ep, &out, 1, -1, &none),
          "");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    char extra[64];
    begin((struct job){.sig = SIGUSR1, .count = 1, .no_wait = true, .then_cmd = 'B'});
    long rc = ppoll(&p, 1, NULL, &block);
    int err = errno;
    snprintf(extra, sizeof(extra), ", handler ran %d time(s) by the return", (int)g_hits[SIGUSR1]);
    end("ppoll, SIGUSR1 in the wait's mask: a signal, then a byte", rc, err, extra);
    drain(c);
    begin((struct job){.sig = SIGUSR1, .count = 1, .no_wait = true, .then_cmd = 'B'});
    rc = epoll_pwait(ep, &out, 1, -1, &block);
    err = errno;
    snprintf(extra, sizeof(extra), ", handler ran %d time(s) by the return", (int)g_hits[SIGUSR1]);
    end("epoll_pwait, SIGUSR1 in the wait's mask: a signal, then a byte", rc, err, extra);
    drain(c);

    /* handlers elsewhere and default actions interrupt nothing */
    handle(SIGUSR2, 0);
    CHECK("epoll_wait, a handler runs in another thread, then a byte",
          ((struct job){.sig = SIGUSR2, .count = 3, .to_self = true, .then_cmd = 'B'}), epoll_wait(ep, &out, 1, -1),
          "");
    drain(c);
    CHECK("recv, a handler runs in another thread, then a byte",
          ((struct job){.sig = SIGUSR2, .count = 3, .to_self = true, .then_cmd = 'B'}), recv(c, buf, sizeof(buf), 0),
          "");
    disposition(SIGCHLD, SIG_DFL);
    CHECK("epoll_wait, SIGCHLD default action, then a byte",
          ((struct job){.sig = SIGCHLD, .count = 3, .no_wait = true, .then_cmd = 'B'}), epoll_wait(ep, &out, 1, -1), "");
    drain(c);
    disposition(SIGWINCH, SIG_DFL);
    CHECK("poll, SIGWINCH default action, then a byte",
          ((struct job){.sig = SIGWINCH, .count = 3, .no_wait = true, .then_cmd = 'B'}), poll(&p, 1, -1), "");
    drain(c);
    close(ep);
}

/* A blocking send of 8 MiB to a new connection whose peer reads nothing,
 * SIGALRM (flags) until it returns: what part was sent. */
static void partial_write(int l, int flags, const char *label)
{
    static char big[PARTIAL_LEN];
    int c, err;

    command('C');
    if ((c = accept(l, NULL, NULL)) < 0)
        die("accept for a partial write");
    handle(SIGALRM, flags);
    begin(UNTIL_ALRM);
    long n = send(c, big, sizeof(big), MSG_NOSIGNAL);
    err = errno;
    bool part = n > 0 && n < (long)sizeof(big);
    end(label, part ? 1 : n, err, part ? " (part of it)" : "");
    close(c);
}

static void check_writes(int l)
{
    static char big[PARTIAL_LEN];
    char extra[64];
    struct iovec v = {big, 1};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    int c, rc, err;

    command('C');
    if ((c = accept(l, NULL, NULL)) < 0)
        die("accept for writes");
    fill(c);
    handle(SIGALRM, 0);
    CHECK("send, buffer full, without SA_RESTART, until it returns", UNTIL_ALRM, send(c, big, 1, MSG_NOSIGNAL), "");
    CHECK("write, buffer full, without SA_RESTART, until it returns", UNTIL_ALRM, write(c, big, 1), "");
    CHECK("writev, buffer full, without SA_RESTART, until it returns", UNTIL_ALRM, writev(c, &v, 1), "");
    CHECK("sendto, buffer full, without SA_RESTART, until it returns", UNTIL_ALRM,
          sendto(c, big, 1, MSG_NOSIGNAL, NULL, 0), "");
    CHECK("sendmsg, buffer full, without SA_RESTART, until it returns", UNTIL_ALRM, sendmsg(c, &m, MSG_NOSIGNAL), "");
    handle(SIGUSR1, SA_RESTART);
    handle(SIGUSR2, 0);
    begin((struct job){.sig = SIGUSR1, .count = 3, .then_sig = SIGUSR2});
    rc = (int)send(c, big, 1, MSG_NOSIGNAL);
    err = errno;
    snprintf(extra, sizeof(extra), ", SIGUSR1 handled %d, SIGUSR2 %d", (int)g_hits[SIGUSR1], (int)g_hits[SIGUSR2]);
    end("send, SA_RESTART: 3 signals (restarts), then one without", rc, err, extra);
    set_timeo(c, SO_SNDTIMEO, 10);
    handle(SIGALRM, SA_RESTART);
    CHECK("write, SO_SNDTIMEO 10 s, SA_RESTART, until it returns", UNTIL_ALRM, write(c, big, 1), "");
    CHECK("send, SO_SNDTIMEO 10 s, SA_RESTART, until it returns", UNTIL_ALRM, send(c, big, 1, MSG_NOSIGNAL), "");
    close(c);

    /* part of it written, then the signal: the count written */
    partial_write(l, 0, "send of 8 MiB, the peer not reading, without SA_RESTART");
    partial_write(l, SA_RESTART, "send of 8 MiB, the peer not reading, SA_RESTART");
}

static void check_connects(void)
{
    struct sockaddr_in nowhere = addr_of("10.0.0.3", 9), there = g_peer;
    char extra[64];
    int s, rc, err;
    struct pollfd p;

    handle(SIGALRM, 0);
    s = tcp_socket();
    CHECK("connect (no ARP answer), without SA_RESTART, until it returns", UNTIL_ALRM,
          connect(s, (struct sockaddr *)&nowhere, sizeof(nowhere)), "");
    set_nonblock(s, true);
    rc = connect(s, (struct sockaddr *)&nowhere, sizeof(nowhere));
    show("connect again, non-blocking, still connecting", rc, errno, "");
    close(s);
    s = tcp_socket();
    set_timeo(s, SO_SNDTIMEO, 10);
    handle(SIGALRM, SA_RESTART);
    CHECK("connect (no ARP answer), SO_SNDTIMEO 10 s, SA_RESTART", UNTIL_ALRM,
          connect(s, (struct sockaddr *)&nowhere, sizeof(nowhere)), "");
    close(s);
    s = tcp_socket();
    handle(SIGUSR1, SA_RESTART);
    handle(SIGUSR2, 0);
    begin((struct job){.sig = SIGUSR1, .count = 3, .then_sig = SIGUSR2});
    rc = connect(s, (struct sockaddr *)&nowhere, sizeof(nowhere));
    err = errno;
    snprintf(extra, sizeof(extra), ", SIGUSR1 handled %d, SIGUSR2 %d", (int)g_hits[SIGUSR1], (int)g_hits[SIGUSR2]);
    end("connect (no ARP answer), SA_RESTART: 3 signals, then one without", rc, err, extra);
    close(s);

    /* what a connect says after one that did not wait for the end */
    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    rc = connect(s, (struct sockaddr *)&there, sizeof(there));
    printf("%-66s -> %d %s\n", "connect, non-blocking, to the client's listener", rc,
           rc < 0 ? strerrorname_np(errno) : "");
    p = (struct pollfd){.fd = s, .events = POLLOUT};
    rc = poll(&p, 1, 5000);
    printf("%-66s -> %d%s\n", "poll POLLOUT", rc, p.revents == POLLOUT ? " POLLOUT" : " (other)");
    rc = connect(s, (struct sockaddr *)&there, sizeof(there));
    printf("%-66s -> %d %s\n", "connect again, once connected", rc, rc < 0 ? strerrorname_np(errno) : "");
    rc = connect(s, (struct sockaddr *)&there, sizeof(there));
    printf("%-66s -> %d %s\n", "connect a third time", rc, rc < 0 ? strerrorname_np(errno) : "");
    fflush(stdout);
    close(s);
}

/* What sigaction, signal and friends answer about handlers: the program's
 * own, never a stand-in. */
static void check_queries(void)
{
    struct sigaction sa, old;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sig;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR1, NULL, &old);
    printf("%-66s -> %s flags %#x mask has SIGUSR2 %d\n", "sigaction query after SA_RESTART|SA_ONSTACK",
           old.sa_handler == on_sig ? "our handler" : "another handler", (unsigned)old.sa_flags,
           sigismember(&old.sa_mask, SIGUSR2));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    siginterrupt(SIGUSR1, 1); /* deprecated, and still called (Python's asyncio did) */
#pragma GCC diagnostic pop
    sigaction(SIGUSR1, NULL, &old);
    printf("%-66s -> %s flags %#x\n", "after siginterrupt(SIGUSR1, 1)",
           old.sa_handler == on_sig ? "our handler" : "another handler", (unsigned)old.sa_flags);
    sighandler_t prev = signal(SIGUSR1, SIG_IGN);
    printf("%-66s -> %s\n", "signal(SIGUSR1, SIG_IGN) returns", prev == on_sig ? "our handler" : "another handler");
    prev = signal(SIGUSR1, on_sig);
    sigaction(SIGUSR1, NULL, &old);
    printf("%-66s -> %s, then %s flags %#x\n", "signal(SIGUSR1, h) after siginterrupt",
           prev == SIG_IGN ? "SIG_IGN" : "another", old.sa_handler == on_sig ? "our handler" : "another handler",
           (unsigned)old.sa_flags);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    sigaction(SIGUSR2, NULL, &old);
    printf("%-66s -> %s flags %#x\n", "SA_SIGINFO|SA_RESETHAND handler after it ran",
           old.sa_handler == SIG_DFL ? "SIG_DFL" : "not SIG_DFL", (unsigned)old.sa_flags);
    sysv_signal(SIGUSR2, on_sig);
    raise(SIGUSR2);
    sigaction(SIGUSR2, NULL, &old);
    printf("%-66s -> %s flags %#x\n", "sysv_signal handler after it ran",
           old.sa_handler == SIG_DFL ? "SIG_DFL" : "not SIG_DFL", (unsigned)old.sa_flags);
    fflush(stdout);
}

static int listen_on(int port)
{
    int l = tcp_socket(), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 16) != 0)
        die("bind/listen");
    return l;
}

static int server(int port)
{
    int lc = listen_on(port), ld = listen_on(port + 1), c;
    socklen_t len = sizeof(g_peer);

    g_main = pthread_self();
    fprintf(stderr, "signals: listening\n");
    if ((g_ctl = accept(lc, (struct sockaddr *)&g_peer, &len)) < 0)
        die("accept control");
    g_peer.sin_port = htons((uint16_t)(port + 2));
    check_queries();
    close(check_accept(ld));
    check_not_interrupting(ld);
    command('C');
    if ((c = accept(ld, NULL, NULL)) < 0)
        die("accept for reads");
    check_reads(c);
    check_waits(c);
    check_writes(ld);
    check_connects();
    command('Q');
    close(c);
    printf("signals: server done\n");
    return 0;
}

/* ---- the client (on the kernel) ---- */

static int client(const char *host, int port)
{
    struct sockaddr_in ctl = addr_of(host, port), data = addr_of(host, port + 1);
    int c = tcp_socket(), d = -1, l = listen_on(port + 2), old[32], nold = 0;
    char cmd;

    if (connect(c, (struct sockaddr *)&ctl, sizeof(ctl)) != 0)
        die("connect control");
    while (read(c, &cmd, 1) == 1) {
        switch (cmd) {
        case 'C':
            /* the older ones stay open: the server may still hold them */
            if (d >= 0 && nold < 32)
                old[nold++] = d;
            d = tcp_socket();
            int small = 4096; /* a writer that fills it blocks for good */
            setsockopt(d, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
            if (connect(d, (struct sockaddr *)&data, sizeof(data)) != 0)
                die("connect data");
            break;
        case 'B':
            if (write(d, "b", 1) != 1)
                die("write");
            break;
        case 'T':
            if (write(d, "ttt", 3) != 3)
                die("write");
            break;
        case 'Q':
            while (nold > 0)
                close(old[--nold]);
            close(d);
            close(l);
            close(c);
            return 0;
        default:
            fprintf(stderr, "signals: unknown command %c\n", cmd);
            return 1;
        }
    }
    fprintf(stderr, "signals: the server went away\n");
    return 1;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 3 && strcmp(argv[1], "server") == 0)
        return server(atoi(argv[2]));
    if (argc == 4 && strcmp(argv[1], "client") == 0)
        return client(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: signals server PORT | signals client HOST PORT\n");
    return 2;
}
