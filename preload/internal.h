/*
 * internal.h - shared state of the interposer (libsluice-preload.so).
 *
 * Read docs/preload.md first. In short:
 *  - every file descriptor the program sees is a real kernel fd; a socket
 *    Sluice takes keeps the kernel socket that socket() made (so numbers
 *    never collide) and gets a struct psock in socks[fd];
 *  - a socket is a candidate (AF_INET, stream or datagram) until bind,
 *    listen, connect or a first sendto decides it: taken (Sluice) or kernel,
 *    by the rules of rules.c;
 *  - a taken socket is materialised on the demi side (demi_socket, options,
 *    bind, listen) only when it is first used for I/O, so a process that
 *    forks before any I/O (nginx's master) never starts DPDK;
 *  - everything is serialised by one lock (g_fam->lock), released while a
 *    caller sleeps; a thread-local flag lets the calls that Sluice and DPDK
 *    make themselves go straight to the kernel;
 *  - every object lives in the arena (arena.c), shared with the processes
 *    forked after the stack started: one stack, one set of sockets, one
 *    lock for the whole process family (family.c, docs/preload.md
 *    "Process families").
 * Nothing here includes a DPDK header: public demi/ and sluice/ headers only.
 */
#ifndef SLUICE_PRELOAD_INTERNAL_H
#define SLUICE_PRELOAD_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/poll.h>
#include <sys/queue.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include <demi/types.h>

#define PRELOAD_API __attribute__((visibility("default")))

/* ---- the real functions (real.c) ---- */

struct real_fns {
    int (*socket)(int, int, int);
    int (*socketpair)(int, int, int, int[2]);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*shutdown)(int, int);
    int (*close)(int);
    int (*close_range)(unsigned, unsigned, int);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*pread)(int, void *, size_t, off_t);
    ssize_t (*pread64)(int, void *, size_t, off_t);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    int (*recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
    ssize_t (*sendfile)(int, int, off_t *, size_t);
    ssize_t (*sendfile64)(int, int, off_t *, size_t);
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    int (*ioctl)(int, unsigned long, ...);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*epoll_create)(int);
    int (*epoll_create1)(int);
    int (*epoll_ctl)(int, int, int, struct epoll_event *);
    int (*epoll_wait)(int, struct epoll_event *, int, int);
    int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
    int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
    int (*sigaction)(int, const struct sigaction *, struct sigaction *);
    pid_t (*fork)(void);
    ssize_t (*read_chk)(int, void *, size_t, size_t);
    ssize_t (*recv_chk)(int, void *, size_t, size_t, int);
    ssize_t (*recvfrom_chk)(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execv)(const char *, char *const[]);
    int (*execvp)(const char *, char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*setuid)(uid_t);
    int (*seteuid)(uid_t);
    int (*setreuid)(uid_t, uid_t);
    int (*setresuid)(uid_t, uid_t, uid_t);
};

extern struct real_fns real;
/* Resolves every real function (dlsym(RTLD_NEXT)); idempotent, no lock. */
void real_resolve(void);

/* True while this thread is inside Sluice or DPDK: interposed calls then go
 * straight to the kernel (DPDK opens sockets, ioctls and eventfds itself). */
extern __thread int t_inside;

/* ---- logging, the lock, the clock (log.c) ---- */

enum plog_level { PLOG_ERROR, PLOG_WARN, PLOG_INFO, PLOG_DEBUG, PLOG_STATS /* always printed */ };
extern int g_log_level;
void plog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- rules (rules.c) ---- */

/* Loads SLUICE_PRELOAD_RULES (or the default: the kernel keeps 127.0.0.0/8,
 * Sluice takes the rest). 0, or -EINVAL (logged once, naming the entry). */
int rules_load(void);
/* Whether a socket bound or connecting to addr:port (network order) is
 * Sluice's (1), the kernel's (0), or -EINVAL when the rules are bad. */
int rules_take(uint32_t addr, uint16_t port);

