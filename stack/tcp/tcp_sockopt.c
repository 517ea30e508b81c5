/*
 * tcp_sockopt.c - socket options of a TCP connection, with Linux's
 * argument rules (socket(7), tcp(7)): an int option needs optlen >=
 * sizeof(int) (EINVAL), getsockopt truncates to the caller's room, an
 * option we do not implement is ENOPROTOOPT - never a silent 0 (docs/DESIGN.md
 * "Style").
 *
 * Read first: RFC 9293 §3.8.4 (keep-alives: off by default, "MUST default
 * to no less than two hours"), §3.7.4 (Nagle; RFC 1122 4.2.3.4 "a TCP
 * SHOULD implement the Nagle Algorithm ... MUST be a way for an
 * application to disable" it: TCP_NODELAY).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "tcp_conn.h"

#define SOCKOPT_NS_PER_S 1000000000ull
#define BUF_MIN 4608u /* Linux's SOCK_MIN_RCVBUF-ish floor: a buffer holds a few segments */

static int get_int(const void *optval, socklen_t optlen, int *v)
{
    if (optval == NULL || optlen < (socklen_t)sizeof(int))
        return -EINVAL;
    memcpy(v, optval, sizeof(int));
    return 0;
}

static int put(void *optval, socklen_t *optlen, const void *v, size_t size)
{
    size_t n;

    if (optval == NULL || optlen == NULL || (int)*optlen < 0)
        return -EINVAL;
    n = *optlen < size ? *optlen : size;
    memcpy(optval, v, n);
    *optlen = (socklen_t)n;
    return 0;
}

static int put_int(void *optval, socklen_t *optlen, int v)
{
    return put(optval, optlen, &v, sizeof(v));
}

static void set_flag(struct tcp_conn *c, uint32_t flag, int on)
{
    if (on)
        c->flags |= flag;
    else
        c->flags &= ~flag;
}

/* SO_SNDBUF / SO_RCVBUF: Linux stores twice the value (the kernel's
 * bookkeeping overhead); we do the same so that programs that read it
 * back see what they expect, capped at tcp.rcvbuf_max. */
static uint32_t buf_size(const struct tcp_conn *c, int v)
{
    uint64_t b = v < 0 ? 0 : (uint64_t)v * 2;

    if (b > c->s->tcp->p.rcvbuf_max)
        b = c->s->tcp->p.rcvbuf_max;
    return b < BUF_MIN ? BUF_MIN : (uint32_t)b;
}

