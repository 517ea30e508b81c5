/*
 * signals.c - signal handlers interrupting the interposer's waits, as
 * signal(7) "Interruption of system calls and library functions by signal
 * handlers" says they interrupt Linux's.
 *
 * A blocking call on a Sluice socket spins and naps in user space: the
 * kernel never sees it blocked, so it cannot fail it with EINTR when a
 * handler runs. So the interposer sees the handlers run instead (the way
 * OpenOnload does): every handler the program installs (sigaction, signal,
 * bsd_signal, ssignal, sysv_signal, sigset, siginterrupt) is kept in a
 * table and the kernel is given a trampoline in its place, with the
 * program's own flags and mask (so the kernel's restart rules for its own
 * fds are unchanged) plus SA_SIGINFO. The trampoline counts, per thread,
 * the handlers that ran and those that ran without SA_RESTART, then calls
 * the program's handler with what the kernel gave (siginfo and ucontext
 * when it asked for SA_SIGINFO). A wait takes a snapshot of the counts
 * when it starts (sig_watch_start) and, after every look and every nap,
 * asks sig_check whether it must end with EINTR. SIG_IGN and SIG_DFL go
 * straight to the kernel, so an ignored or default-action signal (SIGCHLD,
 * SIGWINCH) interrupts nothing, as on Linux; a signal delivered to another
 * thread moves that thread's counts only.
 *
 * A query (sigaction with an old action, signal's return value) answers
 * what the kernel holds, with the program's handler and SA_SIGINFO bit in
 * place of the trampoline's: the program sees its own handler and flags.
 *
 * The synchronous fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
 * SIGSYS) are left alone: the thread's own instruction raises them, never
 * a wait of ours, and their handlers (sanitizers, runtimes) often look at
 * which handler the kernel holds.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "internal.h"

/* The program's handler of one signal. Read by the trampoline, which may
 * run at any moment in any thread: each field is loaded atomically. */
struct sig_slot {
    void *fn;  /* sa_handler or sa_sigaction */
    int flags; /* the program's sa_flags (SA_RESTART, SA_SIGINFO...) */
};

static struct sig_slot g_slots[_NSIG];

/* Signals for which signal() and bsd_signal() give no SA_RESTART:
 * siginterrupt(sig, 1) asked so (glibc's _sigintr). */
static sigset_t g_sigintr;

/* Per thread: handlers run, and those of them without SA_RESTART. Touched
 * in the trampoline, so initial-exec (no lazy allocation in a handler). */
static __thread unsigned long t_sig_runs __attribute__((tls_model("initial-exec")));
static __thread unsigned long t_sig_intr __attribute__((tls_model("initial-exec")));

/* Whether sig's handlers go through the trampoline: every catchable
 * signal but the synchronous faults (see the top of this file). */
static bool sig_wrapped(int sig)
{
    switch (sig) {
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGTRAP:
    case SIGSYS:
        return false;
    default:
        return sig > 0 && sig < _NSIG;
    }
}

/* What the kernel calls for a wrapped signal: counts the run for this
 * thread's waits, then calls the program's handler as it asked to be
 * called. Counting first: a handler may siglongjmp out. Async-signal-safe
 * (atomic loads, initial-exec TLS) and errno-neutral. */