/* ---- sockets (psock.c: life; completions.c: what the engine files) ---- */

enum ps_state { PS_CAND, PS_KERNEL, PS_TAKEN };
enum ps_conn { CS_NONE, CS_LISTEN, CS_CONNECTING, CS_CONNECTED, CS_FAILED };

struct rseg {                /* one popped array, partly read */
    demi_sgarray_t sga;
    uint32_t off;
};

struct opt_rec {             /* a setsockopt recorded for replay */
    int level, name;
    socklen_t len;
    unsigned char val[64];
};

struct accepted {
    int qd;
    struct sockaddr_in addr;
    uint64_t since;          /* when it was filed (now_ns) */
};

struct ep_item;
TAILQ_HEAD(ep_item_tailq, ep_item);
LIST_HEAD(ep_item_list, ep_item);

struct psock {
    int refs;                /* fds naming it, in every process of the family (atomic) */
    int busy;                /* callers inside a blocking wait on it */
    bool closed;             /* last fd closed: freed once tokens are back */
    bool dead;               /* inherited over fork from a process running the stack */
    int type;                /* SOCK_STREAM or SOCK_DGRAM */
    enum ps_state state;
    bool nonblock;
    /* what the program asked for before the demi side exists */
    bool bound;
    struct sockaddr_in bind_addr;
    bool listening;
    int backlog;
    struct opt_rec *opts;
    int nopts;
    /* the demi side */
    int qd;                  /* -1 until materialised */
    enum ps_conn conn;
    int so_error;            /* pending error (Linux's sk_err) */
    bool rd_eof, rd_shut, wr_shut, reset;
    struct sockaddr_in peer;
    bool has_peer;
    struct rseg *rq;         /* ring of popped arrays */
    int rq_head, rq_n, rq_cap;
    size_t rbytes;
    int pops_out;
    size_t unacked;          /* bytes pushed and not completed */
    int pushes_out;
    uint32_t sndbuf;
    struct accepted *aq;     /* completed accepts, of any engine */
    int aq_head, aq_n, aq_cap;
    int *lqd;                /* a listener's descriptor on each shared engine (-1: none), or NULL */
    uint64_t accept_out;     /* engines (bit k) with an accept outstanding */
    int acc_waiters;         /* threads in a blocking accept on it, in any process */
    pid_t last_acceptor;     /* the thread (tid) that took the last connection */
    bool connect_out;
    /* a connect returned EINPROGRESS or EINTR and no later call has said
     * how it ended (Linux's sock->state still SS_CONNECTING) */
    bool conn_unreported;
    uint64_t gen;            /* bumped on every completion (blocking waits) */
    struct ep_item_list ep_items; /* its epoll registrations */
    struct timeval rcvtimeo, sndtimeo;
    struct psock *next_all;  /* list of every psock, for fork and exit */
};

/* One registration in an epoll set (Linux's epitem): a Sluice socket, or
 * an epoll set inside this one, added under fd number fd. Keyed by (socket,
 * fd) as Linux keys by (file, fd): a dup'ed fd is another registration of
 * the same socket, and the registration lives until EPOLL_CTL_DEL or the
 * socket's last fd is closed. */
struct ep_item {
    struct epset *ep;        /* the set it belongs to */
    int fd;
    struct psock *s;         /* the socket, or NULL */
    struct epset *inner;     /* or the epoll set registered (nested epoll) */
    uint32_t events;         /* as the program gave them (EPOLLET, EPOLLONESHOT...) */
    epoll_data_t data;
    bool disarmed;           /* EPOLLONESHOT reported: silent until EPOLL_CTL_MOD */
    bool in_kernel;          /* registered in the kernel set (a candidate socket) */
    bool queued;             /* on ep->ready */
    TAILQ_ENTRY(ep_item) set_link; /* ep->items */
    TAILQ_ENTRY(ep_item) rd_link;  /* ep->ready */
    LIST_ENTRY(ep_item) src_link;  /* s->ep_items, or inner->parents */
};

