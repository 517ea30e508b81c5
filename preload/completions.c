/*
 * completions.c - the engine pass of the interposer and what it files:
 * progress() collects every completion of the process (demi_wait_next_n
 * with a zero timeout) and files each by its token: popped bytes into the
 * socket's buffer, accepted connections into its queue, a finished
 * connect, an acknowledged push; then wakes the socket's epoll
 * registrations (ep_wake). ps_events() is a socket's readiness, computed
 * from that buffered state; ps_refill() keeps pops and an accept
 * outstanding.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <dmtr/libos.h>
#include <sluice/engine.h>

#include "internal.h"

struct pstats g_pstats;

/* Outstanding pops per socket (more than one lets an engine pass hand over
 * several segments) and the buffered bytes above which no pop is issued. */
#define POPS_MAX 4
#define RBUF_HIGH (1u << 20)


static int rq_push(struct psock *s, const demi_sgarray_t *sga)
{
    if (s->rq_n == s->rq_cap) {
        int ncap = s->rq_cap ? s->rq_cap * 2 : 8;
        struct rseg *n = arena_alloc((size_t)ncap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        for (int i = 0; i < s->rq_n; i++)
            n[i] = s->rq[(s->rq_head + i) % s->rq_cap];
        arena_free(s->rq);
        s->rq = n;
        s->rq_cap = ncap;
        s->rq_head = 0;
    }
    struct rseg *r = &s->rq[(s->rq_head + s->rq_n) % s->rq_cap];
    r->sga = *sga;
    r->off = 0;
    s->rq_n++;
    s->rbytes += sga->sga_segs[0].sgaseg_len;
    return 0;
}

static int aq_push(struct psock *s, int qd, const struct sockaddr_in *addr)
{
    if (s->aq_n == s->aq_cap) {
        int ncap = s->aq_cap ? s->aq_cap * 2 : 16;
        struct accepted *n = arena_alloc((size_t)ncap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        for (int i = 0; i < s->aq_n; i++)
            n[i] = s->aq[(s->aq_head + i) % s->aq_cap];
        arena_free(s->aq);
        s->aq = n;
        s->aq_cap = ncap;
        s->aq_head = 0;
    }
    struct accepted *a = &s->aq[(s->aq_head + s->aq_n) % s->aq_cap];
    a->qd = qd;
    a->addr = *addr;
    a->since = now_ns();
    s->aq_n++;
    return 0;
}

static bool wants_pops(const struct psock *s)
{
    if (s->closed || s->dead || s->qd < 0 || s->rd_eof || s->reset)
        return false;
    if (s->type == SOCK_STREAM && s->conn != CS_CONNECTED)
        return false;
    return s->rbytes < RBUF_HIGH && s->rq_n < 256;
}

void ps_refill(struct psock *s)
{
    while (wants_pops(s) && s->pops_out < POPS_MAX) {
        struct tok t = {.s = s, .kind = TK_POP};
        int rc;
        t_inside++;
        rc = demi_pop(&t.qt, s->qd);
        t_inside--;
        if (rc != 0 || tok_add(&t) != 0) {
            if (rc == 0) {
                t_inside++;
                dmtr_drop(t.qt);
                t_inside--;
            }
            break;
        }
        s->pops_out++;
        g_pstats.pops++;
        eng_touch(s->qd);
    }
    if (s->listening && s->conn == CS_LISTEN && !s->closed && !s->dead && s->qd >= 0)
        issue_accept(s);
}

static void on_pop(struct psock *s, const demi_qresult_t *qr)
{
    s->pops_out--;
    if (qr->qr_opcode == DEMI_OPC_POP) {
        demi_sgarray_t sga = qr->qr_value.sga;
        uint32_t len = sga.sga_numsegs ? sga.sga_segs[0].sgaseg_len : 0;
        if (s->closed) {
            t_inside++;
            demi_sgafree(&sga);
            t_inside--;
            return;
        }
        if (len == 0 && s->type == SOCK_STREAM) {
            s->rd_eof = true;
            t_inside++;
            demi_sgafree(&sga);
            t_inside--;
        } else if (rq_push(s, &sga) != 0) {
            t_inside++;
            demi_sgafree(&sga);
            t_inside--;
            s->so_error = ENOMEM;
        } else {
            g_pstats.bytes_in += len;
        }
    } else if (qr->qr_ret != ECANCELED && !s->closed) {
        s->so_error = (int)qr->qr_ret;
        if (s->type == SOCK_STREAM) {
            s->reset = true;
            s->rd_eof = true;
        }
    }
    ps_refill(s);
}

static void on_accept(struct psock *s, const demi_qresult_t *qr, int eng)
{
    s->accept_out &= ~(1ull << eng);
    if (qr->qr_opcode == DEMI_OPC_ACCEPT) {
        int qd = qr->qr_value.ares.qd;
        struct sockaddr_in addr = qr->qr_value.ares.addr;
        if (s->closed || aq_push(s, qd, &addr) != 0) {
            t_inside++;
            demi_close(qd);
            t_inside--;
        }
    } else if (qr->qr_ret != ECANCELED && !s->closed) {
        plog(PLOG_INFO, "accept failed on the stack: %s", strerror((int)qr->qr_ret));
    }
    ps_refill(s);
}

static void on_connect(struct psock *s, const demi_qresult_t *qr)
{
    s->connect_out = false;
    if (s->closed)
        return;
    if (qr->qr_opcode == DEMI_OPC_CONNECT) {
        s->conn = CS_CONNECTED;
        query_sndbuf(s);
        ps_refill(s);
    } else {
        s->conn = CS_FAILED;
        s->so_error = qr->qr_ret == ECANCELED ? ECONNABORTED : (int)qr->qr_ret;
        s->reset = true;
        s->rd_eof = true;
    }
}

void file_result(const demi_qresult_t *qr)
{
    struct tok t;

    if (!tok_take(qr->qr_qt, &t)) {
        /* not ours: nothing else in this process uses demi, but never leak */
        if (qr->qr_opcode == DEMI_OPC_POP) {
            demi_sgarray_t sga = qr->qr_value.sga;
            t_inside++;
            demi_sgafree(&sga);
            t_inside--;
        }
        return;
    }
    struct psock *s = t.s;
    /* the EPOLL* bits this completion can raise (0: any), for ep_wake */
    uint32_t key = 0;
    bool wake = true;
    switch (t.kind) {
    case TK_POP:
        if (qr->qr_opcode == DEMI_OPC_POP && qr->qr_value.sga.sga_numsegs > 0 &&
            qr->qr_value.sga.sga_segs[0].sgaseg_len > 0)
            key = EPOLLIN | EPOLLRDNORM; /* data; end of stream and errors raise any */
        on_pop(s, qr);
        break;
    case TK_PUSH: {
        bool was_full = s->unacked >= s->sndbuf;
        s->pushes_out--;
        s->unacked -= t.bytes;
        push_sga_free(&t.sga);
        if (qr->qr_opcode == DEMI_OPC_FAILED && qr->qr_ret != ECANCELED && !s->closed &&
            s->type == SOCK_STREAM) {
            s->so_error = (int)qr->qr_ret;
            s->reset = true;
        } else {
            /* room to write is an event only where a writer found none
             * (Linux wakes writers once SOCK_NOSPACE was set) */
            key = EPOLLOUT | EPOLLWRNORM;
            wake = was_full && s->unacked < s->sndbuf;
        }
        break;
    }
    case TK_ACCEPT:
        key = EPOLLIN | EPOLLRDNORM;
        on_accept(s, qr, t.eng);
        break;
    case TK_CONNECT:
        on_connect(s, qr);
        break;
    }
    s->gen++;
    g_work++;
    if (wake)
        ep_wake(s, key);
    ps_maybe_free(s);
}

void progress(void)
{
    if (!g_started)
        return;
    family_reap();
    eng_drain_all();
}

void progress_wait(void)
{
    if (g_started)
        eng_claim();
    progress();
}

struct accepted aq_take(struct psock *s)
{
    int home = eng_home(), pick = 0;
    struct accepted a;

    for (int i = 0; i < s->aq_n; i++) {
        if (sluice_engine_of(s->aq[(s->aq_head + i) % s->aq_cap].qd) == home) {
            pick = i;
            break;
        }
    }
    a = s->aq[(s->aq_head + pick) % s->aq_cap];
    /* the entries before it move up one, keeping their order */
    for (int i = pick; i > 0; i--)
        s->aq[(s->aq_head + i) % s->aq_cap] = s->aq[(s->aq_head + i - 1) % s->aq_cap];
    s->aq_head = (s->aq_head + 1) % s->aq_cap;
    s->aq_n--;
    return a;
}

uint32_t ps_events(struct psock *s)
{
    uint32_t ev = 0;

    if (s->dead)
        return EPOLLHUP;
    if (s->so_error)
        ev |= EPOLLERR;
    if (s->type == SOCK_DGRAM) {
        if (s->rq_n > 0 || s->so_error || s->rd_shut)
            ev |= EPOLLIN | EPOLLRDNORM;
        if (s->rd_shut)
            ev |= EPOLLRDHUP;
        if (s->rd_shut && s->wr_shut)
            ev |= EPOLLHUP;
        if (s->unacked < s->sndbuf)
            ev |= EPOLLOUT | EPOLLWRNORM;
        return ev;
    }
    switch (s->conn) {
    case CS_LISTEN:
        if (s->aq_n > 0)
            ev |= EPOLLIN | EPOLLRDNORM;
        return ev;
    case CS_CONNECTING:
        return ev;
    case CS_NONE:
        /* bound, neither listening nor connected: what Linux says of a
         * fresh TCP socket */
        return ev | EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
    case CS_FAILED:
        return ev | EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
    case CS_CONNECTED:
        break;
    }
    if (s->rbytes > 0 || s->rd_eof || s->rd_shut)
        ev |= EPOLLIN | EPOLLRDNORM;
    if (s->rd_eof || s->rd_shut)
        ev |= EPOLLRDHUP;
    if (s->wr_shut || s->reset || s->unacked < s->sndbuf)
        ev |= EPOLLOUT | EPOLLWRNORM;
    if ((s->rd_eof && s->wr_shut) || s->reset)
        ev |= EPOLLHUP;
    return ev;
}
