/*
 * log.c - see log.h.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Atomic so that a thread changing the level never races one that logs. */
static atomic_int log_level = SLUICE_LOG_WARN;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void sluice_log_set_level(enum sluice_log_level lvl)
{
    int l = (int)lvl;

    if (l < SLUICE_LOG_ERROR)
        l = SLUICE_LOG_ERROR;
    if (l > SLUICE_LOG_DEBUG)
        l = SLUICE_LOG_DEBUG;
    atomic_store_explicit(&log_level, l, memory_order_relaxed);
}

enum sluice_log_level sluice_log_get_level(void)
{
    return (enum sluice_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

int sluice_log_level_parse(const char *s, enum sluice_log_level *out)
{
    if (s == NULL || out == NULL)
        return -EINVAL;
    for (int i = SLUICE_LOG_ERROR; i <= SLUICE_LOG_DEBUG; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum sluice_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *sluice_log_level_name(enum sluice_log_level lvl)
{
    int l = (int)lvl;

    if (l < SLUICE_LOG_ERROR || l > SLUICE_LOG_DEBUG)
        return "unknown";
    return level_names[l];
}

static int log_enabled(enum sluice_log_level lvl)
{
    int l = (int)lvl;

    return l >= SLUICE_LOG_ERROR && l <= (int)sluice_log_get_level();
}

/* Retries short writes and EINTR; a pipe write this small is atomic, so the
 * loop only runs again on files or terminals that split it. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

void sluice_log(enum sluice_log_level lvl, const char *fmt, ...)
{
    /* Prefix ("sluice: debug: " is the longest), message, newline. */
    char line[32 + SLUICE_LOG_MSG_MAX + 1];
    int saved = errno;
    va_list ap;
    int pre, n;
    size_t len;

    if (!log_enabled(lvl))
        return;
    pre = snprintf(line, sizeof(line), "sluice: %s: ", sluice_log_level_name(lvl));
    va_start(ap, fmt);
    n = vsnprintf(line + pre, SLUICE_LOG_MSG_MAX + 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (n > SLUICE_LOG_MSG_MAX)
        n = SLUICE_LOG_MSG_MAX;
    len = (size_t)pre + (size_t)n;
    /* A newline inside the message would split it into two lines that a
     * reader could not tie together. */
    for (size_t i = (size_t)pre; i < len; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    line[len++] = '\n';
    write_all(STDERR_FILENO, line, len);
    errno = saved;
}