/* The Sluice side of one epoll fd (Linux's struct eventpoll): kernel fds
 * stay in the real kernel epoll set; Sluice sockets are items here, and
 * completions put them on the ready list in the order they became ready
 * (ep_wake), so epoll_wait costs O(events), not O(members). */
struct epset {
    int refs;                /* fds naming it, in every process of the family (atomic) */
    int fd;                  /* the epoll fd it was made for (to move candidates out of it) */
    pid_t owner;             /* the process fd belongs to */
    struct ep_item_tailq items;   /* every registration */
    struct ep_item_tailq ready;   /* the ready list, oldest first */
    struct ep_item_list parents;  /* its registrations in other sets */
    int nready;              /* items on ready */
    int taken;               /* items reported by Sluice (not in_kernel) */
    bool kernel_first;       /* which side fills the next wait first (fairness) */
    struct epset *next_all;
};

/* ---- the arena (arena.c) and the process family (family.c) ---- */

/* How many processes of one family may hold sockets at once. */
#define FAM_SLOTS 512

/* A slot changes state only by compare-and-swap: FREE -> FORKING (a fork
 * claims it, no lock) -> LIVE (the child takes it) or -> RELEASING (the
 * fork failed, or never started) -> FREE; LIVE -> FREE at exit or reap. */
enum fam_slot_state { FS_FREE, FS_FORKING, FS_LIVE, FS_RELEASING };

/* One process of the family: its fd tables (in the arena, so that another
 * process can close what it held when it dies). */
struct fam_slot {
    int state;               /* enum fam_slot_state (atomic) */
    pid_t pid;
    uint64_t start_ticks;    /* /proc/PID/stat starttime: a reused PID is another process */
    uint64_t claimed_ns;     /* FS_FORKING since (now_ns(); 0 while its tables are filled) */
    struct psock **socks;    /* fd -> socket; kept when the slot is freed */
    struct epset **eps;      /* fd -> epoll set */
    int fd_hi;               /* highest fd ever set in them (atomic max) */
};

/* Engines a family may share (<sluice/engine.h>: at most 64). */
#define FAM_ENGINES 64

/* What the processes of a family share, at the start of the arena. */
struct fam {
    pthread_mutex_t lock;    /* the interposer's one lock: process-shared, robust */
    bool stack_up;           /* the family's stack runs (demi_init succeeded) */
    pid_t stack_pid;         /* the process that started it */
    size_t table_bytes;      /* size of one fd table */
    uint64_t reap_ns;        /* when dead members were last looked for */
    uint64_t work;           /* completions filed: a waiter that sees it move is not idle */
    struct psock *all_socks; /* every socket */
    struct tok *toks;        /* outstanding tokens (tokens.c) */
    size_t tok_cap, tok_n;
    int nengines;            /* engines shared by the family (engines.c): 1 = engine 0 alone */
    int eng_owner[FAM_ENGINES];       /* slot + 1 of the process whose home engine k is; 0: none */
    uint64_t eng_polled_ns[FAM_ENGINES]; /* when engine k was last polled (now_ns) */
    struct fam_slot slots[FAM_SLOTS];
};
extern struct fam *g_fam;
extern int g_slot;           /* this process's slot */

/* Maps the arena (once, at start). 0 or -errno. */
int arena_init(void);
/* Zeroed memory of the arena (any thread; its own spin lock): NULL when the
 * reserve is used up. */
void *arena_alloc(size_t bytes);
void *arena_calloc(size_t n, size_t size);
/* Grows or shrinks p (from arena_alloc, old_bytes long; NULL: a new
 * block) to bytes, contents kept; NULL and p untouched on failure. */
void *arena_realloc(void *p, size_t old_bytes, size_t bytes);
void arena_free(void *p);
/* bytes of fresh arena that are never given back: no lock (fork handlers). */
void *arena_bump(size_t bytes);
/* Before a fork that must not share: a copy of the arena (tables only up to
 * their highest fd); NULL if it cannot be made. In the child, arena_adopt
 * puts it in place of the arena (same address: every pointer holds);
 * in the parent, arena_drop unmaps it. */
