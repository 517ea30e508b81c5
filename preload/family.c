/*
 * family.c - one stack for a process family: the lock every process of it
 * takes, a slot per process with its fd tables, fork (the child gets a slot
 * and a reference on every socket it inherits, before the parent can close
 * one: POSIX's rule that a socket lives while any process holds it), exec
 * and exit (leaving: the sockets only this process held are closed), and
 * the reaper that does the same for a member that died without a word
 * (SIGKILL, _exit). A process forked before the stack started gets an
 * arena of its own instead: it is not of the family.
 * Design: docs/preload.md "Process families"; OpenOnload shares its stacks
 * among a process's children the same way (state in shared memory, a
 * lock that survives its holder).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/process.h>

#include "internal.h"

int g_slot = -1;

/* Which slot a fork of this thread prepared, or the arena copy a fork
 * before the start prepared (the child adopts it). */
static __thread int t_fork_slot = -1;
static __thread void *t_fork_copy;

/* ---- the lock ---- */

static int lock_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);

    rc = rc ? rc : pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    rc = rc ? rc : pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    rc = rc ? rc : pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return -rc;
}

/* A process that died holding the lock may have left a socket half
 * changed; the others go on (the rule: the others go on), and the
 * reaper closes what the dead one held. What it can have left half done
 * and can be undone soundly is: the arena's lock, and an mbuf pool's ring
 * between its head and tail (every other member would wait on it for
 * ever). */
void lock(void)
{
    int rc = pthread_mutex_lock(&g_fam->lock);
    unsigned rings = 0;

    if (rc != EOWNERDEAD)
        return;
    arena_recover();
    if (g_fam->stack_up)
        sluice_owner_died(&rings);
    plog(PLOG_WARN, "a process of this family died holding Sluice's lock: going on without it (%u mbuf pool "
                    "rings repaired)", rings);
    pthread_mutex_consistent(&g_fam->lock);
}

void unlock(void)
{
    pthread_mutex_unlock(&g_fam->lock);
}

/* ---- slots ---- */

/* starttime (clock ticks since boot, field 22 of /proc/PID/stat) and
 * whether the process is still running (not a zombie). 0, or -ESRCH. */
static int proc_stat(pid_t pid, uint64_t *start)
{
    char path[64], buf[512], *p;
    unsigned long long st = 0;
    char state;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    /* the real calls: this runs inside the library's own start too */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? real.read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        real.close(fd);
    if (n <= 0)
        return -ESRCH;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
    if (p == NULL || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
                            &state, &st) != 2)
        return -ESRCH;
    if (state == 'Z' || state == 'X')
        return -ESRCH;
    *start = st;
    return 0;
}

int family_init(int fdmax)
{
    struct fam_slot *sl = &g_fam->slots[0];
    int rc = lock_init(&g_fam->lock);

    if (rc)
        return rc;
    g_fam->table_bytes = (size_t)fdmax * sizeof(void *);
    sl->socks = arena_bump(g_fam->table_bytes);
    sl->eps = arena_bump(g_fam->table_bytes);
    if (sl->socks == NULL || sl->eps == NULL)
        return -ENOMEM;
    sl->pid = getpid();
    proc_stat(sl->pid, &sl->start_ticks);
    sl->state = FS_LIVE;
    g_slot = 0;
    g_socks = sl->socks;
    g_eps = sl->eps;
    return 0;
}

