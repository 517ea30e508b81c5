/*
 * ready_order.c - the order and the semantics of readiness, run against the
 * kernel and under sluice-run, the two outputs compared line by line
 * (tests/preload/run.sh). Linux's fs/eventpoll.c is the reference.
 *
 *   ready_order server PORT          prints the semantics lines, then serves
 *   ready_order client HOST PORT R   prints one line per ordering config
 *
 * Part 1, semantics (the server drives): the client connects A, B, C; the
 * server makes data arrive on a connection of its choice by writing 'S' to
 * it (the client answers every 'S' with one byte) and waits until the byte
 * is there; then it prints what epoll reports: the ready list in arrival
 * order, maxevents smaller than the ready count, level- and edge-triggered,
 * EPOLLONESHOT, MOD and DEL of a queued member, a dup'ed fd, one socket in
 * two sets, an epoll fd inside another set and in poll/select, and
 * epoll_ctl's errors.
 *
 * Part 2, order: for each of level-triggered epoll, edge-triggered epoll,
 * poll and select, with 2 and then 3 connections, R rounds: the client
 * sends one request on each connection, back to back (microseconds apart),
 * in an order that changes every round (epoll) or in accept order
 * (poll/select, which report in fd order); the server, busy for a moment
 * first so that all of them are waiting, handles what each wait returns
 * in the order returned and answers each request with the place it was
 * handled in; the client counts the rounds handled in the order sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUSY_US 300 /* the server's work before each wait: requests pile up */

enum mode { M_LT, M_ET, M_POLL, M_SELECT, M_COUNT };
static const char *mode_name[M_COUNT] = {"epoll-lt", "epoll-et", "poll", "select"};

struct req {
    uint32_t round, conn;
};

static void die(const char *what)
{
    fprintf(stderr, "ready_order: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write");
        c += w;
        n -= (size_t)w;
    }
}

/* Reads exactly n bytes (blocking); 0 at end of stream before any. */
static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, c + got, n - got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            poll(&pfd, 1, 1000);
            continue;
        }
        if (r < 0)
            die("read");
        if (r == 0) {
            if (got == 0)
                return 0;
            errno = EPIPE;
            die("read: end of stream mid-message");
        }
        got += (size_t)r;
    }
    return 1;
}

/* ---- part 1: semantics (server side) ---- */

static int conn[3];         /* A, B, C as accepted */
static const char names[] = "ABCd";

static int avail(int fd)
{
    int n = 0;
    ioctl(fd, FIONREAD, &n);
    return n;
}

/* Makes one byte arrive on fd: asks the client for it and waits until it is
 * there (FIONREAD grows), up to 5 s. */
static void arrive(int fd)
{
    int before = avail(fd);
    struct timespec t0, t;

    write_all(fd, "S", 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (avail(fd) > before)
            return;
        if (poll(&pfd, 1, 10) < 0 && errno != EINTR)
            die("poll");
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 5) {
            errno = ETIMEDOUT;
            die("waiting for a byte from the client");
        }
        if (pfd.revents & POLLIN)
            usleep(50); /* readable already (older bytes): look again */
    }
}

static void drain(int fd)
{
    char buf[64];
    while (avail(fd) > 0 && read(fd, buf, sizeof(buf)) > 0)
        ;
}

/* Prints what one epoll_wait reports: "label: N [names...]", the name of a
 * member being the letter in its data. */
static void show_wait(const char *label, int ep, int max, int timeout_ms)
{
    struct epoll_event evs[8];
    int n = epoll_wait(ep, evs, max, timeout_ms);

    printf("%-44s -> %d", label, n);
    if (n < 0)
        printf(" %s", strerror(errno));
    for (int i = 0; i < n; i++)
        printf(" %c%s%s", (char)evs[i].data.u32, evs[i].events & EPOLLIN ? "" : "(not IN)",
               evs[i].events & EPOLLOUT ? "+OUT" : "");
    printf("\n");
    fflush(stdout);
}

static void show_rc(const char *label, int rc)
{
    printf("%-44s -> %d%s%s\n", label, rc, rc < 0 ? " " : "", rc < 0 ? strerror(errno) : "");
    fflush(stdout);
}

static int ctl(int ep, int op, int fd, uint32_t events, char name)
{
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)name};
    return epoll_ctl(ep, op, fd, &ev);
}

static void sem_order(int ep)
{
    for (int i = 0; i < 3; i++)
        ctl(ep, EPOLL_CTL_ADD, conn[i], EPOLLIN, names[i]);
    show_wait("level: nothing ready", ep, 8, 0);
    arrive(conn[2]);
    arrive(conn[0]);
    arrive(conn[1]);
    show_wait("level: C, A, B arrived; maxevents 2", ep, 2, 0);
    show_wait("level: the rest first, then again at the tail", ep, 8, 0);
    for (int i = 0; i < 3; i++)
        drain(conn[i]);
    show_wait("level: all read", ep, 8, 0);
}