void *arena_snapshot(void);
int arena_adopt(void *copy);
void arena_drop(void *copy);
/* After the family's lock was found with its owner dead (lock held): frees
 * the arena's own lock if the dead process held it. */
void arena_recover(void);

/* Makes this process slot 0 of a new family (at start), with fd tables of
 * fdmax entries. 0 or -errno. */
int family_init(int fdmax);
/* Looks for members that died (or exec'd) and closes what they held, at
 * most every 100 ms (lock held). */
void family_reap(void);
/* The same now, whenever it last ran (lock held). */
void family_reap_now(void);
/* This process leaves the family (exit, exec): every fd it names is
 * forgotten, closing the sockets only it held (lock held). */
void family_leave(void);
/* This process leaves the family for good (exit, exec; lock held): its fds
 * forgotten, private empty tables from now on, its slot free. */
void family_exit(void);
/* Whether another live process shares the family (lock held). */
bool family_others_live(void);
/* Records fd as named in this process's tables (for copies and reaping). */
void family_note_fd(int fd);

extern int g_fdmax;
extern struct psock **g_socks;
extern struct epset **g_eps;
/* Per fd: FDF_EPOLL for the epoll fds the program made (epoll_create*,
 * dup), so that one added to another set is known as one. Written without
 * the lock (epoll_create and close take none: DPDK's own threads call
 * them while the lock may be held). */
#define FDF_EPOLL 1u
extern uint8_t *g_fdflags;

/* Set at start from SLUICE_PRELOAD_* and SLUICE_LOG (init.c). */
extern uint32_t g_default_sndbuf;  /* bytes of unacknowledged writes per socket */
extern unsigned g_spin_us;         /* a waiter spins this long after work, then naps */
extern bool g_want_stats;          /* print the counters at exit */
extern bool g_engine_per_thread;   /* a home engine per thread, not per process (engines.c) */
/* Whether the family's stack runs, which process started it, every socket,
 * completions filed so far (shared: struct fam). */
#define g_started (g_fam->stack_up)
#define g_started_pid (g_fam->stack_pid)
#define g_all_socks (g_fam->all_socks)
#define g_work (g_fam->work)

struct pstats {
    uint64_t taken, kernel, accepted, bytes_in, bytes_out, pushes, pops, waits_slept;
};
extern struct pstats g_pstats;

void preload_init(void);        /* resolves, sizes the tables; idempotent */
/* The first thing every interposed call does: the tables exist (a call may
 * come before the library's constructor ran, from another's). */
#define ENTER() \
    do { \
        if (g_fdmax == 0) \
            preload_init(); \
    } while (0)
/* Puts back the SLUICE_* variables the program started with and has
 * cleared since (the stack reads them when it starts). */
void restore_env(void);
/* fork (family.c): the pthread_atfork handlers; exit (process.c): the
 * handlers registered when the stack starts (linger: pushes in flight may
 * finish for 2 s, then every socket this process alone held is closed;
 * stats: the counters). */
void atfork_prepare(void);
void atfork_parent(void);
void atfork_child(void);
/* A fork() whose result is known: -1 gives back the slot prepared. */
void family_fork_failed(void);
void linger_at_exit(void);
void stats_at_exit(void);
void lock(void);
void unlock(void);

/* The psock of fd (lock-free look: the caller re-checks under the lock). */
static inline struct psock *sock_peek(int fd)
{
    if (fd < 0 || fd >= g_fdmax || g_socks == NULL)
        return NULL;
    return __atomic_load_n(&g_socks[fd], __ATOMIC_ACQUIRE);
}

static inline struct epset *ep_peek(int fd)
{
    if (fd < 0 || fd >= g_fdmax || g_eps == NULL)
        return NULL;
    return __atomic_load_n(&g_eps[fd], __ATOMIC_ACQUIRE);
}

