/*
 * sock_bench.c - connection-rate and idle-connection benchmarks on plain
 * POSIX sockets, so that one unmodified binary runs on the Linux kernel
 * and, under build/preload/sluice-run, on Sluice.
 *
 *   sock_bench server ADDR PORT [--size BYTES] [--seconds S]
 *       an epoll server on ADDR:PORT. Every connection it accepts is read
 *       until --size bytes (default 64) have arrived; it then writes
 *       --size bytes back and closes (the server closes first, as an
 *       HTTP/1.0 server does). A connection the peer closes before that is
 *       closed too. Prints "sock_bench: listening" once ready and
 *       "sock_bench: open N" whenever the number of open connections
 *       changed in the last 100 ms, so that a script can see idle
 *       connections pile up. Stops after --seconds (default 60).
 *   sock_bench crr ADDR PORT [--size BYTES] [--seconds S]
 *       short connections one after the other for S seconds (default 5):
 *       connect, write --size bytes, read --size bytes, read the end of
 *       stream, close. Prints
 *         sock_bench: crr conns=N seconds=T rate=N/T per_s failed=F
 *       A failed connection (any call failing, a short reply) is counted
 *       and the loop goes on; more than 100 failures end the run. The
 *       first connect is retried for up to 20 s while refused (a server
 *       whose network is still coming up); the clock starts after it.
 *   sock_bench hold ADDR PORT N [--seconds S]
 *       opens N connections (blocking connects, one after the other) and
 *       holds them idle for S seconds (default 20), sending nothing; prints
 *       "sock_bench: holding N" once all are up, then closes them all.
 *       The first connect is retried as crr's is; after it the client
 *       pauses 2 s (a script takes the server's baseline memory then).
 *
 * Exit status 0 on success, 1 on failure (one "sock_bench: ..." line on
 * stderr says what failed), 2 for bad arguments. Raises RLIMIT_NOFILE as
 * far as it may.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256

struct conn_state {
    bool open;
    uint32_t got;
};

static uint32_t size = 64;
static long seconds = -1;
static struct conn_state *conns;
static int conns_len;

/* Monotonic time in seconds. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills *sa from ADDR and PORT; false when ADDR is not an IPv4 address. */
static bool make_addr(const char *addr, int port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, addr, &sa->sin_addr) == 1;
}

/* Raises the soft limit of open files to the hard one (and both to
 * 1048576 when we may). */
static void raise_nofile(void)
{
    struct rlimit rl = {1048576, 1048576};
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        return;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Writes all len bytes of buf to fd; 0 or -1 (errno set). */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads exactly len bytes; 0, or -1 on an error or a short stream. */
static int read_all(int fd, char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ECONNRESET;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes sure conns[fd] exists; false when out of memory. */
static bool track(int fd)
{
    if (fd < conns_len)
        return true;
    int n = conns_len ? conns_len : 1024;
    while (n <= fd)
        n *= 2;
    struct conn_state *c = realloc(conns, sizeof(*c) * (size_t)n);
    if (c == NULL)
        return false;
    memset(c + conns_len, 0, sizeof(*c) * (size_t)(n - conns_len));
    conns = c;
    conns_len = n;
    return true;
}

/* The epoll server (see the header comment); 0 or 1. */
static int run_server(const char *addr, int port)
{
    struct sockaddr_in sa;
    struct epoll_event ev, events[MAX_EVENTS];
    char *buf = malloc(size > 65536 ? size : 65536), *reply = calloc(1, size);
    int one = 1, lfd, ep;
    long open_now = 0, open_said = -1;
    double end = now_s() + (double)(seconds < 0 ? 60 : seconds), next_say = 0;

    if (buf == NULL || reply == NULL || !make_addr(addr, port, &sa)) {
        fprintf(stderr, "sock_bench: bad address %s or out of memory\n", addr);
        return 1;
    }
    memset(reply, 'r', size);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 4096) != 0) {
        fprintf(stderr, "sock_bench: listen on %s:%d: %s\n", addr, port, strerror(errno));
        return 1;
    }
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        fprintf(stderr, "sock_bench: epoll: %s\n", strerror(errno));
        return 1;
    }
    printf("sock_bench: listening\n");
    while (now_s() < end) {
        int n = epoll_wait(ep, events, MAX_EVENTS, 100);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "sock_bench: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                for (int k = 0; k < 64; k++) {
                    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (c < 0)
                        break;
                    ev.events = EPOLLIN;
                    ev.data.fd = c;
                    if (!track(c) || epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) != 0) {
                        close(c);
                        continue;
                    }
                    conns[c].open = true;
                    conns[c].got = 0;
                    open_now++;
                }
                continue;
            }
            ssize_t r = read(fd, buf, 65536);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            bool done = r <= 0;
            if (r > 0) {
                conns[fd].got += (uint32_t)r;
                if (conns[fd].got >= size) {
                    if (write_all(fd, reply, size) != 0 && errno != EAGAIN)
                        fprintf(stderr, "sock_bench: write: %s\n", strerror(errno));
                    done = true;
                }
            }
            if (done) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                conns[fd].open = false;
                open_now--;
            }
        }
        double t = now_s();
        if (open_now != open_said && t >= next_say) {
            printf("sock_bench: open %ld\n", open_now);
            open_said = open_now;
            next_say = t + 0.1;
        }
    }
    return 0;
}

