/*
 * log.c - the interposer's log lines, its one lock, its clock and errno
 * helper: what every other file of preload/ uses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

int g_log_level = PLOG_WARN;

int fail(int err)
{
    errno = err;
    return -1;
}

void plog(int level, const char *fmt, ...)
{
    char buf[512];
    static const char *names[] = {"error", "warn", "info", "debug", "stats"};
    va_list ap;
    int n;

    if (level > g_log_level && level != PLOG_STATS)
        return;
    n = snprintf(buf, sizeof(buf), "sluice-preload[%d]: %s: ", (int)getpid(), names[level]);
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    /* straight to the kernel: stderr may be anything, even one of ours */
    syscall(SYS_write, 2, buf, (size_t)n);
}

uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
