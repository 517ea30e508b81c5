/*
 * mtcp_epoll.h - mTCP's epoll on Sluice (docs/mtcp.md "Epoll").
 *
 * Event values are Linux's (<sys/epoll.h>) under both dialects' names:
 * MTCP_EPOLL* (mTCP, the same values) and MOS_EPOLL* (mOS numbers them
 * differently upstream; programs that use the names are unaffected).
 * data has mTCP's sockid and mOS's sock. events is uint32_t (mTCP) or
 * uint64_t (mOS dialect), at the same offset with the same size of the
 * struct: the library reads and writes its low 32 bits.
 */
#ifndef MTCP_EPOLL_H
#define MTCP_EPOLL_H

#include <mtcp_api.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mtcp_epoll_op {
    MTCP_EPOLL_CTL_ADD = 1,
    MTCP_EPOLL_CTL_DEL = 2,
    MTCP_EPOLL_CTL_MOD = 3,
};
#define MOS_EPOLL_CTL_ADD MTCP_EPOLL_CTL_ADD
#define MOS_EPOLL_CTL_DEL MTCP_EPOLL_CTL_DEL
#define MOS_EPOLL_CTL_MOD MTCP_EPOLL_CTL_MOD

enum mtcp_event_type {
    MTCP_EPOLLNONE = 0x000,
    MTCP_EPOLLIN = 0x001,
    MTCP_EPOLLPRI = 0x002,
    MTCP_EPOLLOUT = 0x004,
    MTCP_EPOLLERR = 0x008,
    MTCP_EPOLLHUP = 0x010,
    MTCP_EPOLLRDNORM = 0x040,
    MTCP_EPOLLRDBAND = 0x080,
    MTCP_EPOLLWRNORM = 0x100,
    MTCP_EPOLLWRBAND = 0x200,
    MTCP_EPOLLMSG = 0x400,
    MTCP_EPOLLRDHUP = 0x2000,
    MTCP_EPOLLONESHOT = (1 << 30),
    MTCP_EPOLLET = (int)(1u << 31),
};
#define MOS_EPOLLNONE MTCP_EPOLLNONE
#define MOS_EPOLLIN MTCP_EPOLLIN
#define MOS_EPOLLPRI MTCP_EPOLLPRI
#define MOS_EPOLLOUT MTCP_EPOLLOUT
#define MOS_EPOLLERR MTCP_EPOLLERR
#define MOS_EPOLLHUP MTCP_EPOLLHUP
#define MOS_EPOLLRDNORM MTCP_EPOLLRDNORM
#define MOS_EPOLLRDBAND MTCP_EPOLLRDBAND
#define MOS_EPOLLWRNORM MTCP_EPOLLWRNORM
#define MOS_EPOLLWRBAND MTCP_EPOLLWRBAND
#define MOS_EPOLLMSG MTCP_EPOLLMSG
#define MOS_EPOLLRDHUP MTCP_EPOLLRDHUP
#define MOS_EPOLLONESHOT MTCP_EPOLLONESHOT
#define MOS_EPOLLET MTCP_EPOLLET

typedef union mtcp_epoll_data {
    void *ptr;
    int sockid; /* mTCP's name */
    int sock;   /* mOS's name */
    uint32_t u32;
    uint64_t u64;
} mtcp_epoll_data_t;

struct mtcp_epoll_event {
#if SLUICE_MTCP_DIALECT_MOS
    uint64_t events;
#else
    uint32_t events;
#endif
    mtcp_epoll_data_t data;
};

/*
 * Creates an epoll in context mctx; size (a hint, > 0) is otherwise
 * unused. The epoll is an id of the context's pool; close it with
 * mtcp_close.
 * Returns the epoll's id, or -1 with errno: EINVAL for an invalid mctx or
 * size <= 0; ENFILE when the context's pool is full; ENOMEM.
 * Source: mTCP's mtcp_epoll_create(3).
 */
int mtcp_epoll_create(mctx_t mctx, int size);
/*
 * As mtcp_epoll_create without the size; flags 0 (EPOLL_CLOEXEC is
 * accepted and means nothing here).
 * Returns the epoll's id, or -1 with errno: EINVAL for an invalid mctx or
 * other flags; ENFILE; ENOMEM.
 * Source: mTCP's mtcp_epoll_create1.
 */
int mtcp_epoll_create1(mctx_t mctx, int flags);
/*
 * Adds (MTCP_EPOLL_CTL_ADD), changes (MOD) or removes (DEL) socket or pipe
 * end sockid in epoll epid. event->events: MTCP_EPOLLIN, OUT, RDHUP, plus
 * MTCP_EPOLLET (edge-triggered: reported once per new event) and
 * MTCP_EPOLLONESHOT (reported once, then disarmed until MOD); ERR and HUP
 * are always reported. Level-triggered by default. event->data is given
 * back by mtcp_epoll_wait. A socket is in at most one epoll (as in mTCP).
 * ADD and MOD report a socket that is ready at once.
 * Returns 0, or -1 with errno: EINVAL for an invalid mctx, an unknown op,
 * a NULL event with ADD or MOD, sockid equal to epid or an epoll; EBADF
 * for an unused epid or sockid; EINVAL when epid is not an epoll; EEXIST
 * (ADD) when sockid is in an epoll already; ENOENT (MOD, DEL) when it is
 * not in epid.
 * Source: mTCP's mtcp_epoll_ctl(3); Linux's epoll_ctl(2) for ET/ONESHOT.
 */
int mtcp_epoll_ctl(mctx_t mctx, int epid, int op, int sockid, struct mtcp_epoll_event *event);
/*
 * Waits up to timeout ms (-1: forever, 0: poll) until a socket of epoll
 * epid is ready, and writes up to maxevents of them into events (the
 * caller's array): their events and data, oldest first. Drives Sluice's
 * engine while it waits (other threads' contexts progress too; the lock is
 * released while it naps).
 * Returns the count (0 when the time ran out), or -1 with errno: EINVAL
 * for an invalid mctx, NULL events, maxevents <= 0, or epid not an epoll;
 * EBADF for an unused epid; EINTR when a signal handler ran while it
 * waited (as Linux's epoll_wait).
 * Source: mTCP's mtcp_epoll_wait(3); readiness as Linux's epoll(7).
 */
int mtcp_epoll_wait(mctx_t mctx, int epid, struct mtcp_epoll_event *events, int maxevents, int timeout);
/*
 * The names of the MTCP_EPOLL* bits of event, '|'-separated (e.g.
 * "EPOLLIN|EPOLLOUT"; "NONE" for 0), in a buffer of the calling thread
 * that the next call overwrites: do not free it.
 * Returns the string; never fails.
 * Source: mTCP's EventToString.
 */
char *EventToString(uint32_t event);

#ifdef __cplusplus
}
#endif

#endif /* MTCP_EPOLL_H */