static void sem_edge(int ep)
{
    for (int i = 0; i < 3; i++)
        ctl(ep, EPOLL_CTL_MOD, conn[i], EPOLLIN | EPOLLET, names[i]);
    arrive(conn[1]);
    arrive(conn[0]);
    show_wait("edge: B, A arrived", ep, 8, 0);
    show_wait("edge: unread, no new event", ep, 8, 0);
    arrive(conn[0]);
    show_wait("edge: one more on A", ep, 8, 0);
    for (int i = 0; i < 3; i++)
        drain(conn[i]);
}

static void sem_oneshot(int ep)
{
    ctl(ep, EPOLL_CTL_MOD, conn[0], EPOLLIN | EPOLLONESHOT, 'A');
    arrive(conn[0]);
    show_wait("oneshot: A arrived", ep, 8, 0);
    arrive(conn[0]);
    show_wait("oneshot: disarmed", ep, 8, 0);
    ctl(ep, EPOLL_CTL_MOD, conn[0], EPOLLIN, 'A');
    show_wait("oneshot: MOD re-arms, A still ready", ep, 8, 0);
    drain(conn[0]);
    ctl(ep, EPOLL_CTL_MOD, conn[1], EPOLLIN, 'B');
    ctl(ep, EPOLL_CTL_MOD, conn[2], EPOLLIN, 'C');
    arrive(conn[1]);
    arrive(conn[2]);
    ctl(ep, EPOLL_CTL_DEL, conn[1], 0, 'B');
    show_wait("DEL of queued B", ep, 8, 0);
    ctl(ep, EPOLL_CTL_MOD, conn[2], EPOLLIN | EPOLLOUT, 'C');
    show_wait("MOD of queued C adds OUT", ep, 8, 0);
    ctl(ep, EPOLL_CTL_MOD, conn[2], EPOLLIN, 'C');
    drain(conn[1]);
    drain(conn[2]);
    show_wait("all read", ep, 8, 0);
}

/* A dup'ed fd is a registration of its own; closing one fd of the socket
 * leaves the registration made under it (the socket is still open). */
static int sem_dup(int ep)
{
    int d = dup(conn[0]);

    show_rc("ADD dup of A", ctl(ep, EPOLL_CTL_ADD, d, EPOLLIN, 'd'));
    arrive(d);
    show_wait("dup: both registrations report", ep, 8, 0);
    drain(d);
    close(conn[0]);
    show_rc("DEL of closed A", ctl(ep, EPOLL_CTL_DEL, conn[0], 0, 'A'));
    arrive(d);
    show_wait("A closed, its registration lives on", ep, 8, 0);
    drain(d);
    return d;
}

static void sem_two_sets(int ep)
{
    int ep2 = epoll_create1(0);

    ctl(ep2, EPOLL_CTL_ADD, conn[2], EPOLLIN, 'C');
    arrive(conn[2]);
    show_wait("two sets: the first", ep, 8, 0);
    show_wait("two sets: the second", ep2, 8, 0);
    drain(conn[2]);
    close(ep2);
}

static void sem_nested(int ep)
{
    int outer = epoll_create1(0);
    struct pollfd pfd = {.fd = ep, .events = POLLIN};
    struct timeval tv = {0, 0};
    fd_set rd;

    show_rc("ADD epoll fd into outer", ctl(outer, EPOLL_CTL_ADD, ep, EPOLLIN, 'E'));
    show_rc("ADD outer into it: a loop", ctl(ep, EPOLL_CTL_ADD, outer, EPOLLIN, 'O'));
    show_wait("nested: nothing ready", outer, 8, 0);
    arrive(conn[2]);
    show_wait("nested: C arrived, outer", outer, 8, 0);
    int rc = poll(&pfd, 1, 0);
    printf("%-44s -> %d revents %#x\n", "nested: poll on the inner", rc, pfd.revents);
    FD_ZERO(&rd);
    FD_SET(ep, &rd);
    printf("%-44s -> %d\n", "nested: select on the inner", select(ep + 1, &rd, NULL, NULL, &tv));
    show_wait("nested: the inner itself", ep, 8, 0);
    drain(conn[2]);
    close(outer);
}

