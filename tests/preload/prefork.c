/*
 * prefork.c PORT CHILDREN PER_CHILD - apache's mpm_prefork under
 * sluice-run, reduced: a parent listens on 0.0.0.0:PORT and keeps CHILDREN
 * forked children; each accepts PER_CHILD connections on the inherited
 * listener, one at a time, answers each and exits; the parent forks a new
 * child for every one that ends. So the family forks all the time while
 * many members block in accept, each of them running the reaper: a slot
 * taken back while its child was being forked made two children share one
 * fd table (answers on each other's connections, accept failing with
 * EINVAL), which this program exists to catch.
 *
 * A connection sends "N\n" (a decimal number); the child answers
 * "N PID\n" followed by 8000 + N % 4000 bytes of pattern(N) and shuts
 * down (the client, tests/preload/preload_peer.py "prefork-client",
 * checks every byte). Prints "prefork: ready" once listening; at SIGTERM
 * it stops its children and prints "prefork: C children, E failed" -
 * E counts children that failed an accept, read or write (each prints
 * why) - and exits 0 only if E is 0.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 256

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

/* The byte at offset i of connection n's body. */
static char pattern(unsigned long n, size_t i)
{
    return (char)('a' + (n * 7 + i * 13) % 26);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* One connection: read "N\n", answer. 0, or -1 with the reason printed. */
static int serve(int c)
{
    char req[32], head[64], body[12000];
    size_t got = 0;
    unsigned long n;

    while (got < sizeof(req) - 1 && memchr(req, '\n', got) == NULL) {
        ssize_t r = read(c, req + got, sizeof(req) - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            printf("prefork: child %d: read: %s\n", (int)getpid(), r == 0 ? "end of stream" : strerror(errno));
            return -1;
        }
        got += (size_t)r;
    }
    req[got] = '\0';
    n = strtoul(req, NULL, 10);
    size_t len = 8000 + n % 4000;
    for (size_t i = 0; i < len; i++)
        body[i] = pattern(n, i);
    int hl = snprintf(head, sizeof(head), "%lu %d\n", n, (int)getpid());
    if (write_all(c, head, (size_t)hl) != 0 || write_all(c, body, len) != 0) {
        printf("prefork: child %d: write: %s\n", (int)getpid(), strerror(errno));
        return -1;
    }
    shutdown(c, SHUT_WR);
    /* as apache's lingering close: read to the client's end first */
    while (read(c, req, sizeof(req)) > 0)
        ;
    return 0;
}

static void child(int lfd, int per_child, const sigset_t *old)
{
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_SETMASK, old, NULL);
    for (int k = 0; k < per_child; k++) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0) {
            printf("prefork: child %d: accept: %s\n", (int)getpid(), strerror(errno));
            fflush(stdout);
            _exit(2);
        }
        int rc = serve(c);
        close(c);
        if (rc != 0) {
            fflush(stdout);
            _exit(2);
        }
    }
    exit(0); /* exit, not _exit: the atexit path gives the slot back */
}

/* SIGTERM is blocked across the fork: one that came before the child
 * reset its handler would only set the child's copy of stop. */
static pid_t spawn(int lfd, int per_child)
{
    sigset_t term, old;

    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    fflush(stdout);
    pid_t p = fork();
    if (p == 0)
        child(lfd, per_child, &old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return p;
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    pid_t kids[MAX_CHILDREN] = {0};
    int lfd, one = 1, nkids, per_child, forked = 0, failed = 0;
    struct sigaction sa = {.sa_handler = on_term};

    if (argc != 4 || (nkids = atoi(argv[2])) < 1 || nkids > MAX_CHILDREN || (per_child = atoi(argv[3])) < 1) {
        fprintf(stderr, "usage: prefork PORT CHILDREN(1-%d) PER_CHILD\n", MAX_CHILDREN);
        return 2;
    }
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 511) != 0) {
        perror("prefork: listen");
        return 1;
    }
    sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: waitpid returns */
    for (int i = 0; i < nkids; i++, forked++)
        kids[i] = spawn(lfd, per_child);
    printf("prefork: ready\n");
    fflush(stdout);
    while (!stop) {
        int status;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0)
            continue;
        /* SIGTERM is the stop signal: timeout(1) sends it to the whole
         * process group, so a child may be stopped (and reaped here)
         * before this process's own handler has run */
        bool stopped = WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
        if (!stopped && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
            failed++;
            if (WIFSIGNALED(status))
                printf("prefork: child %d killed by signal %d\n", (int)p, WTERMSIG(status));
            else
                printf("prefork: child %d exited with %d\n", (int)p, WEXITSTATUS(status));
        }
        for (int i = 0; i < nkids; i++)
            if (kids[i] == p) {
                kids[i] = stop || stopped ? 0 : spawn(lfd, per_child);
                forked += !(stop || stopped);
            }
    }
    for (int i = 0; i < nkids; i++)
        if (kids[i] > 0)
            kill(kids[i], SIGTERM);
    for (int i = 0; i < nkids; i++)
        if (kids[i] > 0)
            waitpid(kids[i], NULL, 0);
    printf("prefork: %d children, %d failed\n", forked, failed);
    return failed == 0 ? 0 : 1;
}
