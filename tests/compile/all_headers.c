/* all_headers.c - all four headers in one file, in mTCP's order
 * (mtcp_api.h first: the mTCP dialect), with glibc's socket headers. */
#include <mtcp_api.h>
#include <mtcp_epoll.h>
#include <mtcp_util.h>
#include <mos_api.h>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

_Static_assert((int)MTCP_EPOLLIN == (int)EPOLLIN && (int)MTCP_EPOLLOUT == (int)EPOLLOUT && (int)MTCP_EPOLLERR == (int)EPOLLERR &&
                   (int)MTCP_EPOLLHUP == (int)EPOLLHUP && (int)MTCP_EPOLLRDHUP == (int)EPOLLRDHUP &&
                   (int)MTCP_EPOLLONESHOT == (int)EPOLLONESHOT && (unsigned)MTCP_EPOLLET == (unsigned)EPOLLET,
               "Linux's values");
_Static_assert((int)MOS_EPOLLIN == (int)MTCP_EPOLLIN && MOS_EPOLL_CTL_MOD == MTCP_EPOLL_CTL_MOD, "one set of events");
_Static_assert(sizeof(struct mtcp_epoll_event) == 16, "events and data at the same offsets in both dialects");

int main(void)
{
    struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN};

    ev.data.sockid = 3;
    mtcp_destroy(); /* void here: mtcp_api.h came first */
    return ev.data.sock == 3 ? 0 : 1;
}
