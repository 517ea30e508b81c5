/*
 * internal.h - the mtcp/ layer: mTCP's socket API over the public demi API
 * (docs/mtcp.md, docs/DESIGN.md "Layers"). Includes only system headers,
 * this header and include/.
 *
 * State: contexts (one per CPU) each own a table of socket ids; every
 * socket with a demi queue is also found by its qd (g_by_qd), because one
 * demi_wait_next_n takes the completions of every queue of the process,
 * whichever context they belong to. One lock (mt_lock) serialises all of
 * it: the demi API is not thread-safe.
 *
 * Internal functions return a count, 0, or -errno; the exported wrappers
 * turn -errno into -1 and errno (mt_ret).
 */
#ifndef SLUICE_MTCP_INTERNAL_H
#define SLUICE_MTCP_INTERNAL_H

/* The library implements the wider (mOS) return types; see mtcp_api.h. */
#define SLUICE_MTCP_DIALECT_MOS 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <mtcp_api.h>
#include <mtcp_epoll.h>

#define MT_API __attribute__((visibility("default")))

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mtcp_epoll_event's events field is shared by two widths: little-endian only"
#endif

/* MT_MONITOR: a MOS_SOCK_MONITOR_STREAM socket; MT_MON_RAW: a
 * MOS_SOCK_MONITOR_RAW one; MT_MON_FLOW: a flow's socket
 * (MOS_SOCK_MONITOR_STREAM_ACTIVE), made by the monitor (monitor.c). */
enum mt_kind { MT_UNUSED = 0, MT_STREAM, MT_LISTENER, MT_EPOLL, MT_PIPE, MT_MONITOR, MT_MON_RAW, MT_MON_FLOW };
enum mt_state { ST_NEW = 0, ST_CONNECTING, ST_CONNECTED, ST_CLOSED };

/* Settings (struct mtcp_conf's and the file's). */
struct mt_conf {
    int num_cores;
    int max_concurrency;
    int max_num_buffers;
    int rcvbuf_size;
    int sndbuf_size;
    int tcp_timewait;
    int tcp_timeout;
    uint64_t cpu_mask;
};

/* A received array not yet read in full. */
struct mt_rx {
    demi_sgarray_t sga;
    uint32_t off;
    struct mt_rx *next;
};

/* An outstanding push: its token and size. */
struct mt_push {
    demi_qtoken_t qt;
    size_t bytes;
};

/* A connection a listener accepted that mtcp_accept has not taken. */
struct mt_conn {
    int qd;
    struct sockaddr_in addr;
};

struct mt_ctx;

struct mt_sock {
    enum mt_kind kind;
    int id;
    int qd; /* the demi queue, -1 for an epoll */
    struct mt_ctx *ctx;
    enum mt_state state;
    bool bound;
    bool pipe_writer; /* pipe: the write end (pipeid[1]) */
    int err;          /* pending error, reported once (read, write, SO_ERROR) */
    bool dead;        /* the connection cannot send any more */
    bool eof;         /* a zero-length pop came: nothing more to read */
    bool want_out;    /* a writer found no room: room is an event */

    /* receiving */
    bool pop_pending;
    demi_qtoken_t pop_qt;
    struct mt_rx *rx_head, *rx_tail;
    size_t rx_bytes;

    /* sending */
    struct mt_push *push;
    int npush, cap_push;
    size_t tx_bytes;

    /* connecting */
    bool conn_pending;
    demi_qtoken_t conn_qt;

    /* listening */
    int backlog;
    demi_qtoken_t *acc_qt;
    int nacc;
    struct mt_conn *acq; /* ready connections, FIFO */
    int acq_head, acq_n, acq_cap;

    /* registration in an epoll (one at most, as in mTCP) */
    int ep_id; /* -1: none */
    uint32_t ep_events;
    mtcp_epoll_data_t ep_data;
    bool ep_disabled; /* EPOLLONESHOT reported */
    bool ep_queued;
    struct mt_sock *rl_prev, *rl_next;

    /* an epoll: its ready list */
    struct mt_sock *rl_head, *rl_tail;

    /* a port bound by sockets of several contexts (mTCP gives each core a
     * stack of its own, so each may listen on the same port): every member
     * points to one hidden socket (grp) that owns the demi listener and
     * its ready connections; the hidden one lists its members */
    struct mt_sock *grp;
    struct mt_sock **members;
    int nmembers;
    uint16_t port; /* the hidden one's port, network order */

    struct mt_mon *mon; /* monitor kinds: their state (monitor.c, malloc'd) */
};

struct mt_ctx {
    struct mtcp_context pub; /* first: mctx_t points here */
    uint32_t magic;
    int nsocks;
    struct mt_sock *socks;
    int rcvbuf, sndbuf;
};

/* lock.c / core state */
void mt_lock(void);
void mt_unlock(void);
int mt_ret(int rc);
extern struct mt_conf g_mt_conf;
extern bool g_mt_inited;

/* context.c */
struct mt_ctx *mt_ctx_get(mctx_t mctx);
int mt_sock_get(mctx_t mctx, int id, struct mt_sock **out);
int mt_sock_alloc(struct mt_ctx *c, enum mt_kind kind, struct mt_sock **out);
void mt_sock_free(struct mt_sock *s);
void mt_ctx_close_all(struct mt_ctx *c);
void mt_destroy_all(void);
struct mt_sock *mt_group_find(uint16_t port);

/* io.c */
int mt_map_qd(struct mt_sock *s, int qd);
void mt_unmap_qd(int qd);
int mt_progress(void);
void mt_start_pop(struct mt_sock *s);
int mt_sock_close(struct mt_sock *s);
int mt_listen_start(struct mt_sock *s, int backlog);
void mt_listen_rearm(struct mt_sock *s);
uint64_t mt_now_ns(void);
extern uint64_t g_mt_last_work_ns;

/* epoll.c */
uint32_t mt_sock_events(const struct mt_sock *s);
void mt_wake(struct mt_sock *s);
void mt_ep_forget(struct mt_sock *s);
void mt_ep_close(struct mt_sock *ep);

/* monitor.c */
static inline bool mt_is_monitor(const struct mt_sock *s)
{
    return s->kind == MT_MONITOR || s->kind == MT_MON_RAW || s->kind == MT_MON_FLOW;
}
int mt_mon_socket(struct mt_ctx *c, int type);
void mt_mon_close(struct mt_sock *s);
int mt_mon_getsockopt(struct mt_sock *s, int level, int opt, void *val, socklen_t *len);
int mt_mon_setsockopt(struct mt_sock *s, int level, int opt, const void *val, socklen_t len);
int mt_mon_peername(struct mt_sock *s, struct sockaddr *addr, socklen_t *len, int side);
void mt_mon_shutdown(void);
extern volatile int g_mt_signals; /* signals handled through mtcp_register_signal */

/* config.c */
int mt_conf_load(const char *path, struct mt_conf *conf);
void mt_conf_defaults(struct mt_conf *conf);

#endif
