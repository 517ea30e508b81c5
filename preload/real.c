/*
 * real.c - the C library's own functions, found with dlsym(RTLD_NEXT), so
 * that a call the interposer does not take goes to exactly what the program
 * would have called without it.
 */
/* Our definitions of pread, sendfile and fcntl must keep their own names
 * (glibc redirects them to the *64 names under _FILE_OFFSET_BITS=64, which
 * Meson sets); on 64-bit targets off_t is 64 bits either way. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

struct real_fns real;
__thread int t_inside;

struct sym {
    const char *name;
    void **slot;
    bool needed; /* missing: the library cannot work (only newer glibc calls may be absent) */
};

#define S(n, field, need) {n, (void **)&real.field, need}

static const struct sym syms[] = {
    S("socket", socket, true), S("socketpair", socketpair, true), S("bind", bind, true),
    S("listen", listen, true), S("accept", accept, true), S("accept4", accept4, true),
    S("connect", connect, true), S("shutdown", shutdown, true), S("close", close, true),
    S("close_range", close_range, false), S("getsockname", getsockname, true),
    S("getpeername", getpeername, true), S("getsockopt", getsockopt, true),
    S("setsockopt", setsockopt, true), S("read", read, true), S("readv", readv, true),
    S("pread", pread, true), S("pread64", pread64, false), S("recv", recv, true),
    S("recvfrom", recvfrom, true), S("recvmsg", recvmsg, true), S("recvmmsg", recvmmsg, true),
    S("write", write, true), S("writev", writev, true), S("send", send, true),
    S("sendto", sendto, true), S("sendmsg", sendmsg, true), S("sendmmsg", sendmmsg, true),
    S("sendfile", sendfile, true), S("sendfile64", sendfile64, false), S("fcntl", fcntl, true),
    S("fcntl64", fcntl64, false), S("ioctl", ioctl, true), S("dup", dup, true),
    S("dup2", dup2, true), S("dup3", dup3, true), S("epoll_create", epoll_create, true),
    S("epoll_create1", epoll_create1, true), S("epoll_ctl", epoll_ctl, true),
    S("epoll_wait", epoll_wait, true), S("epoll_pwait", epoll_pwait, true),
    S("epoll_pwait2", epoll_pwait2, false), S("poll", poll, true), S("ppoll", ppoll, true),
    S("select", select, true), S("pselect", pselect, true), S("sigaction", sigaction, true), S("fork", fork, true),
    S("__read_chk", read_chk, false), S("__recv_chk", recv_chk, false),
    S("__recvfrom_chk", recvfrom_chk, false),
    S("execve", execve, true), S("execv", execv, true), S("execvp", execvp, true),
    S("execvpe", execvpe, true), S("fexecve", fexecve, true), S("setuid", setuid, true),
    S("seteuid", seteuid, true), S("setreuid", setreuid, true), S("setresuid", setresuid, true),
};

void real_resolve(void)
{
    static int done;

    if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
        return;
    /* Two threads may race here; both write the same pointers. */
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        if (*syms[i].slot != NULL)
            continue;
        void *p = dlsym(RTLD_NEXT, syms[i].name);
        if (p == NULL && syms[i].needed) {
            static const char msg[] = "sluice-preload: error: the C library lacks a socket call; cannot run\n";
            /* not write(): that is ours, and needs what failed here */
            syscall(SYS_write, 2, msg, sizeof(msg) - 1);
            abort();
        }
        __atomic_store_n(syms[i].slot, p, __ATOMIC_RELEASE);
    }
    if (real.fcntl64 == NULL)
        real.fcntl64 = real.fcntl;
    if (real.pread64 == NULL)
        real.pread64 = real.pread;
    if (real.sendfile64 == NULL)
        real.sendfile64 = real.sendfile;
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}