static int set_socket_level(struct tcp_conn *c, int optname, const void *optval, socklen_t optlen)
{
    struct linger lg;
    int v = 0, rc;

    if (optname == SO_LINGER) {
        if (optval == NULL || optlen < (socklen_t)sizeof(lg))
            return -EINVAL;
        memcpy(&lg, optval, sizeof(lg));
        set_flag(c, TF_LINGER, lg.l_onoff);
        c->linger_s = lg.l_linger < 0 ? 0 : (uint32_t)lg.l_linger;
        return 0;
    }
    rc = get_int(optval, optlen, &v);
    if (rc)
        return rc;
    switch (optname) {
    case SO_REUSEADDR:
        set_flag(c, TF_REUSEADDR, v);
        return 0;
    case SO_REUSEPORT:
        set_flag(c, TF_REUSEPORT, v);
        return 0;
    case SO_KEEPALIVE:
        set_flag(c, TF_KEEPALIVE, v);
        if (v)
            tcp_timer_keep_reset(c);
        return 0;
    case SO_SNDBUF:
        c->sndbuf = buf_size(c, v);
        return 0;
    case SO_RCVBUF:
        /* the window scale was fixed by the SYN: later buffers may only
         * use what that scale can express (as Linux) */
        c->rcvbuf = buf_size(c, v);
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int set_keep_time(uint64_t *ns, int v)
{
    if (v < 1 || v > 32767) /* Linux's MAX_TCP_KEEPIDLE/INTVL */
        return -EINVAL;
    *ns = (uint64_t)v * SOCKOPT_NS_PER_S;
    return 0;
}

static int set_tcp_level(struct tcp_conn *c, int optname, const void *optval, socklen_t optlen)
{
    int v = 0, rc;

    if (optname == TCP_CONGESTION) {
        char name[16] = {0};
        if (optval == NULL || optlen < 1)
            return -EINVAL;
        memcpy(name, optval, optlen < sizeof(name) - 1 ? optlen : sizeof(name) - 1);
        if (strcmp(name, "cubic") == 0)
            c->cc_algo = c->cc.algo = TCP_CC_CUBIC;
        else if (strcmp(name, "reno") == 0 || strcmp(name, "newreno") == 0)
            c->cc_algo = c->cc.algo = TCP_CC_NEWRENO;
        else
            return -ENOENT; /* Linux: no such algorithm */
        return 0;
    }
    rc = get_int(optval, optlen, &v);
    if (rc)
        return rc;
    switch (optname) {
    case TCP_NODELAY:
        set_flag(c, TF_NAGLE, !v);
        if (v && tcp_state_is_synchronized(c->state))
            tcp_conn_pending(c); /* what Nagle held may go now */
        return 0;
    case TCP_KEEPIDLE:
        rc = set_keep_time(&c->keepidle_ns, v);
        if (rc == 0)
            tcp_timer_keep_reset(c);
        return rc;
    case TCP_KEEPINTVL:
        return set_keep_time(&c->keepintvl_ns, v);
    case TCP_KEEPCNT:
        if (v < 1 || v > 127) /* Linux's MAX_TCP_KEEPCNT */
            return -EINVAL;
        c->keepcnt = (unsigned)v;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int tcp_setsockopt(struct tcp_conn *c, int level, int optname, const void *optval, socklen_t optlen)
{
    if (level == SOL_SOCKET)
        return set_socket_level(c, optname, optval, optlen);
    if (level == IPPROTO_TCP)
        return set_tcp_level(c, optname, optval, optlen);
    return -ENOPROTOOPT;
}

static int get_socket_level(struct tcp_conn *c, int optname, void *optval, socklen_t *optlen)
{
    struct linger lg;

    switch (optname) {
    case SO_REUSEADDR:
        return put_int(optval, optlen, (c->flags & TF_REUSEADDR) != 0);
    case SO_REUSEPORT:
        return put_int(optval, optlen, (c->flags & TF_REUSEPORT) != 0);
    case SO_KEEPALIVE:
        return put_int(optval, optlen, (c->flags & TF_KEEPALIVE) != 0);
    case SO_SNDBUF:
        return put_int(optval, optlen, (int)c->sndbuf);
    case SO_RCVBUF:
        return put_int(optval, optlen, (int)c->rcvbuf);
    case SO_ERROR:
        return put_int(optval, optlen, tcp_take_error(c));
    case SO_TYPE:
        return put_int(optval, optlen, SOCK_STREAM);
    case SO_ACCEPTCONN:
        return put_int(optval, optlen, c->state == TCPS_LISTEN);
    case SO_LINGER:
        lg.l_onoff = (c->flags & TF_LINGER) != 0;
        lg.l_linger = (int)c->linger_s;
        return put(optval, optlen, &lg, sizeof(lg));
    default:
        return -ENOPROTOOPT;
    }
}

/* Linux's tcp_info states (include/net/tcp_states.h order). */
static uint8_t linux_state(enum tcp_state st)
{
    static const uint8_t map[] = {
        [TCPS_ESTABLISHED] = 1, [TCPS_SYN_SENT] = 2, [TCPS_SYN_RECEIVED] = 3, [TCPS_FIN_WAIT_1] = 4,
        [TCPS_FIN_WAIT_2] = 5,  [TCPS_TIME_WAIT] = 6, [TCPS_CLOSED] = 7,       [TCPS_CLOSE_WAIT] = 8,
        [TCPS_LAST_ACK] = 9,    [TCPS_LISTEN] = 10,   [TCPS_CLOSING] = 11,
    };

    return map[st];
}

static int get_info(struct tcp_conn *c, void *optval, socklen_t *optlen)
{
    struct tcp_conn_stats st;
    struct tcp_info ti;

    tcp_conn_stats(c, &st);
    memset(&ti, 0, sizeof(ti));
    ti.tcpi_state = linux_state(st.state);
    ti.tcpi_options = (uint8_t)((st.ts_ok ? TCPI_OPT_TIMESTAMPS : 0) | (st.sack_ok ? TCPI_OPT_SACK : 0) |
                                (st.ws_ok ? TCPI_OPT_WSCALE : 0));
    ti.tcpi_snd_wscale = st.snd_wscale;
    ti.tcpi_rcv_wscale = st.rcv_wscale;
    ti.tcpi_rto = (uint32_t)(st.rto_ns / 1000);
    ti.tcpi_snd_mss = st.snd_mss;
    ti.tcpi_rcv_mss = st.rcv_mss;
    ti.tcpi_rtt = (uint32_t)(st.srtt_ns / 1000);
    ti.tcpi_rttvar = (uint32_t)(st.rttvar_ns / 1000);
    ti.tcpi_snd_ssthresh = st.snd_mss ? st.ssthresh / st.snd_mss : 0;
    ti.tcpi_snd_cwnd = st.snd_mss ? st.cwnd / st.snd_mss : 0;
    ti.tcpi_advmss = st.rcv_mss;
    ti.tcpi_total_retrans = (uint32_t)st.retransmits;
    ti.tcpi_retransmits = (uint8_t)(c->rexmt_count > 255 ? 255 : c->rexmt_count);
    ti.tcpi_unacked = c->cc.smss ? (uint32_t)seq_diff(c->sv.snd_max, c->sv.snd_una) / c->cc.smss : 0;
    return put(optval, optlen, &ti, sizeof(ti));
}

static int get_tcp_level(struct tcp_conn *c, int optname, void *optval, socklen_t *optlen)
{
    switch (optname) {
    case TCP_NODELAY:
        return put_int(optval, optlen, !(c->flags & TF_NAGLE));
    case TCP_KEEPIDLE:
        return put_int(optval, optlen, (int)(c->keepidle_ns / SOCKOPT_NS_PER_S));
    case TCP_KEEPINTVL:
        return put_int(optval, optlen, (int)(c->keepintvl_ns / SOCKOPT_NS_PER_S));
    case TCP_KEEPCNT:
        return put_int(optval, optlen, (int)c->keepcnt);
    case TCP_MAXSEG:
        return put_int(optval, optlen, c->sv.snd_mss ? c->sv.snd_mss : TCP_DEFAULT_SMSS);
    case TCP_INFO:
        return get_info(c, optval, optlen);
    case TCP_CONGESTION: {
        const char *n = tcp_cc_name((enum tcp_cc_algo)c->cc_algo);
        return put(optval, optlen, n, strlen(n) + 1);
    }
    default:
        return -ENOPROTOOPT;
    }
}

int tcp_getsockopt(struct tcp_conn *c, int level, int optname, void *optval, socklen_t *optlen)
{
    if (level == SOL_SOCKET)
        return get_socket_level(c, optname, optval, optlen);
    if (level == IPPROTO_TCP)
        return get_tcp_level(c, optname, optval, optlen);
    return -ENOPROTOOPT;
}
