/*
 * runtime.c - starting DPDK's EAL and the mbuf pool for demi_init.
 *
 * Memory: eal.memory_mb of hugepages when that many are mounted and free,
 * else --no-huge (a memfd); either way mapped whole at init (--legacy-mem:
 * the heap never grows) with DPDK's shared configuration (no --in-memory,
 * no --no-shconf) in a private runtime directory (--file-prefix=sluice-PID-
 * NS). Then a process forked after demi_init shares the heap itself, not a
 * copy of its bookkeeping: the preload's process families run one stack
 * (docs/DESIGN.md "Process families"; checked: with --in-memory a child's
 * rte_malloc is invisible to its parent, which then hands out the same
 * memory again). A problem is one log line that says what to do, never
 * DPDK's usage dump or a panic.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <signal.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <sluice/process.h>

#include "eal_args.h"
#include "engine.h"
#include "export.h"
#include "log.h"
#include "mbuf.h"
#include "net.h"
#include "observe.h"
#include "qtoken.h"
#include "queue.h"

struct runtime g_rt;

#define EAL_ARGS_MAX (SLUICE_EAL_ARGS_MAX + 16)

/* argv strings we build; kept for the life of the process because the EAL
 * may keep pointers into argv. */
static char *eal_argv[EAL_ARGS_MAX + 1];
static int eal_argc;
static pid_t init_pid;
/* A process forked from init_pid's that stops the devices at its exit
 * (sluice_take_over): the family's last, once the first has gone. */
static pid_t takeover_pid;
static char runtime_dir[256];

static int eal_push(const char *arg)
{
    if (eal_argc >= EAL_ARGS_MAX)
        return -EINVAL;
    eal_argv[eal_argc] = strdup(arg);
    if (eal_argv[eal_argc] == NULL)
        return -ENOMEM;
    eal_argc++;
    return 0;
}

/* The EAL's lcore 0 may run on every CPU we are allowed (eal_args.h). */
static int eal_push_lcores(void)
{
    char buf[1024];

    return eal_push(eal_lcores_arg(buf, sizeof(buf)));
}

/* DPDK log levels: 4 error, 6 notice, 8 debug. DPDK's warnings are noise to
 * a Sluice user, so our warn level shows only its errors. */
static int eal_push_log_level(enum sluice_log_level lvl)
{
    static const int dpdk_level[] = {4, 4, 6, 8};
    char buf[32];

    snprintf(buf, sizeof(buf), "--log-level=%d", dpdk_level[lvl]);
    return eal_push(buf);
}

static bool user_names_devices(const struct sluice_config *cfg)
{
    for (int i = 0; i < cfg->eal_argc; i++) {
        const char *a = cfg->eal_argv[i];
        if (strncmp(a, "-a", 2) == 0 || strncmp(a, "--allow", 7) == 0 || strncmp(a, "-b", 2) == 0 ||
            strncmp(a, "--block", 7) == 0)
            return true;
    }
    return false;
}

static int eal_push_memory(const struct sluice_config *cfg)
{
    char buf[64], prefix[64];
    bool huge;
    int rc;

    if (cfg->hugepages == SLUICE_HUGEPAGES_OFF) {
        huge = false;
    } else {
        /* 2 MiB pages: eal.memory_mb of them, mapped whole at init */
        huge = eal_hugepages_free((long)cfg->eal_memory_mb / 2 - 1);
        if (!huge && cfg->hugepages == SLUICE_HUGEPAGES_ON) {
            SLOG_ERR("eal.hugepages is 'on' but no hugepages are mounted and free: run "
                     "'echo 512 > /proc/sys/vm/nr_hugepages; mount -t hugetlbfs nodev /dev/hugepages' "
                     "or set eal.hugepages: auto");
            return -EINVAL;
        }
    }
    /* a private runtime directory either way: /var/run/dpdk/sluice-PID-NS
     * holds this process's telemetry socket (sluice-stat finds it by PID) */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(prefix, sizeof(prefix), "--file-prefix=sluice-%ld-%ld", (long)getpid(), (long)ts.tv_nsec);
    snprintf(buf, sizeof(buf), "%u", (unsigned)cfg->eal_memory_mb);
    if (huge) {
        rc = eal_push("--legacy-mem");
        rc = rc ? rc : eal_push("--huge-unlink");
    } else {
        SLOG_INFO("no free hugepages: running DPDK with --no-huge (%u MiB)", (unsigned)cfg->eal_memory_mb);
        rc = eal_push("--no-huge");
    }
    rc = rc ? rc : eal_push("-m");
    rc = rc ? rc : eal_push(buf);
    return rc ? rc : eal_push(prefix);
}