/* Connects fd to sa; a refused connection is retried (a new socket each
 * time, *fd replaced) for up to `patience` seconds, for a server whose
 * listener is not up yet. 0, or -1 with errno set. */
static int connect_retry(int *fd, const struct sockaddr_in *sa, double patience)
{
    double end = now_s() + patience;

    for (;;) {
        if (connect(*fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
            return 0;
        if ((errno != ECONNREFUSED && errno != ENETDOWN && errno != ETIMEDOUT) || now_s() > end)
            return -1;
        close(*fd);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        *fd = socket(AF_INET, SOCK_STREAM, 0);
        if (*fd < 0)
            return -1;
    }
}

/* The connection-rate client (see the header comment); 0 or 1. */
static int run_crr(const char *addr, int port)
{
    struct sockaddr_in sa;
    char *req = malloc(size), *rep = malloc(size), tail[16];
    long done = 0, failed = 0;
    double t0 = now_s(), end;

    if (req == NULL || rep == NULL || !make_addr(addr, port, &sa)) {
        fprintf(stderr, "sock_bench: bad address %s or out of memory\n", addr);
        return 1;
    }
    memset(req, 'q', size);
    end = t0 + (double)(seconds < 0 ? 5 : seconds);
    while (now_s() < end && failed <= 100) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (fd < 0) {
            fprintf(stderr, "sock_bench: socket: %s\n", strerror(errno));
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        bool ok = connect_retry(&fd, &sa, done + failed == 0 ? 20 : 0) == 0 && write_all(fd, req, size) == 0 &&
                  read_all(fd, rep, size) == 0;
        if (ok) {
            ssize_t r;
            while ((r = read(fd, tail, sizeof(tail))) > 0 || (r < 0 && errno == EINTR))
                ;
            ok = r == 0;
        }
        if (!ok && failed < 3)
            fprintf(stderr, "sock_bench: connection %ld: %s\n", done + failed, strerror(errno));
        close(fd);
        if (ok && done == 0 && failed == 0) {
            /* the clock starts after the first connection (which may
             * have waited for the server's network to come up) */
            t0 = now_s();
            end = t0 + (double)(seconds < 0 ? 5 : seconds);
        }
        if (ok)
            done++;
        else
            failed++;
    }
    double t = now_s() - t0;
    printf("sock_bench: crr conns=%ld seconds=%.3f rate=%.1f per_s failed=%ld\n", done, t, (double)done / t, failed);
    return failed > 100 || done == 0 ? 1 : 0;
}

/* The idle-connection client (see the header comment); 0 or 1. */
static int run_hold(const char *addr, int port, long n)
{
    struct sockaddr_in sa;
    int *fds = calloc((size_t)n, sizeof(int));
    long up = 0;

    if (fds == NULL || !make_addr(addr, port, &sa)) {
        fprintf(stderr, "sock_bench: bad address %s or out of memory\n", addr);
        return 1;
    }
    double deadline = now_s() + 120;
    for (; up < n && now_s() < deadline; up++) {
        fds[up] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[up] < 0 || connect_retry(&fds[up], &sa, up == 0 ? 20 : 0) != 0) {
            fprintf(stderr, "sock_bench: connection %ld of %ld: %s\n", up + 1, n, strerror(errno));
            break;
        }
        if (up == 0) {
            /* a pause after the first connection, so that the server's
             * memory can be taken with its network up and one connection */
            printf("sock_bench: first connection up\n");
            fflush(stdout);
            struct timespec ts = {2, 0};
            nanosleep(&ts, NULL);
        }
    }
    if (up == n)
        printf("sock_bench: holding %ld\n", up);
    fflush(stdout);
    /* sleep in short steps, through a blocking call the interposer drives */
    double end = now_s() + (double)(seconds < 0 ? 20 : seconds);
    while (now_s() < end) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (long i = 0; i < up; i++)
        close(fds[i]);
    return up == n ? 0 : 1;
}

/* Prints the usage; returns 2. */
static int usage(void)
{
    fprintf(stderr, "usage: sock_bench server ADDR PORT [--size BYTES] [--seconds S]\n"
                    "       sock_bench crr ADDR PORT [--size BYTES] [--seconds S]\n"
                    "       sock_bench hold ADDR PORT N [--seconds S]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int first_opt = 4;
    long n = 0;

    if (argc < 4)
        return usage();
    int port = atoi(argv[3]);
    if (port <= 0 || port > 65535)
        return usage();
    if (strcmp(argv[1], "hold") == 0) {
        if (argc < 5 || (n = atol(argv[4])) <= 0 || n > 1000000)
            return usage();
        first_opt = 5;
    } else if (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "crr") != 0) {
        return usage();
    }
    for (int i = first_opt; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        long v = atol(argv[i + 1]);
        if (strcmp(argv[i], "--size") == 0 && v >= 1 && v <= 1048576)
            size = (uint32_t)v;
        else if (strcmp(argv[i], "--seconds") == 0 && v >= 1 && v <= 3600)
            seconds = v;
        else
            return usage();
        i++;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    raise_nofile();
    if (strcmp(argv[1], "server") == 0)
        return run_server(argv[2], port);
    if (strcmp(argv[1], "crr") == 0)
        return run_crr(argv[2], port);
    return run_hold(argv[2], port, n);
}
