/*
 * monitor.c - mOS's monitor sockets over <sluice/monitor.h> (docs/mtcp.md
 * "Monitor sockets"). Read before editing: mOS's man pages
 * mtcp_register_callback(3), mtcp_bind_monitor_filter(3), mtcp_peek(3),
 * mtcp_ppeek(3), mtcp_getlastpkt(3), mtcp_setlastpkt(3), mtcp_getsockopt(3).
 *
 * The monitor starts with the first monitor socket (sluice_mon_start) and
 * calls on_frame for every frame, in the engine's pass, with the mtcp lock
 * held (it is recursive: callbacks call mtcp_* again). A stream monitor
 * whose SYN filter matches a flow's first SYN gets a flow socket (kind
 * MT_MON_FLOW, in the monitor's context) with a copy of its callbacks; the
 * flow's user word lists those sockets. Filters are libpcap programs run
 * on the frame (pcap_offline_filter).
 */
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mos_api.h>
#include <sluice/idle.h>
#include <sluice/monitor.h>

#include "internal.h"

#define EV_BITS 11     /* MOS_ON_PKT_IN .. MOS_ON_CONN_END */
#define MAX_MONITORS 64
#define MAX_PER_FLOW 8 /* stream monitors one flow may belong to */
#define HK_SND 0
#define HK_RCV 1
#define HK_NULL 2
#define ETH_LEN 14

struct mt_mon {
    /* monitors: [0] the raw or SYN filter, [1] the orphan filter */
    struct bpf_program prog[2];
    bool has_prog[2];
    callback_t cb[3][EV_BITS]; /* by hook, by event bit */
    struct ucb *ucb[3];        /* callbacks of user-defined events, by hook (malloc'd) */
    int nucb[3];
    uint32_t buf[2];           /* MOS_CLIBUF/SVRBUF for new flows */
    bool buf_set[2];
    /* flow sockets */
    void *flow;                /* NULL once the flow ended */
    void *uctx;
    bool stopped[2];           /* MOS_STOP_MON by side */
};

/* A callback on a user-defined event. */
struct ucb {
    event_t ev;
    callback_t cb;
};

/* The flow sockets of one flow (the flow's user word). */
struct flow_socks {
    int n;
    struct mt_sock *s[MAX_PER_FLOW];
};

static struct mt_sock *g_mons[MAX_MONITORS]; /* live monitor and raw sockets */
static const struct sluice_mon_frame *g_cur; /* the frame callbacks are about */
static bool g_drop;                          /* the current frame's verdict */
static bool g_started;

/* ---- user-defined events (mtcp_define_event, mtcp_alloc_event,
 * mtcp_raise_event) ----
 *
 * mOS numbers them after its 12 built-in bits, from 1 << 12 up, one id per
 * event; so do we. A defined event has a parent (a built-in event or an
 * earlier defined event) and a filter; an allocated one has a parent and no
 * filter: it is raised by a filter, with mtcp_raise_event. The table is
 * global (as mOS's), emptied by mtcp_destroy. */

#define UDE_FIRST ((event_t)1 << 12)
#define MAX_UDE 1024
#define MAX_RAISED 32

struct ude {
    event_t parent;
    filter_t ft;      /* NULL: allocated */
    filter_arg_t arg; /* a copy of mtcp_define_event's (arg malloc'd; {NULL, 0} when none) */
};

static struct ude g_ude[MAX_UDE];
static int g_nude;

/* The events the running filter raised (mtcp_raise_event); NULL outside
 * a filter. */
struct raised {
    event_t ev[MAX_RAISED];
    int n;
};
static struct raised *g_raising;

static struct ude *ude_of(event_t ev)
{
    if (ev < UDE_FIRST || ev - UDE_FIRST >= (event_t)g_nude)
        return NULL;
    return &g_ude[ev - UDE_FIRST];
}

/* A parent of define or alloc: one built-in event bit, or a defined event
 * (mOS: an allocated event is not found as a parent). */
static bool parent_ok(event_t ev)
{
    const struct ude *u = ude_of(ev);

    if (ev != 0 && ev < ((event_t)1 << EV_BITS))
        return (ev & (ev - 1)) == 0;
    return u != NULL && u->ft != NULL;
}

static event_t do_define(event_t parent, filter_t ft, const struct filter_arg *arg, int *err)
{
    size_t len = arg != NULL && arg->arg != NULL ? arg->len : 0;
    void *copy = NULL;

    if (ft == NULL || !parent_ok(parent) || (arg != NULL && arg->len > 0 && arg->arg == NULL)) {
        *err = EINVAL;
        return MOS_NULL_EVENT;
    }
    for (int i = 0; i < g_nude; i++) { /* the same definition is the same event (mOS) */
        const struct ude *u = &g_ude[i];
        if (u->parent == parent && u->ft == ft && u->arg.len == len &&
            (len == 0 || memcmp(u->arg.arg, arg->arg, len) == 0))
            return UDE_FIRST + (event_t)i;
    }
    if (g_nude == MAX_UDE || (len > 0 && (copy = malloc(len)) == NULL)) {
        *err = ENOMEM;
        return MOS_NULL_EVENT;
    }
    if (len > 0)
        memcpy(copy, arg->arg, len);
    g_ude[g_nude] = (struct ude){ .parent = parent, .ft = ft, .arg = { copy, len } };
    return UDE_FIRST + (event_t)g_nude++;
}

MT_API event_t mtcp_define_event(event_t event, filter_t filter, struct filter_arg *arg)
{
    int err = 0;
    event_t ev;

    mt_lock();
    ev = do_define(event, filter, arg, &err);
    mt_unlock();
    if (ev == MOS_NULL_EVENT)
        errno = err;
    return ev;
}

MT_API event_t mtcp_alloc_event(event_t parent_event)
{
    event_t ev = MOS_NULL_EVENT;
    int err = EINVAL;

    mt_lock();
    if (parent_ok(parent_event) && g_nude == MAX_UDE)
        err = ENOMEM;
    else if (parent_ok(parent_event)) {
        g_ude[g_nude] = (struct ude){ .parent = parent_event };
        ev = UDE_FIRST + (event_t)g_nude++;
    }
    mt_unlock();
    if (ev == MOS_NULL_EVENT)
        errno = err;
    return ev;
}