static inline bool fd_is_epoll(int fd)
{
    return fd >= 0 && fd < g_fdmax && g_fdflags != NULL &&
           (__atomic_load_n(&g_fdflags[fd], __ATOMIC_RELAXED) & FDF_EPOLL) != 0;
}

/* Marks fd as an epoll fd of the program, or as anything else. */
static inline void fd_mark_epoll(int fd, bool on)
{
    if (fd >= 0 && fd < g_fdmax && g_fdflags != NULL)
        __atomic_store_n(&g_fdflags[fd], on ? FDF_EPOLL : 0, __ATOMIC_RELAXED);
}

/* Whether fd is a taken socket (then the call is ours). Lock-free hint. */
static inline bool fd_is_taken(int fd)
{
    struct psock *s = sock_peek(fd);
    return s != NULL && s->state == PS_TAKEN;
}

struct psock *ps_new(int type, bool nonblock);
void fd_set_sock(int fd, struct psock *s);
void fd_set_ep(int fd, struct epset *e);
/* Forgets fd (lock held); frees/closes the psock or epset it named when it
 * was the last name. */
void fd_forget(int fd);
/* One name of s (an fd, in any process of the family) is gone (lock held):
 * the last closes it. */
void ps_unref(struct psock *s);
/* One name of e is gone (lock held): the last frees it. */
void ep_unref(struct epset *e);

/* Starts the family's stack now (lock held), once: 0 or -errno (logged). */
int ps_start_stack(void);
/* Whether this process ever made an AF_INET TCP or UDP socket. */
extern bool g_inet_seen;

/* Decides a candidate (lock held): 1 taken, 0 kernel, -errno. */
int ps_decide(struct psock *s, int fd, uint32_t addr, uint16_t port);
/* Makes the demi side exist (lock held): 0; 1 when it fell back to the
 * kernel (TCP not available: the recorded bind/listen were done on the
 * kernel fd); -errno. */
int ps_materialise(struct psock *s, int fd);
/* ---- the family's engines (engines.c; lock held for all) ---- */

/* After demi_init in the process that starts the stack: shares every
 * engine with the family (sluice_engines_share); logs when it cannot. */
void eng_share(void);
/* This process's home engine: its new sockets are made there and every
 * pass polls it (0 until it claims one). */
int eng_home(void);
/* A process about to wait takes the lowest engine no process has (1..),
 * once; none left: engine 0. */
void eng_claim(void);
/* Slot's process ended: its engine may be claimed again. */
void eng_release(int slot);
/* The calls that name no descriptor (demi_socket, demi_wait_next_n) go to
 * engine k (nothing when the family has one engine). */
void eng_use(int k);
/* qd's engine was given work by this thread: its next pass polls it too. */
void eng_touch(int qd);
/* Polls the home engine, and every other one no pass polled for a while,
 * filing what completed (file_result). */
void eng_drain_all(void);
/* With --stats, at the family's last exit: one line of counters per engine. */
void eng_print_stats(void);

/* ---- tokens (tokens.c): what each outstanding demi token is for ---- */

enum tok_kind { TK_POP = 1, TK_PUSH, TK_ACCEPT, TK_CONNECT };

struct tok {
    demi_qtoken_t qt;        /* 0: free slot */
    struct psock *s;
    enum tok_kind kind;
    uint32_t bytes;
    int eng;                 /* an accept's engine */
    demi_sgarray_t sga;      /* a push's array, freed when it completes (none for a small write) */
};

/* Files t under t->qt (lock held). 0 or -ENOMEM. */
int tok_add(const struct tok *t);
/* Removes the entry of qt into *out; false if unknown (lock held). */
bool tok_take(demi_qtoken_t qt, struct tok *out);

/* Frees a push's array; one of our own memory (sga_numsegs 0) has none. */
void push_sga_free(demi_sgarray_t *sga);
/* Frees what s holds on the demi side (lock held); a socket inherited over
 * fork is only forgotten. */
