/* mtcp_dialect.c - a program in mTCP's dialect only: upstream's headers,
 * names and types (void mtcp_destroy, data.sockid, the four-argument
 * mtcp_getpeername, mtcp_read declared inline upstream: built with
 * -fgnu89-inline and linked). Built by meson; run, it only checks what
 * needs no network. */
#include <mtcp_api.h>
#include <mtcp_epoll.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>

static int use_all(mctx_t mctx, int s)
{
    struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN | MTCP_EPOLLET, .data.sockid = s};
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    char buf[16];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    int ep = mtcp_epoll_create(mctx, 16), nread, pipeid[2];
    uint32_t e32 = ev.events;

    (void)e32;
    mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, s, &ev);
    mtcp_epoll_wait(mctx, ep, &ev, 1, 0);
    mtcp_getpeername(mctx, s, (struct sockaddr *)&a, &len);
    mtcp_getsockname(mctx, s, (struct sockaddr *)&a, &len);
    mtcp_socket_ioctl(mctx, s, FIONREAD, &nread);
    mtcp_read(mctx, s, buf, sizeof(buf));
    mtcp_recv(mctx, s, buf, sizeof(buf), MSG_PEEK);
    int rv = mtcp_readv(mctx, s, &iov, 1);
    int wv = mtcp_writev(mctx, s, &iov, 1);
    mtcp_write(mctx, s, buf, 0);
    mtcp_pipe(mctx, pipeid);
    mtcp_init_rss(mctx, INADDR_ANY, 1, 0, 0);
    mtcp_setsock_nonblock(mctx, s);
    return rv + wv + mtcp_epoll_create1(mctx, 0);
}

int main(int argc, char **argv)
{
    struct mtcp_conf conf;
    mtcp_sighandler_t h = mtcp_register_signal(SIGUSR1, SIG_IGN);

    (void)h;
    (void)argv;
    mtcp_getconf(&conf);
    conf.num_cores = 2;
    mtcp_setconf(&conf);
    printf("%s\n", EventToString(MTCP_EPOLLIN | MTCP_EPOLLOUT));
    if (argc > 1) { /* never run by the tests: links every call */
        mtcp_init("mtcp.conf");
        mtcp_core_affinitize(0);
        mctx_t mctx = mtcp_create_context(0);
        int s = mtcp_socket(mctx, AF_INET, SOCK_STREAM, 0);
        use_all(mctx, s);
        mtcp_close(mctx, s);
        mtcp_destroy_context(mctx);
        mtcp_destroy();
    }
    return mtcp_socket(NULL, AF_INET, SOCK_STREAM, 0) == -1 && errno == EACCES ? 0 : 1;
}