static void sem_errors(int ep)
{
    struct epoll_event ev = {.events = EPOLLIN};
    int other = epoll_create1(0);

    show_rc("ADD twice: EEXIST", ctl(ep, EPOLL_CTL_ADD, conn[2], EPOLLIN, 'C'));
    show_rc("MOD of one not added: ENOENT", ctl(other, EPOLL_CTL_MOD, conn[2], EPOLLIN, 'C'));
    show_rc("DEL of one not added: ENOENT", ctl(other, EPOLL_CTL_DEL, conn[2], 0, 'C'));
    show_rc("bad op", ctl(ep, 99, conn[2], EPOLLIN, 'C'));
    show_rc("ADD NULL event", epoll_ctl(ep, EPOLL_CTL_ADD, conn[1], NULL));
    show_rc("MOD NULL event", epoll_ctl(ep, EPOLL_CTL_MOD, conn[2], NULL));
    show_rc("the epoll fd itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    show_rc("a socket as the epoll fd", epoll_ctl(conn[2], EPOLL_CTL_ADD, conn[1], &ev));
    show_rc("MOD with EPOLLEXCLUSIVE", ctl(ep, EPOLL_CTL_MOD, conn[2], EPOLLIN | EPOLLEXCLUSIVE, 'C'));
    show_rc("ADD EXCLUSIVE|ONESHOT", ctl(other, EPOLL_CTL_ADD, conn[1], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 'B'));
    show_rc("ADD EXCLUSIVE", ctl(other, EPOLL_CTL_ADD, conn[1], EPOLLIN | EPOLLEXCLUSIVE, 'B'));
    show_rc("MOD of an EXCLUSIVE member", ctl(other, EPOLL_CTL_MOD, conn[1], EPOLLIN, 'B'));
    show_rc("DEL of an EXCLUSIVE member", ctl(other, EPOLL_CTL_DEL, conn[1], 0, 'B'));
    show_rc("epoll_wait maxevents 0", epoll_wait(ep, &ev, 0, 0));
    close(other);
}

static void semantics(void)
{
    int ep = epoll_create1(0);

    if (ep < 0)
        die("epoll_create1");
    sem_order(ep);
    sem_edge(ep);
    sem_oneshot(ep);
    int d = sem_dup(ep);
    sem_two_sets(ep);
    sem_nested(ep);
    sem_errors(ep);
    close(d);
    show_wait("after the last fd of A closed", ep, 8, 0);
    close(ep);
    close(conn[1]);
    close(conn[2]);
}

/* ---- part 2: order (server side) ---- */

struct round_state {
    int fds[3], n, open;
    int handled;           /* requests handled this round */
    int order[3];          /* fd index of each, in the order handled */
};

/* Reads every request waiting on connection i; false at end of stream. */
static bool take_requests(struct round_state *st, int i)
{
    struct req r;

    for (;;) {
        ssize_t got = read(st->fds[i], &r, sizeof(r));
        if (got == (ssize_t)sizeof(r)) {
            st->order[st->handled++] = i;
            continue;
        }
        if (got == 0)
            return false;
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        die("read request");
    }
}

/* The round is complete: answer each request with its place. */
static void answer_round(struct round_state *st, int ep)
{
    struct epoll_event evs[4];

    /* Linux keeps level-triggered members on the ready list until a wait
     * finds them not ready; one wait now, with every request read, clears
     * it, so that the next round starts from an empty list */
    if (ep >= 0)
        epoll_wait(ep, evs, 4, 0);
    for (int k = 0; k < st->handled; k++) {
        uint32_t place = (uint32_t)k;
        write_all(st->fds[st->order[k]], &place, sizeof(place));
    }
    st->handled = 0;
    usleep(BUSY_US);
}

static void on_ready(struct round_state *st, int i, int ep)
{
    if (!take_requests(st, i)) {
        if (ep >= 0)
            epoll_ctl(ep, EPOLL_CTL_DEL, st->fds[i], NULL);
        close(st->fds[i]);
        st->fds[i] = -1;
        st->open--;
        return;
    }
    if (st->handled == st->n)
        answer_round(st, ep);
}

static void serve_epoll(struct round_state *st, bool edge)
{
    int ep = epoll_create1(0);
    struct epoll_event evs[3];

    for (int i = 0; i < st->n; i++)
        ctl(ep, EPOLL_CTL_ADD, st->fds[i], EPOLLIN | (edge ? EPOLLET : 0), (char)i);
    while (st->open > 0) {
        int k = epoll_wait(ep, evs, 3, 5000);
        if (k <= 0)
            die("epoll_wait (order)");
        for (int j = 0; j < k; j++)
            if (st->fds[evs[j].data.u32] >= 0)
                on_ready(st, (int)evs[j].data.u32, ep);
    }
    close(ep);
}

static void serve_poll(struct round_state *st)
{
    struct pollfd pfd[3];

    while (st->open > 0) {
        for (int i = 0; i < st->n; i++)
            pfd[i] = (struct pollfd){.fd = st->fds[i], .events = POLLIN};
        if (poll(pfd, (nfds_t)st->n, 5000) <= 0)
            die("poll (order)");
        for (int i = 0; i < st->n; i++)
            if (pfd[i].revents && st->fds[i] >= 0)
                on_ready(st, i, -1);
    }
}

static void serve_select(struct round_state *st)
{
    while (st->open > 0) {
        fd_set rd;
        int max = -1;
        struct timeval tv = {5, 0};
        FD_ZERO(&rd);
        for (int i = 0; i < st->n; i++)
            if (st->fds[i] >= 0) {
                FD_SET(st->fds[i], &rd);
                max = st->fds[i] > max ? st->fds[i] : max;
            }
        if (select(max + 1, &rd, NULL, NULL, &tv) <= 0)
            die("select (order)");
        for (int i = 0; i < st->n; i++)
            if (st->fds[i] >= 0 && FD_ISSET(st->fds[i], &rd))
                on_ready(st, i, -1);
    }
}

static void serve_order(int l)
{
    for (int m = 0; m < M_COUNT; m++) {
        for (int n = 2; n <= 3; n++) {
            struct round_state st = {.n = n, .open = n};
            for (int i = 0; i < n; i++) {
                if ((st.fds[i] = accept(l, NULL, NULL)) < 0)
                    die("accept");
                nodelay(st.fds[i]);
                set_nonblock(st.fds[i], 1);
            }
            if (m == M_LT || m == M_ET)
                serve_epoll(&st, m == M_ET);
            else if (m == M_POLL)
                serve_poll(&st);
            else
                serve_select(&st);
        }
    }
}

static int server(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);

    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 16) != 0)
        die("bind/listen");
    fprintf(stderr, "ready_order: listening\n");
    for (int i = 0; i < 3; i++) {
        if ((conn[i] = accept(l, NULL, NULL)) < 0)
            die("accept");
        nodelay(conn[i]);
    }
    semantics();
    serve_order(l);
    close(l);
    printf("ready_order: server done\n");
    return 0;
}

