/*
 * fork_stress.c PORT - the process-model corners of issue 13 under
 * sluice-run: fork from a signal handler that interrupted this process
 * inside Sluice (postgres's postmaster does), fork + exec, posix_spawn;
 * then the socket must still serve. Prints one line per phase and "echo
 * ok" last; exit 0 only when every phase finished.
 *
 * 1. a UDP socket bound to 0.0.0.0:PORT (Sluice's), "ready";
 * 2. for 2 s, a SIGALRM every 10 ms whose handler forks (the child _exits,
 *    the handler reaps it) while the main loop calls recv(MSG_DONTWAIT) on
 *    the socket without pause, so most signals land inside the interposer,
 *    often with its lock held: a fork handler that took that lock would
 *    deadlock here;
 * 3. 600 fork + execv("/bin/true") + waitpid: more than the family has
 *    slots, so a slot not given back at exec or exit runs them out;
 * 4. 100 posix_spawn("/bin/true") + waitpid;
 * 5. "waiting" - the peer sends one datagram, echoed back (5 s limit).
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t forks, fork_failures;

static void on_alarm(int sig)
{
    int saved = errno;
    pid_t pid = fork();

    (void)sig;
    if (pid == 0)
        _exit(0);
    if (pid < 0)
        fork_failures++;
    else if (waitpid(pid, NULL, 0) == pid)
        forks++;
    errno = saved;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int signal_forks(int fd)
{
    struct sigaction sa;
    struct itimerval it = {{0, 10000}, {0, 10000}}, off = {{0, 0}, {0, 0}};
    char buf[64];
    long calls = 0;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0 || setitimer(ITIMER_REAL, &it, NULL) != 0)
        return -1;
    for (double end = now_s() + 2.0; now_s() < end; calls++)
        if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
            break; /* nothing is sent in this phase */
    setitimer(ITIMER_REAL, &off, NULL);
    printf("fork_stress: %d forks from a signal handler during %ld recv calls, %d failed\n", (int)forks, calls,
           (int)fork_failures);
    fflush(stdout);
    return forks > 50 && fork_failures == 0 ? 0 : -1;
}

static int fork_execs(int n)
{
    char *argv[] = {"true", NULL};

    for (int i = 0; i < n; i++) {
        int status;
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            execv("/bin/true", argv);
            _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return -1;
    }
    printf("fork_stress: %d fork + exec\n", n);
    fflush(stdout);
    return 0;
}

static int spawns(int n)
{
    char *argv[] = {"true", NULL};

    for (int i = 0; i < n; i++) {
        pid_t pid;
        int status;
        if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) != 0)
            return -1;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return -1;
    }
    printf("fork_stress: %d posix_spawn\n", n);
    fflush(stdout);
    return 0;
}

static int echo_one(int fd)
{
    struct timeval tv = {5, 0};
    struct sockaddr_in from;
    socklen_t len = sizeof(from);
    char buf[256];
    ssize_t n;

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
        return -1;
    printf("fork_stress: waiting\n");
    fflush(stdout);
    n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
    if (n <= 0 || sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len) != n)
        return -1;
    printf("fork_stress: echo ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    int fd;

    if (argc != 2)
        return 2;
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("fork_stress: socket/bind");
        return 1;
    }
    printf("fork_stress: ready\n");
    fflush(stdout);
    if (signal_forks(fd) != 0 || fork_execs(600) != 0 || spawns(100) != 0 || echo_one(fd) != 0) {
        printf("fork_stress: failed (%s)\n", strerror(errno));
        return 1;
    }
    return 0;
}