static void trampoline(int sig, siginfo_t *si, void *uc)
{
    void *fn = __atomic_load_n(&g_slots[sig].fn, __ATOMIC_RELAXED);
    int flags = __atomic_load_n(&g_slots[sig].flags, __ATOMIC_RELAXED);

    /* one instruction each: a handler nested in this one still counts */
    __atomic_fetch_add(&t_sig_runs, 1, __ATOMIC_RELAXED);
    if (!(flags & SA_RESTART))
        __atomic_fetch_add(&t_sig_intr, 1, __ATOMIC_RELAXED);
    if (fn == NULL || fn == (void *)SIG_DFL || fn == (void *)SIG_IGN)
        return; /* replaced while this one was on its way: nothing to call */
    if (flags & SA_SIGINFO)
        ((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
    else
        ((void (*)(int))fn)(sig);
}

static bool is_handler(const struct sigaction *act)
{
    return act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
}

/* Puts the program's handler and SA_SIGINFO bit (from slot) in place of the
 * trampoline in what the kernel answered. */
static void unwrap(struct sigaction *old, const struct sig_slot *slot)
{
    /* an SA_RESETHAND handler that ran: the kernel put SIG_DFL back and
     * kept the flags, our SA_SIGINFO among them */
    if (old->sa_handler == SIG_DFL && (old->sa_flags & SA_RESETHAND) && (slot->flags & SA_RESETHAND) &&
        !(slot->flags & SA_SIGINFO))
        old->sa_flags &= ~SA_SIGINFO;
    if (old->sa_sigaction != trampoline)
        return;
    old->sa_sigaction = (void (*)(int, siginfo_t *, void *))slot->fn;
    if (!(slot->flags & SA_SIGINFO))
        old->sa_flags &= ~SA_SIGINFO;
}

/* sigaction(2): 0, or -1 and errno as the kernel answers (EINVAL for a bad
 * or uncatchable signal, EFAULT). The kernel holds the trampoline in place
 * of a program's handler; queries answer the program's handler and flags. */
PRELOAD_API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    struct sig_slot prev;
    struct sigaction k;
    int rc;

    real_resolve();
    if (t_inside || !sig_wrapped(sig))
        return real.sigaction(sig, act, old);
    prev.fn = __atomic_load_n(&g_slots[sig].fn, __ATOMIC_RELAXED);
    prev.flags = __atomic_load_n(&g_slots[sig].flags, __ATOMIC_RELAXED);
    if (act == NULL || !is_handler(act)) {
        rc = real.sigaction(sig, act, old);
    } else {
        /* the slot first: a signal right after the kernel takes the
         * trampoline finds the new handler */
        k = *act;
        __atomic_store_n(&g_slots[sig].fn, (void *)act->sa_sigaction, __ATOMIC_RELAXED);
        __atomic_store_n(&g_slots[sig].flags, act->sa_flags, __ATOMIC_RELAXED);
        k.sa_sigaction = trampoline;
        k.sa_flags |= SA_SIGINFO;
        rc = real.sigaction(sig, &k, old);
        if (rc != 0) {
            __atomic_store_n(&g_slots[sig].fn, prev.fn, __ATOMIC_RELAXED);
            __atomic_store_n(&g_slots[sig].flags, prev.flags, __ATOMIC_RELAXED);
        }
    }
    if (rc == 0 && old != NULL)
        unwrap(old, act == NULL ? &g_slots[sig] : &prev);
    return rc;
}

PRELOAD_API int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return sigaction(sig, act, old);
}

/* Installs handler h for sig with mask and flags through our sigaction;
 * returns the previous handler, or SIG_ERR (errno set), as signal(2). */