static int eal_build_args(const struct sluice_config *cfg)
{
    int rc = eal_push("sluice");

    rc = rc ? rc : eal_push_memory(cfg);
    if (!cfg->eal_telemetry)
        rc = rc ? rc : eal_push("--no-telemetry");
    rc = rc ? rc : eal_push_log_level(cfg->log_level);
    rc = rc ? rc : eal_push_lcores();
    if (rc == 0 && !user_names_devices(cfg))
        rc = eal_push("--no-pci");
    for (int i = 0; rc == 0 && i < cfg->eal_argc; i++)
        rc = eal_push(cfg->eal_argv[i]);
    return rc;
}

static int eal_copy_args(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (argv[i] == NULL)
            return -EINVAL;
        int rc = eal_push(argv[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Removes the files of a private runtime directory (nothing but DPDK's own
 * is ever there: the shared configuration, memory-segment arrays, the
 * multi-process socket, the telemetry sockets), all or all but the
 * telemetry sockets, and the directory once empty. DPDK keeps what it
 * mapped: unlinking a mapped file frees it when the last mapping goes. */
static void remove_runtime_files(const char *dir, bool keep_telemetry)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[320];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (keep_telemetry && strncmp(e->d_name, "dpdk_telemetry", 14) == 0))
            continue;
        snprintf(path, sizeof(path), "%.200s/%.100s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void remove_runtime_dir(const char *dir)
{
    remove_runtime_files(dir, false);
}

/* The runtime directories of Sluice processes that are gone (killed before
 * their exit handlers ran): removed, so that /var/run/dpdk does not fill
 * up and sluice-stat does not list them. The directory name carries the
 * PID (eal_push_memory). */
static void remove_stale_runtime_dirs(void)
{
    DIR *d = opendir("/var/run/dpdk");
    struct dirent *e;
    char path[320];
    long pid;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (sscanf(e->d_name, "sluice-%ld-", &pid) != 1 || pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to judge) */
        snprintf(path, sizeof(path), "/var/run/dpdk/%.255s", e->d_name);
        remove_runtime_dir(path);
    }
    closedir(d);
}

/* Runs at exit in the process that started the EAL (not in forked children,
 * which share its mappings), unless it left the stack to its family
 * (sluice_detach): closes the queues still open, so that a pipe
 * nobody opened does not leave its name in /dev/shm, frees DPDK memory and
 * removes the empty runtime directory a private --file-prefix leaves. */
static void runtime_atexit(void)
{
    if (takeover_pid != 0 && getpid() == takeover_pid && g_rt.running) {
        /* the family's last process: its devices and engines, not the
         * EAL, whose threads were the first process's */
        engine_close_all();
        net_stop();
        g_rt.running = false;
        return;
    }
    if (getpid() != init_pid || !g_rt.running || g_rt.detached) {
        if (getpid() == init_pid && runtime_dir[0] != '\0')
            remove_runtime_dir(runtime_dir); /* the telemetry socket: nobody answers it any more */
        return;
    }
    engine_close_all();
    net_stop();
    g_rt.running = false;
    rte_eal_cleanup();
    if (runtime_dir[0] != '\0')
        remove_runtime_dir(runtime_dir);
}

static int pool_create(const struct sluice_config *cfg)
{
    uint16_t priv = (uint16_t)RTE_ALIGN(sizeof(struct sga_priv), RTE_MBUF_PRIV_ALIGN);
    uint32_t room = RTE_PKTMBUF_HEADROOM + cfg->mbuf_data_room;

    g_rt.pool = rte_pktmbuf_pool_create("sluice_mbufs", cfg->mbuf_count, cfg->mbuf_cache, priv,
                                        (uint16_t)room, SOCKET_ID_ANY);
    if (g_rt.pool == NULL) {
        SLOG_ERR("cannot create the mbuf pool (%u mbufs of %u bytes): %s; lower mbuf.count or raise "
                 "eal.memory_mb / the number of hugepages",
                 (unsigned)cfg->mbuf_count, (unsigned)room, rte_strerror(rte_errno));
        return -ENOMEM;
    }
    return mbuf_index_pool(g_rt.pool);
}

/* rte_eal_init prints its whole usage text to stdout on a bad argument;
 * our caller's stdout is not the place for it (the error itself goes to
 * stderr through DPDK's log and ours). */
static int eal_init_quiet(int argc, char **argv)
{
    int saved = -1, devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int rc;

    fflush(stdout);
    if (devnull >= 0) {
        saved = dup(STDOUT_FILENO);
        dup2(devnull, STDOUT_FILENO);
        close(devnull);
    }
    rc = rte_eal_init(argc, argv);
    if (saved >= 0) {
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }
    return rc;
}

int runtime_start(int argc, char **argv)
{
    int rc = argv != NULL ? eal_copy_args(argc, argv) : eal_build_args(&g_rt.cfg);

    if (rc) {
        SLOG_ERR("bad DPDK EAL arguments (at most %d, none NULL)", EAL_ARGS_MAX);
        return rc;
    }
    eal_argv[eal_argc] = NULL;
    remove_stale_runtime_dirs();
    /* rte_eal_init permutes argv; hand it a copy of the pointer array. */
    char *argv_copy[EAL_ARGS_MAX + 1];
    memcpy(argv_copy, eal_argv, sizeof(argv_copy));
    if (eal_init_quiet(eal_argc, argv_copy) < 0) {
        g_rt.eal_failed = true;
        SLOG_ERR("DPDK EAL did not start: %s; check eal.args, or set eal.hugepages: off",
                 rte_strerror(rte_errno));
        return rte_errno == EINVAL ? -EINVAL : -EIO;
    }
    init_pid = getpid();
    /* Nothing opens our private runtime directory's files after init (no
     * secondary process ever attaches): remove them now but the telemetry
     * sockets, so that a process that ends without exit handlers (_exit, a
     * crash) leaves little behind (the next start removes the rest, by
     * PID); all of it at exit. */
    if (strstr(rte_eal_get_runtime_dir(), "/sluice-") != NULL) {
        snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
        remove_runtime_files(runtime_dir, true);
    }
    g_rt.running = true;
    atexit(runtime_atexit);
    if (g_rt.cfg.eal_telemetry)
        observe_start(); /* a failure is logged: sluice-stat will not see us */
    rc = pool_create(&g_rt.cfg);
    rc = rc ? rc : engine_init();
    if (rc) {
        g_rt.running = false;
        g_rt.eal_failed = true; /* the EAL is up and cannot be started twice */
    }
    return rc;
}

/* A ring-based pool whose ring a dead process left between moving a head
 * and its tail: the head goes back to the tail. Only the lock's holder
 * uses the pools, so no one else is inside an operation. */
static void pool_repair(struct rte_mempool *mp, void *arg)
{
    const struct rte_mempool_ops *ops = rte_mempool_get_ops(mp->ops_index);
    struct rte_ring *r = mp->pool_data;
    unsigned *n = arg;
    bool fixed = false;

    if (ops == NULL || strncmp(ops->name, "ring_", 5) != 0 || r == NULL)
        return;
    if (r->prod.head != r->prod.tail) {
        __atomic_store_n(&r->prod.head, r->prod.tail, __ATOMIC_RELEASE);
        fixed = true;
    }
    if (r->cons.head != r->cons.tail) {
        __atomic_store_n(&r->cons.head, r->cons.tail, __ATOMIC_RELEASE);
        fixed = true;
    }
    if (fixed) {
        (*n)++;
        SLOG_WARN("mempool %s: an operation a dead process left half done was undone", mp->name);
    }
}

/* sluice_owner_died: documented in <sluice/process.h>. */
SLUICE_API int sluice_owner_died(unsigned *repaired)
{
    unsigned n = 0;

    if (!g_rt.running)
        return ENOSYS;
    rte_mempool_walk(pool_repair, &n);
    if (repaired != NULL)
        *repaired = n;
    return 0;
}

/* sluice_take_over: documented in <sluice/process.h>. */
SLUICE_API int sluice_take_over(void)
{
    if (!g_rt.running)
        return ENOSYS;
    if (getpid() != init_pid)
        takeover_pid = getpid();
    return 0;
}

/* sluice_detach: documented in <sluice/process.h>. */
SLUICE_API int sluice_detach(void)
{
    if (!g_rt.running)
        return ENOSYS;
    g_rt.detached = true;
    return 0;
}
