/*
 * init.c - the interposer's start: the real functions, the fd tables, the
 * SLUICE_* environment (saved at start for programs that clear theirs
 * before their first I/O), the fork and exit handlers.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "internal.h"

int g_fdmax;
struct psock **g_socks;
struct epset **g_eps;
uint8_t *g_fdflags;
uint32_t g_default_sndbuf = 256 * 1024;
unsigned g_spin_us = 200;
bool g_want_stats;



static void parse_env(void)
{
    const char *v = getenv("SLUICE_LOG");

    if (v != NULL) {
        if (strcmp(v, "error") == 0)
            g_log_level = PLOG_ERROR;
        else if (strcmp(v, "info") == 0)
            g_log_level = PLOG_INFO;
        else if (strcmp(v, "debug") == 0)
            g_log_level = PLOG_DEBUG;
    }
    v = getenv("SLUICE_PRELOAD_SPIN_US");
    if (v != NULL) {
        char *end;
        unsigned long u = strtoul(v, &end, 10);
        if (*v != '\0' && *end == '\0' && u <= 1000000)
            g_spin_us = (unsigned)u;
        else
            plog(PLOG_WARN, "SLUICE_PRELOAD_SPIN_US: expected 0..1000000, got '%s'; using %u", v, g_spin_us);
    }
    v = getenv("SLUICE_PRELOAD_STATS");
    g_want_stats = v != NULL && strcmp(v, "0") != 0 && *v != '\0';
    v = getenv("SLUICE_PRELOAD_ENGINE_PER_THREAD");
    g_engine_per_thread = v != NULL && strcmp(v, "0") != 0 && *v != '\0';
}

static void init_once(void);

void preload_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    real_resolve();
    pthread_once(&once, init_once);
}


/* SLUICE_* variables as the program started with them. Some programs
 * clear their environment before the first I/O (nginx's worker keeps only
 * TZ); the stack reads its configuration from it when it starts. */
#define SAVED_ENV_MAX 64
static char *saved_env[SAVED_ENV_MAX];

static void save_env(void)
{
    extern char **environ;
    int n = 0;

    for (char **e = environ; e != NULL && *e != NULL && n < SAVED_ENV_MAX; e++)
        if (strncmp(*e, "SLUICE_", 7) == 0 && (saved_env[n] = strdup(*e)) != NULL)
            n++;
}

void restore_env(void)
{
    for (int i = 0; i < SAVED_ENV_MAX && saved_env[i] != NULL; i++) {
        char *eq = strchr(saved_env[i], '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        if (getenv(saved_env[i]) == NULL)
            setenv(saved_env[i], eq + 1, 0);
        *eq = '=';
    }
}

static void init_once(void)
{
    struct rlimit rl;
    rlim_t n = 65536;

    parse_env();
    save_env();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max > n)
        n = rl.rlim_max;
    if (n > (1u << 20))
        n = 1u << 20;
    /* fresh zero pages (calloc of this size is an mmap; the fd tables are
     * the arena's, MAP_NORESERVE): only touched ones cost */
    g_fdflags = calloc((size_t)n, sizeof(*g_fdflags));
    if (g_fdflags == NULL || arena_init() != 0 || family_init((int)n) != 0) {
        free(g_fdflags);
        g_fdflags = NULL;
        g_socks = NULL;
        g_eps = NULL;
        plog(PLOG_ERROR, "cannot map the interposer's memory: every socket stays with the kernel");
        return;
    }
    __atomic_store_n(&g_fdmax, (int)n, __ATOMIC_RELEASE);
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    if (g_want_stats)
        atexit(stats_at_exit);
}

__attribute__((constructor)) static void preload_ctor(void)
{
    preload_init();
}