void family_note_fd(int fd)
{
    struct fam_slot *sl;
    int hi;

    if (g_slot < 0)
        return;
    sl = &g_fam->slots[g_slot];
    hi = __atomic_load_n(&sl->fd_hi, __ATOMIC_RELAXED);

    while (fd > hi && !__atomic_compare_exchange_n(&sl->fd_hi, &hi, fd, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* Forgets everything slot i names (lock held): each socket or epoll set
 * whose last name it was is closed, as the kernel closes a dead process's
 * files. */
static void slot_release(int i)
{
    struct fam_slot *sl = &g_fam->slots[i];
    int hi = sl->fd_hi;

    eng_release(i);
    for (int fd = 0; fd <= hi && sl->socks != NULL; fd++) {
        struct psock *s = sl->socks[fd];
        struct epset *e = sl->eps[fd];
        if (s != NULL) {
            sl->socks[fd] = NULL;
            ps_unref(s);
        }
        if (e != NULL) {
            sl->eps[fd] = NULL;
            ep_unref(e);
        }
    }
    sl->fd_hi = 0;
    sl->pid = 0;
    __atomic_store_n(&sl->state, FS_FREE, __ATOMIC_RELEASE);
}

static bool slot_cas(struct fam_slot *sl, int from, int to)
{
    return __atomic_compare_exchange_n(&sl->state, &from, to, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* A fork claimed slot sl more than 5 s ago and its child never took it
 * (the fork failed unseen, or the child died at once). The clock is read
 * after the claim is: the claim is made without the lock, while the reaper
 * runs, and an age computed from an earlier reading wraps around. */
static bool fork_abandoned(struct fam_slot *sl)
{
    uint64_t claimed = __atomic_load_n(&sl->claimed_ns, __ATOMIC_ACQUIRE);

    return claimed != 0 && (int64_t)(now_ns() - claimed) > 5000000000;
}

/* Whether the process of live slot sl has ended: its PID is gone, a
 * zombie, or another process's (starttime differs). Without /proc (its
 * start unknown), whether kill() finds the PID. */
static bool member_gone(const struct fam_slot *sl)
{
    uint64_t start;

    if (sl->start_ticks == 0)
        return kill(sl->pid, 0) != 0 && errno == ESRCH;
    return proc_stat(sl->pid, &start) != 0 || start != sl->start_ticks;
}

void family_reap(void)
{
    uint64_t now = now_ns();

    if (now - g_fam->reap_ns < 100000000u)
        return;
    g_fam->reap_ns = now;
    for (int i = 0; i < FAM_SLOTS; i++) {
        struct fam_slot *sl = &g_fam->slots[i];
        int st = __atomic_load_n(&sl->state, __ATOMIC_ACQUIRE);
        if (i == g_slot || st == FS_FREE)
            continue;
        if (st == FS_FORKING && fork_abandoned(sl) && slot_cas(sl, FS_FORKING, FS_RELEASING)) {
            plog(PLOG_DEBUG, "slot %d: a fork that never started: its references given back", i);
            slot_release(i);
        } else if (st == FS_LIVE && member_gone(sl)) {
            plog(PLOG_INFO, "process %d ended without closing its sockets: closing those only it held", (int)sl->pid);
            slot_release(i);
        }
    }
}

void family_reap_now(void)
{
    g_fam->reap_ns = 0;
    family_reap();
}

bool family_others_live(void)
{
    for (int i = 0; i < FAM_SLOTS; i++)
        if (i != g_slot && __atomic_load_n(&g_fam->slots[i].state, __ATOMIC_ACQUIRE) != FS_FREE)
            return true;
    return false;
}

void family_leave(void)
{
    struct fam_slot *sl;
    int hi;

    if (g_slot < 0)
        return;
    sl = &g_fam->slots[g_slot];
    hi = sl->fd_hi;
    for (int fd = 0; fd <= hi; fd++)
        if (g_socks[fd] != NULL || g_eps[fd] != NULL)
            fd_forget(fd);
    /* the slot itself stays ours until exit: a later socket may still come */
}

/* ---- fork ---- */

/* A free slot for a child, its tables a copy of ours, every socket and set
 * in them referenced once more. No lock and no allocation but the
 * lock-free bump: fork may come from a signal handler that interrupted
 * this process inside Sluice (postgres's postmaster forks from its SIGCHLD
 * handler). -1 when every slot is taken. */
static int slot_prepare(void)
{
    struct fam_slot *me = &g_fam->slots[g_slot];
    int hi = __atomic_load_n(&me->fd_hi, __ATOMIC_RELAXED);

    for (int i = 0; i < FAM_SLOTS; i++) {
        struct fam_slot *sl = &g_fam->slots[i];
        int expect = FS_FREE;
        if (!__atomic_compare_exchange_n(&sl->state, &expect, FS_FORKING, false, __ATOMIC_ACQUIRE,
                                         __ATOMIC_RELAXED))
            continue;
        if (sl->socks == NULL) {
            sl->socks = arena_bump(g_fam->table_bytes);
            sl->eps = arena_bump(g_fam->table_bytes);
            if (sl->socks == NULL || sl->eps == NULL) {
                __atomic_store_n(&sl->state, FS_FREE, __ATOMIC_RELEASE);
                return -1;
            }
        }
        sl->pid = 0;
        __atomic_store_n(&sl->claimed_ns, 0, __ATOMIC_RELEASE);
        for (int fd = 0; fd <= hi; fd++) {
            struct psock *s = __atomic_load_n(&me->socks[fd], __ATOMIC_ACQUIRE);
            struct epset *e = __atomic_load_n(&me->eps[fd], __ATOMIC_ACQUIRE);
            if (s != NULL)
                __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
            if (e != NULL)
                __atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
            sl->socks[fd] = s;
            sl->eps[fd] = e;
        }
        sl->fd_hi = hi;
        __atomic_store_n(&sl->claimed_ns, now_ns(), __ATOMIC_RELEASE);
        return i;
    }
    return -1;
}

void atfork_prepare(void)
{
    t_fork_slot = -1;
    t_fork_copy = NULL;
    if (g_fam == NULL)
        return;
    if (!g_started) {
        t_fork_copy = arena_snapshot();
        if (t_fork_copy == NULL)
            plog(PLOG_WARN, "fork: no memory for the child's own sockets: it shares its parent's");
        return;
    }
    if (g_slot >= 0 && (t_fork_slot = slot_prepare()) < 0)
        plog(PLOG_ERROR, "fork: the family has %d processes holding sockets already: the child's inherited "
                         "sockets stay with the kernel", FAM_SLOTS);
}

void atfork_parent(void)
{
    arena_drop(t_fork_copy);
    t_fork_copy = NULL;
}

void family_fork_failed(void)
{
    int i = t_fork_slot;

    if (i < 0)
        return;
    t_fork_slot = -1;
    lock();
    if (slot_cas(&g_fam->slots[i], FS_FORKING, FS_RELEASING))
        slot_release(i); /* else the reaper gave it back already */
    unlock();
}

/* A child without a slot: nothing it inherited is ours to use (fresh,
 * empty tables of its own). */
static void become_slotless(void)
{
    g_socks = calloc((size_t)g_fdmax, sizeof(*g_socks));
    g_eps = calloc((size_t)g_fdmax, sizeof(*g_eps));
    g_slot = -1;
}

/* The child of a fork: a member with its own slot, or (forked before the
 * start) the only process of a family of its own. */
void atfork_child(void)
{
    if (g_fam == NULL)
        return;
    if (t_fork_copy != NULL) {
        if (arena_adopt(t_fork_copy) != 0)
            plog(PLOG_WARN, "fork: cannot take a copy of the sockets: sharing the parent's");
        lock_init(&g_fam->lock); /* a thread of the parent may have held it */
        for (int i = 0; i < FAM_SLOTS; i++)
            if (i != g_slot)
                g_fam->slots[i].state = FS_FREE;
        g_fam->slots[g_slot].pid = getpid();
        proc_stat(getpid(), &g_fam->slots[g_slot].start_ticks);
        t_fork_copy = NULL;
        return;
    }
    if (!g_started)
        return;
    if (t_fork_slot < 0) {
        become_slotless();
        return;
    }
    struct fam_slot *sl = &g_fam->slots[t_fork_slot];
    t_fork_slot = -1;
    sl->pid = getpid();
    if (proc_stat(sl->pid, &sl->start_ticks) != 0)
        sl->start_ticks = 0; /* no /proc here: member_gone asks kill() */
    if (!slot_cas(sl, FS_FORKING, FS_LIVE)) {
        /* the reaper took it back (this fork seemed never to start): the
         * references are gone, so nothing inherited is ours to use */
        plog(PLOG_WARN, "fork: this process's slot was given back before it started: its inherited sockets "
                        "stay with the kernel");
        become_slotless();
        return;
    }
    g_slot = (int)(sl - g_fam->slots);
    g_socks = sl->socks;
    g_eps = sl->eps;
}

/* ---- exec ---- */

/* This process leaves the family for good (exit, exec; lock held): every
 * fd it names is forgotten, its tables become private empty ones and its
 * slot is free. The tables must change too: a later close in this process
 * (an atexit handler after ours, a failed exec) would otherwise clear
 * entries of the next process given the slot. socks and eps: zeroed
 * private tables of g_fdmax entries (calloc'd by the caller, outside the
 * lock), or NULL to keep the slot (no memory). */
static void slot_give_back(struct psock **socks, struct epset **eps)
{
    int slot = g_slot;

    if (slot < 0)
        return;
    eng_release(slot);
    family_leave();
    if (getpid() == g_started_pid && family_others_live()) {
        t_inside++;
        sluice_detach();
        t_inside--;
    }
    if (socks == NULL || eps == NULL)
        return;
    __atomic_store_n(&g_socks, socks, __ATOMIC_RELEASE);
    __atomic_store_n(&g_eps, eps, __ATOMIC_RELEASE);
    g_slot = -1;
    g_fam->slots[slot].fd_hi = 0;
    g_fam->slots[slot].pid = 0;
    __atomic_store_n(&g_fam->slots[slot].state, FS_FREE, __ATOMIC_RELEASE);
}

void family_exit(void)
{
    struct psock **socks = calloc((size_t)g_fdmax, sizeof(*socks));
    struct epset **eps = calloc((size_t)g_fdmax, sizeof(*eps));

    if (g_slot >= 0 && socks != NULL && eps != NULL) {
        slot_give_back(socks, eps);
        return;
    }
    if (g_slot >= 0)
        slot_give_back(NULL, NULL);
    free(socks);
    free(eps);
}

/* exec replaces the image: what this process held, and its slot, must be
 * given back first (the new image knows nothing of them; fork + exec would
 * otherwise hold a slot per child until it exits). A failed exec leaves
 * the fds to the kernel and the process out of the family. */
static void before_exec(void)
{
    if (g_fam == NULL || !g_started || g_slot < 0)
        return;
    lock();
    family_exit();
    unlock();
}

PRELOAD_API int execve(const char *path, char *const argv[], char *const envp[])
{
    ENTER();
    before_exec();
    return real.execve(path, argv, envp);
}

PRELOAD_API int execv(const char *path, char *const argv[])
{
    ENTER();
    before_exec();
    return real.execv(path, argv);
}

PRELOAD_API int execvp(const char *file, char *const argv[])
{
    ENTER();
    before_exec();
    return real.execvp(file, argv);
}

PRELOAD_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
    ENTER();
    before_exec();
    return real.execvpe(file, argv, envp);
}

PRELOAD_API int fexecve(int fd, char *const argv[], char *const envp[])
{
    ENTER();
    before_exec();
    return real.fexecve(fd, argv, envp);
}

/* execl, execlp, execle: the list made an array (glibc's own call execve
 * inside the library, past any interposer). */
#define EXECL_MAX 4096

static int collect(const char *arg0, va_list ap, char **argv, char ***envp)
{
    int n = 0;

    argv[n++] = (char *)arg0;
    while (argv[n - 1] != NULL) {
        if (n == EXECL_MAX)
            return -E2BIG;
        argv[n++] = va_arg(ap, char *);
    }
    if (envp != NULL)
        *envp = va_arg(ap, char **);
    return 0;
}

PRELOAD_API int execl(const char *path, const char *arg, ...)
{
    char *argv[EXECL_MAX];
    va_list ap;
    int rc;

    va_start(ap, arg);
    rc = collect(arg, ap, argv, NULL);
    va_end(ap);
    return rc ? fail(-rc) : execv(path, argv);
}

PRELOAD_API int execlp(const char *file, const char *arg, ...)
{
    char *argv[EXECL_MAX];
    va_list ap;
    int rc;

    va_start(ap, arg);
    rc = collect(arg, ap, argv, NULL);
    va_end(ap);
    return rc ? fail(-rc) : execvp(file, argv);
}

PRELOAD_API int execle(const char *path, const char *arg, ...)
{
    char *argv[EXECL_MAX], **envp;
    va_list ap;
    int rc;

    va_start(ap, arg);
    rc = collect(arg, ap, argv, &envp);
    va_end(ap);
    return rc ? fail(-rc) : execve(path, argv, envp);
}

/* ---- privileges ---- */

/* A root process about to become another user, having made an AF_INET
 * socket already (it means to use the network), starts the stack first:
 * the device needs root to open, and once open it serves the process (and
 * the workers it forks) under any user. mosquitto switches to its user
 * before it binds its listeners; nginx and apache bind first, and start
 * the stack at bind. */
static void before_uid_change(uid_t to)
{
    if (g_fam == NULL || g_started || to == 0 || to == (uid_t)-1 || geteuid() != 0 || !g_inet_seen || t_inside)
        return;
    lock();
    if (ps_start_stack() == 0)
        plog(PLOG_INFO, "started Sluice before this process becomes uid %u", (unsigned)to);
    unlock();
}

PRELOAD_API int setuid(uid_t uid)
{
    ENTER();
    before_uid_change(uid);
    return real.setuid(uid);
}

PRELOAD_API int seteuid(uid_t euid)
{
    ENTER();
    before_uid_change(euid);
    return real.seteuid(euid);
}

PRELOAD_API int setreuid(uid_t ruid, uid_t euid)
{
    ENTER();
    before_uid_change(euid != (uid_t)-1 ? euid : ruid);
    return real.setreuid(ruid, euid);
}

PRELOAD_API int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
    ENTER();
    before_uid_change(euid != (uid_t)-1 ? euid : ruid);
    return real.setresuid(ruid, euid, suid);
}
