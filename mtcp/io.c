/*
 * io.c - completions: one engine pass (demi_wait_next_n with a zero
 * timeout) takes the completions of every queue of the process, and each
 * is filed on its socket, found by qd, whatever its context
 * (docs/mtcp.md "Contexts"). A completion whose token the socket does not
 * hold (its socket was closed, the qd reused) is dropped.
 *
 * Receiving keeps one pop outstanding while fewer than rcvbuf bytes wait
 * to be read; sending copies into fresh arrays and bounds the bytes not
 * yet acknowledged by sndbuf (docs/DESIGN.md "Decisions": a push completes
 * at the peer's ACK).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define MT_BATCH 64

static struct mt_sock **g_by_qd;
static int g_by_qd_n;
uint64_t g_mt_last_work_ns;

uint64_t mt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int mt_map_qd(struct mt_sock *s, int qd)
{
    if (qd >= g_by_qd_n) {
        int n = g_by_qd_n ? g_by_qd_n : 256;
        struct mt_sock **m;

        while (n <= qd)
            n *= 2;
        m = realloc(g_by_qd, (size_t)n * sizeof(*m));
        if (m == NULL)
            return -ENOMEM;
        memset(m + g_by_qd_n, 0, (size_t)(n - g_by_qd_n) * sizeof(*m));
        g_by_qd = m;
        g_by_qd_n = n;
    }
    g_by_qd[qd] = s;
    s->qd = qd;
    return 0;
}

void mt_unmap_qd(int qd)
{
    if (qd >= 0 && qd < g_by_qd_n)
        g_by_qd[qd] = NULL;
}

/* Starts a pop when there is room to receive into. */
void mt_start_pop(struct mt_sock *s)
{
    if (s->pop_pending || s->eof || s->dead || s->pipe_writer || s->qd < 0)
        return;
    if (s->rx_bytes >= (size_t)s->ctx->rcvbuf)
        return;
    if (demi_pop(&s->pop_qt, s->qd) == 0)
        s->pop_pending = true;
}

static void fail(struct mt_sock *s, int err)
{
    if (err == ECANCELED)
        return;
    if (!s->dead && s->err == 0)
        s->err = err;
    s->dead = true;
}

static void on_pop(struct mt_sock *s, const demi_qresult_t *qr)
{
    struct mt_rx *rx;

    s->pop_pending = false;
    if (qr->qr_opcode != DEMI_OPC_POP) {
        fail(s, (int)qr->qr_ret);
        s->eof = true;
        return;
    }
    demi_sgarray_t sga = qr->qr_value.sga;
    if (sga.sga_numsegs == 0 || sga.sga_segs[0].sgaseg_len == 0) {
        demi_sgafree(&sga);
        s->eof = true;
        return;
    }
    rx = malloc(sizeof(*rx));
    if (rx == NULL) { /* nothing to hold it in: the connection cannot go on */
        demi_sgafree(&sga);
        fail(s, ENOMEM);
        s->eof = true;
        return;
    }
    rx->sga = sga;
    rx->off = 0;
    rx->next = NULL;
    if (s->rx_tail != NULL)
        s->rx_tail->next = rx;
    else
        s->rx_head = rx;
    s->rx_tail = rx;
    s->rx_bytes += sga.sga_segs[0].sgaseg_len;
    mt_start_pop(s);
}

static int push_index(const struct mt_sock *s, demi_qtoken_t qt)
{
    for (int i = 0; i < s->npush; i++)
        if (s->push[i].qt == qt)
            return i;
    return -1;
}

static void on_push(struct mt_sock *s, int i, const demi_qresult_t *qr)
{
    s->tx_bytes -= s->push[i].bytes;
    s->push[i] = s->push[--s->npush];
    if (qr->qr_opcode == DEMI_OPC_FAILED)
        fail(s, (int)qr->qr_ret);
    if (!s->want_out)
        return;
    s->want_out = false; /* room is an event only for a writer that found none */
}

static void on_connect(struct mt_sock *s, const demi_qresult_t *qr)
{
    s->conn_pending = false;
    if (qr->qr_opcode != DEMI_OPC_CONNECT) {
        s->state = ST_CLOSED;
        s->eof = true; /* nothing will ever arrive */
        fail(s, (int)qr->qr_ret);
        return;
    }
    s->state = ST_CONNECTED;
    mt_start_pop(s);
}

static void arm_accepts(struct mt_sock *s);

static void on_accept(struct mt_sock *s, int i, const demi_qresult_t *qr)
{
    s->acc_qt[i] = s->acc_qt[--s->nacc];
    if (qr->qr_opcode == DEMI_OPC_ACCEPT) {
        if (s->acq_n == s->acq_cap) { /* the queue is sized to the backlog: never */
            demi_close(qr->qr_value.ares.qd);
        } else {
            struct mt_conn *c = &s->acq[(s->acq_head + s->acq_n) % s->acq_cap];
            c->qd = qr->qr_value.ares.qd;
            c->addr = qr->qr_value.ares.addr;
            s->acq_n++;
        }
    }
    arm_accepts(s);
}