void ps_release_demi(struct psock *s);
/* Frees s once its last fd is closed, no caller waits on it and its tokens
 * are back (lock held). */
void ps_maybe_free(struct psock *s);
/* Keeps one accept outstanding on listener s on every engine it listens
 * on (lock held). 0 or -errno. */
int issue_accept(struct psock *s);
/* Listener s (listening on s->qd) listens on every other shared engine
 * too, on the same address and port, so that each engine answers the SYNs
 * its queue gets (lock held). An engine where that fails is logged and
 * left out: the steering directory sends it SYNs to an engine that
 * listens. */
void ps_listen_everywhere(struct psock *s);
/* Reads the stack's SO_SNDBUF of s into s->sndbuf (lock held). */
void query_sndbuf(struct psock *s);
/* Drives the engine once and files every completion (lock held). */
void progress(void);
/* progress() for a caller about to wait (epoll_wait, poll, select, a
 * blocking socket call): the process first claims its home engine. */
void progress_wait(void);
/* Files one completion by its token (lock held). */
void file_result(const demi_qresult_t *qr);
/* Takes the oldest accepted connection of s, one of the home engine's
 * first (s->aq_n > 0; lock held). */
struct accepted aq_take(struct psock *s);
/* EPOLL* readiness of a taken socket (lock held). */
uint32_t ps_events(struct psock *s);
/* Issues pops/accepts the socket should have outstanding (lock held). */
void ps_refill(struct psock *s);
/* Pushes up to len bytes (one array) on s: data, or what fill writes into
 * the array (it returns the count, <= len, or -errno). Returns the bytes
 * pushed or -errno (lock held). */
ssize_t ps_push(struct psock *s, const void *data, size_t len, const struct sockaddr_in *to,
            int (*fill)(void *dst, size_t len, void *ctx), void *ctx);
/* Gives back an array popped or allocated from demi. */
void ps_free_sga(demi_sgarray_t *sga);
/* Files qt as the connect of s (lock held). 0 or -ENOMEM. */
int tok_add_connect(struct psock *s, demi_qtoken_t qt);
/* Whether another socket of this process holds sin's port so that Linux
 * would refuse the bind (EADDRINUSE); lock held. */
bool ps_port_in_use(const struct psock *s, const struct sockaddr_in *sin);
/* Removes s from every epoll set (lock held). */
void ep_drop_sock(struct psock *s);
/* A candidate that became taken or kernel, or a taken socket that fell back
 * to the kernel: moves its epoll registrations to the side that now
 * reports it (lock held). */
void ep_sock_decided(struct psock *s);
/* Something happened on s that may make it ready for the EPOLL* bits in
 * key (0: any): queues its registrations whose events ask for them at the
 * tail of their sets' ready lists, as Linux's ep_poll_callback does (lock
 * held). Readiness is checked when a wait reports them, not here. */
void ep_wake(struct psock *s, uint32_t key);
/* Frees epoll set e and every registration in it or of it (lock held). */
void ep_free(struct epset *e);
/* Whether an item on e's ready list is ready now: what makes epoll fd e
 * readable in another set, poll or select (lock held). */
bool ep_has_ready(struct epset *e);

/* Idle policy of a waiter: spin first, then sleep a little longer each
 * time, counting from the last time a wait of the process ended with
 * something ready or saw work arrive (in any blocking call, not only this
 * one: a server whose every epoll_wait times out after 100 ms has long
 * been idle, and must nap at once, not spin; a ping-pong whose every wait
 * ends ready keeps spinning). */
struct idle {
    uint64_t start_ns, last_work_ns;
    unsigned spins;
};
uint64_t now_ns(void);
void idle_init(struct idle *st);
/* The waiter found work (an event, bytes, a connection): short naps again. */
void idle_work(struct idle *st);
/* Nanoseconds the next sleep should last (0: spin again). */
uint64_t idle_next(struct idle *st);
/* What a waiter with a deadline (ns, now_ns()'s clock; UINT64_MAX: none)
 * does next: IDLE_DONE once it has passed, IDLE_SPIN (look again at once),
 * or IDLE_NAP for *ts (never past the deadline). */