static sighandler_t set_handler(int sig, sighandler_t h, const sigset_t *mask, int flags)
{
    struct sigaction act, old;

    if (h == SIG_ERR) {
        errno = EINVAL;
        return SIG_ERR;
    }
    memset(&act, 0, sizeof(act));
    act.sa_handler = h;
    act.sa_mask = *mask;
    act.sa_flags = flags;
    if (sigaction(sig, &act, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* signal(3) as glibc's (BSD semantics): the handler stays, sig is blocked
 * while it runs, and calls restart (SA_RESTART) unless siginterrupt(sig,
 * 1) said otherwise. Returns the previous handler or SIG_ERR. */
PRELOAD_API sighandler_t signal(int sig, sighandler_t h)
{
    sigset_t mask;

    real_resolve();
    if (sig <= 0 || sig >= _NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    sigemptyset(&mask);
    sigaddset(&mask, sig);
    return set_handler(sig, h, &mask, sigismember(&g_sigintr, sig) ? 0 : SA_RESTART);
}

PRELOAD_API sighandler_t bsd_signal(int sig, sighandler_t h)
{
    return signal(sig, h);
}

PRELOAD_API sighandler_t ssignal(int sig, sighandler_t h)
{
    return signal(sig, h);
}

/* sysv_signal(3) as glibc's: one-shot (SA_RESETHAND), not blocked while
 * it runs (SA_NODEFER), no SA_RESTART. Previous handler or SIG_ERR. */
PRELOAD_API sighandler_t sysv_signal(int sig, sighandler_t h)
{
    sigset_t mask;

    real_resolve();
    if (sig <= 0 || sig >= _NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    sigemptyset(&mask);
    return set_handler(sig, h, &mask, SA_RESETHAND | SA_NODEFER);
}

PRELOAD_API sighandler_t __sysv_signal(int sig, sighandler_t h)
{
    return sysv_signal(sig, h);
}

/* sigset(3) as glibc's: SIG_HOLD blocks sig; anything else installs it
 * (no flags, empty mask) and unblocks sig. Returns SIG_HOLD if sig was
 * blocked, else the previous handler; SIG_ERR and errno on error. */
PRELOAD_API sighandler_t sigset(int sig, sighandler_t disp)
{
    sigset_t set, oset, empty;
    struct sigaction old;
    sighandler_t prev;

    real_resolve();
    if (sig <= 0 || sig >= _NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    sigemptyset(&set);
    sigaddset(&set, sig);
    if (disp == SIG_HOLD) {
        if (sigprocmask(SIG_BLOCK, &set, &oset) != 0)
            return SIG_ERR;
        if (sigismember(&oset, sig))
            return SIG_HOLD;
        if (sigaction(sig, NULL, &old) != 0)
            return SIG_ERR;
        return old.sa_handler;
    }
    sigemptyset(&empty);
    prev = set_handler(sig, disp, &empty, 0);
    if (prev == SIG_ERR || sigprocmask(SIG_UNBLOCK, &set, &oset) != 0)
        return SIG_ERR;
    return sigismember(&oset, sig) ? SIG_HOLD : prev;
}

/* siginterrupt(3) as glibc's: clears (flag != 0) or sets SA_RESTART on
 * sig's current action, and makes later signal() calls do the same.
 * 0, or -1 and errno. */
PRELOAD_API int siginterrupt(int sig, int flag)
{
    struct sigaction act;

    real_resolve();
    if (sigaction(sig, NULL, &act) != 0)
        return -1;
    if (flag) {
        sigaddset(&g_sigintr, sig);
        act.sa_flags &= ~SA_RESTART;
    } else {
        sigdelset(&g_sigintr, sig);
        act.sa_flags |= SA_RESTART;
    }
    return sigaction(sig, &act, NULL);
}

/* ---- the stack's threads ---- */

void sig_block_for_threads(sigset_t *saved)
{
    sigset_t all;

    sigfillset(&all);
    /* the faults stay deliverable: a thread that faults with them blocked
     * is killed without its handler */
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGTRAP);
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_BLOCK, &all, saved);
}

void sig_unblock_after_threads(const sigset_t *saved)
{
    int err = errno;

    pthread_sigmask(SIG_SETMASK, saved, NULL);
    errno = err;
}

/* ---- what the waits ask ---- */

void sig_watch_start(struct sig_watch *w)
{
    w->runs = __atomic_load_n(&t_sig_runs, __ATOMIC_RELAXED);
    w->intr = __atomic_load_n(&t_sig_intr, __ATOMIC_RELAXED);
}

/* The snapshot of the blocking socket call running in this thread. */
static __thread struct sig_watch t_call;

void sig_call_start(void)
{
    sig_watch_start(&t_call);
}

const struct sig_watch *sig_call(void)
{
    return &t_call;
}

int sig_check(const struct sig_watch *w, bool restartable)
{
    if (__atomic_load_n(&t_sig_intr, __ATOMIC_RELAXED) != w->intr)
        return -EINTR;
    if (!restartable && __atomic_load_n(&t_sig_runs, __ATOMIC_RELAXED) != w->runs)
        return -EINTR;
    return 0;
}

int sig_mask_enter(const sigset_t *mask, sigset_t *saved)
{
    if (mask == NULL)
        return 0;
    return pthread_sigmask(SIG_SETMASK, mask, saved) == 0 ? 0 : -EINVAL;
}

void sig_mask_leave(const sigset_t *mask, const sigset_t *saved)
{
    int err = errno;

    if (mask != NULL)
        pthread_sigmask(SIG_SETMASK, saved, NULL);
    errno = err;
}