static int do_raise(mctx_t mctx, event_t ev)
{
    const struct ude *u = ude_of(ev);

    if (mt_ctx_get(mctx) == NULL)
        return -EACCES;
    if (u == NULL || u->ft != NULL)
        return -EINVAL;
    if (g_raising == NULL)
        return -EPERM;
    for (int i = 0; i < g_raising->n; i++)
        if (g_raising->ev[i] == ev)
            return 0; /* raised once per filter call (mOS: already queued) */
    if (g_raising->n == MAX_RAISED)
        return -ENOBUFS;
    g_raising->ev[g_raising->n++] = ev;
    return 0;
}

MT_API int mtcp_raise_event(mctx_t mctx, event_t event)
{
    int rc;

    mt_lock();
    rc = do_raise(mctx, event);
    mt_unlock();
    return mt_ret(rc);
}

static void ude_reset(void)
{
    for (int i = 0; i < g_nude; i++)
        free(g_ude[i].arg.arg);
    memset(g_ude, 0, sizeof(g_ude[0]) * (size_t)g_nude);
    g_nude = 0;
}

/* m's callback on user-defined event ev at hook h, or NULL. */
static callback_t ucb_get(const struct mt_mon *m, int h, event_t ev)
{
    for (int i = 0; i < m->nucb[h]; i++)
        if (m->ucb[h][i].ev == ev)
            return m->ucb[h][i].cb;
    return NULL;
}

/* Sets (cb NULL: removes) m's callback on ev at hook h: 0 or -ENOMEM. */
static int ucb_set(struct mt_mon *m, int h, event_t ev, callback_t cb)
{
    struct ucb *v;

    for (int i = 0; i < m->nucb[h]; i++)
        if (m->ucb[h][i].ev == ev) {
            if (cb != NULL)
                m->ucb[h][i].cb = cb;
            else
                m->ucb[h][i] = m->ucb[h][--m->nucb[h]];
            return 0;
        }
    if (cb == NULL)
        return 0;
    if ((v = realloc(m->ucb[h], sizeof(*v) * (size_t)(m->nucb[h] + 1))) == NULL)
        return -ENOMEM;
    m->ucb[h] = v;
    v[m->nucb[h]++] = (struct ucb){ ev, cb };
    return 0;
}

/* Whether defined event id matters to m at hook h: a callback on it, on an
 * event defined under it, or on an event allocated under it or under its
 * parent (one its filter may raise). Others' filters are not run. */
static bool ude_needed(const struct mt_mon *m, int h, event_t id)
{
    const struct ude *u = ude_of(id);

    for (int k = 0; k < m->nucb[h]; k++) {
        const struct ude *w = ude_of(m->ucb[h][k].ev);
        if (w != NULL && w->ft == NULL && (w->parent == id || w->parent == u->parent))
            return true;
        for (event_t e = m->ucb[h][k].ev; ude_of(e) != NULL; e = ude_of(e)->parent)
            if (e == id)
                return true;
    }
    return false;
}

/* ---- registry ---- */

static int reg_add(struct mt_sock *s)
{
    for (int i = 0; i < MAX_MONITORS; i++)
        if (g_mons[i] == NULL) {
            g_mons[i] = s;
            return 0;
        }
    return -ENFILE;
}

static void reg_del(struct mt_sock *s)
{
    for (int i = 0; i < MAX_MONITORS; i++)
        if (g_mons[i] == s)
            g_mons[i] = NULL;
}

/* ---- filters ---- */

/* Compiles expr for Ethernet frames into *prog: 0, or -EINVAL with
 * libpcap's message on stderr. */
static int compile(const char *expr, struct bpf_program *prog)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
    int rc = 0;

    if (p == NULL)
        return -ENOMEM;
    if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        fprintf(stderr, "mtcp_bind_monitor_filter: '%s': %s\n", expr, pcap_geterr(p));
        rc = -EINVAL;
    }
    pcap_close(p);
    return rc;
}

static bool matches(const struct mt_mon *m, int which, const struct sluice_mon_frame *fr)
{
    struct pcap_pkthdr h = { .caplen = fr->len, .len = fr->len };

    return !m->has_prog[which] || pcap_offline_filter(&m->prog[which], &h, fr->data) != 0;
}

static void free_progs(struct mt_mon *m)
{
    for (int i = 0; i < 2; i++)
        if (m->has_prog[i]) {
            pcap_freecode(&m->prog[i]);
            m->has_prog[i] = false;
        }
}

/* ---- sockets ---- */

static int on_frame(void *arg, struct sluice_mon_frame *fr);

static int start_monitor(void)
{
    int rc;

    if (g_started)
        return 0;
    rc = sluice_mon_start(on_frame, NULL);
    if (rc != 0)
        return -rc;
    g_started = true;
    return 0;
}

int mt_mon_socket(struct mt_ctx *c, int type)
{
    struct mt_sock *s;
    int rc = start_monitor();

    if (rc != 0)
        return rc;
    rc = mt_sock_alloc(c, type == MOS_SOCK_MONITOR_RAW ? MT_MON_RAW : MT_MONITOR, &s);
    if (rc != 0)
        return rc;
    if ((s->mon = calloc(1, sizeof(*s->mon))) == NULL || reg_add(s) != 0) {
        rc = s->mon == NULL ? -ENOMEM : -ENFILE;
        free(s->mon);
        s->mon = NULL;
        mt_sock_free(s);
        return rc;
    }
    return s->id;
}

/* Takes flow socket s off its flow's list. */
static void flow_unlink(struct mt_sock *s)
{
    void *u = NULL;
    struct flow_socks *fs;

    if (s->mon->flow == NULL || sluice_mon_flow_user(s->mon->flow, &u) != 0 || (fs = u) == NULL)
        return;
    for (int i = 0; i < fs->n; i++)
        if (fs->s[i] == s) {
            fs->s[i] = fs->s[--fs->n];
            break;
        }
    if (fs->n == 0) { /* the last one: the list goes */
        sluice_mon_flow_set_user(s->mon->flow, NULL);
        free(fs);
    }
    s->mon->flow = NULL;
}

void mt_mon_close(struct mt_sock *s)
{
    if (s->mon == NULL)
        return;
    if (s->kind == MT_MON_FLOW)
        flow_unlink(s);
    else
        reg_del(s);
    free_progs(s->mon);
    for (int h = 0; h < 3; h++)
        free(s->mon->ucb[h]);
    free(s->mon);
    s->mon = NULL;
}

static int g_ntimers;

void mt_mon_shutdown(void)
{
    if (g_started)
        sluice_mon_stop();
    g_started = false;
    g_ntimers = 0; /* mtcp_destroy: pending timers go with their contexts */
    ude_reset();
}