enum idle_step { IDLE_DONE, IDLE_SPIN, IDLE_NAP };
enum idle_step idle_step(struct idle *st, uint64_t deadline_ns, struct timespec *ts);
/* Waits (lock held; dropped while sleeping) until ready(s) or the timeout
 * (NULL = none). 0, -EAGAIN on timeout, -EBADF if s was closed meanwhile,
 * -EINTR when a signal handler ran in this thread since the call started
 * (sig_call_start) and the call does not restart: restartable says whether it restarts after a handler
 * with SA_RESTART (sig_check). */
int ps_block(struct psock *s, bool (*ready)(struct psock *), const struct timeval *timeout, bool restartable);
/* Whether a call waiting with this timeout (SO_RCVTIMEO or SO_SNDTIMEO)
 * restarts after an SA_RESTART handler: only without one (signal(7): the
 * socket calls "unless a timeout has been set on the socket"). */
static inline bool restarts_with(const struct timeval *timeo)
{
    return timeo->tv_sec == 0 && timeo->tv_usec == 0;
}

/* ---- signals (signals.c) ---- */

/* The signal handlers that ran in this thread, counted when a wait starts. */
struct sig_watch {
    unsigned long runs, intr;
};
/* Takes the snapshot a wait compares against (sig_check), when the call
 * starts: a handler that runs while the call is on its way to the wait
 * (waiting for the lock, starting the stack) interrupts it too, as a
 * signal that arrives during a Linux system call before it sleeps does. */
void sig_watch_start(struct sig_watch *w);
/* The snapshot of the blocking socket call this thread is in (accept,
 * connect, the reads and writes): sig_call_start at its entry, and
 * ps_block compares against sig_call(). */
void sig_call_start(void);
const struct sig_watch *sig_call(void);
/* -EINTR when the wait of w must end because a handler ran in this thread
 * since sig_watch_start: any handler when the call is never restarted
 * (restartable false: epoll_wait, poll, select and their variants, and
 * the socket calls with a timeout set), only one installed without
 * SA_RESTART otherwise; else 0. signal(7), "Interruption of system calls
 * and library functions by signal handlers". */
int sig_check(const struct sig_watch *w, bool restartable);
/* Around the start of the stack (demi_init): the threads DPDK starts then
 * (eal-intr-thread, telemetry) inherit a mask that blocks every signal but
 * the faults, so that a signal sent to the process goes to one of the
 * program's threads, as without the interposer (signal(7): "A
 * process-directed signal may be delivered to any one of the threads that
 * does not currently have the signal blocked"); otherwise a program blocked
 * in accept on a Sluice socket could see its SIGTERM handled in DPDK's
 * thread and go on waiting. sig_unblock_after_threads puts the caller's
 * mask back (errno kept). */
void sig_block_for_threads(sigset_t *saved);
void sig_unblock_after_threads(const sigset_t *saved);
/* The sigmask of ppoll, pselect and epoll_pwait applies for the whole
 * call (Linux swaps it in at entry and back at exit): sig_mask_enter sets
 * this thread's mask to mask (NULL: nothing) and keeps the old one in
 * saved, 0 or -errno; sig_mask_leave puts it back (errno kept). Take the
 * sig_watch snapshot before entering: a signal the new mask unblocks is
 * delivered at once and must interrupt. */
int sig_mask_enter(const sigset_t *mask, sigset_t *saved);
void sig_mask_leave(const sigset_t *mask, const sigset_t *saved);

/* Sets errno and returns -1, for `return fail(E)`. */
int fail(int err);

#define SA_IN(p) ((const struct sockaddr_in *)(const void *)(p))

#endif /* SLUICE_PRELOAD_INTERNAL_H */