/* Keeps accepts outstanding for the room left in the ready queue. */
static void arm_accepts(struct mt_sock *s)
{
    int want = s->acq_cap - s->acq_n;

    if (want > 8)
        want = 8;
    while (s->nacc < want && demi_accept(&s->acc_qt[s->nacc], s->qd) == 0)
        s->nacc++;
}

int mt_listen_start(struct mt_sock *s, int backlog)
{
    s->acq_cap = backlog;
    s->acq = calloc((size_t)backlog, sizeof(*s->acq));
    s->acc_qt = calloc(8, sizeof(*s->acc_qt));
    if (s->acq == NULL || s->acc_qt == NULL)
        return -ENOMEM;
    arm_accepts(s);
    return 0;
}

/* After mtcp_accept took one: keep the accepts going. */
void mt_listen_rearm(struct mt_sock *s)
{
    arm_accepts(s);
}

static void drop_stale(const demi_qresult_t *qr)
{
    if (qr->qr_opcode == DEMI_OPC_POP) {
        demi_sgarray_t sga = qr->qr_value.sga;
        demi_sgafree(&sga);
    } else if (qr->qr_opcode == DEMI_OPC_ACCEPT) {
        demi_close(qr->qr_value.ares.qd);
    }
}

static void file_one(const demi_qresult_t *qr)
{
    struct mt_sock *s = qr->qr_qd >= 0 && qr->qr_qd < g_by_qd_n ? g_by_qd[qr->qr_qd] : NULL;
    int i;

    if (s == NULL) {
        drop_stale(qr);
        return;
    }
    if (s->pop_pending && qr->qr_qt == s->pop_qt)
        on_pop(s, qr);
    else if (s->conn_pending && qr->qr_qt == s->conn_qt)
        on_connect(s, qr);
    else if ((i = push_index(s, qr->qr_qt)) >= 0)
        on_push(s, i, qr);
    else {
        for (i = 0; i < s->nacc && s->acc_qt[i] != qr->qr_qt; i++)
            ;
        if (i == s->nacc) {
            drop_stale(qr);
            return;
        }
        on_accept(s, i, qr);
    }
    mt_wake(s);
}

/* One engine pass; files what completed. Returns how many completed. */
int mt_progress(void)
{
    demi_qresult_t qrs[MT_BATCH];
    struct timespec zero = {0, 0};
    int n = 0, total = 0;

    if (!g_mt_inited)
        return 0;
    do {
        n = 0;
        if (demi_wait_next_n(qrs, MT_BATCH, &n, &zero) != 0)
            break;
        for (int i = 0; i < n; i++)
            file_one(&qrs[i]);
        total += n;
    } while (n == MT_BATCH);
    if (total > 0)
        g_mt_last_work_ns = mt_now_ns();
    return total;
}

static void free_rx(struct mt_sock *s)
{
    struct mt_rx *rx = s->rx_head, *next;

    for (; rx != NULL; rx = next) {
        next = rx->next;
        demi_sgafree(&rx->sga);
        free(rx);
    }
    s->rx_head = s->rx_tail = NULL;
    s->rx_bytes = 0;
}

/* The last member left: the group's listener and connections go. */
static void group_close(struct mt_sock *g)
{
    for (int i = 0; i < g->acq_n; i++)
        demi_close(g->acq[(g->acq_head + i) % g->acq_cap].qd);
    mt_unmap_qd(g->qd);
    demi_close(g->qd);
    free(g->acq);
    free(g->acc_qt);
    free(g->members);
    free(g);
}

static void group_leave(struct mt_sock *s)
{
    struct mt_sock *g = s->grp;

    for (int i = 0; i < g->nmembers; i++)
        if (g->members[i] == s)
            g->members[i] = g->members[--g->nmembers];
    if (s->qd == g->qd) { /* the creator: the group keeps the queue */
        mt_map_qd(g, g->qd);
        s->qd = -1;
    }
    s->grp = NULL;
    if (g->nmembers == 0)
        group_close(g);
}

/* Closes s whatever its kind; its id is free afterwards. */
int mt_sock_close(struct mt_sock *s)
{
    if (s->grp != NULL)
        group_leave(s);
    if (mt_is_monitor(s)) {
        mt_mon_close(s);
    } else if (s->kind == MT_EPOLL) {
        mt_ep_close(s);
    } else {
        mt_ep_forget(s);
        for (int i = 0; i < s->acq_n; i++)
            demi_close(s->acq[(s->acq_head + i) % s->acq_cap].qd);
        free_rx(s);
        if (s->qd >= 0) {
            mt_unmap_qd(s->qd);
            demi_close(s->qd);
        }
    }
    mt_sock_free(s);
    return 0;
}