/* A monitor socket of mctx: -EACCES bad context, -EBADF no such socket,
 * err when it is not of the wanted kinds (flow: flow sockets only). */
static int mon_get(mctx_t mctx, int id, bool flow, int err, struct mt_sock **out)
{
    struct mt_sock *s;
    int rc = mt_sock_get(mctx, id, &s);

    if (rc == -EINVAL)
        return -EACCES;
    if (rc != 0)
        return rc;
    if (flow ? s->kind != MT_MON_FLOW : !mt_is_monitor(s))
        return err;
    *out = s;
    return 0;
}

/* ---- mtcp_bind_monitor_filter ---- */

static int set_filter(struct mt_mon *m, int which, const char *expr)
{
    struct bpf_program prog;
    int rc;

    if (expr == NULL)
        return 0;
    if ((rc = compile(expr, &prog)) != 0)
        return rc;
    if (m->has_prog[which])
        pcap_freecode(&m->prog[which]);
    m->prog[which] = prog;
    m->has_prog[which] = true;
    return 0;
}

static int do_bind_filter(mctx_t mctx, int id, monitor_filter_t ft)
{
    struct mt_sock *s;
    int rc = mon_get(mctx, id, false, -ENOPROTOOPT, &s);

    if (rc != 0)
        return rc;
    if (s->kind == MT_MON_FLOW)
        return -ENOPROTOOPT;
    if (ft == NULL)
        return 0;
    if (s->kind == MT_MON_RAW)
        return set_filter(s->mon, 0, ft->raw_pkt_filter);
    rc = set_filter(s->mon, 0, ft->stream_syn_filter);
    return rc != 0 ? rc : set_filter(s->mon, 1, ft->stream_orphan_filter);
}

MT_API int mtcp_bind_monitor_filter(mctx_t mctx, int sock, monitor_filter_t ft)
{
    int rc;

    mt_lock();
    rc = do_bind_filter(mctx, sock, ft);
    mt_unlock();
    return mt_ret(rc);
}

/* ---- mtcp_register_callback ---- */

static int hook_index(int hook)
{
    if (hook == MOS_HK_SND)
        return HK_SND;
    if (hook == MOS_HK_RCV)
        return HK_RCV;
    return hook == MOS_NULL ? HK_NULL : -1;
}

static int do_register(mctx_t mctx, int id, event_t event, int hook, callback_t cb)
{
    struct mt_sock *s;
    int rc = mon_get(mctx, id, false, -EINVAL, &s);
    int h = hook_index(hook);

    if (rc == -EBADF)
        rc = -EINVAL; /* mOS's page: EINVAL for an invalid sockid */
    if (rc != 0)
        return rc;
    if (h < 0 || event == 0)
        return -EINVAL;
    if (event >= UDE_FIRST) /* one user-defined event */
        return ude_of(event) != NULL ? ucb_set(s->mon, h, event, cb) : -EINVAL;
    if ((event >> EV_BITS) != 0)
        return -EINVAL;
    for (int b = 0; b < EV_BITS; b++)
        if (event & (1ull << b))
            s->mon->cb[h][b] = cb;
    return 0;
}

MT_API int mtcp_register_callback(mctx_t mctx, int sock, event_t event, int hook, callback_t cb)
{
    int rc;

    mt_lock();
    rc = do_register(mctx, sock, event, hook, cb);
    mt_unlock();
    return mt_ret(rc);
}

/* ---- dispatch: one frame ---- */

static mctx_t ctx_of(const struct mt_sock *s)
{
    return (mctx_t)&s->ctx->pub;
}

/* Runs the user-defined events under parent for s's hook h, in mOS's
 * order: an event's filter; when it returns true, the event's callback,
 * then the callbacks of the events the filter raised, then the events
 * defined under it. The socket may close inside any of them: stop then. */
static void run_udes(struct mt_sock *s, struct mt_mon *m, int h, int side, event_t parent)
{
    for (int i = 0; i < g_nude && s->mon == m; i++) {
        struct ude *u = &g_ude[i];
        event_t id = UDE_FIRST + (event_t)i;
        struct raised r = { .n = 0 }, *outer = g_raising;
        callback_t cb;
        bool pass;

        if (u->ft == NULL || u->parent != parent || !ude_needed(m, h, id))
            continue;
        g_raising = &r;
        pass = u->ft(ctx_of(s), s->id, side, id, &u->arg);
        g_raising = outer;
        if (!pass || s->mon != m)
            continue;
        if ((cb = ucb_get(m, h, id)) != NULL)
            cb(ctx_of(s), s->id, side, id, &u->arg);
        for (int k = 0; k < r.n && s->mon == m; k++)
            if ((cb = ucb_get(m, h, r.ev[k])) != NULL)
                cb(ctx_of(s), s->id, side, r.ev[k], &ude_of(r.ev[k])->arg);
        if (s->mon == m)
            run_udes(s, m, h, side, id);
    }
}

/* Calls s's callbacks of hook for every bit of ev, each followed by the
 * user-defined events under it. The socket may close inside a callback:
 * stop then. */
static void fire(struct mt_sock *s, int hook, int side, uint32_t ev)
{
    struct mt_mon *m = s->mon;

    for (int b = 0; b < EV_BITS && s->mon == m; b++) {
        callback_t cb = (ev & (1u << b)) ? m->cb[hook][b] : NULL;
        if (cb != NULL)
            cb(ctx_of(s), s->id, side, (event_t)1 << b, NULL);
        if ((ev & (1u << b)) && s->mon == m && m->nucb[hook] > 0)
            run_udes(s, m, hook, side, (event_t)1 << b);
    }
}

static void dispatch_raw(const struct sluice_mon_frame *fr)
{
    uint32_t ev = MOS_ON_PKT_IN | (fr->flow == NULL ? MOS_ON_ORPHAN : 0);

    if (fr->data == NULL)
        return; /* a timeout has no frame */
    for (int i = 0; i < MAX_MONITORS; i++) {
        struct mt_sock *s = g_mons[i];
        if (s == NULL || s->kind != MT_MON_RAW || !matches(s->mon, 0, fr))
            continue;
        for (int h = 0; h < 3 && g_mons[i] == s; h++)
            fire(s, h, MOS_NULL, ev);
    }
}