/* ---- the client ---- */

static int dial(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, host, &a.sin_addr);
    for (int tries = 0; connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0; tries++) {
        if (tries == 50)
            die("connect");
        close(fd);
        usleep(100000);
        fd = socket(AF_INET, SOCK_STREAM, 0);
    }
    nodelay(fd);
    return fd;
}

/* Part 1: answers every 'S' with one byte until all three are closed. */
static void client_semantics(const char *host, int port)
{
    int fds[3], open = 3;

    for (int i = 0; i < 3; i++)
        fds[i] = dial(host, port);
    while (open > 0) {
        struct pollfd pfd[3];
        for (int i = 0; i < 3; i++)
            pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        if (poll(pfd, 3, 30000) <= 0)
            die("client poll");
        for (int i = 0; i < 3; i++) {
            char c;
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(fds[i], &c, 1);
            if (r == 1 && c == 'S') {
                write_all(fds[i], "x", 1);
            } else if (r <= 0) {
                close(fds[i]);
                fds[i] = -1;
                open--;
            }
        }
    }
}

/* The i-th of the n! orders of n (n <= 3). */
static void permutation(int n, int i, int *out)
{
    int pool[3] = {0, 1, 2}, left = n;

    for (int k = 0; k < n; k++) {
        int f = 1;
        for (int j = 2; j < left; j++)
            f *= j;
        int pick = (i / f) % left;
        out[k] = pool[pick];
        memmove(pool + pick, pool + pick + 1, (size_t)(left - pick - 1) * sizeof(int));
        left--;
    }
}

static int client_config(const char *host, int port, enum mode m, int n, int rounds)
{
    int fds[3], order[3], in_order = 0;

    for (int i = 0; i < n; i++)
        fds[i] = dial(host, port);
    for (int r = 0; r < rounds; r++) {
        bool ok = true;
        if (m == M_LT || m == M_ET)
            permutation(n, r, order);
        else
            permutation(n, 0, order);
        for (int k = 0; k < n; k++) {
            struct req q = {.round = (uint32_t)r, .conn = (uint32_t)order[k]};
            write_all(fds[order[k]], &q, sizeof(q));
        }
        for (int k = 0; k < n; k++) {
            uint32_t place;
            if (!read_all(fds[order[k]], &place, sizeof(place)))
                die("server closed mid-round");
            ok = ok && place == (uint32_t)k;
        }
        in_order += ok;
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
    printf("%-8s %d connections: %d of %d rounds handled in the order sent\n", mode_name[m], n, in_order, rounds);
    fflush(stdout);
    return in_order == rounds;
}

static int client(const char *host, int port, int rounds)
{
    int all = 1;

    client_semantics(host, port);
    for (int m = 0; m < M_COUNT; m++)
        for (int n = 2; n <= 3; n++)
            all &= client_config(host, port, (enum mode)m, n, rounds);
    return all ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "server") == 0)
        return server(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "client") == 0)
        return client(argv[2], atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: ready_order server PORT | ready_order client HOST PORT ROUNDS\n");
    return 2;
}
