/* mos_dialect.c - a program in mOS's dialect: <mos_api.h> first (with
 * <linux/tcp.h>, as upstream), MOS_EPOLL* names, data.sock, mctx->cpu,
 * byte, int mtcp_destroy, the five-argument mtcp_getpeername, mtcp_ioctl,
 * mtcp_abort, mtcp_get_connection_cnt, mtcp_util.h; a monitor as mOS's
 * samples write one: a user-defined event with a filter that raises an
 * allocated child, mtcp_sendpkt of mtcp_getlastpkt's frame, MOS_FRAGINFO
 * into struct tcp_ring_fragment, an overlap policy. Built by meson. */
#include <mos_api.h>
#include <mtcp_api.h>
#include <mtcp_util.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

static event_t g_child;

static bool is_get(mctx_t mctx, int sock, int side, event_t ev, filter_arg_t *arg)
{
    struct pkt_info p;

    (void)ev;
    if (mtcp_getlastpkt(mctx, sock, side, &p) != 0 || arg == NULL || p.payloadlen < arg->len)
        return false;
    if (p.payloadlen > 0 && p.payload[0] == 'G')
        mtcp_raise_event(mctx, g_child);
    return memcmp(p.payload, arg->arg, arg->len) == 0;
}

static void on_get(mctx_t mctx, int sock, int side, event_t ev, filter_arg_t *arg)
{
    struct pkt_info p;
    struct tcp_ring_fragment fr[4];
    socklen_t n = 4;
    int first = MOS_OVERLAP_POLICY_FIRST;

    (void)ev, (void)arg;
    mtcp_getsockopt(mctx, sock, SOL_MONSOCKET, side == MOS_SIDE_CLI ? MOS_FRAGINFO_CLIBUF : MOS_FRAGINFO_SVRBUF, fr,
                    &n);
    mtcp_setsockopt(mctx, sock, SOL_MONSOCKET, MOS_CLIOVERLAP, &first, sizeof(first));
    if (mtcp_getlastpkt(mctx, sock, side, &p) == 0)
        mtcp_sendpkt(mctx, sock, &p);
}

static int monitor(mctx_t mctx)
{
    static char get[] = "GET";
    struct filter_arg arg = {get, 3};
    event_t ev = mtcp_define_event(MOS_ON_CONN_NEW_DATA, is_get, &arg);
    int s = mtcp_socket(mctx, AF_INET, MOS_SOCK_MONITOR_STREAM, 0);

    g_child = mtcp_alloc_event(MOS_ON_CONN_NEW_DATA);
    if (ev == MOS_NULL_EVENT || g_child == MOS_NULL_EVENT)
        return -1;
    return mtcp_register_callback(mctx, s, ev, MOS_HK_RCV, on_get) +
           mtcp_register_callback(mctx, s, g_child, MOS_HK_RCV, on_get);
}

static int run(void)
{
    mctx_t mctx;
    struct mtcp_epoll_event ev = {.events = MOS_EPOLLIN, .data.sock = 0};
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    struct tcphdr th = {0}; /* <linux/tcp.h>'s */
    byte b = 1;
    uint64_t e64 = ev.events;
    struct mtcp_conf conf;
    char *args[4], line[] = "a b";
    int n;

    mtcp_getconf(&conf);
    (void)conf.cpu_mask;
    (void)th;
    (void)e64;
    if (mtcp_init(NULL) != 0)
        return 1;
    mctx = mtcp_create_context(0);
    int s = mtcp_socket(mctx, AF_INET, MOS_SOCK_STREAM, 0);
    int ep = mtcp_epoll_create(mctx, 4);
    mtcp_epoll_ctl(mctx, ep, MOS_EPOLL_CTL_ADD, s, &ev);
    int rc = mtcp_getpeername(mctx, s, (struct sockaddr *)&a, &len, MOS_SIDE_CLI);
    mtcp_ioctl(mctx, s, FIONREAD, &n);
    ssize_t r = mtcp_readv(mctx, s, NULL, 0);
    printf("cpu %d, %u connections, byte %d, getpeername %d errno %d, readv %zd, rss %d, args %d\n", mctx->cpu,
           mtcp_get_connection_cnt(mctx), b, rc, errno, r, GetRSSCPUCore(0, 0, 0, 0, 1),
           StrToArgs(line, &n, args, 4) + n);
    mtcp_abort(mctx, s);
    printf("monitor %d\n", monitor(mctx));
    int d = mtcp_destroy_context(mctx);
    return d + mtcp_destroy();
}

int main(int argc, char **argv)
{
    (void)argv;
    return argc > 1 ? run() : 0; /* a compile and link test; run needs a network */
}