/* TCP of no flow: stream monitors whose orphan filter matches. */
static void dispatch_orphans(const struct sluice_mon_frame *fr)
{
    for (int i = 0; i < MAX_MONITORS; i++) {
        struct mt_sock *s = g_mons[i];
        if (s == NULL || s->kind != MT_MONITOR || !matches(s->mon, 1, fr))
            continue;
        for (int h = 0; h < 3 && g_mons[i] == s; h++)
            fire(s, h, MOS_SIDE_CLI, MOS_ON_ORPHAN);
    }
}

/* A flow socket for monitor mon on flow, its callbacks and buffer sizes
 * copied; NULL when mon's context has no free id. */
static struct mt_sock *flow_socket(struct mt_sock *mon, void *flow)
{
    struct mt_sock *s;

    if (mt_sock_alloc(mon->ctx, MT_MON_FLOW, &s) != 0)
        return NULL;
    if ((s->mon = calloc(1, sizeof(*s->mon))) == NULL) {
        mt_sock_free(s);
        return NULL;
    }
    memcpy(s->mon->cb, mon->mon->cb, sizeof(s->mon->cb));
    for (int h = 0; h < 3; h++) {
        size_t n = (size_t)mon->mon->nucb[h];
        if (n == 0)
            continue;
        if ((s->mon->ucb[h] = malloc(n * sizeof(struct ucb))) == NULL) {
            mt_mon_close(s);
            mt_sock_free(s);
            return NULL;
        }
        memcpy(s->mon->ucb[h], mon->mon->ucb[h], n * sizeof(struct ucb));
        s->mon->nucb[h] = (int)n;
    }
    s->mon->flow = flow;
    for (int side = 0; side < 2; side++)
        if (mon->mon->buf_set[side])
            sluice_mon_set_buf(flow, (unsigned)side, mon->mon->buf[side]);
    return s;
}

/* The flow's first SYN: a flow socket for each stream monitor whose SYN
 * filter matches. */
static void attach(const struct sluice_mon_frame *fr)
{
    struct flow_socks *fs = calloc(1, sizeof(*fs));

    if (fs == NULL)
        return;
    for (int i = 0; i < MAX_MONITORS && fs->n < MAX_PER_FLOW; i++) {
        struct mt_sock *m = g_mons[i], *s;
        if (m == NULL || m->kind != MT_MONITOR || !matches(m->mon, 0, fr))
            continue;
        if ((s = flow_socket(m, fr->flow)) != NULL)
            fs->s[fs->n++] = s;
    }
    if (fs->n == 0)
        free(fs); /* no monitor wants it: it stays tracked, unseen */
    else
        sluice_mon_flow_set_user(fr->flow, fs);
}

/* The events of one hook: the frame's, with STATE_CHANGE only when that
 * side's state changed. */
static uint32_t side_events(const struct sluice_mon_frame *fr, int side)
{
    uint32_t ev = fr->events & ~(uint32_t)(MOS_ON_TCP_STATE_CHANGE | MOS_ON_ORPHAN);

    if (fr->state_before[side] != fr->state_after[side])
        ev |= MOS_ON_TCP_STATE_CHANGE;
    return ev;
}

static void dispatch_flow(const struct sluice_mon_frame *fr, struct flow_socks *fs)
{
    int snd = (int)fr->sender, rcv = 1 - snd;
    struct flow_socks copy = *fs; /* a callback may close sockets */

    for (int i = 0; i < copy.n; i++) {
        struct mt_sock *s = copy.s[i];
        struct mt_mon *m = s->mon;
        if (s->kind != MT_MON_FLOW || m == NULL || m->flow != fr->flow)
            continue;
        if (!m->stopped[snd])
            fire(s, HK_SND, snd, side_events(fr, snd));
        if (s->mon == m && !m->stopped[rcv])
            fire(s, HK_RCV, rcv, side_events(fr, rcv));
    }
}

/* The flow ends: its sockets close (mOS frees a flow's socket after
 * MOS_ON_CONN_END). */
static void detach(void *flow)
{
    void *u;

    /* each close unlinks its socket; the last one frees the list */
    while (sluice_mon_flow_user(flow, &u) == 0 && u != NULL)
        mt_sock_close(((struct flow_socks *)u)->s[((struct flow_socks *)u)->n - 1]);
}

static int on_frame(void *arg, struct sluice_mon_frame *fr)
{
    void *u = NULL;

    (void)arg;
    g_cur = fr;
    g_drop = false;
    dispatch_raw(fr);
    if (fr->flow == NULL) {
        if (fr->events & MOS_ON_ORPHAN)
            dispatch_orphans(fr);
    } else {
        if (fr->events & MOS_ON_CONN_START)
            attach(fr);
        sluice_mon_flow_user(fr->flow, &u);
        if (u != NULL)
            dispatch_flow(fr, u);
        if (fr->events & (MOS_ON_CONN_END | MOS_ON_TIMEOUT))
            detach(fr->flow);
    }
    g_cur = NULL;
    g_mt_last_work_ns = mt_now_ns();
    return g_drop ? SLUICE_MON_DROP : SLUICE_MON_PASS;
}

/* ---- peeks ---- */

static int flow_side(mctx_t mctx, int id, int side, struct mt_sock **out)
{
    int rc = mon_get(mctx, id, true, -ENOTSOCK, out);

    if (rc != 0)
        return rc;
    if (side != MOS_SIDE_CLI && side != MOS_SIDE_SVR)
        return -EINVAL;
    return (*out)->mon->flow == NULL ? -ENOTCONN : 0;
}

/* mtcp_peek's return: the count, -ENODATA, or the gap as -(N + ENODATA
 * marker) is not expressible here: *gap_out carries it. */
static ssize_t do_peek(mctx_t mctx, int id, int side, char *buf, size_t len, uint64_t *gap_out)
{
    struct mt_sock *s;
    size_t n = 0;
    int rc = flow_side(mctx, id, side, &s);

    *gap_out = 0;
    if (rc != 0)
        return rc;
    if (buf == NULL)
        return -EINVAL;
    rc = sluice_mon_peek(s->mon->flow, (unsigned)side, buf, len, &n, gap_out);
    return rc != 0 ? -rc : (ssize_t)n;
}

