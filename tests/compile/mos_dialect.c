/* mos_dialect.c - a program in mOS's dialect: <mos_api.h> first (with
 * <linux/tcp.h>, as upstream), MOS_EPOLL* names, data.sock, mctx->cpu,
 * byte, int mtcp_destroy, the five-argument mtcp_getpeername, mtcp_ioctl,
 * mtcp_abort, mtcp_get_connection_cnt, mtcp_util.h. Built by meson. */
#include <mos_api.h>
#include <mtcp_api.h>
#include <mtcp_util.h>

#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>

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
    int d = mtcp_destroy_context(mctx);
    return d + mtcp_destroy();
}

int main(int argc, char **argv)
{
    (void)argv;
    return argc > 1 ? run() : 0; /* a compile and link test; run needs a network */
}