MT_API ssize_t mtcp_peek(mctx_t mctx, int sock, int side, char *buf, size_t len)
{
    uint64_t gap = 0;
    ssize_t rc;

    mt_lock();
    rc = do_peek(mctx, sock, side, buf, len, &gap);
    mt_unlock();
    if (rc == -ENODATA && gap > 0) {
        errno = ENODATA; /* mOS: "(-1) * (the number of bytes overwritten)" */
        return gap > (uint64_t)SSIZE_MAX ? -SSIZE_MAX : -(ssize_t)gap;
    }
    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

static ssize_t do_ppeek(mctx_t mctx, int id, int side, char *buf, size_t len, uint64_t off)
{
    struct mt_sock *s;
    size_t n = 0;
    int rc = flow_side(mctx, id, side, &s);

    if (rc != 0)
        return rc;
    if (buf == NULL)
        return -EINVAL;
    rc = sluice_mon_ppeek(s->mon->flow, (unsigned)side, buf, len, off, &n);
    return rc != 0 ? -rc : (ssize_t)n;
}

MT_API ssize_t mtcp_ppeek(mctx_t mctx, int sock, int side, char *buf, size_t len, uint64_t off)
{
    ssize_t rc;

    mt_lock();
    rc = do_ppeek(mctx, sock, side, buf, len, off);
    mt_unlock();
    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

/* ---- the last frame ---- */

/* The parts of the current frame: offsets of IP, TCP, payload; false when
 * it is not a whole IPv4/TCP frame. */
static bool frame_parts(const struct sluice_mon_frame *fr, uint32_t *ip, uint32_t *tcp, uint32_t *pay, uint32_t *end)
{
    const uint8_t *d = fr->data;
    uint32_t ihl, tot, thl;

    if (d == NULL || fr->len < ETH_LEN + 20 + 20 || d[12] != 0x08 || d[13] != 0x00 || d[ETH_LEN + 9] != IPPROTO_TCP)
        return false;
    ihl = (d[ETH_LEN] & 0xfu) * 4u;
    tot = ((uint32_t)d[ETH_LEN + 2] << 8) | d[ETH_LEN + 3];
    if (ihl < 20 || ETH_LEN + tot > fr->len || tot < ihl + 20)
        return false;
    thl = (uint32_t)(d[ETH_LEN + ihl + 12] >> 4) * 4u;
    if (thl < 20 || tot < ihl + thl)
        return false;
    *ip = ETH_LEN;
    *tcp = ETH_LEN + ihl;
    *pay = ETH_LEN + ihl + thl;
    *end = ETH_LEN + tot;
    return true;
}

/* The flow socket id of mctx, the side checked, and a current frame of
 * its flow. */
static int last_frame(mctx_t mctx, int id, int side, struct mt_sock **out)
{
    int rc = mon_get(mctx, id, true, -EBADF, out);

    if (rc != 0)
        return rc;
    if (side != MOS_SIDE_CLI && side != MOS_SIDE_SVR)
        return -EINVAL;
    if (g_cur == NULL || g_cur->data == NULL || (*out)->mon->flow != g_cur->flow)
        return -ENODATA;
    return 0;
}

static uint32_t be32_at(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int do_getlastpkt(mctx_t mctx, int id, int side, struct pkt_info *p)
{
    /* 2 bytes in, so that the IP and TCP headers are 4-byte aligned for
     * struct iphdr and struct tcphdr (Linux's NET_IP_ALIGN) */
    static __thread uint8_t buf[2 + 16384] __attribute__((aligned(8)));
    uint8_t *copy = buf + 2;
    struct sluice_mon_side si;
    struct mt_sock *s;
    uint32_t ip, tcp, pay, end;
    int rc = last_frame(mctx, id, side, &s);

    if (rc != 0)
        return rc;
    if (p == NULL)
        return -EINVAL;
    if (g_cur->len > sizeof(buf) - 2 || !frame_parts(g_cur, &ip, &tcp, &pay, &end))
        return -ENODATA;
    memcpy(copy, g_cur->data, g_cur->len);
    memset(p, 0, sizeof(*p));
    p->cur_ts = (uint32_t)(g_cur->now_ns / 1000000u);
    p->in_ifidx = (int8_t)g_cur->port;
    p->eth_len = (uint16_t)g_cur->len;
    p->ip_len = (uint16_t)(end - ip);
    p->payloadlen = (uint16_t)(end - pay);
    p->seq = be32_at(copy + tcp + 4);
    p->ack_seq = be32_at(copy + tcp + 8);
    p->window = (uint16_t)((copy[tcp + 14] << 8) | copy[tcp + 15]);
    /* the payload's offset in the stream its receiver gets */
    if (sluice_mon_side_info(g_cur->flow, 1 - g_cur->sender, &si) == 0 && si.init_seq != 0)
        p->offset = (uint32_t)(p->seq - si.init_seq);
    p->ethh = (struct ethhdr *)copy;
    p->iph = (struct iphdr *)(copy + ip);
    p->tcph = (struct tcphdr *)(copy + tcp);
    p->payload = copy + pay;
    return 0;
}

MT_API int mtcp_getlastpkt(mctx_t mctx, int sock, int side, struct pkt_info *p)
{
    int rc;

    mt_lock();
    rc = do_getlastpkt(mctx, sock, side, p);
    mt_unlock();
    return mt_ret(rc);
}

/* The part of the frame option names: its start and length; -EINVAL
 * unless exactly one is named. */
static int part_of(int option, uint32_t ip, uint32_t tcp, uint32_t pay, uint32_t end, uint32_t *start, uint32_t *len)
{
    int parts = option & (MOS_ETH_HDR | MOS_IP_HDR | MOS_TCP_HDR | MOS_TCP_PAYLOAD);

    switch (parts) {
    case MOS_ETH_HDR: *start = 0, *len = ip; return 0;
    case MOS_IP_HDR: *start = ip, *len = tcp - ip; return 0;
    case MOS_TCP_HDR: *start = tcp, *len = pay - tcp; return 0;
    case MOS_TCP_PAYLOAD: *start = pay, *len = end - pay; return 0;
    default: return -EINVAL;
    }
}

static int do_setlastpkt(mctx_t mctx, int id, int side, off_t off, const byte *data, uint16_t len, int option)
{
    struct mt_sock *s;
    uint32_t ip, tcp, pay, end, start, plen;
    int rc = last_frame(mctx, id, side, &s);

    if (rc != 0 && rc != -ENODATA)
        return rc;
    if ((option & MOS_DROP) == 0 && (option & MOS_OVERWRITE) == 0)
        return -EINVAL;
    if ((option & MOS_DROP) == 0 && (option & (MOS_CHOMP | MOS_INSERT)) != 0)
        return -EINVAL;
    if (rc != 0)
        return rc;
    if (option & MOS_DROP) {
        g_drop = true; /* other bits ignored (mtcp_setlastpkt(3)) */
        return 0;
    }
    if (data == NULL || off < 0 || !frame_parts(g_cur, &ip, &tcp, &pay, &end) ||
        part_of(option, ip, tcp, pay, end, &start, &plen) != 0 || (uint64_t)off + len > plen)
        return -EINVAL;
    memcpy(g_cur->data + start + off, data, len);
    if (option & (MOS_UPDATE_IP_CHKSUM | MOS_UPDATE_TCP_CHKSUM))
        sluice_mon_cksum(g_cur->data, g_cur->len, option & MOS_UPDATE_IP_CHKSUM, option & MOS_UPDATE_TCP_CHKSUM);
    return 0;
}

MT_API int mtcp_setlastpkt(mctx_t mctx, int sock, int side, off_t offset, byte *data, uint16_t datalen, int option)
{
    int rc;

    mt_lock();
    rc = do_setlastpkt(mctx, sock, side, offset, data, datalen, option);
    mt_unlock();
    return mt_ret(rc);
}

/* ---- mtcp_sendpkt ---- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The port facing side of s's flow: learnt from the current frame when it
 * is the flow's (its sender is on the port it came in on); else mon.port1
 * faces the servers and mon.port0 the clients (docs/mtcp.md); passive:
 * the one port. */
static unsigned port_to(const struct mt_sock *s, int side)
{
    struct sluice_mon_stats st;

    if (sluice_mon_stats(&st) != 0 || st.ports < 2)
        return 0;
    if (g_cur != NULL && g_cur->flow == s->mon->flow && g_cur->data != NULL)
        return (int)g_cur->sender == side ? g_cur->port : 1 - g_cur->port;
    return side == MOS_SIDE_SVR ? 1 : 0;
}

/* A segment to build: addresses and numbers in network order. */
struct seg_spec {
    const uint8_t *eth_dst, *eth_src;
    uint32_t saddr, daddr, seq, ack;
    uint16_t sport, dport, window, ip_id;
    uint8_t tos, ttl, flags;
    const uint8_t *payload;
    uint16_t len;
};

/* An Ethernet/IPv4/TCP frame of sp into f (room for 54 + sp->len bytes):
 * no options, DF, checksums computed; its length. */
static uint32_t build(uint8_t *f, const struct seg_spec *sp)
{
    uint8_t *ip = f + ETH_LEN, *th = ip + 20;
    uint32_t n = ETH_LEN + 40 + sp->len;

    memset(f, 0, ETH_LEN + 40);
    memcpy(f, sp->eth_dst, 6);
    memcpy(f + 6, sp->eth_src, 6);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    ip[1] = sp->tos;
    put16(ip + 2, 40u + sp->len);
    memcpy(ip + 4, &sp->ip_id, 2);
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = sp->ttl != 0 ? sp->ttl : 64;
    ip[9] = IPPROTO_TCP;
    memcpy(ip + 12, &sp->saddr, 4);
    memcpy(ip + 16, &sp->daddr, 4);
    memcpy(th, &sp->sport, 2);
    memcpy(th + 2, &sp->dport, 2);
    memcpy(th + 4, &sp->seq, 4);
    memcpy(th + 8, &sp->ack, 4);
    th[12] = 5 << 4;
    th[13] = sp->flags;
    memcpy(th + 14, &sp->window, 2);
    if (sp->len > 0)
        memcpy(th + 20, sp->payload, sp->len);
    sluice_mon_cksum(f, n, 1, 1);
    return n;
}

static int do_sendpkt(mctx_t mctx, int id, const struct pkt_info *pkt)
{
    uint8_t f[ETH_LEN + 40 + 1460];
    uint32_t addr[2];
    uint16_t port[2];
    struct mt_sock *s;
    int rc, to;

    if (mt_ctx_get(mctx) == NULL || pkt == NULL)
        return -EACCES; /* mOS: both EACCES */
    if ((rc = mon_get(mctx, id, true, -ENOTSOCK, &s)) != 0)
        return rc;
    if (pkt->ethh == NULL || pkt->iph == NULL || pkt->tcph == NULL)
        return -ENODATA;
    if ((pkt->payloadlen > 0 && pkt->payload == NULL) || pkt->payloadlen > 1460)
        return -EINVAL;
    /* to one side of the flow, from the other */
    for (int side = 0; side < 2; side++)
        sluice_mon_flow_addr(s->mon->flow, (unsigned)side, &addr[side], &port[side]);
    to = -1;
    for (int side = 0; side < 2 && to < 0; side++)
        if (pkt->iph->daddr == addr[side] && pkt->tcph->dest == port[side] && pkt->iph->saddr == addr[1 - side] &&
            pkt->tcph->source == port[1 - side])
            to = side;
    if (to < 0)
        return -EINVAL;
    /* ACK only, as mOS's SendTCPPacketStandalone */
    struct seg_spec sp = {
        .eth_dst = pkt->ethh->h_dest, .eth_src = pkt->ethh->h_source,
        .saddr = pkt->iph->saddr, .daddr = pkt->iph->daddr, .seq = pkt->tcph->seq, .ack = pkt->tcph->ack_seq,
        .sport = pkt->tcph->source, .dport = pkt->tcph->dest, .window = pkt->tcph->window, .ip_id = pkt->iph->id,
        .tos = pkt->iph->tos, .ttl = pkt->iph->ttl, .flags = 0x10, .payload = pkt->payload, .len = pkt->payloadlen,
    };
    return -sluice_mon_send(port_to(s, to), f, build(f, &sp));
}

MT_API int mtcp_sendpkt(mctx_t mctx, int sock, const struct pkt_info *pkt)
{
    int rc;

    mt_lock();
    rc = do_sendpkt(mctx, sock, pkt);
    mt_unlock();
    return mt_ret(rc);
}

/* ---- mtcp_reset_conn ---- */

static int do_reset_conn(mctx_t mctx, int id)
{
    struct sluice_mon_side si[2];
    uint8_t mac[2][2][6], f[2][ETH_LEN + 40];
    uint32_t addr[2], n[2];
    uint16_t port[2];
    struct mt_sock *s;
    int rc = mon_get(mctx, id, true, -EINVAL, &s);

    if (rc != 0)
        return rc;
    for (int side = 0; side < 2; side++) {
        sluice_mon_flow_addr(s->mon->flow, (unsigned)side, &addr[side], &port[side]);
        if (sluice_mon_side_info(s->mon->flow, (unsigned)side, &si[side]) != 0 || si[side].init_seq == 0 ||
            sluice_mon_flow_macs(s->mon->flow, (unsigned)side, mac[side][0], mac[side][1]) != 0)
            return -ENOTCONN; /* a side's ISN or frames not seen yet */
    }
    /* to each side, from its peer: RST|ACK at the side's RCV.NXT, so that
     * it is accepted (RFC 9293 §3.10.7.4; RFC 5961 §3.2), addressed to
     * the side's Ethernet address from the one it sends to */
    for (int to = 0; to < 2; to++) {
        struct seg_spec sp = {
            .eth_dst = mac[to][0], .eth_src = mac[to][1],
            .saddr = addr[1 - to], .daddr = addr[to], .sport = port[1 - to], .dport = port[to],
            .seq = htonl(si[to].next_seq), .ack = htonl(si[1 - to].next_seq), .flags = 0x14, /* RST|ACK */
        };
        n[to] = build(f[to], &sp);
    }
    for (int to = 0; to < 2; to++)
        if ((rc = sluice_mon_send(port_to(s, to), f[to], n[to])) != 0)
            return -rc;
    return 0;
}

MT_API int mtcp_reset_conn(mctx_t mctx, int sock)
{
    int rc;

    mt_lock();
    rc = do_reset_conn(mctx, sock);
    mt_unlock();
    return mt_ret(rc);
}

/* ---- options and names ---- */

static int put_int(void *val, socklen_t *len, int v)
{
    if (*len < sizeof(int))
        return -EINVAL;
    *(int *)val = v;
    *len = sizeof(int);
    return 0;
}

static int buf_info(const struct mt_sock *s, int side, void *val, socklen_t *len)
{
    struct sluice_mon_side si;
    struct tcp_buf_info *bi = val;

    if (*len < sizeof(*bi))
        return -EINVAL;
    if (sluice_mon_side_info(s->mon->flow, (unsigned)side, &si) != 0)
        return -EINVAL;
    bi->tcpbi_init_seq = si.init_seq;
    bi->tcpbi_last_byte_read = si.init_seq + (uint32_t)si.read_off;
    bi->tcpbi_next_byte_expected = si.init_seq + (uint32_t)si.next_off;
    bi->tcpbi_last_byte_received = si.init_seq + (uint32_t)si.last_rcvd_off;
    *len = sizeof(*bi);
    return 0;
}

/* MOS_FRAGINFO_*: *len is the array's size in elements, in and out (mOS's
 * page), and a zeroed element follows the last one written when it fits. */
static int frag_info(const struct mt_sock *s, int side, void *val, socklen_t *len)
{
    struct tcp_ring_fragment *out = val;
    struct sluice_mon_frag *v;
    unsigned max = *len, n = 0, w;
    int rc;

    if (max == 0)
        return -EINVAL;
    if ((v = malloc(sizeof(*v) * max)) == NULL)
        return -ENOMEM;
    rc = sluice_mon_frags(s->mon->flow, (unsigned)side, v, max, &n);
    w = n < max ? n : max;
    for (unsigned i = 0; rc == 0 && i < w; i++)
        out[i] = (struct tcp_ring_fragment){ .offset = v[i].off, .len = v[i].len };
    if (rc == 0 && w < max)
        out[w] = (struct tcp_ring_fragment){ .offset = 0, .len = 0 };
    free(v);
    if (rc != 0)
        return -rc;
    *len = w;
    return 0;
}

static int flow_opt(const struct mt_sock *s, int opt, void *val, socklen_t *len)
{
    struct sluice_mon_side si;
    int side = (opt == MOS_INFO_SVRBUF || opt == MOS_TCP_STATE_SVR || opt == MOS_SVRBUF || opt == MOS_FRAGINFO_SVRBUF)
                   ? MOS_SIDE_SVR
                   : MOS_SIDE_CLI;

    if (s->mon->flow == NULL)
        return -ENOTCONN;
    if (opt == MOS_FRAGINFO_CLIBUF || opt == MOS_FRAGINFO_SVRBUF)
        return frag_info(s, side, val, len);
    if (opt == MOS_INFO_CLIBUF || opt == MOS_INFO_SVRBUF)
        return buf_info(s, side, val, len);
    sluice_mon_side_info(s->mon->flow, (unsigned)side, &si);
    if (opt == MOS_TCP_STATE_CLI || opt == MOS_TCP_STATE_SVR)
        return put_int(val, len, si.state);
    if (opt == MOS_TIMESTAMP) {
        if (*len < sizeof(uint32_t))
            return -EINVAL;
        *(uint32_t *)val = (uint32_t)(si.last_ns / 1000000u); /* ms, as pkt_info's cur_ts */
        *len = sizeof(uint32_t);
        return 0;
    }
    return -ENOPROTOOPT;
}

int mt_mon_getsockopt(struct mt_sock *s, int level, int opt, void *val, socklen_t *len)
{
    if (level != SOL_MONSOCKET)
        return -ENOPROTOOPT;
    if ((opt == MOS_CLIBUF || opt == MOS_SVRBUF) && s->kind == MT_MONITOR) {
        int side = opt == MOS_SVRBUF;
        return put_int(val, len, s->mon->buf_set[side] ? (int)s->mon->buf[side] : -1);
    }
    if (s->kind != MT_MON_FLOW)
        return -ENOPROTOOPT;
    return flow_opt(s, opt, val, len);
}

int mt_mon_setsockopt(struct mt_sock *s, int level, int opt, const void *val, socklen_t len)
{
    int v, side;

    if (level != SOL_MONSOCKET)
        return -ENOPROTOOPT;
    if (opt != MOS_CLIBUF && opt != MOS_SVRBUF && opt != MOS_STOP_MON && opt != MOS_CLIOVERLAP &&
        opt != MOS_SVROVERLAP)
        return -ENOPROTOOPT;
    if (s->kind == MT_MON_RAW || (opt != MOS_CLIBUF && opt != MOS_SVRBUF && s->kind != MT_MON_FLOW))
        return -ENOPROTOOPT;
    if (len < sizeof(int))
        return -EINVAL;
    v = *(const int *)val;
    if (opt == MOS_CLIOVERLAP || opt == MOS_SVROVERLAP) {
        /* the tracker keeps the first copy of every byte (its ring, and
         * tcp_reass: "the held bytes win") */
        if (v == MOS_OVERLAP_POLICY_FIRST)
            return 0;
        return v == MOS_OVERLAP_POLICY_LAST ? -EOPNOTSUPP : -EINVAL;
    }
    if (opt == MOS_STOP_MON) {
        if (v < MOS_SIDE_CLI || v > MOS_SIDE_BOTH)
            return -EINVAL;
        s->mon->stopped[MOS_SIDE_CLI] |= v != MOS_SIDE_SVR;
        s->mon->stopped[MOS_SIDE_SVR] |= v != MOS_SIDE_CLI;
        return 0;
    }
    if (v < 0)
        return -EINVAL;
    side = opt == MOS_SVRBUF;
    if (s->kind == MT_MONITOR) {
        s->mon->buf[side] = (uint32_t)v;
        s->mon->buf_set[side] = true;
        return 0;
    }
    if (s->mon->flow == NULL)
        return -ENOTCONN;
    return -sluice_mon_set_buf(s->mon->flow, (unsigned)side, (uint32_t)v);
}

static void sin_of(const struct mt_sock *s, int side, struct sockaddr_in *sin)
{
    uint32_t a = 0;
    uint16_t p = 0;

    sluice_mon_flow_addr(s->mon->flow, (unsigned)side, &a, &p);
    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = a;
    sin->sin_port = p;
}

int mt_mon_peername(struct mt_sock *s, struct sockaddr *addr, socklen_t *len, int side)
{
    struct sockaddr_in v[2];
    socklen_t need = side == MOS_SIDE_BOTH ? 2 * sizeof(v[0]) : sizeof(v[0]);

    if (s->kind != MT_MON_FLOW)
        return -ENOTCONN;
    if (s->mon->flow == NULL)
        return -ENOTCONN;
    if (side < MOS_SIDE_CLI || side > MOS_SIDE_BOTH || *len < need)
        return -EINVAL;
    sin_of(s, MOS_SIDE_CLI, &v[0]);
    sin_of(s, MOS_SIDE_SVR, &v[1]);
    memcpy(addr, side == MOS_SIDE_SVR ? &v[1] : &v[0], need);
    *len = need;
    return 0;
}

/* ---- user context, app_join ---- */

MT_API void mtcp_set_uctx(mctx_t mctx, int sock, void *uctx)
{
    struct mt_sock *s;

    mt_lock();
    if (mon_get(mctx, sock, true, -EBADF, &s) == 0)
        s->mon->uctx = uctx;
    mt_unlock();
}

MT_API void *mtcp_get_uctx(mctx_t mctx, int sock)
{
    struct mt_sock *s;
    void *u = NULL;

    mt_lock();
    if (mon_get(mctx, sock, true, -EBADF, &s) == 0)
        u = s->mon->uctx;
    mt_unlock();
    return u;
}

/* ---- timers (mtcp_settimer): one-shot, run by mtcp_app_join ---- */

#define MAX_TIMERS 256

struct timer {
    mctx_t mctx;
    int id;
    uint64_t at_ns;
    callback_t cb;
};

static struct timer g_timers[MAX_TIMERS];

static int do_settimer(mctx_t mctx, int id, const struct timeval *tv, callback_t cb)
{
    if (mt_ctx_get(mctx) == NULL)
        return -EACCES;
    if (tv == NULL || cb == NULL || tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
        return -EINVAL;
    if (g_ntimers == MAX_TIMERS)
        return -ENOMEM;
    g_timers[g_ntimers++] = (struct timer){
        .mctx = mctx,
        .id = id,
        .at_ns = mt_now_ns() + (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u,
        .cb = cb,
    };
    return 0;
}

MT_API int mtcp_settimer(mctx_t mctx, int id, struct timeval *timeout, callback_t cb)
{
    int rc;

    mt_lock();
    rc = do_settimer(mctx, id, timeout, cb);
    mt_unlock();
    return mt_ret(rc);
}

MT_API uint32_t mtcp_cb_get_ts(mctx_t mctx)
{
    bool live;

    mt_lock();
    live = mt_ctx_get(mctx) != NULL;
    mt_unlock();
    return live ? (uint32_t)(mt_now_ns() / 1000u) : 0;
}

/* Calls the timers due at now (taken off the list first: a callback may
 * set new ones); returns how many ran. *next_ns: the earliest still
 * pending, or UINT64_MAX. */
static int run_timers(uint64_t now, uint64_t *next_ns)
{
    struct timer due[MAX_TIMERS];
    int n = 0, keep = 0;

    mt_lock();
    for (int i = 0; i < g_ntimers; i++) {
        if (g_timers[i].at_ns <= now)
            due[n++] = g_timers[i];
        else
            g_timers[keep++] = g_timers[i];
    }
    g_ntimers = keep;
    for (int i = 0; i < n; i++)
        if (mt_ctx_get(due[i].mctx) != NULL) /* its context may be gone */
            due[i].cb(due[i].mctx, due[i].id, 0, 0, NULL);
    *next_ns = UINT64_MAX;
    for (int i = 0; i < g_ntimers; i++)
        if (g_timers[i].at_ns < *next_ns)
            *next_ns = g_timers[i].at_ns;
    mt_unlock();
    return n;
}

/* One pass for app_join: the monitor's, or the end point's engine. */
static int join_pass(mctx_t mctx, int *work)
{
    int rc = 0;

    mt_lock();
    if (mt_ctx_get(mctx) == NULL)
        rc = -EINVAL;
    else if (g_started)
        sluice_mon_poll(work);
    else
        *work = mt_progress();
    mt_unlock();
    return rc;
}

MT_API int mtcp_app_join(mctx_t mctx)
{
    int signals = g_mt_signals, work = 0, rc;

    if ((rc = join_pass(mctx, &work)) != 0)
        return mt_ret(rc);
    for (;;) {
        uint64_t now, next;

        if (g_mt_signals != signals || join_pass(mctx, &work) != 0)
            return 0;
        now = mt_now_ns();
        work += run_timers(now, &next);
        if (work > 0) {
            g_mt_last_work_ns = now;
            continue;
        }
        uint64_t ns = sluice_idle_nap_ns(now - g_mt_last_work_ns, 50000, 1000000);
        if (next != UINT64_MAX && ns > next - now)
            ns = next > now ? next - now : 0; /* wake for the next timer */
        struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ns };
        if (ns > 0)
            nanosleep(&ts, NULL);
    }
}
